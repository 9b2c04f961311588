"""zeep, from the served WSDL, logged in as an account's administrator: the way an integrator's
Python code talks to PWS."""

from __future__ import annotations

from typing import Any

import zeep

from tests.conftest import AccountFixture
from tests.pws import SoapClient


class ZeepSession:
    def __init__(self, soap: SoapClient, account: AccountFixture, wsdl: str = "?singleWsdl") -> None:
        self.service: Any = zeep.Client(soap.endpoint + wsdl, transport=soap.zeep_transport()).service
        self.ticket = self.service.PwsAuthenticate(serviceRequest={
            "AccountCode": account.code, "UserName": account.admin, "Password": account.password}).SessionTicket

    def ok(self, operation: str, **members: object) -> Any:
        """The answer of ``operation`` with ``members`` in the session, which must be Ok."""
        answer = getattr(self.service, operation)(serviceRequest={"SessionTicket": self.ticket, **members})
        assert answer.Status == "Ok", answer
        return answer

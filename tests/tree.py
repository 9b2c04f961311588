"""Building client → engagement → project → role trees over real HTTP, the way an integrator would.

``Pws`` is one logged-in user. ``call`` sends an operation with the session ticket and checks the
response against the served contract's schema; the builders return the keys of what they made.
"""

from __future__ import annotations

from xml.sax.saxutils import escape

from openpws.contract import compile_schema, ns
from tests.conftest import AccountFixture
from tests.pws import Answer, SoapClient

SCH = "{" + ns.SCHEDULING + "}"
COM = "{" + ns.COMMON + "}"
_SCHEMA = compile_schema()


def tag(name: str, value: object) -> str:
    """``<x:Name>value</x:Name>`` with the value escaped; x is sch unless the name carries a prefix."""
    prefix, _, local = name.rpartition(":")
    prefix = prefix or "sch"
    shown = str(value).lower() if isinstance(value, bool) else escape(str(value))
    return f"<{prefix}:{local}>{shown}</{prefix}:{local}>"


def ref(kind: str, code: str | None = None, uid: int | str | None = None) -> str:
    """The members of a ref: kind Client, Engagement, ContractLineItem, Project or ProjectRole."""
    code_member = {"Client": "ClientNumber", "Engagement": "EngagementCode", "ContractLineItem": "ContractLineItemCode",
                   "Project": "ProjectCode", "ProjectRole": "ExternalSystemIdentifier"}[kind]
    body = f"<com:{code_member}>{escape(code)}</com:{code_member}>" if code is not None else ""
    if uid is not None:
        body += f"<com:{kind}Uid>{uid}</com:{kind}Uid>"
    return body


class Pws:
    def __init__(self, soap: SoapClient, account: AccountFixture, user: str | None = None) -> None:
        self.soap = soap
        self.account = account
        self.ticket = soap.login(account.code, user or account.admin, account.password)

    def call(self, operation: str, members: str = "", *, check: bool = True) -> Answer:
        answer = self.soap.call(operation, f"<req:SessionTicket>{self.ticket}</req:SessionTicket>{members}")
        if check and answer.status_code == 200:
            _SCHEMA.assertValid(answer.result.getparent())
        return answer

    def ok(self, operation: str, members: str = "") -> Answer:
        answer = self.call(operation, members)
        assert answer.status in ("Ok", "OkWithWarnings"), answer.content.decode()
        return answer

    def client(self, name: str, parent: str | None = None) -> str:
        detail = f"<com:ClientName>{escape(name)}</com:ClientName>"
        if parent:
            detail += f"<com:ParentClientIdentity>{ref('Client', parent)}</com:ParentClientIdentity>"
        answer = self.ok("PwsSaveClient", f"<req:Client>{detail}</req:Client>")
        return answer.text(".//{*}ClientIdentity/com:ClientNumber") or ""

    def engagement(self, client: str, name: str, extra: str = "") -> str:
        detail = (f"<com:ClientIdentity>{ref('Client', client)}</com:ClientIdentity>"
                  f"<com:EngagementName>{escape(name)}</com:EngagementName>{extra}")
        answer = self.ok("PwsSaveEngagement", f"<sch:Engagement>{detail}</sch:Engagement>")
        return answer.text(".//sch:EngagementIdentity/com:EngagementCode") or ""

    def project(self, engagement: str, name: str, extra: str = "") -> str:
        detail = (f"<com:EngagementIdentity>{ref('Engagement', engagement)}</com:EngagementIdentity>"
                  f"<com:ProjectName>{escape(name)}</com:ProjectName>{extra}")
        answer = self.ok("PwsSaveProject", f"<sch:Mode>R</sch:Mode><sch:Project>{detail}</sch:Project>")
        return answer.text(".//sch:ProjectIdentity/com:ProjectCode") or ""

    def role(self, project: str, name: str, extra: str = "", external_id: str | None = None) -> int:
        detail = f"<com:RoleName>{escape(name)}</com:RoleName>{extra}"
        if external_id is not None:
            detail = f"<com:ExternalSystemIdentifier>{escape(external_id)}</com:ExternalSystemIdentifier>" + detail
        answer = self.ok("PwsSaveProjectRole", f"<sch:Mode>R</sch:Mode><sch:ProjectIdentity>{ref('Project', project)}"
                         f"</sch:ProjectIdentity><sch:ProjectRole>{detail}</sch:ProjectRole>")
        return int(answer.text(".//sch:ProjectRoleIdentity/com:ProjectRoleUid") or 0)

"""Test helpers: a plain-HTTP SOAP client and readers for PWS responses."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import httpx
import requests
import zeep
from lxml import etree

from openpws.contract import ns
from tests.asgi import RequestsAdapter

SERVICE_PATH = "/OpsProjectorWcfSvc/PwsProjectorServices.svc"
NAMESPACES = {
    "s": ns.SOAP_ENV, "pws": ns.PWS, "req": ns.REQUESTS, "rs": ns.RESPONSES, "cs": ns.COMMON_SERVICES,
    "com": ns.COMMON, "sch": ns.SCHEDULING, "i": ns.XSI,
}


def envelope(operation: str, members: str, *, wrapper_ns: str = ns.PWS) -> bytes:
    """A request in the shape of the wiki's examples (pws / req / sch / com prefixes)."""
    return (
        f'<soapenv:Envelope xmlns:soapenv="{ns.SOAP_ENV}" xmlns:pws="{wrapper_ns}" '
        f'xmlns:req="{ns.REQUESTS}" xmlns:sch="{ns.SCHEDULING}" xmlns:com="{ns.COMMON}">'
        f"<soapenv:Header/><soapenv:Body><pws:{operation}><pws:serviceRequest>{members}"
        f"</pws:serviceRequest></pws:{operation}></soapenv:Body></soapenv:Envelope>"
    ).encode()


@dataclass
class Answer:
    status_code: int
    content: bytes
    headers: Mapping[str, str] = field(default_factory=dict)

    @property
    def not_modelled(self) -> list[str]:
        """The members X-Openpws-Not-Modelled names (none when the header is absent)."""
        value = self.headers.get("x-openpws-not-modelled")
        return value.split(", ") if value else []

    @property
    def root(self) -> etree._Element:
        return etree.fromstring(self.content)

    def find(self, path: str) -> etree._Element | None:
        return self.root.find(path, NAMESPACES)

    def text(self, path: str) -> str | None:
        element = self.find(path)
        return None if element is None else element.text

    @property
    def result(self) -> etree._Element:
        body = self.root.find("s:Body", NAMESPACES)
        assert body is not None and len(body), self.content
        return body[0][0]

    @property
    def status(self) -> str:
        return self.result.findtext("cs:Status", namespaces=NAMESPACES) or ""

    def member(self, name: str, namespace: str = ns.RESPONSES) -> etree._Element | None:
        return self.result.find(f"{{{namespace}}}{name}")

    def messages(self) -> list[dict[str, str | None]]:
        found = []
        for item in self.result.findall("cs:Messages/com:PwsMessage", NAMESPACES):
            found.append({etree.QName(child).localname: child.text for child in item})
        return found

    def error_numbers(self) -> list[int]:
        return [int(m["ErrorNumber"] or 0) for m in self.messages()]

    @property
    def faultcode(self) -> str | None:
        return self.text("s:Body/s:Fault/faultcode")

    @property
    def faultstring(self) -> str:
        return self.text("s:Body/s:Fault/faultstring") or ""


class SoapClient:
    """Talks HTTP to openpws: to a running server at ``base_url``, or, given the in-process
    application's ``transport``, to that application (``base_url`` then only names the host)."""

    def __init__(self, base_url: str, transport: httpx.BaseTransport | None = None) -> None:
        self.base_url = base_url
        self.transport = transport
        self.http = httpx.Client(base_url=base_url, timeout=60, transport=transport)

    def another(self) -> SoapClient:
        """A client of its own (its own connections) to the same server."""
        return SoapClient(self.base_url, self.transport)

    def zeep_transport(self) -> zeep.Transport:
        """A zeep transport that reaches the same server."""
        session = requests.Session()
        if self.transport is not None:
            session.mount("http://", RequestsAdapter(self.transport))
        return zeep.Transport(session=session)

    @property
    def endpoint(self) -> str:
        return self.base_url + SERVICE_PATH

    def post(self, body: bytes, *, action: str | None = None, headers: dict[str, str] | None = None) -> Answer:
        sent = {"Content-Type": "text/xml; charset=utf-8", **(headers or {})}
        if action is not None:
            sent["SOAPAction"] = action
        response = self.http.post(SERVICE_PATH, content=body, headers=sent)
        return Answer(response.status_code, response.content, response.headers)

    def call(self, operation: str, members: str = "", **kwargs: Any) -> Answer:
        return self.post(envelope(operation, members), **kwargs)

    def authenticate(self, account: str, user: str, password: str, request_id: int | None = None) -> Answer:
        rid = f"<req:RequestId>{request_id}</req:RequestId>" if request_id is not None else ""
        return self.call(
            "PwsAuthenticate",
            f"{rid}<req:AccountCode>{account}</req:AccountCode><req:Password>{password}</req:Password>"
            f"<req:UserName>{user}</req:UserName>",
        )

    def login(self, account: str, user: str, password: str) -> str:
        answer = self.authenticate(account, user, password)
        assert answer.status == "Ok", answer.content
        ticket = answer.member("SessionTicket")
        assert ticket is not None and ticket.text
        return ticket.text

    def get(self, path_and_query: str, headers: dict[str, str] | None = None) -> httpx.Response:
        return self.http.get(SERVICE_PATH + path_and_query, headers=headers)

    def close(self) -> None:
        self.http.close()

    def __enter__(self) -> SoapClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

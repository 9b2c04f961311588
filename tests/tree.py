"""Building client → engagement → project → role trees over real HTTP, the way an integrator would.

``Pws`` is one logged-in user. ``call`` sends an operation with the session ticket and checks the
response against the served contract's schema; the builders return the keys of what they made.
"""

from __future__ import annotations

from functools import cache
from xml.sax.saxutils import escape

from lxml import etree

from openpws.contract import compile_schema, load_contract, ns
from tests.conftest import AccountFixture
from tests.pws import NAMESPACES, Answer, SoapClient

SCH = "{" + ns.SCHEDULING + "}"
COM = "{" + ns.COMMON + "}"
_SCHEMA = compile_schema()
# The prefixes the request envelope declares (tests.pws.envelope): a member that uses another declares
# it itself, and keeps that declaration through ``in_order``.
_PREFIXES = " ".join(f'xmlns:{prefix}="{NAMESPACES[prefix]}"' for prefix in ("pws", "req", "sch", "com"))


@cache
def _positions(type_name: str) -> dict[str, int]:
    types = load_contract().types.complex_types
    [ctype] = [t for name, t in types.items() if t.named and name.endswith("}" + type_name)]
    return {member.name: index for index, member in enumerate(ctype.members)}


def in_order(type_name: str, members: str) -> str:
    """``members`` (sibling elements of a value of ``type_name``, prefixed as in ``tests.pws.envelope``)
    rearranged into the contract's order for that type, as a client generated from the WSDL sends
    them. For builders that put a value together from parts; elements the type does not have go last."""
    root = etree.fromstring(f"<wrapper {_PREFIXES}>{members}</wrapper>")
    positions = _positions(type_name)
    last = len(positions)
    root[:] = sorted(root, key=lambda e: positions.get(etree.QName(e).localname, last) if isinstance(e.tag, str)
                     else last)
    if not len(root):
        return ""
    written = etree.tostring(root, encoding="unicode")  # the members keep the wrapper's prefixes
    return written[written.index(">") + 1:written.rindex("</wrapper>")]


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

    def call(self, operation: str, members: str = "", *, check: bool = True, request_id: int | None = None) -> Answer:
        """``members`` follow RequestId and SessionTicket, the request base type's members."""
        first = f"<req:RequestId>{request_id}</req:RequestId>" if request_id is not None else ""
        answer = self.soap.call(operation, f"{first}<req:SessionTicket>{self.ticket}</req:SessionTicket>{members}")
        if check and answer.status_code == 200:
            _SCHEMA.assertValid(answer.result.getparent())
        return answer

    def ok(self, operation: str, members: str = "") -> Answer:
        answer = self.call(operation, members)
        assert answer.status in ("Ok", "OkWithWarnings"), answer.content.decode()
        return answer

    # The builders' ``extra``: more members of the detail, in any order (``in_order`` sorts them in).

    def client(self, name: str, parent: str | None = None) -> str:
        detail = f"<com:ClientName>{escape(name)}</com:ClientName>"
        if parent:
            detail += f"<com:ParentClientIdentity>{ref('Client', parent)}</com:ParentClientIdentity>"
        answer = self.ok("PwsSaveClient", f"<req:Client>{detail}</req:Client>")
        return answer.text(".//{*}ClientIdentity/com:ClientNumber") or ""

    def engagement(self, client: str, name: str, extra: str = "", code: str | None = None) -> str:
        keys = f"<com:EngagementCode>{escape(code)}</com:EngagementCode>" if code is not None else ""
        detail = in_order("PwsEngagementDetail", f"{keys}<com:ClientIdentity>{ref('Client', client)}</com:ClientIdentity>"
                          f"<com:EngagementName>{escape(name)}</com:EngagementName>{extra}")
        answer = self.ok("PwsSaveEngagement", f"<sch:Engagement>{detail}</sch:Engagement>")
        return answer.text(".//sch:EngagementIdentity/com:EngagementCode") or ""

    def project(self, engagement: str, name: str, extra: str = "", code: str | None = None) -> str:
        keys = f"<com:ProjectCode>{escape(code)}</com:ProjectCode>" if code is not None else ""
        detail = in_order("PwsProjectDetail", f"{keys}<com:EngagementIdentity>{ref('Engagement', engagement)}"
                          f"</com:EngagementIdentity><com:ProjectName>{escape(name)}</com:ProjectName>{extra}")
        answer = self.ok("PwsSaveProject", f"<sch:Mode>R</sch:Mode><sch:Project>{detail}</sch:Project>")
        return answer.text(".//sch:ProjectIdentity/com:ProjectCode") or ""

    def role(self, project: str, name: str, extra: str = "", external_id: str | None = None) -> int:
        detail = f"<com:RoleName>{escape(name)}</com:RoleName>{extra}"
        if external_id is not None:
            detail = f"<com:ExternalSystemIdentifier>{escape(external_id)}</com:ExternalSystemIdentifier>" + detail
        answer = self.ok("PwsSaveProjectRole", f"<sch:Mode>R</sch:Mode><sch:ProjectIdentity>{ref('Project', project)}"
                         f"</sch:ProjectIdentity><sch:ProjectRole>{in_order('PwsProjectRoleDetail', detail)}"
                         "</sch:ProjectRole>")
        return int(answer.text(".//sch:ProjectRoleIdentity/com:ProjectRoleUid") or 0)

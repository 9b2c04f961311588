"""The demo account ``openpws serve --demo`` creates when it is absent, and the tree it loads
(into that account, or into any other: the sandbox's packaged fixture ``demo``).

The tree is built through the PWS operations themselves (the same requests an integrator would
send), so it obeys every rule the service enforces. It is made to try each delete rule by hand:

    C000117 Revcorp Holdings ─ C000118 Revcorp Labs (child)          C000121 Globex (no engagements)
    P001323 Revcorp platform (C000117); contract line items P001323-CL1 (made with the engagement)
            and P001323-CL2 Platform support retainer (fixed price)
        P001323-001 Platform build (on P001323-CL1): Role-301 Project Manager (hours requested and
                    booked), Role-302 Developer (hours requested, daily, for Dana Developer),
                    Role-303 Tester (no hours)
        P001323-002 Platform support (on P001323-CL2, no roles)
    E001395 Revcorp audit (C000117), invoiced (DRAFT00001): E001395-001 Audit fieldwork, invoiced too
    P001053 Labs research (C000118)
        P001053-WS5 Workshop series (no roles)
        P001053-001 Lab setup: Role-304 Facilitator (hours booked)
    E001400 Labs proposal (C000118, no projects)

Its users are its resources: the administrator and the viewer, and Dana Developer (DEV), who has
no permission to call PWS and is only ever staffed on roles.
Every other engagement has the one contract line item it was made with (``<code>-CL1``), which
holds all its projects.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from xml.sax.saxutils import escape

from lxml import etree
from sqlalchemy import Connection

from openpws.contract import ns
from openpws.services import admin
from openpws.services.permissions import ALL, VIEW_ONLY, Permission
from openpws.soap.codec import format_datetime
from openpws.soap.xml import parse_message
from openpws.store import accounts as account_store
from openpws.store import clients as client_store

ACCOUNT = "demo"
PASSWORD = "demo"  # noqa: S105 - a published demo credential
TOP_CLIENT = "C000117"


@dataclass(frozen=True)
class DemoUser:
    login: str
    display_name: str
    reference_id: str
    permissions: frozenset[Permission]
    email: str


def users_of(account: str) -> tuple[DemoUser, ...]:
    """The demo's users in ``account``: admin@ACCOUNT (every permission), viewer@ACCOUNT (view
    only) and dev@ACCOUNT (Dana Developer, no permission: a resource to staff roles with)."""
    return (
        DemoUser(f"admin@{account}", "Demo Administrator", "ADMIN", ALL, f"admin@{account}.example"),
        DemoUser(f"viewer@{account}", "Demo Viewer", "VIEWER", VIEW_ONLY, f"viewer@{account}.example"),
        DemoUser(f"dev@{account}", "Dana Developer", "DEV", frozenset(), f"dana@{account}.example"),
    )


USERS = users_of(ACCOUNT)


def ensure_demo(tx: Connection, scrypt_cost: int, now: datetime) -> bool:
    """Create the demo account and its users if absent; True when something was created."""
    if account_store.find_account(tx, ACCOUNT) is not None:
        return False
    admin.create_account(tx, ACCOUNT, "openpws demo", now)
    for user in USERS:
        admin.create_user(
            tx, ACCOUNT, login=user.login, display_name=user.display_name, password=PASSWORD,
            permissions=user.permissions, reference_id=user.reference_id, email=user.email,
            scrypt_cost=scrypt_cost, now=now,
        )
    return True


def tree_missing(tx: Connection, code: str = ACCOUNT) -> bool:
    account = account_store.find_account(tx, code)
    return account is not None and client_store.by_number(tx, account.id, TOP_CLIENT) is None


# One demo request: the operation and the members of its serviceRequest (after SessionTicket), each
# type's members in production's order (openpws/contract/member-order.json).
Request = tuple[str, str]


def _client(number: str, name: str, parent: str | None = None) -> Request:
    parent_ref = (f"<com:ParentClientIdentity><com:ClientNumber>{parent}</com:ClientNumber>"
                  "</com:ParentClientIdentity>") if parent else ""
    return ("PwsSaveClient", f"<req:Client><com:ClientNumber>{number}</com:ClientNumber>"
                             f"<com:ClientName>{escape(name)}</com:ClientName>{parent_ref}</req:Client>")


def _engagement(code: str, name: str, client: str) -> Request:
    return ("PwsSaveEngagement", f"<sch:Engagement><com:EngagementCode>{code}</com:EngagementCode>"
                                 f"<com:ClientIdentity><com:ClientNumber>{client}</com:ClientNumber></com:ClientIdentity>"
                                 f"<com:EngagementName>{escape(name)}</com:EngagementName>"
                                 "<com:ManagerIdentity><com:UserReferenceSystemId>ADMIN</com:UserReferenceSystemId>"
                                 "</com:ManagerIdentity></sch:Engagement>")


def _contract_line_item(code: str, name: str, engagement: str, terms: str) -> Request:
    return ("PwsSaveContractLineItem",
            f"<sch:ContractLineItem><com:ContractLineItemCode>{code}</com:ContractLineItemCode>"
            f"<com:ContractLineItemName>{escape(name)}</com:ContractLineItemName>"
            f"<com:EngagementIdentity><com:EngagementCode>{engagement}</com:EngagementCode></com:EngagementIdentity>"
            f"<com:TimeContractTerms>{terms}</com:TimeContractTerms></sch:ContractLineItem>")


def _project(code: str, name: str, engagement: str, opens: str, contract_line_item: str | None = None) -> Request:
    cli = (f"<com:ContractLineItemIdentity><com:ContractLineItemCode>{contract_line_item}</com:ContractLineItemCode>"
           "</com:ContractLineItemIdentity>") if contract_line_item else ""
    return ("PwsSaveProject", f"<sch:Mode>R</sch:Mode><sch:Project><com:ProjectCode>{code}</com:ProjectCode>"
                              f"<com:EngagementIdentity><com:EngagementCode>{engagement}</com:EngagementCode>"
                              f"</com:EngagementIdentity><com:ProjectName>{escape(name)}</com:ProjectName>"
                              f"<com:OpenDate>{opens}</com:OpenDate>{cli}</sch:Project>")


def _role(external_id: str, name: str, project: str) -> Request:
    return ("PwsSaveProjectRole", f"<sch:Mode>R</sch:Mode><sch:ProjectIdentity><com:ProjectCode>{project}"
                                  "</com:ProjectCode></sch:ProjectIdentity><sch:ProjectRole>"
                                  f"<com:ExternalSystemIdentifier>{external_id}</com:ExternalSystemIdentifier>"
                                  f"<com:RoleName>{escape(name)}</com:RoleName></sch:ProjectRole>")


def _hours(mode: str, external_id: str, buckets: str, resource: str | None = None) -> Request:
    candidate = (f"<com:CandidateResourceIdentity><com:ResourceReferenceSystemId>{resource}"
                 "</com:ResourceReferenceSystemId></com:CandidateResourceIdentity>") if resource else ""
    return ("PwsRequestOrBookRoleHours", f"<sch:Mode>{mode}</sch:Mode><sch:ProjectRoles><com:PwsProjectRoleHours>"
                                         f"{candidate}<com:HoursBuckets>{buckets}</com:HoursBuckets>"
                                         f"<com:ProjectRoleIdentity><com:ExternalSystemIdentifier>{external_id}"
                                         "</com:ExternalSystemIdentifier></com:ProjectRoleIdentity>"
                                         "</com:PwsProjectRoleHours></sch:ProjectRoles>")


def _weekly(monday: datetime, weeks: range, minutes: int) -> str:
    return "".join(f"<com:PwsProjectRoleHoursBucket><com:BucketStartDate>{format_datetime(monday + timedelta(weeks=w))}"
                   f"</com:BucketStartDate><com:SchedulingMode>W</com:SchedulingMode>"
                   f"<com:WeeklyMinutes>{minutes}</com:WeeklyMinutes></com:PwsProjectRoleHoursBucket>" for w in weeks)


def _daily(monday: datetime, days: tuple[int, ...]) -> str:
    values = "".join(f"<arr:short>{minutes}</arr:short>" for minutes in days)
    return (f"<com:PwsProjectRoleHoursBucket><com:BucketStartDate>{format_datetime(monday)}</com:BucketStartDate>"
            f"<com:DailyMinutes xmlns:arr=\"{ns.ARRAYS}\">{values}</com:DailyMinutes>"
            "<com:SchedulingMode>D</com:SchedulingMode></com:PwsProjectRoleHoursBucket>")


def tree_requests(now: datetime) -> list[Request]:
    """The requests that build the demo tree, with hours in the weeks starting this Monday."""
    monday = datetime(now.year, now.month, now.day, tzinfo=now.tzinfo) - timedelta(days=now.weekday())
    opens = format_datetime(monday)
    invoice = ("PwsCreateInvoice", "<bil:InvoiceSpec>"
               "<bil:BillingCultureIdentity><com:CultureName>en-US</com:CultureName></bil:BillingCultureIdentity>"
               "<bil:ClientIdentity><com:ClientNumber>C000117</com:ClientNumber></bil:ClientIdentity>"
               "<bil:CostCenterIdentity><com:CostCenterName>Head Office</com:CostCenterName></bil:CostCenterIdentity>"
               "<bil:EngagementCurrencyIdentity><com:CurrencyCode>USD</com:CurrencyCode></bil:EngagementCurrencyIdentity>"
               "<bil:EngagementIdentity><com:EngagementCode>E001395</com:EngagementCode></bil:EngagementIdentity>"
               "<bil:InvoiceContent>A</bil:InvoiceContent>"
               "<bil:InvoiceName>Audit fieldwork, first month</bil:InvoiceName>"
               "<bil:ProjectIdentity><com:ProjectCode>E001395-001</com:ProjectCode></bil:ProjectIdentity>"
               "</bil:InvoiceSpec>")
    return [
        _client("C000117", "Revcorp Holdings"),
        _client("C000118", "Revcorp Labs", parent="C000117"),
        _client("C000121", "Globex"),
        _engagement("P001323", "Revcorp platform", "C000117"),
        _contract_line_item("P001323-CL2", "Platform support retainer", "P001323", "F"),
        _project("P001323-001", "Platform build", "P001323", opens),
        _project("P001323-002", "Platform support", "P001323", opens, contract_line_item="P001323-CL2"),
        _role("Role-301", "Project Manager", "P001323-001"),
        _role("Role-302", "Developer", "P001323-001"),
        _role("Role-303", "Tester", "P001323-001"),
        _hours("R", "Role-301", _weekly(monday, range(4), 2400), resource="ADMIN"),
        _hours("A", "Role-301", _weekly(monday, range(2), 2400), resource="ADMIN"),
        _hours("R", "Role-302", _daily(monday, (480, 480, 480, 480, 240, 0, 0)), resource="DEV"),
        _engagement("E001395", "Revcorp audit", "C000117"),
        _project("E001395-001", "Audit fieldwork", "E001395", opens),
        invoice,
        _engagement("P001053", "Labs research", "C000118"),
        _project("P001053-WS5", "Workshop series", "P001053", opens),
        _project("P001053-001", "Lab setup", "P001053", opens),
        _role("Role-304", "Facilitator", "P001053-001"),
        _hours("A", "Role-304", _weekly(monday, range(3), 1200), resource="ADMIN"),
        _engagement("E001400", "Labs proposal", "C000118"),
    ]


def _envelope(operation: str, members: str) -> bytes:
    return (f'<s:Envelope xmlns:s="{ns.SOAP_ENV}" xmlns:pws="{ns.PWS}" xmlns:req="{ns.REQUESTS}" '
            f'xmlns:sch="{ns.SCHEDULING}" xmlns:bil="{ns.BILLING}" xmlns:com="{ns.COMMON}"><s:Body>'
            f"<pws:{operation}><pws:serviceRequest>{members}</pws:serviceRequest></pws:{operation}>"
            "</s:Body></s:Envelope>").encode()


def _answer(body: bytes, operation: str) -> etree._Element:
    result = parse_message(body).find(f".//{{{ns.PWS}}}{operation}Result")
    status = result.findtext(f"{{{ns.COMMON_SERVICES}}}Status") if result is not None else None
    if result is None or status not in ("Ok", "OkWithWarnings"):
        raise RuntimeError(f"loading the demo tree: {operation} was refused: {body.decode(errors='replace')}")
    return result


def load_tree(handle: Callable[[bytes], tuple[int, bytes]], now: datetime, code: str = ACCOUNT,
              password: str = PASSWORD) -> int:
    """Send the demo tree's requests through ``handle`` (the dispatcher) as the account's
    admin@CODE, whose password is ``password``; returns how many requests were sent."""
    login = _answer(handle(_envelope("PwsAuthenticate", f"<req:AccountCode>{escape(code)}</req:AccountCode>"
                                     f"<req:Password>{escape(password)}</req:Password>"
                                     f"<req:UserName>{escape(users_of(code)[0].login)}</req:UserName>"))[1],
                    "PwsAuthenticate")
    ticket = login.findtext(f"{{{ns.RESPONSES}}}SessionTicket")
    requests = tree_requests(now)
    for operation, members in requests:
        _answer(handle(_envelope(operation, f"<req:SessionTicket>{ticket}</req:SessionTicket>{members}"))[1],
                operation)
    _answer(handle(_envelope("PwsUnauthenticate", f"<req:SessionTicket>{ticket}</req:SessionTicket>"))[1],
            "PwsUnauthenticate")
    return len(requests)

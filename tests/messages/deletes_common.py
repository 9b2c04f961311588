"""What the delete tests share: building trees with hours, invoices and other users' locks, the
delete calls, PwsFault readers, and read-backs that show whether anything changed.

Everything goes over real HTTP, as an integrator would do it. (No tests here: only helpers.)
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from lxml import etree

from openpws.contract import ns
from openpws.services.permissions import ALL, Permission
from openpws.store.transactions import Store
from tests.conftest import AccountFixture, make_user
from tests.pws import NAMESPACES, Answer, SoapClient
from tests.tree import Pws, ref, tag

MONDAY = date(2025, 1, 6)
BIL = "{" + ns.BILLING + "}"
FAULT = "s:Body/s:Fault/detail/com:PwsFault/"


def com(name: str, value: object) -> str:
    return tag(f"com:{name}", value)


def role_ref(uid: int) -> str:
    return ref("ProjectRole", uid=uid)


# --- building -----------------------------------------------------------------------------------

def hours(pws: Pws, uid: int, mode: str = "R", minutes: int = 600, weeks: int = 1) -> None:
    """Request (R) or book (A) ``minutes`` a week on the role for ``weeks`` weeks."""
    buckets = "".join(
        f"<com:PwsProjectRoleHoursBucket>{com('BucketStartDate', f'{MONDAY + timedelta(weeks=w)}T00:00:00Z')}"
        f"{com('SchedulingMode', 'W')}{com('WeeklyMinutes', minutes)}</com:PwsProjectRoleHoursBucket>"
        for w in range(weeks))
    pws.ok("PwsRequestOrBookRoleHours", f"{tag('Mode', mode)}<sch:ProjectRoles><com:PwsProjectRoleHours>"
           f"<com:HoursBuckets>{buckets}</com:HoursBuckets>"
           f"<com:ProjectRoleIdentity>{role_ref(uid)}</com:ProjectRoleIdentity></com:PwsProjectRoleHours></sch:ProjectRoles>")


def invoice(pws: Pws, client: str, engagement: str, project: str | None = None) -> None:
    """A draft invoice on the engagement (and the project): what makes them undeletable for good."""
    members = {  # PwsCandidateInvoiceSpec's order
        "BillingCultureIdentity": "<com:CultureName>en-US</com:CultureName>",
        "ClientIdentity": ref("Client", client),
        "CostCenterIdentity": "<com:CostCenterName>Consulting</com:CostCenterName>",
        "EngagementCurrencyIdentity": "<com:CurrencyCode>USD</com:CurrencyCode>",
        "EngagementIdentity": ref("Engagement", engagement), "InvoiceContent": "B", "InvoiceName": "Invoice",
    }
    if project is not None:
        members["ProjectIdentity"] = ref("Project", project)
    body = "".join(f"<bil:{k}>{v}</bil:{k}>" for k, v in members.items())
    pws.ok("PwsCreateInvoice", f'<bil:InvoiceSpec xmlns:bil="{ns.BILLING}">{body}</bil:InvoiceSpec>')


def other_user(soap: SoapClient, store: Store, account: AccountFixture, login: str = "holder",
               permissions: frozenset[Permission] = ALL) -> Pws:
    """A second user of the account, logged in."""
    full = f"{login}@{account.code}"
    make_user(store, account.code, full, permissions)
    return Pws(soap, account, full)


def acquire(pws: Pws, lock_type: str, code: str | None = None, uid: int | None = None, seconds: int = 600) -> int:
    """Lock one entity (E engagement, P project, R role) in a new lock set; the set's id."""
    entity = (com("EntityCode", code) if code is not None else "") + (com("EntityUid", uid) if uid else "")
    answer = pws.ok("PwsAcquireProjectorLocks", f"<req:LockDurationSeconds>{seconds}</req:LockDurationSeconds>"
                    f"<req:Locks><com:PwsProjectorLockRequest><com:EntityIdentity>{entity}"
                    f"{com('LockType', lock_type)}</com:EntityIdentity></com:PwsProjectorLockRequest></req:Locks>")
    return int(answer.text(".//rs:ProjectorLockSetId") or 0)


# --- delete calls ---------------------------------------------------------------------------------

def delete_client(pws: Pws, number: str, *, cascade: bool | None = None, inactivate: bool | None = None) -> Answer:
    members = tag("req:CascadeDeleteFlag", cascade) if cascade is not None else ""
    members += f"<req:ClientIdentity>{ref('Client', number)}</req:ClientIdentity>"
    if inactivate is not None:
        members += tag("req:InactivateIfInuseFlag", inactivate)
    return pws.call("PwsDeleteClient", members)


def delete_engagement(pws: Pws, code: str, extra: str = "") -> Answer:
    return pws.call("PwsDeleteEngagement", f"<sch:EngagementIdentity>{ref('Engagement', code)}"
                    f"</sch:EngagementIdentity>{extra}")


def delete_project(pws: Pws, code: str, extra: str = "", *, cascade: bool | None = None) -> Answer:
    """``extra``: members that follow ProjectIdentity in PwsDeleteProjectRq (CascadeDeleteFlag precedes it)."""
    first = tag("CascadeDeleteFlag", cascade) if cascade is not None else ""
    return pws.call("PwsDeleteProject", f"{first}<sch:ProjectIdentity>{ref('Project', code)}</sch:ProjectIdentity>"
                    f"{extra}")


def delete_role(pws: Pws, uid: int, extra: str = "") -> Answer:
    return pws.call("PwsDeleteProjectRole", f"<sch:ProjectRoleIdentity>{role_ref(uid)}</sch:ProjectRoleIdentity>"
                    f"{extra}")


def undelete_role(pws: Pws, uid: int, extra: str = "", *, first: str = "") -> Answer:
    """``first``: members that precede ProjectRoleIdentity in PwsUndeleteProjectRoleRq (LocksToSteal,
    MakeRoleNameUniqueFlag); ``extra``: those that follow it."""
    return pws.call("PwsUndeleteProjectRole", f"{first}<sch:ProjectRoleIdentity>{role_ref(uid)}"
                    f"</sch:ProjectRoleIdentity>{extra}")


# --- reading back ---------------------------------------------------------------------------------

def result_text(answer: Answer, name: str, child: str | None = None) -> str | None:
    """A response member's text (its ``child``'s, for a ref), whatever namespace the Rs type uses."""
    element = answer.result.find(f"{{*}}{name}")
    if element is not None and child is not None:
        element = element.find(f"com:{child}", NAMESPACES)
    return None if element is None else element.text


def fault_numbers(answer: Answer) -> list[int]:
    assert answer.status_code == 500, answer.content
    return [int(n.text or 0) for n in answer.root.iterfind(FAULT + "com:Messages/com:PwsMessage/com:ErrorNumber",
                                                             NAMESPACES)]


def lock_holders(answer: Answer) -> str:
    """The PwsFault's LockHolders, ready to be sent back unchanged as LocksToSteal."""
    holders = answer.find(FAULT + "com:LockHolders")
    assert holders is not None, answer.content
    inner = "".join(etree.tostring(child).decode() for child in holders)
    return f"<sch:LocksToSteal>{inner}</sch:LocksToSteal>"


@dataclass(frozen=True)
class RoleState:
    uid: int
    name: str | None
    deleted: bool
    timestamp: str | None
    requested: tuple[int, ...]
    booked: tuple[int, ...]


@dataclass(frozen=True)
class ProjectState:
    code: str
    timestamp: str | None
    roles: tuple[RoleState, ...]


@dataclass(frozen=True)
class EngagementState:
    timestamp: str | None
    projects: tuple[ProjectState, ...]


def _texts(element: etree._Element, path: str) -> list[str]:
    return [e.text or "" for e in element.iterfind(path, NAMESPACES)]


def engagement_state(pws: Pws, code: str) -> EngagementState | None:
    """The engagement's timestamp, and its projects and roles (deleted ones too) with their
    timestamps and hours; None when the engagement is gone."""
    got = pws.call("PwsGetEngagement", f"<sch:EngagementIdentities><com:PwsEngagementRef>{ref('Engagement', code)}"
                   "</com:PwsEngagementRef></sch:EngagementIdentities>")
    element = got.find(".//com:PwsEngagementElement")
    if element is None:
        return None
    stamp = element.findtext("com:EngagementDetail/com:EngagementTimestamp", namespaces=NAMESPACES)
    codes = _texts(element, "com:ProjectIdentities/com:PwsProjectRef/com:ProjectCode")
    return EngagementState(stamp, tuple(project_state(pws, c) for c in codes))


def project_state(pws: Pws, code: str) -> ProjectState:
    sides = {}
    for mode in "RA":
        got = pws.ok("PwsGetProject", f"{tag('Mode', mode)}<sch:ProjectIdentities><com:PwsProjectRef>"
                     f"{ref('Project', code)}</com:PwsProjectRef></sch:ProjectIdentities>"
                     f"{tag('IncludeDeletedRolesFlag', True)}")
        sides[mode] = got.find(".//com:PwsProjectElement")
    assert sides["R"] is not None and sides["A"] is not None, code
    roles = []
    for requested, booked in zip(sides["R"].iterfind("com:Roles/com:PwsProjectRoleElement", NAMESPACES),
                                 sides["A"].iterfind("com:Roles/com:PwsProjectRoleElement", NAMESPACES), strict=True):
        detail = "com:ProjectRoleDetail/com:"
        roles.append(RoleState(
            uid=int(requested.findtext(detail + "ProjectRoleUid", namespaces=NAMESPACES) or 0),
            name=requested.findtext(detail + "RoleName", namespaces=NAMESPACES),
            deleted=requested.findtext("com:DeletedFlag", namespaces=NAMESPACES) == "true",
            timestamp=requested.findtext(detail + "ProjectRoleTimestamp", namespaces=NAMESPACES),
            requested=tuple(int(m) for m in _texts(requested, ".//com:WeeklyMinutes")),
            booked=tuple(int(m) for m in _texts(booked, ".//com:WeeklyMinutes"))))
    stamp = sides["R"].findtext("com:ProjectDetail/com:ProjectTimestamp", namespaces=NAMESPACES)
    return ProjectState(code, stamp, tuple(roles))


def project_exists(pws: Pws, code: str) -> bool:
    got = pws.ok("PwsGetProject", f"{tag('Mode', 'R')}<sch:ProjectIdentities><com:PwsProjectRef>"
                 f"{ref('Project', code)}</com:PwsProjectRef></sch:ProjectIdentities>")
    return got.find(".//com:PwsProjectElement") is not None


def clients_state(pws: Pws) -> list[tuple[str, bool, str | None]]:
    """Every client of the account: (number, inactive, timestamp), by number."""
    listed = pws.ok("PwsGetClientList", tag("req:IncludeInactiveFlag", True))
    numbers = _texts(listed.root, ".//com:PwsClientSummary/com:ClientNumber")
    if not numbers:
        return []
    refs = "".join(f"<com:PwsClientRef>{ref('Client', n)}</com:PwsClientRef>" for n in numbers)
    got = pws.ok("PwsGetClient", f"<req:ClientIdentities>{refs}</req:ClientIdentities>")
    return sorted((d.findtext("com:ClientNumber", namespaces=NAMESPACES) or "",
                   d.findtext("com:InactiveFlag", namespaces=NAMESPACES) == "true",
                   d.findtext("com:Timestamp", namespaces=NAMESPACES))
                  for d in got.root.iterfind(".//com:ClientDetail", NAMESPACES))

"""A plain in-memory model of the delete rules, the requests that drive the real server through the
same operations, and what the server shows of a tree.

The model (SPEC "Delete semantics", pws-core §4.1 matrix) knows clients (a tree; inactive),
engagements (invoiced), projects (invoiced) and roles (soft-deleted; requested and booked hours).
Each operation changes the model as the server must change its data and returns the Outcome the
server must answer with: the Status, the error numbers of its messages in order, and the clients
that 101 ClientInactivated warnings name. Locks are held by one other user (the model's deletes are
made by the first); a delete they are in the way of answers the PwsFault. ``observe`` reads the same view back from the server:
the list operations for the tree, the tables for what no list shows (invoiced flags, hours).
"""

from __future__ import annotations

import copy
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta

from lxml import etree
from sqlalchemy import select

from openpws.contract import ns
from openpws.services.roles import unique_name
from openpws.store import schema
from openpws.store.transactions import Store
from tests.pws import NAMESPACES, Answer
from tests.tree import Pws, ref, tag

# The numbers the rules answer with (errors.py holds their texts).
NOT_FOUND, ENGAGEMENT_NOT_FOUND, ROLE_NOT_FOUND = 50024, 54061, 54080
CLIENT_INACTIVATED, HAS_CHILD_CLIENTS, CHILD_NOT_DELETABLE, CLIENT_IN_USE = 101, 57624, 57625, 990070
ENGAGEMENT_HAS_INVOICES, ENGAGEMENT_HAS_PROJECTS = 54556, 54537
PROJECT_HAS_INVOICES, PROJECT_HAS_ROLES = 990071, 990072
ROLE_HAS_HOURS, ROLE_NOT_DELETED, DUPLICATE_ROLE_NAME, CLIENT_INACTIVE = 54074, 990073, 990016, 990013
ENTITY_LOCKED, ENGAGEMENT_LOCKED = 50469, 54076


@dataclass(frozen=True)
class Outcome:
    status: str
    numbers: tuple[int, ...] = ()
    inactivated: frozenset[str] = frozenset()  # the clients 101 warnings name


OK = Outcome("Ok")


def failed(number: int) -> Outcome:
    return Outcome("Fail", (number,))


def locked(number: int) -> Outcome:
    """The PwsFault (HTTP 500, s:Client) of a write another user's lock is in the way of."""
    return Outcome("PwsFault", (number,))


@dataclass
class Client:
    parent: str | None
    inactive: bool = False


@dataclass
class Engagement:
    client: str
    invoiced: bool = False
    uid: int = 0


@dataclass
class Project:
    uid: int
    engagement: str
    name: str
    invoiced: bool = False


@dataclass
class Role:
    project: str
    name: str
    deleted: bool = False
    requested: bool = False
    booked: bool = False


@dataclass(frozen=True)
class View:
    """A tree as plain values, for comparing the model with the server."""

    clients: dict[str, tuple[str | None, bool]]  # number: parent, inactive
    engagements: dict[str, tuple[str, bool]]  # code: client, invoiced
    projects: dict[str, tuple[str, str, bool]]  # code: engagement, name, invoiced
    roles: dict[int, tuple[str, str, bool, bool, bool]]  # uid: project, name, deleted, requested, booked


class Model:
    def __init__(self) -> None:
        self.clients: dict[str, Client] = {}
        self.engagements: dict[str, Engagement] = {}
        self.projects: dict[str, Project] = {}
        self.roles: dict[int, Role] = {}
        self.locks: set[tuple[str, str]] = set()  # (lock type, code or role Uid) held by the other user

    def copy(self) -> Model:
        return copy.deepcopy(self)

    def view(self) -> View:
        return View({n: (c.parent, c.inactive) for n, c in self.clients.items()},
                    {k: (e.client, e.invoiced) for k, e in self.engagements.items()},
                    {k: (p.engagement, p.name, p.invoiced) for k, p in self.projects.items()},
                    {u: (r.project, r.name, r.deleted, r.requested, r.booked) for u, r in self.roles.items()})

    # --- the tree's parts -------------------------------------------------------------------------

    def children(self, number: str) -> list[str]:
        return sorted(n for n, c in self.clients.items() if c.parent == number)

    def subtree(self, number: str) -> list[str]:
        """The client and every client below it, parents before children."""
        found = [number]
        for child in self.children(number):
            found += self.subtree(child)
        return found

    def in_use(self, number: str) -> bool:
        return any(e.client == number for e in self.engagements.values())

    def deletable(self, number: str) -> bool:
        """Not in use, and every child deletable (pws-core §4.1, last row of the matrix)."""
        return not self.in_use(number) and all(self.deletable(c) for c in self.children(number))

    def projects_of(self, engagement: str) -> list[str]:
        return sorted(k for k, p in self.projects.items() if p.engagement == engagement)

    def project_by_uid(self, uid: int) -> str | None:
        return next((k for k, p in self.projects.items() if p.uid == uid), None)

    def live_names(self, project: str) -> set[str]:
        return {r.name.lower() for r in self.roles.values() if r.project == project and not r.deleted}

    def engagement_by_uid(self, uid: int) -> str | None:
        return next((k for k, e in self.engagements.items() if e.uid == uid), None)

    def lock_in_way(self, engagement: str, projects: Iterable[str] = (), roles: Iterable[int] = ()) -> Outcome | None:
        """The PwsFault when the other user locks the engagement, or one of the projects or roles a
        write touches."""
        if ("E", engagement) in self.locks:
            return locked(ENGAGEMENT_LOCKED)
        if any(("P", p) in self.locks for p in projects) or any(("R", str(r)) in self.locks for r in roles):
            return locked(ENTITY_LOCKED)
        return None

    def _roles_of(self, projects: Iterable[str]) -> list[int]:
        return [u for u, r in self.roles.items() if r.project in projects]

    def _drop_project(self, code: str) -> None:
        del self.projects[code]
        self.roles = {u: r for u, r in self.roles.items() if r.project != code}

    # --- inserts (the server picks codes and Uids: the caller passes the ones it answered with) ---

    def add_client(self, number: str, parent: str | None) -> Outcome:
        self.clients[number] = Client(parent)
        return OK

    def add_engagement(self, client: str, code: str, uid: int = 0) -> Outcome:
        if client not in self.clients:
            return failed(NOT_FOUND)
        if self.clients[client].inactive:
            return failed(CLIENT_INACTIVE)
        self.engagements[code] = Engagement(client, uid=uid)
        return OK

    def add_project(self, engagement: str, code: str, uid: int, name: str) -> Outcome:
        if engagement not in self.engagements:
            return failed(ENGAGEMENT_NOT_FOUND)
        if self.clients[self.engagements[engagement].client].inactive:
            return failed(CLIENT_INACTIVE)
        self.projects[code] = Project(uid, engagement, name)
        return OK

    def add_role(self, project: str, name: str, uid: int) -> Outcome:
        if project not in self.projects:
            return failed(NOT_FOUND)
        if name.lower() in self.live_names(project):
            return failed(DUPLICATE_ROLE_NAME)
        self.roles[uid] = Role(project, name)
        return OK

    # --- updates -----------------------------------------------------------------------------------

    def rename_engagement(self, uid: int) -> Outcome:
        return OK if self.engagement_by_uid(uid) is not None else failed(ENGAGEMENT_NOT_FOUND)

    def rename_project(self, uid: int, name: str) -> Outcome:
        code = self.project_by_uid(uid)
        if code is None:
            return failed(NOT_FOUND)
        self.projects[code].name = name
        return OK

    def rename_role(self, uid: int, name: str) -> Outcome:
        role = self.roles.get(uid)
        if role is None or role.deleted:
            return failed(ROLE_NOT_FOUND)
        if name.lower() in self.live_names(role.project) - {role.name.lower()}:
            return failed(DUPLICATE_ROLE_NAME)
        role.name = name
        return OK

    def request_hours(self, uid: int, mode: str) -> Outcome:
        role = self.roles.get(uid)
        if role is None or role.deleted:
            return failed(ROLE_NOT_FOUND)
        if mode == "A":
            role.booked = True
        else:
            role.requested = True
        return OK

    def invoice(self, engagement: str, project: str | None) -> Outcome:
        if engagement not in self.engagements:
            return failed(ENGAGEMENT_NOT_FOUND)
        if project is not None and project not in self.projects:
            return failed(NOT_FOUND)
        self.engagements[engagement].invoiced = True
        if project is not None:
            self.projects[project].invoiced = True
        return OK

    def acquire(self, lock_type: str, key: str) -> Outcome:
        """The other user locks an engagement or project (by code) or a role (by Uid). A deleted role
        can be locked: it is still there to be undeleted."""
        exists = {"E": key in self.engagements, "P": key in self.projects,
                  "R": key.isdigit() and int(key) in self.roles}[lock_type]
        if not exists:
            return failed(NOT_FOUND)
        self.locks.add((lock_type, key))
        return OK

    # --- the deletes -----------------------------------------------------------------------------

    def delete_client(self, number: str, cascade: bool, inactivate: bool) -> Outcome:
        if number not in self.clients:
            return failed(NOT_FOUND)
        if not cascade:
            if self.children(number):
                return failed(HAS_CHILD_CLIENTS)
            if not self.in_use(number):
                del self.clients[number]
                return OK
            if not inactivate:
                return failed(CLIENT_IN_USE)
            self.clients[number].inactive = True
            return Outcome("OkWithWarnings", (CLIENT_INACTIVATED,), frozenset({number}))
        tree = self.subtree(number)
        keep = {n for n in tree if not self.deletable(n)}
        if keep and not inactivate:
            # One message per kind of blocker: the client itself in use, clients below it in use.
            return Outcome("Fail", (CLIENT_IN_USE,) * self.in_use(number)
                           + (CHILD_NOT_DELETABLE,) * any(self.in_use(n) for n in tree[1:]))
        for n in tree:
            if n in keep:
                self.clients[n].inactive = True
            else:
                del self.clients[n]
        if keep:
            return Outcome("OkWithWarnings", (CLIENT_INACTIVATED,) * len(keep), frozenset(keep))
        return OK

    def delete_engagement(self, code: str, cascade: bool) -> Outcome:
        engagement = self.engagements.get(code)
        if engagement is None:
            return failed(ENGAGEMENT_NOT_FOUND)
        if engagement.invoiced:
            return failed(ENGAGEMENT_HAS_INVOICES)
        projects = self.projects_of(code)
        if (fault := self.lock_in_way(code, projects, self._roles_of(projects))) is not None:
            return fault
        if projects and not cascade:
            return failed(ENGAGEMENT_HAS_PROJECTS)
        if any(self.projects[p].invoiced for p in projects):
            return failed(PROJECT_HAS_INVOICES)
        for project in projects:
            self._drop_project(project)
        del self.engagements[code]
        return OK

    def delete_project(self, code: str, cascade: bool, delete_empty_engagement: bool) -> Outcome:
        project = self.projects.get(code)
        if project is None:
            return failed(NOT_FOUND)
        if (fault := self.lock_in_way(project.engagement, [code], self._roles_of([code]))) is not None:
            return fault
        if project.invoiced:
            return failed(PROJECT_HAS_INVOICES)
        if not cascade and any(r.project == code and not r.deleted for r in self.roles.values()):
            return failed(PROJECT_HAS_ROLES)
        self._drop_project(code)
        engagement = project.engagement
        if delete_empty_engagement and not self.projects_of(engagement) and not self.engagements[engagement].invoiced:
            del self.engagements[engagement]
        return OK

    def delete_role(self, uid: int, zero_out_hours: bool) -> Outcome:
        role = self.roles.get(uid)
        if role is None or role.deleted:
            return failed(ROLE_NOT_FOUND)
        project = self.projects[role.project]
        if (fault := self.lock_in_way(project.engagement, [role.project], [uid])) is not None:
            return fault
        if (role.requested or role.booked) and not zero_out_hours:
            return failed(ROLE_HAS_HOURS)
        role.deleted = True
        if zero_out_hours:
            role.requested = role.booked = False
        return OK

    def undelete_role(self, uid: int, make_name_unique: bool) -> Outcome:
        role = self.roles.get(uid)
        if role is None:
            return failed(ROLE_NOT_FOUND)
        if not role.deleted:
            return failed(ROLE_NOT_DELETED)
        taken = self.live_names(role.project)
        if role.name.lower() in taken:
            if not make_name_unique:
                return failed(DUPLICATE_ROLE_NAME)
            role.name = unique_name(role.name, taken)
        role.deleted = False
        return OK


# --- the same operations on the wire -------------------------------------------------------------

MONDAY = date(2024, 1, 1)
BILLING = f'xmlns:bil="{ns.BILLING}"'


def _flags(**flags: bool) -> str:
    return "".join(tag(name, value) for name, value in flags.items())


def save_client(pws: Pws, parent: str | None) -> Answer:
    detail = "<com:ClientName>Client</com:ClientName>"
    if parent is not None:
        detail += f"<com:ParentClientIdentity>{ref('Client', parent)}</com:ParentClientIdentity>"
    return pws.call("PwsSaveClient", f"<req:Client>{detail}</req:Client>")


def save_engagement(pws: Pws, client: str, code: str | None = None) -> Answer:
    keys = f"<com:EngagementCode>{code}</com:EngagementCode>" if code else ""
    return pws.call("PwsSaveEngagement", f"<sch:Engagement>{keys}<com:ClientIdentity>{ref('Client', client)}"
                    "</com:ClientIdentity><com:EngagementName>Work</com:EngagementName></sch:Engagement>")


def rename_engagement(pws: Pws, uid: int, name: str) -> Answer:
    return pws.call("PwsSaveEngagement", f"<sch:Engagement>{ref('Engagement', uid=uid)}"
                    f"<com:EngagementName>{name}</com:EngagementName></sch:Engagement>")


def save_project(pws: Pws, engagement: str, name: str, code: str | None = None) -> Answer:
    keys = f"<com:ProjectCode>{code}</com:ProjectCode>" if code else ""
    return pws.call("PwsSaveProject", f"<sch:Mode>R</sch:Mode><sch:Project>{keys}<com:EngagementIdentity>"
                    f"{ref('Engagement', engagement)}</com:EngagementIdentity><com:ProjectName>{name}"
                    "</com:ProjectName></sch:Project>")


def rename_project(pws: Pws, uid: int, name: str) -> Answer:
    return pws.call("PwsSaveProject", f"<sch:Mode>R</sch:Mode><sch:Project>{ref('Project', uid=uid)}"
                    f"<com:ProjectName>{name}</com:ProjectName></sch:Project>")


def save_role(pws: Pws, project: str, name: str) -> Answer:
    return pws.call("PwsSaveProjectRole", f"<sch:Mode>R</sch:Mode><sch:ProjectIdentity>{ref('Project', project)}"
                    f"</sch:ProjectIdentity><sch:ProjectRole><com:RoleName>{name}</com:RoleName></sch:ProjectRole>")


def rename_role(pws: Pws, uid: int, name: str) -> Answer:
    return pws.call("PwsSaveProjectRole", f"<sch:Mode>R</sch:Mode><sch:ProjectRole>{ref('ProjectRole', uid=uid)}"
                    f"<com:RoleName>{name}</com:RoleName></sch:ProjectRole>")


def request_hours(pws: Pws, uid: int, mode: str, week: int = 0) -> Answer:
    start = MONDAY + timedelta(weeks=week)
    return pws.call("PwsRequestOrBookRoleHours", f"{tag('Mode', mode)}<sch:ProjectRoles><com:PwsProjectRoleHours>"
                    f"<com:HoursBuckets><com:PwsProjectRoleHoursBucket><com:BucketStartDate>{start}T00:00:00Z"
                    "</com:BucketStartDate><com:SchedulingMode>W</com:SchedulingMode><com:WeeklyMinutes>60"
                    "</com:WeeklyMinutes></com:PwsProjectRoleHoursBucket></com:HoursBuckets>"
                    f"<com:ProjectRoleIdentity>{ref('ProjectRole', uid=uid)}</com:ProjectRoleIdentity>"
                    "</com:PwsProjectRoleHours></sch:ProjectRoles>")


def acquire(pws: Pws, lock_type: str, key: str) -> Answer:
    """A lock on an engagement or project by code, or a role by Uid (``key``), for ten minutes."""
    keys = (f"<com:EntityUid>{key}</com:EntityUid>" if lock_type == "R" else f"<com:EntityCode>{key}</com:EntityCode>")
    return pws.call("PwsAcquireProjectorLocks", "<req:LockDurationSeconds>600</req:LockDurationSeconds><req:Locks>"
                    f"<com:PwsProjectorLockRequest><com:EntityIdentity>{keys}<com:LockType>{lock_type}</com:LockType>"
                    "</com:EntityIdentity></com:PwsProjectorLockRequest></req:Locks>")


def create_invoice(pws: Pws, client: str, engagement: str, project: str | None) -> Answer:
    spec = ("<bil:BillingCultureIdentity><com:CultureName>en-US</com:CultureName></bil:BillingCultureIdentity>"
            f"<bil:ClientIdentity>{ref('Client', client)}</bil:ClientIdentity>"
            "<bil:CostCenterIdentity><com:CostCenterName>Head Office</com:CostCenterName></bil:CostCenterIdentity>"
            "<bil:EngagementCurrencyIdentity><com:CurrencyCode>USD</com:CurrencyCode></bil:EngagementCurrencyIdentity>"
            f"<bil:EngagementIdentity>{ref('Engagement', engagement)}</bil:EngagementIdentity>"
            "<bil:InvoiceContent>B</bil:InvoiceContent><bil:InvoiceName>Invoice</bil:InvoiceName>")
    if project is not None:
        spec += f"<bil:ProjectIdentity>{ref('Project', project)}</bil:ProjectIdentity>"
    return pws.call("PwsCreateInvoice", f"<bil:InvoiceSpec {BILLING}>{spec}</bil:InvoiceSpec>")


def delete_client(pws: Pws, number: str, cascade: bool, inactivate: bool) -> Answer:
    return pws.call("PwsDeleteClient", f"<req:CascadeDeleteFlag>{str(cascade).lower()}</req:CascadeDeleteFlag>"
                    f"<req:ClientIdentity>{ref('Client', number)}</req:ClientIdentity>"
                    f"<req:InactivateIfInuseFlag>{str(inactivate).lower()}</req:InactivateIfInuseFlag>")


def delete_engagement(pws: Pws, code: str, cascade: bool) -> Answer:
    return pws.call("PwsDeleteEngagement", f"<sch:EngagementIdentity>{ref('Engagement', code)}</sch:EngagementIdentity>"
                    + _flags(CascadeDeleteFlag=cascade))


def delete_project(pws: Pws, code: str, cascade: bool, delete_empty_engagement: bool) -> Answer:
    return pws.call("PwsDeleteProject", _flags(CascadeDeleteFlag=cascade)
                    + f"<sch:ProjectIdentity>{ref('Project', code)}</sch:ProjectIdentity>"
                    + _flags(DeleteEmptyEngagementFlag=delete_empty_engagement))


def delete_role(pws: Pws, uid: int, zero_out_hours: bool) -> Answer:
    return pws.call("PwsDeleteProjectRole", f"<sch:ProjectRoleIdentity>{ref('ProjectRole', uid=uid)}"
                    "</sch:ProjectRoleIdentity>" + _flags(ZeroOutHoursFlag=zero_out_hours))


def undelete_role(pws: Pws, uid: int, make_name_unique: bool) -> Answer:
    return pws.call("PwsUndeleteProjectRole", _flags(MakeRoleNameUniqueFlag=make_name_unique)
                    + f"<sch:ProjectRoleIdentity>{ref('ProjectRole', uid=uid)}</sch:ProjectRoleIdentity>")


# --- reading answers and trees back --------------------------------------------------------------

def outcome(answer: Answer, clients: Iterable[str] = ()) -> Outcome:
    """What the server answered, in the model's terms; a SOAP fault other than the PwsFault of a lock
    in the way (an s:Server above all) is never a documented answer here."""
    if answer.status_code == 500:
        fault = answer.root.find(".//com:PwsFault", NAMESPACES)
        assert fault is not None, answer.content.decode()
        return Outcome("PwsFault", tuple(int(n) for n in fault.xpath(
            "com:Messages/com:PwsMessage/com:ErrorNumber/text()", namespaces=NAMESPACES)))
    assert answer.status_code == 200, answer.content.decode()
    messages = answer.messages()
    named = frozenset(number for m in messages if m["ErrorNumber"] == str(CLIENT_INACTIVATED)
                      for number in clients if re.search(rf"\b{re.escape(number)}\b", m["AdditionalErrorText"] or ""))
    return Outcome(answer.status, tuple(answer.error_numbers()), named)


def code(answer: Answer, member: str, path: str) -> str | None:
    """A key of the saved entity (``path`` under the response member), None when the save failed."""
    found = answer.result.find(f"{{*}}{member}/com:{path}", NAMESPACES)
    return found.text if found is not None else None


def _texts(element: etree._Element, path: str) -> str | None:
    found = element.find(path, NAMESPACES)
    return found.text if found is not None else None


def observe(pws: Pws, store: Store) -> View:
    """The tree as the server shows it: the four list operations, plus the tables for the invoiced
    flags and the hours, which no list shows."""
    clients: dict[str, tuple[str | None, bool]] = {}
    for row in pws.ok("PwsGetClientList", tag("req:IncludeInactiveFlag", True)).root.iterfind(
            ".//com:PwsClientSummary", NAMESPACES):
        clients[_texts(row, "com:ClientNumber") or ""] = (_texts(row, "com:ParentClientIdentity/com:ClientNumber"),
                                                          _texts(row, "com:InactiveFlag") == "true")
    listed = pws.ok("PwsGetEngagementList", tag("IncludeClosedFlag", True)).root.iterfind(
        ".//com:PwsEngagementSummary", NAMESPACES)
    engagement_of = {_texts(row, "com:EngagementCode") or "": _texts(row, "com:ClientIdentity/com:ClientNumber") or ""
                     for row in listed}
    project_rows = list(pws.ok("PwsGetProjectList", tag("IncludeClosedFlag", True)).root.iterfind(
        ".//com:PwsProjectSummary", NAMESPACES))
    project_of = {_texts(row, "com:ProjectCode") or "": (_texts(row, "com:EngagementIdentity/com:EngagementCode") or "",
                                                         _texts(row, "com:ProjectName") or "") for row in project_rows}
    roles: dict[int, tuple[str, str, bool]] = {}
    codes = sorted(project_of)
    for start in range(0, len(codes), 100):
        refs = "".join(f"<com:PwsProjectRef>{ref('Project', c)}</com:PwsProjectRef>" for c in codes[start:start + 100])
        answer = pws.ok("PwsGetProjectRoles", f"{tag('IncludeDeletedRolesFlag', True)}<sch:Mode>R</sch:Mode>"
                        f"<sch:ProjectIdentities>{refs}</sch:ProjectIdentities>")
        for group in answer.root.iterfind(".//com:PwsProjectProjectRoles", NAMESPACES):
            project = _texts(group, "com:ProjectIdentity/com:ProjectCode") or ""
            for role in group.iterfind("com:ProjectRoles/com:PwsProjectRoleElement", NAMESPACES):
                uid = int(_texts(role, "com:ProjectRoleDetail/com:ProjectRoleUid") or 0)
                roles[uid] = (project, _texts(role, "com:ProjectRoleDetail/com:RoleName") or "",
                              _texts(role, "com:DeletedFlag") == "true")
    invoiced, hours = _flags_in_tables(store, pws.account.code)
    return View(clients,
                {k: (c, invoiced.get(("E", k), False)) for k, c in engagement_of.items()},
                {k: (e, n, invoiced.get(("P", k), False)) for k, (e, n) in project_of.items()},
                {u: (p, n, d, (u, "R") in hours, (u, "A") in hours) for u, (p, n, d) in roles.items()})


def _account_id(store: Store, account: str) -> int:
    with store.read() as tx:
        return int(tx.execute(select(schema.accounts.c.id).where(schema.accounts.c.code_key == account.lower()))
                   .scalar_one())


def _flags_in_tables(store: Store, account: str) -> tuple[dict[tuple[str, str], bool], set[tuple[int, str]]]:
    account_id = _account_id(store, account)
    e, p, r, h = schema.engagements, schema.projects, schema.project_roles, schema.role_hours
    with store.read() as tx:
        invoiced = {("E", code): flag for code, flag in tx.execute(
            select(e.c.code, e.c.ever_invoiced).where(e.c.account_id == account_id))}
        invoiced |= {("P", code): flag for code, flag in tx.execute(
            select(p.c.code, p.c.ever_invoiced).where(p.c.account_id == account_id))}
        hours = {(int(uid), kind) for uid, kind in tx.execute(
            select(r.c.uid, h.c.kind).join(r, r.c.id == h.c.role_id).where(r.c.account_id == account_id))}
    return invoiced, hours


def snapshot(store: Store, account: str) -> list[tuple[object, ...]]:
    """Every row of the account's tree, row versions included (what a failed call must leave alone)."""
    account_id = _account_id(store, account)
    rows: list[tuple[object, ...]] = []
    r = schema.project_roles
    with store.read() as tx:
        for table in (schema.clients, schema.engagements, schema.contract_line_items, schema.projects, r,
                      schema.invoices, schema.locks):
            rows += sorted((table.name, *row) for row in tx.execute(
                select(table).where(table.c.account_id == account_id)))
        rows += sorted(("role_hours", *row) for row in tx.execute(
            select(schema.role_hours).join(r, r.c.id == schema.role_hours.c.role_id).where(r.c.account_id == account_id)))
    return rows

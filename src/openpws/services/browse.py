"""Reading an account for people to look at (the admin pages under ``/_openpws/``): its client
tree a page at a time, one entity with what hangs under it, a search over codes and names, its
users and its live locks; and taking and releasing a lock as any of its users, as ``openpws lock
take`` and ``lock release`` do. Each function is one transaction, at real time ``real`` (an expired
account is absent, as everywhere in the sandbox); the SQL is ``store.browse``.

Lists are pages of at most ``limit`` rows in the order of their codes, each with the key to go on
after (None on the last page), so that a page of an account of 10,000 rows costs what a page of a
small one does.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Generic, TypeVar

from sqlalchemy import Connection

from openpws.entities import (
    ClientRow,
    ContractLineItemRow,
    EngagementRow,
    InvoiceRow,
    ListedLock,
    LockRow,
    PersonRow,
    ProjectRow,
    RoleRow,
    StageRow,
    UserRow,
)
from openpws.services import admin, lock_sets
from openpws.services.context import Environment
from openpws.services.sandbox import Invalid, NotFound, live_account
from openpws.store import accounts as account_store
from openpws.store import browse as store
from openpws.store import roles as role_store

# Rows a page lists at most.
PAGE = 50
# Matches of each kind a search lists at most.
SEARCH_LIMIT = 20
# How long a lock taken from the pages lasts at most (PwsAcquireProjectorLocks' own bound).
MAX_LOCK_SECONDS = 86400


T = TypeVar("T")
K = TypeVar("K")


@dataclass(frozen=True)
class Page(Generic[T]):
    items: tuple[T, ...]
    after: str | None  # the key to list on from; None on the last page


@dataclass(frozen=True)
class ClientLine:
    client: ClientRow
    children: tuple[ClientRow, ...]
    engagements: int


@dataclass(frozen=True)
class EngagementLine:
    engagement: EngagementRow
    stage: StageRow | None


@dataclass(frozen=True)
class ClientView:
    client: ClientRow
    parent: ClientRow | None
    children: tuple[ClientRow, ...]
    engagements: Page[EngagementLine]


@dataclass(frozen=True)
class ProjectLine:
    project: ProjectRow
    line_item: ContractLineItemRow | None
    stage: StageRow | None


@dataclass(frozen=True)
class EngagementView:
    engagement: EngagementRow
    client: ClientRow
    stage: StageRow | None
    manager: PersonRow | None
    line_items: tuple[ContractLineItemRow, ...]
    projects: Page[ProjectLine]
    invoices: tuple[InvoiceRow, ...]


@dataclass(frozen=True)
class Week:
    start: date
    requested_minutes: int | None
    booked_minutes: int | None


@dataclass(frozen=True)
class RoleLine:
    role: RoleRow
    requested: PersonRow | None
    booked: PersonRow | None
    weeks: tuple[Week, ...]  # by week, oldest first


@dataclass(frozen=True)
class ProjectView:
    project: ProjectRow
    engagement: EngagementRow
    client: ClientRow
    line_item: ContractLineItemRow | None
    stage: StageRow | None
    manager: PersonRow | None
    roles: Page[RoleLine]
    deleted_roles: Page[RoleLine]
    invoices: tuple[InvoiceRow, ...]


@dataclass(frozen=True)
class RoleView:
    line: RoleLine
    project: ProjectRow
    engagement: EngagementRow
    client: ClientRow


@dataclass(frozen=True)
class LineItemView:
    line_item: ContractLineItemRow
    engagement: EngagementRow
    client: ClientRow
    projects: Page[ProjectLine]


@dataclass(frozen=True)
class InvoiceView:
    invoice: InvoiceRow
    engagement: EngagementRow
    client: ClientRow
    project: ProjectRow | None


@dataclass(frozen=True)
class RoleMatch:
    role: RoleRow
    project: ProjectRow


@dataclass(frozen=True)
class Found:
    clients: tuple[ClientRow, ...]
    engagements: tuple[EngagementRow, ...]
    line_items: tuple[ContractLineItemRow, ...]
    projects: tuple[ProjectRow, ...]
    roles: tuple[RoleMatch, ...]
    invoices: tuple[InvoiceRow, ...]

    def __len__(self) -> int:
        return sum(len(kind) for kind in (self.clients, self.engagements, self.line_items, self.projects,
                                          self.roles, self.invoices))


@dataclass(frozen=True)
class LockSet:
    """A live lock set: its holder, expiry, whether it may be stolen, and its locks."""

    id: int
    login: str
    display_name: str
    expires_at: datetime  # naive UTC, the account's clock
    internal: bool
    locks: tuple[LockRow, ...]


def _page(rows: Sequence[T], limit: int, key: K) -> tuple[tuple[T, ...], K | None]:
    """The first ``limit`` of ``rows`` (one more was read, to tell whether more follow) and the
    key to go on from."""
    return tuple(rows[:limit]), key if len(rows) > limit else None


def _account(tx: Connection, code: str, real: datetime) -> int:
    return live_account(tx, code, real).id


def clients(environment: Environment, code: str, real: datetime, *, after: str | None = None,
            limit: int = PAGE) -> Page[ClientLine]:
    """The account's clients without a parent, by number, each with its children."""
    with environment.store.read() as tx:
        account = _account(tx, code, real)
        rows = store.top_clients(tx, account, None if after is None else after.upper(), limit + 1)
        shown, more = _page(rows, limit, rows[limit - 1].number.upper() if len(rows) > limit else None)
        children = defaultdict(list)
        for child in store.children_of(tx, account, [c.id for c in shown]):
            children[child.parent_id].append(child)
        counts = store.engagement_counts(tx, [c.id for c in shown] + [c.id for cs in children.values() for c in cs])
        return Page(tuple(ClientLine(c, tuple(children[c.id]), counts.get(c.id, 0)) for c in shown), more)


def _not_found(kind: str, key: object, code: str) -> NotFound:
    return NotFound(f"there is no {kind} {key!r} in account {code!r}", "code")


def client(environment: Environment, code: str, number: str, real: datetime, *, after: str | None = None,
           limit: int = PAGE) -> ClientView:
    with environment.store.read() as tx:
        account = _account(tx, code, real)
        found = store.client_by_number(tx, account, number)
        if found is None:
            raise _not_found("client", number, code)
        parent = store.clients_by_ids(tx, account, [found.parent_id]).get(found.parent_id or 0)
        children = store.children_of(tx, account, [found.id])
        rows = store.engagements_of(tx, found.id, None if after is None else after.upper(), limit + 1)
        shown, more = _page(rows, limit, rows[limit - 1].code.upper() if len(rows) > limit else None)
        stages = store.stages_by_ids(tx, account, [e.stage_id for e in shown])
        return ClientView(found, parent, tuple(children),
                          Page(tuple(EngagementLine(e, stages.get(e.stage_id)) for e in shown), more))


def _project_lines(tx: Connection, account: int, rows: Sequence[ProjectRow], limit: int) -> Page[ProjectLine]:
    shown, more = _page(rows, limit, rows[limit - 1].code.upper() if len(rows) > limit else None)
    items = store.line_items_by_ids(tx, account, [p.contract_line_item_id for p in shown])
    stages = store.stages_by_ids(tx, account, [p.stage_id for p in shown])
    return Page(tuple(ProjectLine(p, items.get(p.contract_line_item_id or 0), stages.get(p.stage_id))
                      for p in shown), more)


def engagement(environment: Environment, code: str, engagement_code: str, real: datetime, *,
               after: str | None = None, limit: int = PAGE) -> EngagementView:
    with environment.store.read() as tx:
        account = _account(tx, code, real)
        found = store.engagement_by_code(tx, account, engagement_code)
        if found is None:
            raise _not_found("engagement", engagement_code, code)
        owner = store.clients_by_ids(tx, account, [found.client_id])[found.client_id]
        stage = store.stages_by_ids(tx, account, [found.stage_id]).get(found.stage_id)
        manager = store.people(tx, account, [found.manager_user_id]).get(found.manager_user_id or 0)
        line_items = store.line_items_of(tx, found.id, limit)
        rows = store.projects_of(tx, engagement_id=found.id, after=None if after is None else after.upper(),
                                 limit=limit + 1)
        return EngagementView(found, owner, stage, manager, tuple(line_items), _project_lines(tx, account, rows, limit),
                              tuple(store.invoices_of(tx, engagement_id=found.id, limit=limit)))


def _role_lines(tx: Connection, account: int, rows: Sequence[RoleRow], limit: int) -> Page[RoleLine]:
    shown = rows[:limit]
    more = str(shown[-1].id) if len(rows) > limit else None
    people = store.people(tx, account, [r.requested_user_id for r in shown] + [r.booked_user_id for r in shown])
    weeks: dict[int, dict[date, list[int | None]]] = defaultdict(dict)
    for hours in role_store.hours_of(tx, [r.id for r in shown]):
        week = weeks[hours.role_id].setdefault(hours.bucket_start, [None, None])
        week[0 if hours.kind == "R" else 1] = hours.weekly_minutes
    return Page(tuple(RoleLine(r, people.get(r.requested_user_id or 0), people.get(r.booked_user_id or 0),
                               tuple(Week(start, *minutes) for start, minutes in sorted(weeks[r.id].items())))
                      for r in shown), more)


def _role_after(after: str | None) -> int | None:
    if after is None:
        return None
    if not after.isdigit() or len(after) > 12:
        raise Invalid("after is the id of the last role shown", "after")
    return int(after)


def project(environment: Environment, code: str, project_code: str, real: datetime, *, after: str | None = None,
            deleted_after: str | None = None, limit: int = PAGE) -> ProjectView:
    """A project with its live roles and, apart, its deleted ones, each with hours per week."""
    with environment.store.read() as tx:
        account = _account(tx, code, real)
        found = store.project_by_code(tx, account, project_code)
        if found is None:
            raise _not_found("project", project_code, code)
        owner = store.engagements_by_ids(tx, account, [found.engagement_id])[found.engagement_id]
        top = store.clients_by_ids(tx, account, [owner.client_id])[owner.client_id]
        item = store.line_items_by_ids(tx, account, [found.contract_line_item_id]).get(
            found.contract_line_item_id or 0)
        stage = store.stages_by_ids(tx, account, [found.stage_id]).get(found.stage_id)
        manager = store.people(tx, account, [found.manager_user_id]).get(found.manager_user_id or 0)
        live = store.roles_of(tx, found.id, deleted=False, after=_role_after(after), limit=limit + 1)
        gone = store.roles_of(tx, found.id, deleted=True, after=_role_after(deleted_after), limit=limit + 1)
        return ProjectView(found, owner, top, item, stage, manager, _role_lines(tx, account, live, limit),
                           _role_lines(tx, account, gone, limit),
                           tuple(store.invoices_of(tx, project_id=found.id, limit=limit)))


def role(environment: Environment, code: str, uid: int, real: datetime) -> RoleView:
    with environment.store.read() as tx:
        account = _account(tx, code, real)
        found = store.role_by_uid(tx, account, uid)
        if found is None:
            raise _not_found("role with Uid", uid, code)
        owner = store.projects_by_ids(tx, account, [found.project_id])[found.project_id]
        graph = store.engagements_by_ids(tx, account, [owner.engagement_id])[owner.engagement_id]
        top = store.clients_by_ids(tx, account, [graph.client_id])[graph.client_id]
        [line] = _role_lines(tx, account, [found], 1).items
        return RoleView(line, owner, graph, top)


def line_item(environment: Environment, code: str, item_code: str, real: datetime, *, after: str | None = None,
              limit: int = PAGE) -> LineItemView:
    with environment.store.read() as tx:
        account = _account(tx, code, real)
        found = store.line_item_by_code(tx, account, item_code)
        if found is None:
            raise _not_found("contract line item", item_code, code)
        owner = store.engagements_by_ids(tx, account, [found.engagement_id])[found.engagement_id]
        top = store.clients_by_ids(tx, account, [owner.client_id])[owner.client_id]
        rows = store.projects_of(tx, line_item_id=found.id, after=None if after is None else after.upper(),
                                 limit=limit + 1)
        return LineItemView(found, owner, top, _project_lines(tx, account, rows, limit))


def invoice(environment: Environment, code: str, number: str, real: datetime) -> InvoiceView:
    with environment.store.read() as tx:
        account = _account(tx, code, real)
        found = store.invoice_by_number(tx, account, number)
        if found is None:
            raise _not_found("invoice", number, code)
        owner = store.engagements_by_ids(tx, account, [found.engagement_id])[found.engagement_id]
        top = store.clients_by_ids(tx, account, [found.client_id])[found.client_id]
        part = store.projects_by_ids(tx, account, [found.project_id]).get(found.project_id or 0)
        return InvoiceView(found, owner, top, part)


def search(environment: Environment, code: str, text: str, real: datetime, limit: int = SEARCH_LIMIT) -> Found:
    """Clients, engagements, contract line items, projects, roles (by ExternalSystemIdentifier)
    and invoices whose code or name holds ``text`` in any case, or whose Uid it is; an exact code
    first in each kind."""
    text = text.strip()
    if not text:
        raise Invalid("give some text to search codes and names for", "q")
    if len(text) > 255:
        raise Invalid("search for at most 255 characters", "q")
    with environment.store.read() as tx:
        account = _account(tx, code, real)
        roles = store.search_roles(tx, account, text, limit)
        owners = store.projects_by_ids(tx, account, [r.project_id for r in roles])
        return Found(tuple(store.search_clients(tx, account, text, limit)),
                     tuple(store.search_engagements(tx, account, text, limit)),
                     tuple(store.search_line_items(tx, account, text, limit)),
                     tuple(store.search_projects(tx, account, text, limit)),
                     tuple(RoleMatch(r, owners[r.project_id]) for r in roles),
                     tuple(store.search_invoices(tx, account, text, limit)))


def users(environment: Environment, code: str, real: datetime) -> list[UserRow]:
    """The account's users, by login."""
    with environment.store.read() as tx:
        account = _account(tx, code, real)
        return sorted(account_store.list_users(tx, account), key=lambda u: u.login.lower())


# --- locks ----------------------------------------------------------------------------------------

def lock_sets_of(environment: Environment, code: str, real: datetime) -> list[LockSet]:
    """The account's live lock sets (on its clock), newest first, each with its locks."""
    with environment.store.read() as tx:
        state = live_account(tx, code, real)
        listed: list[ListedLock] = lock_sets.list_locks(tx, state.id, state.clock.at(real))
    by_set: dict[int, list[ListedLock]] = defaultdict(list)
    for held in listed:
        by_set[held.lock.lock_set_id].append(held)
    return [LockSet(set_id, rows[0].login, rows[0].display_name, rows[0].expires_at, rows[0].internal,
                    tuple(r.lock for r in rows)) for set_id, rows in sorted(by_set.items(), reverse=True)]


def take_lock(environment: Environment, code: str, login: str, entity: str, seconds: int, internal: bool,
              real: datetime) -> int:
    """Lock ``entity`` (E:CODE, P:CODE or R:EXTERNAL_SYSTEM_IDENTIFIER) as the user ``login``, as
    ``openpws lock take`` does; the ProjectorLockSetId."""
    if not 1 <= seconds <= MAX_LOCK_SECONDS:
        raise Invalid(f"a lock lasts 1 to {MAX_LOCK_SECONDS} seconds", "seconds")
    with environment.store.write() as tx:
        state = live_account(tx, code, real)
        try:
            return admin.take_lock(tx, state.code, login, entity, seconds, internal=internal, now=state.clock.at(real))
        except admin.AdminError as error:
            path = "user" if str(error).startswith("there is no user") else "entity"
            raise Invalid(str(error).replace("--entity ", "the entity "), path) from None


def release_lock(environment: Environment, code: str, set_id: int, real: datetime) -> bool:
    """End the lock set ``set_id`` whoever holds it: True if it was live."""
    with environment.store.write() as tx:
        state = live_account(tx, code, real)
        try:
            return admin.release_lock(tx, state.code, set_id, state.clock.at(real))
        except admin.AdminError as error:
            raise NotFound(str(error), "set") from None

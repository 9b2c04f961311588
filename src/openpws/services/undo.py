"""Undo of a delete (SPEC "The sandbox", Change journal): put back what a delete request removed
or inactivated, from its record in the change journal, in one transaction.

What comes back: every row the request removed (clients, engagements with their contract line
items, projects, roles, their requested and booked hours, allocation notes and role notes, and
the locks in the tree whose lock sets are still live), with the same codes, Uids and links (an
invoice names the same project again); the flags it set undone (a client it marked inactive is
active again, a role it flagged deleted is live again); and the lock sets it stole given back to
their holders, when nothing else happened to them since. Every row put back or changed takes the
undo's one new row version, and its updated time is the undo's instant; an engagement graph that
gains rows takes the new version too, so a timestamp read before the undo no longer matches.

It is refused (``Refused``: 409, each conflict named) and nothing changes when a later change
stands in the way: a row it would put back is there again (a snapshot's restore, an undo), one of
its codes (a client number, an engagement, contract line item or project code, a role's
ExternalSystemIdentifier, a live role's name in its project) was taken since, a row it hangs
from is gone, or a row it would change back was changed since. Where the change journal still
holds the request that did it, the conflict names that request.

An undo is journalled like a write (operation ``Undo``, ``undoes`` the request; the request's
record then says ``undone_by``), and can be previewed: run and rolled back, answered with its
change tree, or with the conflicts that would refuse it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Connection
from sqlalchemy.exc import IntegrityError

from openpws.bulk import collector_paused
from openpws.clock import RequestTime, utc
from openpws.services import change_tree, changes, undo_plan
from openpws.services.context import Environment
from openpws.services.locks import lock_time
from openpws.services.sandbox import Conflict, NotFound, live_account
from openpws.store import accounts as account_store
from openpws.store import change_journal as journal_store
from openpws.store import changes as capture
from openpws.store import clients as client_store
from openpws.store import engagements as engagement_store
from openpws.store import projects as project_store
from openpws.store import roles as role_store
from openpws.store import undo as store
from openpws.store.counters import next_rowversion
from openpws.store.schema import (
    clients,
    lock_sets,
)

DELETES = ("PwsDeleteClient", "PwsDeleteEngagement", "PwsDeleteProject", "PwsDeleteProjectRole")
# The unique codes of an account's rows: the column that keeps each (case-folded) and the column shown.
_CODES = {"clients": ("number_key", "number"), "engagements": ("code_key", "code"),
          "contract_line_items": ("code_key", "code"), "projects": ("code_key", "code"),
          "project_roles": ("external_key", "external_id")}
# What every write of a row changes: not a change of its own.
_VERSIONED = ("rowversion", "updated_at")


@dataclass(frozen=True)
class ConflictItem:
    kind: str
    code: str | None
    uid: int | None
    name: str | None
    reason: str
    request_id: int | None = None  # the later request that stands in the way, when the journal holds it

    def json(self) -> dict[str, Any]:
        return {"kind": self.kind, "code": self.code, "uid": self.uid, "name": self.name, "reason": self.reason,
                "request_id": self.request_id}


class Refused(Conflict):
    """An undo that later changes stand in the way of; ``conflicts`` names each."""

    def __init__(self, message: str, conflicts: Sequence[ConflictItem]) -> None:
        super().__init__(message, "id")
        self.conflicts = list(conflicts)


@dataclass(frozen=True)
class Undone:
    id: int | None  # the undo's own record (None for a preview)
    undoes: int
    rows: int  # rows it put back or changed back (and engagements it bumped)
    counts: dict[str, int]  # the same, by kind
    # A preview's change tree (an undo's own is in the change journal, under ``id``: a cascade's is
    # tens of thousands of items, which its answer need not carry).
    changes: list[dict[str, Any]] | None = None
    conflicts: list[ConflictItem] = field(default_factory=list)


class _Undo:
    def __init__(self, tx: Connection, account_id: int, record: journal_store.Record, plan: undo_plan.Plan, size: int,
                 now: datetime) -> None:
        self.tx = tx
        self.now = now
        self.account_id = account_id
        self.record = record
        self.plan = plan
        self.size = size
        self.conflicts: list[ConflictItem] = []
        self._later: dict[tuple[str, int], tuple[int, str | None, str | None]] | None = None

    # -- who did it: the later requests of the journal --------------------------------------------

    def later(self, table: str, ident: int) -> tuple[int, str | None, str | None] | None:
        """The newest later request that changed row ``ident`` of ``table``: its id, operation and
        the row's code then."""
        if self._later is None:
            self._later = {}
            found = journal_store.read(self.tx, self.account_id, self.size, journal_store.Filter(previews=False),
                                       None, after=self.record.id)
            for record in reversed(found):  # oldest first: the newest wins
                for part in capture.read_parts(record.parts or ""):
                    if part.table not in change_tree.TABLES or "id" not in part.columns:
                        continue
                    at = part.columns.index("id")
                    for values in (part.before, part.after):
                        if values:
                            for n, row_id in enumerate(values[at]):
                                code = _code_of(part.columns, values, n)
                                self._later[(part.table, int(row_id))] = (record.id, record.operation, code)
        return self._later.get((table, ident))

    def conflict(self, row: undo_plan.Row, reason: str, by: tuple[str, int] | None = None) -> None:
        kind, code, uid, name = row.item
        request_id = None
        if by is not None:
            found = self.later(*by)
            if found is not None:
                request_id = found[0]
                reason += f" (request {found[0]}, {found[1]})"
        self.conflicts.append(ConflictItem(kind, code, uid, name, reason, request_id))

    # -- the checks ------------------------------------------------------------------------------

    def check(self) -> None:
        for name, back in self.plan.back.items():
            table = back.table
            if "uid" in table.c:
                there = store.present(self.tx, table.c.uid, back.column("uid"))
                for n, uid in enumerate(back.column("uid")):
                    if uid in there:
                        self.conflict(back.at(n), "it is there already (put back since, by a restore or an undo)")
            if name in _CODES:
                self._codes(back)
        self._parents()
        self._names()
        self._reverted()

    def _codes(self, back: undo_plan.Back) -> None:
        table = back.table
        key_column, shown = _CODES[table.name]
        keys = back.column(key_column)
        holders = store.present(self.tx, table.c[key_column], keys, account_id=self.account_id,
                                extra=(table.c[shown], table.c.uid))
        if not holders:
            return
        for n, (key, uid) in enumerate(zip(keys, back.column("uid"), strict=True)):
            holder = holders.get(key) if key is not None else None
            if holder is not None and holder[1] != uid:
                kind = change_tree.kind_of(table.name)
                self.conflict(back.at(n), f"its code is taken by {kind} {holder[0]} (Uid {holder[1]})")

    def _parents(self) -> None:
        restored = self.plan.restored()
        references = {name: undo_plan.references(back) for name, back in self.plan.back.items()}
        wanted: dict[str, set[int]] = {}
        for found in references.values():
            for _column, target, values in found:
                mine = restored.get(target, set())
                wanted.setdefault(target, set()).update(int(v) for v in values if v is not None and int(v) not in mine)
        there = {target: {int(i) for i in store.present(self.tx, undo_plan.BY_NAME[target].c.id, ids)}
                 for target, ids in wanted.items() if ids}
        live_sets = self._live_sets(there.get("lock_sets", set()))
        for name, back in self.plan.back.items():
            missing_at: dict[int, list[tuple[str, str, int]]] = {}
            for column, target, values in references[name]:
                known = restored.get(target, set()) | there.get(target, set())
                for n, value in enumerate(values):
                    if value is not None and int(value) not in known:
                        missing_at.setdefault(n, []).append((column, target, int(value)))
            if name == "locks":
                # A lock comes back only into a live set, on what is there: else it would be dead.
                kept = [n for n, lock_set in enumerate(back.column("lock_set_id"))
                        if n not in missing_at and int(lock_set) in live_sets]
                if len(kept) != back.count:
                    back.keep(kept)
                continue
            for n, missing in sorted(missing_at.items()):
                row = back.at(n)
                for column, target, ident in missing:
                    noun = _NOUNS.get(column, change_tree.kind_of(target) or target)
                    self.conflict(row, f"its {noun} is gone", (target, ident))

    def _live_sets(self, ids: set[int]) -> set[int]:
        """Of these lock sets, those live now or stolen by the request undone (given back)."""
        given_back = {int(after.raw["id"]) for _before, after in self.plan.reverted if after.table == "lock_sets"}
        found = store.present(self.tx, lock_sets.c.id, ids, extra=(lock_sets.c.released_at, lock_sets.c.stolen_at,
                                                                    lock_sets.c.expires_at))
        now = lock_time(self.now)
        return {int(i) for i, (released, stolen, expires) in found.items()
                if released is None and (stolen is None or int(i) in given_back) and expires > now}

    def _names(self) -> None:
        """A live role comes back under its name only where no live role holds it now."""
        restored = self.plan.restored().get("projects", set())
        coming: list[undo_plan.Row] = []
        roles = self.plan.back.get("project_roles")
        if roles is not None:
            coming += [roles.at(n) for n, (project, deleted) in
                       enumerate(zip(roles.column("project_id"), roles.column("deleted"), strict=True))
                       if not deleted and int(project) not in restored]
        coming += [before for before, _after in self.plan.reverted if before.table == "project_roles"]
        for row in coming:
            taken = role_store.live_names(self.tx, self.account_id, int(row.raw["project_id"]))
            holder = taken.get(str(row.row.get("name", "")).lower())
            if holder is not None and holder != row.raw.get("id"):
                self.conflict(row, f"its name {row.row.get('name')} is taken by a live role of its project")

    def _reverted(self) -> None:
        """A row the request changed comes back only as the request left it. Its row version and
        time may differ (an undo of a later delete put it back as it was, with a new version)."""
        for before, after in self.plan.reverted:
            table = undo_plan.BY_NAME[before.table]
            ident = int(before.raw["id"])
            if before.table == "lock_sets":
                continue  # given back only when nothing happened to it since (_live_sets)
            current = capture.before_ids(self.tx, table, [ident])
            if current is None:
                self.conflict(before, "it is gone", (before.table, ident))
                continue
            names = [c.name for c in table.c]
            [now] = capture.decoded(table, names, capture.columns(current))
            if any(now.get(name) != after.row.get(name) for name in names if name not in _VERSIONED):
                self.conflict(before, "it was changed since", (before.table, ident))


_NOUNS = {"client_id": "client", "parent_id": "parent client", "engagement_id": "engagement",
          "project_id": "project", "contract_line_item_id": "contract line item", "role_id": "role",
          "stage_id": "stage", "manager_user_id": "manager (a user)", "requested_user_id": "requested resource",
          "booked_user_id": "booked resource", "author_user_id": "author (a user)", "lock_set_id": "lock set"}


def _code_of(columns: list[str], values: list[list[Any]], n: int) -> str | None:
    for name in ("number", "code", "external_id", "draft_number"):
        if name in columns:
            value = values[columns.index(name)][n]
            return None if value is None else str(value)
    return None


def _apply(tx: Connection, account_id: int, plan: undo_plan.Plan, now: datetime) -> None:
    """Put the rows back and change the flags back, with one new row version."""
    version = next_rowversion(tx)
    moment = utc(now).replace(tzinfo=None)
    graphs = _graphs(tx, account_id, plan)
    undo_plan.move_taken_ids(tx, plan)
    for table in undo_plan.TABLES:
        back = plan.back.get(table.name)
        if back is None or not back.count:
            continue
        if table is clients:
            undo_plan.parents_first(back)
        names = [c.name for c in table.c if c.name in back.columns]
        values = [back.columns[name] for name in names]
        for at, name in enumerate(names):
            if name == "rowversion":
                values[at] = [version] * back.count
            elif name == "updated_at":
                values[at] = [_stored(tx, moment)] * back.count
        store.insert_columns(tx, table, names, values)
        capture.add_inserted(tx, table, names, values)
    for before, after in plan.reverted:
        ident = int(before.raw["id"])
        if before.table == "clients":
            client_store.update_client(tx, ident, {"inactive": False, "rowversion": version, "updated_at": moment})
        elif before.table == "project_roles":
            role_store.update_role(tx, ident, {"deleted": False, "rowversion": version, "updated_at": moment})
        elif before.table == "lock_sets":
            stolen_by = int(after.raw["stolen_by_user_id"])
            capture.update_rows(tx, lock_sets, (lock_sets.c.id == ident) & lock_sets.c.released_at.is_(None)
                                & (lock_sets.c.stolen_by_user_id == stolen_by),
                                {"stolen_by_user_id": None, "stolen_at": None})
    for engagement_id in sorted(graphs - plan.restored().get("engagements", set())):
        engagement_store.bump(tx, engagement_id, now, version=version)


def _stored(tx: Connection, moment: datetime) -> Any:
    """A time as the captured values of each store hold it (see store.changes)."""
    if tx.dialect.name == "sqlite":
        return moment.isoformat(" ", "microseconds")
    return moment.isoformat()


def _graphs(tx: Connection, account_id: int, plan: undo_plan.Plan) -> set[int]:
    """The engagements whose graphs the undo changes (those it puts back included)."""
    restored = plan.restored()
    found = set(restored.get("engagements", set()))
    for name in ("projects", "contract_line_items"):
        if name in plan.back:
            found.update(int(e) for e in plan.back[name].column("engagement_id"))
    role_projects = {int(p) for p in plan.back["project_roles"].column("project_id")} if "project_roles" in \
        plan.back else set()
    reverted_roles = [int(b.raw["id"]) for b, _a in plan.reverted if b.table == "project_roles"]
    for role in role_store.by_ids(tx, account_id, reverted_roles).values():
        role_projects.add(role.project_id)
    hours_roles = {int(r) for name in ("role_hours", "role_allocation_notes", "role_notes") if name in plan.back
                   for r in plan.back[name].column("role_id")} - restored.get("project_roles", set())
    for role in role_store.by_ids(tx, account_id, hours_roles).values():
        role_projects.add(role.project_id)
    role_projects -= restored.get("projects", set())
    for project in project_store.by_ids(tx, account_id, role_projects).values():
        found.add(project.engagement_id)
    return found


def undo(environment: Environment, code: str, ident: int, real: datetime, *, preview: bool = False,
         next_id: Callable[[], int]) -> Undone:
    """Put back what request ``ident`` of account ``code`` deleted (a preview: say what would come
    back, or what would refuse it, and change nothing)."""
    settings = environment.settings
    own = None if preview else next_id()  # taken before the write: a new block of ids is a write of its own
    try:
        with collector_paused(), environment.store.write(commit=not preview) as tx:
            state = live_account(tx, code, real)
            record = journal_store.find(tx, state.id, settings.journal_size, ident, for_update=True)
            if record is None:
                raise NotFound(f"there are no changes of request {ident} in account {state.code!r}", "id")
            _undoable(record)
            time = RequestTime(real, state.clock)
            time.acting_as(state.id, state.code, None)
            time.exchange.request_id = own or 0
            recorder = capture.start(tx, preview=preview)
            try:
                plan = undo_plan.plan_of(capture.read_parts(record.parts or ""))
                work = _Undo(tx, state.id, record, plan, settings.journal_size, time.now)
                _graphs_locked(tx, state.id, plan)
                work.check()
                if work.conflicts:
                    if preview:
                        return Undone(None, ident, 0, {}, [], work.conflicts)
                    raise Refused(f"request {ident} cannot be undone: later changes stand in the way "
                                  f"({len(work.conflicts)} conflicts)", work.conflicts)
                _apply(tx, state.id, plan, time.now)
                counts = _counts(recorder)
                tree = changes.preview_tree(tx, time, recorder) if preview else None
                if own is not None:
                    changes.record(tx, settings, time, recorder, ident=own, operation=changes.UNDO, undoes=ident)
                    journal_store.mark_undone(tx, ident, own)
            finally:
                capture.stop(tx)
    except IntegrityError:
        raise Conflict(f"request {ident} cannot be undone now: a request took one of its codes meanwhile; "
                       "try again", "id") from None
    return Undone(own, ident, sum(counts.values()), counts, tree)


def _counts(recorder: capture.Recorder) -> dict[str, int]:
    counts: dict[str, int] = {}
    for part in recorder.parts:
        kind = change_tree.kind_of(part.table) or part.table
        rows = max(part.before.count if part.before else 0, part.after.count if part.after else 0)
        counts[kind] = counts.get(kind, 0) + rows
    return counts


def _graphs_locked(tx: Connection, account_id: int, plan: undo_plan.Plan) -> None:
    """PostgreSQL: the graphs the undo writes into, row-locked before anything is judged."""
    restored = plan.restored().get("engagements", set())
    for engagement_id in sorted(_graphs(tx, account_id, plan) - restored):
        engagement_store.lock(tx, account_id, engagement_id)
    account_store.lock_numbering(tx, account_id)


def _undoable(record: journal_store.Record) -> None:
    if record.preview:
        raise Conflict(f"request {record.id} was a preview: it changed nothing", "id")
    if record.undone_by is not None:
        raise Conflict(f"request {record.id} was undone already, by {record.undone_by}", "id")
    if record.operation not in DELETES:
        raise Conflict(f"request {record.id} is a {record.operation}: only deletes ({', '.join(DELETES)}) can be "
                       "undone", "id")

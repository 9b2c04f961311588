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

from sqlalchemy import Connection, Table
from sqlalchemy.exc import IntegrityError

from openpws.bulk import collector_paused
from openpws.clock import RequestTime, utc
from openpws.services import change_tree, changes
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
    contract_line_items,
    engagements,
    lock_sets,
    locks,
    metadata,
    project_roles,
    projects,
    role_allocation_notes,
    role_hours,
    role_notes,
)

DELETES = ("PwsDeleteClient", "PwsDeleteEngagement", "PwsDeleteProject", "PwsDeleteProjectRole")
# The tables an undo puts rows back into, parents first.
_TABLES: tuple[Table, ...] = tuple(t for t in metadata.sorted_tables if t in {
    clients, engagements, contract_line_items, projects, project_roles, role_hours, role_allocation_notes,
    role_notes, locks})
# The unique codes of an account's rows: the column that keeps each (case-folded) and the column shown.
_CODES = {"clients": ("number_key", "number"), "engagements": ("code_key", "code"),
          "contract_line_items": ("code_key", "code"), "projects": ("code_key", "code"),
          "project_roles": ("external_key", "external_id")}
# Columns that hold an id of another table without a foreign key, and a lock's entity by its type.
_UNDECLARED = {("locks", "engagement_id"): "engagements", ("locks", "project_id"): "projects"}
_LOCKED = {"E": "engagements", "P": "projects", "R": "project_roles"}
_BY_NAME = {t.name: t for t in metadata.sorted_tables}
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


@dataclass
class _Row:
    """One row, as captured and as Python values."""

    table: str
    raw: dict[str, Any]
    row: dict[str, Any]

    @property
    def item(self) -> tuple[str, str | None, int | None, str | None]:
        code, uid = change_tree.code_and_uid(self.table, self.row)
        name = self.row.get("name") if self.table != "locks" else None
        return change_tree.kind_of(self.table) or self.table, code, uid, name


class _Back:
    """One table's rows to put back, column by column, as captured."""

    def __init__(self, table: Table, names: Sequence[str], values: Sequence[Sequence[Any]]) -> None:
        self.table = table
        self.columns: dict[str, list[Any]] = {name: list(column) for name, column in zip(names, values, strict=True)
                                              if name in table.c}
        self.count = len(values[0]) if values else 0

    def extend(self, rows: Sequence[dict[str, Any]]) -> None:
        for name, column in self.columns.items():
            column.extend(row.get(name) for row in rows)
        self.count += len(rows)

    def keep(self, indices: Sequence[int]) -> None:
        self.columns = {name: [column[i] for i in indices] for name, column in self.columns.items()}
        self.count = len(indices)

    def column(self, name: str) -> list[Any]:
        return self.columns.get(name) or [None] * self.count

    def at(self, index: int) -> _Row:
        names = list(self.columns)
        raw = {name: self.columns[name][index] for name in names}
        [row] = capture.decoded(self.table, names, [[raw[name]] for name in names])
        return _Row(self.table.name, raw, row)

    def ids(self) -> set[int]:
        return {int(i) for i in self.column("id") if i is not None} if "id" in self.table.c else set()


@dataclass
class _Plan:
    back: dict[str, _Back] = field(default_factory=dict)  # rows to put back, by table
    reverted: list[tuple[_Row, _Row]] = field(default_factory=list)  # (as before, as after) rows to change back

    def restored(self) -> dict[str, set[int]]:
        return {name: back.ids() for name, back in self.back.items()}


def _key(table: str, raw: dict[str, Any]) -> Any:
    if table in ("role_hours", "role_allocation_notes"):
        return (raw.get("role_id"), raw.get("kind"), raw.get("bucket_start"))
    return raw.get("id")


def _flipped(table: str, before: dict[str, Any], after: dict[str, Any]) -> bool:
    """Whether the delete request changed this row in a way an undo changes back."""
    if table == "clients":
        return bool(after.get("inactive")) and not before.get("inactive")
    if table == "project_roles":
        return bool(after.get("deleted")) and not before.get("deleted")
    if table == "lock_sets":
        return after.get("stolen_at") is not None and before.get("stolen_at") is None
    return False


def _raw_rows(names: Sequence[str], values: Sequence[Sequence[Any]] | None) -> list[dict[str, Any]]:
    return [dict(zip(names, row, strict=True)) for row in zip(*values, strict=True)] if values else []


def _decoded_row(table: str, raw: dict[str, Any]) -> _Row:
    names = list(raw)
    [row] = capture.decoded(_BY_NAME[table], names, [[raw[name]] for name in names])
    return _Row(table, raw, row)


def plan_of(parts: Sequence[capture.ReadPart]) -> _Plan:
    """What an undo of these parts (a delete request's) puts back and changes back."""
    plan = _Plan()
    putting_back = {t.name for t in _TABLES}
    touches: dict[str, int] = {}
    for part in parts:
        touches[part.table] = touches.get(part.table, 0) + 1
    first: dict[tuple[str, Any], dict[str, Any] | None] = {}
    last: dict[tuple[str, Any], dict[str, Any] | None] = {}
    for part in parts:
        table = _BY_NAME.get(part.table)
        if table is None:
            continue
        if part.table in putting_back and part.before and not part.after and touches[part.table] == 1:
            # A table one statement only removed rows of (a cascade's): its rows go back as they are.
            plan.back[part.table] = _Back(table, part.columns, part.before)
            continue
        after = {_key(part.table, raw): raw for raw in _raw_rows(part.columns, part.after)}
        for raw in _raw_rows(part.columns, part.before):
            key = (part.table, _key(part.table, raw))
            first.setdefault(key, raw)
            last[key] = after.pop(key[1], None)
        for ident, written in after.items():
            first.setdefault((part.table, ident), None)
            last[(part.table, ident)] = written
    gone: dict[str, list[dict[str, Any]]] = {}
    for key, was in first.items():
        now = last.get(key)
        if was is None:
            continue
        if now is None:
            if key[0] in putting_back:
                gone.setdefault(key[0], []).append(was)
        elif _flipped(key[0], was, now):
            plan.reverted.append((_decoded_row(key[0], was), _decoded_row(key[0], now)))
    for name, rows in gone.items():
        back = plan.back.get(name)
        if back is None:
            names = list(rows[0])
            plan.back[name] = _Back(_BY_NAME[name], names, [[row.get(n) for row in rows] for n in names])
        else:
            back.extend(rows)
    return plan


def _references(back: _Back) -> list[tuple[str, str, list[Any]]]:
    """The columns of ``back`` that refer to rows of other tables: (column, table, its values)."""
    table = back.table
    found = []
    for key in table.foreign_keys:
        target = key.column.table.name
        if target != "accounts" and key.parent.name in back.columns:
            found.append((key.parent.name, target, back.columns[key.parent.name]))
    for (name, column), target in _UNDECLARED.items():
        if name == table.name and column in back.columns:
            found.append((column, target, back.columns[column]))
    if table.name == "locks":
        for kind, target in _LOCKED.items():
            values = [ident if entity == kind else None
                      for entity, ident in zip(back.column("entity_type"), back.column("entity_id"), strict=True)]
            found.append(("entity_id", target, values))
    return found


class _Undo:
    def __init__(self, tx: Connection, account_id: int, record: journal_store.Record, plan: _Plan, size: int,
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

    def conflict(self, row: _Row, reason: str, by: tuple[str, int] | None = None) -> None:
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

    def _codes(self, back: _Back) -> None:
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
        references = {name: _references(back) for name, back in self.plan.back.items()}
        wanted: dict[str, set[int]] = {}
        for found in references.values():
            for _column, target, values in found:
                mine = restored.get(target, set())
                wanted.setdefault(target, set()).update(int(v) for v in values if v is not None and int(v) not in mine)
        there = {target: {int(i) for i in store.present(self.tx, _BY_NAME[target].c.id, ids)}
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
        coming: list[_Row] = []
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
            table = _BY_NAME[before.table]
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


def _parents_first(back: _Back) -> None:
    """Clients with every parent before its children (SQLite checks each row's key as it goes in)."""
    ids = back.column("id")
    parents = back.column("parent_id")
    mine = set(ids)
    placed: set[Any] = set()
    order: list[int] = []
    waiting = list(range(back.count))
    while waiting:
        later = []
        for n in waiting:
            if parents[n] in mine and parents[n] not in placed:
                later.append(n)
            else:
                placed.add(ids[n])
                order.append(n)
        if len(later) == len(waiting):
            raise AssertionError("clients whose parents never come")
        waiting = later
    back.keep(order)


def _apply(tx: Connection, account_id: int, plan: _Plan, now: datetime) -> None:
    """Put the rows back and change the flags back, with one new row version."""
    version = next_rowversion(tx)
    moment = utc(now).replace(tzinfo=None)
    graphs = _graphs(tx, account_id, plan)
    _move_taken_ids(tx, plan)
    for table in _TABLES:
        back = plan.back.get(table.name)
        if back is None or not back.count:
            continue
        if table is clients:
            _parents_first(back)
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


def _graphs(tx: Connection, account_id: int, plan: _Plan) -> set[int]:
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


def _move_taken_ids(tx: Connection, plan: _Plan) -> None:
    """Give the rows of a table some of whose ids other rows hold now (SQLite hands out a removed
    row's id again) new ids, and the rows that refer to them the new ones. All of the table's rows
    move, in the order they had: rows are listed in id order (a project's roles, in the order they
    were made), and the rows that come back keep theirs."""
    moved: dict[str, dict[int, int]] = {}
    for name, back in plan.back.items():
        ids = [int(i) for i in back.column("id")] if "id" in back.table.c else []
        taken = store.present(tx, back.table.c.id, ids) if ids else {}
        if taken:
            top = max(store.highest_id(tx, back.table), *ids)
            moved[name] = {old: top + n for n, old in enumerate(sorted(ids), 1)}
    if not moved:
        return
    for name, back in plan.back.items():
        for column, target, values in [*_references(back), ("id", name, back.column("id"))]:
            new = moved.get(target)
            if not new or column not in back.columns:
                continue
            if column == "entity_id":  # a lock's: only those of the entity type ``values`` picked out
                back.columns[column] = [new.get(int(v), v) if p is not None and v is not None else v
                                        for p, v in zip(values, back.columns[column], strict=True)]
            else:
                back.columns[column] = [new.get(int(v), v) if v is not None else v for v in back.columns[column]]


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
                plan = plan_of(capture.read_parts(record.parts or ""))
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


def _graphs_locked(tx: Connection, account_id: int, plan: _Plan) -> None:
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

"""A request's changes as the tree the control plane shows (SPEC "Control-plane conventions",
change item): client → engagement → contract line item and project → role → hours, with notes,
invoices and locks where they belong.

The change journal keeps what each statement did, table by table (``store.changes``); here the
rows are paired up across the statements of one request (a row's state before the request is the
before of the first statement that touched it, its state after is the after of the last), judged
(insert, update, delete, inactivate, undelete: a role or invoice flagged deleted is a delete, a
client flagged inactive an inactivation, and the reverse an undelete), and hung under the nearest
changed row above them: a role under its project when the request changed the project too, else
under its engagement, and so on up (a row above that did not change is not shown; a row whose
parents none changed is at the top).

Members are shown by the names the control plane uses for them, not the columns': the row
version is the ``timestamp`` (in its wire form, ``AAAAAA99vU0=``), times are ISO 8601 in UTC, and
an id of another row is shown as what names that row (a stage's name, a user's login, a client's
number, a contract line item's code). Internal ids, account ids and the case-folded keys are not
shown. ``before`` and ``after`` hold every member of a row deleted or inserted but those the item
shows as its own (code, uid, name; a week's side and date), and only the members that changed of a
row updated.

A cascade's tree has tens of thousands of items, so the work is done column by column where it
can be (each statement's values are converted and shown a column at a time, the items of a
statement that only deleted or only inserted are made from its columns directly); what is left
per item is making it.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import Connection, Table

from openpws.bulk import collector_paused
from openpws.store import change_journal as store
from openpws.store import schema
from openpws.store.changes import ReadPart, converted

Item = dict[str, Any]
Row = dict[str, Any]
Columns = dict[str, list[Any]]

KINDS = ("client", "engagement", "contract_line_item", "project", "role", "hours", "note", "invoice", "lock")
_ORDER = {kind: n for n, kind in enumerate(KINDS)}
# Columns never shown: ids, the account, the case-folded keys, and the links that place a row in the tree.
_HIDDEN = {"id", "account_id", "number_key", "code_key", "name_key", "external_key", "role_id", "project_id",
           "engagement_id", "client_id", "entity_id"}
# Columns that hold the id of another row, shown as what names it: (member, table).
_REFERENCES = {"stage_id": ("stage", "stages"), "manager_user_id": ("manager", "users"),
               "parent_id": ("parent", "clients"),
               "contract_line_item_id": ("contract_line_item", "contract_line_items"),
               "requested_user_id": ("requested_resource", "users"), "booked_user_id": ("booked_resource", "users"),
               "author_user_id": ("author", "users"), "user_id": ("holder", "users"),
               "stolen_by_user_id": ("stolen_by", "users")}
_RENAMED = {"rowversion": "timestamp", "weekly_minutes": "minutes", "external_id": "external_system_identifier",
            "kind": "side", "lock_set_id": "lock_set"}
# The columns an item shows as its own code, uid and name: a row inserted or deleted does not show
# them again among its members (an update does, when it changed them).
_IDENTITY = {"clients": ("uid", "number", "name"), "engagements": ("uid", "code", "name"),
             "contract_line_items": ("uid", "code", "name"), "projects": ("uid", "code", "name"),
             "project_roles": ("uid", "external_id", "name"), "role_hours": ("kind", "bucket_start"),
             "role_allocation_notes": ("kind", "bucket_start"), "role_notes": ("uid",),
             "invoices": ("uid", "draft_number", "name"), "locks": ("entity_type", "entity_code", "entity_uid"),
             "lock_sets": ()}
_WEEK = ("role_id", "kind", "bucket_start")
_KEYS = {"role_hours": _WEEK, "role_allocation_notes": _WEEK}
_SIDES = {"R": "requested", "A": "booked"}
_LOCKED_TABLES = {"E": "engagements", "P": "projects", "R": "project_roles"}


def token(version: int) -> str:
    """A row version as clients see it (8 bytes big-endian, Base64: the wire form of EngagementTimestamp)."""
    return base64.b64encode(version.to_bytes(8, "big")).decode("ascii")


def _shown_column(name: str, values: list[Any], labels: dict[str, dict[int, str | None]]) -> list[Any]:
    """A column's values as the tree shows them."""
    reference = _REFERENCES.get(name)
    if reference is not None:
        found = labels.get(reference[1], {})
        return [None if v is None else found.get(int(v)) for v in values]
    if name == "rowversion":
        encode = base64.b64encode
        return [None if v is None else encode(int(v).to_bytes(8, "big")).decode("ascii") for v in values]
    if name == "kind":
        return [_SIDES.get(v, v) for v in values]
    if name == "notes":
        return [json.loads(v) if isinstance(v, str) else v for v in values]
    if name == "daily_minutes":
        return [[int(m) for m in v.split(",")] if isinstance(v, str) else v for v in values]
    first = next((v for v in values if v is not None), None)
    if isinstance(first, datetime):
        return [v.isoformat() + "Z" if isinstance(v, datetime) else v for v in values]
    if isinstance(first, date):
        return [v.isoformat() if isinstance(v, date) else v for v in values]
    return values


# --- how each table's rows appear: code, uid, name and parent, a column at a time -----------------

def _col(columns: Columns, name: str, n: int) -> list[Any]:
    return columns.get(name) or [None] * n


def _links(table: str, ids: list[Any]) -> list[tuple[str, int] | None]:
    return [None if v is None else (table, int(v)) for v in ids]


@dataclass(frozen=True)
class _Kind:
    kind: str
    code: Callable[[Columns, int], list[Any]]
    name: Callable[[Columns, int], list[Any]]
    parent: Callable[[Columns, int], list[tuple[str, int] | None]]
    uid: Callable[[Columns, int], list[Any]] = lambda c, n: _col(c, "uid", n)


def _get(column: str) -> Callable[[Columns, int], list[Any]]:
    return lambda c, n: _col(c, column, n)


def _none(_c: Columns, n: int) -> list[Any]:
    return [None] * n


def _link(table: str, column: str) -> Callable[[Columns, int], list[tuple[str, int] | None]]:
    return lambda c, n: _links(table, _col(c, column, n))


def _weeks(suffix: str = "") -> Callable[[Columns, int], list[Any]]:
    def codes(c: Columns, n: int) -> list[Any]:
        return [f"{_SIDES.get(kind, kind)}{suffix} {start.isoformat() if isinstance(start, date) else start}"
                for kind, start in zip(_col(c, "kind", n), _col(c, "bucket_start", n), strict=True)]
    return codes


def _invoice_parents(c: Columns, n: int) -> list[tuple[str, int] | None]:
    return [("projects", int(p)) if p is not None else ("engagements", int(e))
            for p, e in zip(_col(c, "project_id", n), _col(c, "engagement_id", n), strict=True)]


def _locked(c: Columns, n: int) -> list[tuple[str, int] | None]:
    found: list[tuple[str, int] | None] = []
    for kind, ident in zip(_col(c, "entity_type", n), _col(c, "entity_id", n), strict=True):
        table = _LOCKED_TABLES.get(kind or "")
        found.append(None if table is None or ident is None else (table, int(ident)))
    return found


def _lock_codes(c: Columns, n: int) -> list[Any]:
    return [f"{kind}:{code or uid}" for kind, code, uid in
            zip(_col(c, "entity_type", n), _col(c, "entity_code", n), _col(c, "entity_uid", n), strict=True)]


_SHAPES: dict[str, _Kind] = {
    "clients": _Kind("client", _get("number"), _get("name"), _link("clients", "parent_id")),
    "engagements": _Kind("engagement", _get("code"), _get("name"), _link("clients", "client_id")),
    "contract_line_items": _Kind("contract_line_item", _get("code"), _get("name"),
                                 _link("engagements", "engagement_id")),
    "projects": _Kind("project", _get("code"), _get("name"), _link("engagements", "engagement_id")),
    "project_roles": _Kind("role", _get("external_id"), _get("name"), _link("projects", "project_id")),
    "role_hours": _Kind("hours", _weeks(), _none, _link("project_roles", "role_id")),
    "role_allocation_notes": _Kind("hours", _weeks(" notes"), _none, _link("project_roles", "role_id")),
    "role_notes": _Kind("note", _none, _none, _link("project_roles", "role_id")),
    "invoices": _Kind("invoice", _get("draft_number"), _get("name"), _invoice_parents),
    "locks": _Kind("lock", _lock_codes, _none, _locked, _get("entity_uid")),
    "lock_sets": _Kind("lock", lambda c, n: [f"set {i}" for i in _col(c, "id", n)], _none,
                       lambda c, n: [None] * n, _none),
}
TABLES: dict[str, Table] = {name: table for name, table in schema.metadata.tables.items() if name in _SHAPES}


def kind_of(table: str) -> str | None:
    shape = _SHAPES.get(table)
    return None if shape is None else shape.kind


def code_and_uid(table: str, row: Row) -> tuple[str | None, int | None]:
    columns = {name: [value] for name, value in row.items()}
    shape = _SHAPES[table]
    return shape.code(columns, 1)[0], shape.uid(columns, 1)[0]


# --- pairing rows across a request's statements ------------------------------------------------------

class _Rows:
    """One statement's rows of one table (its before, or its after), column by column."""

    def __init__(self, table: str, names: Sequence[str], values: Sequence[Sequence[Any]]) -> None:
        self.table = table
        self.columns = converted(TABLES[table], names, values)
        self.count = len(values[0]) if values else 0
        keys = _KEYS.get(table)
        if keys:
            self.keys: list[Any] = list(zip(*(_col(self.columns, k, self.count) for k in keys), strict=True))
        else:
            self.keys = _col(self.columns, "id", self.count)

    def row(self, index: int) -> Row:
        return {name: values[index] for name, values in self.columns.items()}


@dataclass
class Change:
    """One row a request touched: where its state before and after are (None: it was not there)."""

    table: str
    key: Any
    before: tuple[_Rows, int] | None
    after: tuple[_Rows, int] | None

    def before_row(self) -> Row | None:
        return None if self.before is None else self.before[0].row(self.before[1])

    def after_row(self) -> Row | None:
        return None if self.after is None else self.after[0].row(self.after[1])


def pair(parts: Sequence[ReadPart]) -> list[Change]:
    """Each row the parts touched, as it was before the first of them and after the last."""
    found: dict[tuple[str, Any], Change] = {}
    for part in parts:
        if part.table not in TABLES:
            continue
        before = _Rows(part.table, part.columns, part.before) if part.before else None
        after = _Rows(part.table, part.columns, part.after) if part.after else None
        written = {key: n for n, key in enumerate(after.keys)} if after is not None else {}
        if before is not None:
            for n, key in enumerate(before.keys):
                at = written.pop(key, None)
                new = (after, at) if after is not None and at is not None else None
                change = found.get((part.table, key))
                if change is None:
                    found[(part.table, key)] = Change(part.table, key, (before, n), new)
                else:
                    change.after = new
        for key, at in written.items():
            assert after is not None
            change = found.get((part.table, key))
            if change is None:
                found[(part.table, key)] = Change(part.table, key, None, (after, at))
            else:
                change.after = (after, at)
    return list(found.values())


def _action(table: str, before: Row, after: Row) -> str:
    if table in ("project_roles", "invoices") and before.get("deleted") != after.get("deleted"):
        return "delete" if after.get("deleted") else "undelete"
    if table == "clients" and after.get("inactive") and not before.get("inactive"):
        return "inactivate"
    return "update"


def _labels(tx: Connection, account_id: int, every: Sequence[_Rows]) -> dict[str, dict[int, str | None]]:
    """What the ids the rows refer to stand for: from the changed rows themselves, else the database."""
    own: dict[str, dict[int, str | None]] = {}
    wanted: dict[str, set[int]] = {}
    for rows in every:
        if rows.table in store.LABELS:
            label = store.LABELS[rows.table].name
            own.setdefault(rows.table, {}).update(
                zip((int(i) for i in _col(rows.columns, "id", rows.count)), _col(rows.columns, label, rows.count),
                    strict=True))
        for column, (_member, table) in _REFERENCES.items():
            if column in rows.columns:
                wanted.setdefault(table, set()).update(int(v) for v in rows.columns[column] if v is not None)
    found: dict[str, dict[int, str | None]] = {}
    for table, ids in wanted.items():
        mine = own.get(table, {})
        found[table] = {**store.labels(tx, account_id, table, ids - set(mine)), **mine}
    return found


class _Shown:
    """The rows of one statement as the tree shows them: members, code, uid, name, parent."""

    def __init__(self, rows: _Rows, labels: dict[str, dict[int, str | None]]) -> None:
        self.rows = rows
        self.labels_of = labels
        self.columns = [name for name in rows.columns if name not in _HIDDEN]
        self.names = {name: _REFERENCES[name][0] if name in _REFERENCES else _RENAMED.get(name, name)
                      for name in self.columns}
        self._shown: dict[str, list[Any]] = {}
        self._wholes: list[dict[str, Any]] | None = None
        shape, n = _SHAPES[rows.table], rows.count
        self.codes, self.uids, self.labels = shape.code(rows.columns, n), shape.uid(rows.columns, n), shape.name(
            rows.columns, n)
        self.parents = shape.parent(rows.columns, n)

    def column(self, name: str) -> list[Any]:
        found = self._shown.get(name)
        if found is None:
            found = self._shown[name] = _shown_column(name, self.rows.columns[name], self.labels_of)
        return found

    def wholes(self) -> list[dict[str, Any]]:
        """Every row's members but those the item shows as its own (a row inserted or deleted),
        made a column at a time."""
        if self._wholes is None:
            identity = _IDENTITY.get(self.rows.table, ())
            kept = [name for name in self.columns if name not in identity]
            names = [self.names[name] for name in kept]
            self._wholes = [dict(zip(names, values, strict=True))
                            for values in zip(*(self.column(name) for name in kept), strict=True)] if kept else [
                {} for _ in range(self.rows.count)]
        return self._wholes

    def whole(self, index: int) -> dict[str, Any]:
        return self.wholes()[index]

    def members(self, index: int, only: set[str]) -> dict[str, Any]:
        """The members of these columns (those an update changed)."""
        return {self.names[name]: self.column(name)[index] for name in self.columns if name in only}


def tree(tx: Connection, account_id: int, parts: Sequence[ReadPart]) -> list[Item]:
    """The change tree of ``parts`` (a request's, in order), read in ``tx`` for what ids stand for."""
    with collector_paused():
        return _tree(tx, account_id, parts)


def _tree(tx: Connection, account_id: int, parts: Sequence[ReadPart]) -> list[Item]:
    ours = [part for part in parts if part.table in TABLES]
    touches: dict[str, int] = {}
    for part in ours:
        touches[part.table] = touches.get(part.table, 0) + 1
    # A table only one statement inserted or deleted rows of (a cascade's): its rows need no pairing.
    simple = [(part, "delete" if part.before else "insert") for part in ours
              if touches[part.table] == 1 and (part.before is None) != (part.after is None)]
    simple_rows = [(_Rows(part.table, part.columns, part.before or part.after or []), action)
                   for part, action in simple]
    paired = {id(part) for part, _ in simple}
    changes = pair([part for part in ours if id(part) not in paired])
    every = list({id(r): r for c in changes for r in (c.before[0] if c.before else None,
                                                        c.after[0] if c.after else None) if r is not None}.values())
    every += [rows for rows, _ in simple_rows]
    labels = _labels(tx, account_id, every)
    shown = {id(rows): _Shown(rows, labels) for rows in every}
    items: dict[tuple[str, Any], Item] = {}
    parents: dict[tuple[str, Any], tuple[str, int] | None] = {}
    for rows, action in simple_rows:
        view, kind, table = shown[id(rows)], _SHAPES[rows.table].kind, rows.table
        deleted = action == "delete"
        keys = [(table, key) for key in rows.keys]
        made = [{"kind": kind, "code": code, "uid": uid, "name": name, "action": action,
                 "before": members if deleted else None, "after": None if deleted else members, "children": []}
                for code, uid, name, members in zip(view.codes, view.uids, view.labels, view.wholes(), strict=True)]
        items.update(zip(keys, made, strict=True))
        parents.update(zip(keys, view.parents, strict=True))
    for change in changes:
        before, after = change.before, change.after
        if before is None and after is None:
            continue  # made and removed by the same request
        if before is None:
            assert after is not None
            view, at = shown[id(after[0])], after[1]
            action, shown_before, shown_after = "insert", None, view.whole(at)
        elif after is None:
            view, at = shown[id(before[0])], before[1]
            action, shown_before, shown_after = "delete", view.whole(at), None
        else:
            was, now = before[0].row(before[1]), after[0].row(after[1])
            differing = {column for column in now if now.get(column) != was.get(column)}
            if not differing - _HIDDEN or differing <= {"updated_at"}:
                continue  # nothing a caller would see changed
            action = _action(change.table, was, now)
            view, at = shown[id(after[0])], after[1]
            shown_before, shown_after = shown[id(before[0])].members(before[1], differing), view.members(at, differing)
        key = (change.table, change.key)
        items[key] = {"kind": _SHAPES[change.table].kind, "code": view.codes[at], "uid": view.uids[at],
                      "name": view.labels[at], "action": action, "before": shown_before, "after": shown_after,
                      "children": []}
        parents[key] = view.parents[at]
    return _placed(tx, account_id, items, parents)


def _placed(tx: Connection, account_id: int, items: dict[tuple[str, Any], Item],
            parents: dict[tuple[str, Any], tuple[str, int] | None]) -> list[Item]:
    """The items hung under the nearest changed row above them; the rest at the top."""
    # Rows above that did not change: their own parents, from the database, a level at a time.
    above: dict[tuple[str, int], tuple[str, int] | None] = {}
    missing = {parent for parent in set(parents.values()) if parent is not None and parent not in items}
    for _level in range(8):
        by_table: dict[str, set[int]] = {}
        for table, ident in missing:
            if (table, ident) not in above:
                by_table.setdefault(table, set()).add(ident)
        if not by_table:
            break
        missing = set()
        for table, ids in by_table.items():
            found = store.parents(tx, account_id, table, ids)
            upper = store.PARENTS.get(table, ("", ""))[0]
            for ident in ids:
                value = found.get(ident)
                above[(table, ident)] = None if value is None else (upper, value)
                if value is not None and (upper, value) not in items:
                    missing.add((upper, value))
    # Placed in order, every list of children comes out sorted: one sort instead of one per item,
    # on keys made in one pass (no call per item).
    top: list[Item] = []
    placed = list(items.items())
    last = len(_ORDER)
    keys = [(_ORDER.get(item["kind"], last), item["code"] or "", item["uid"] or 0) for _, item in placed]
    # Where each parent's items go (the nearest changed row at or above it): found once per parent.
    nearest: dict[tuple[str, int] | None, list[Item] | None] = {None: None}
    for parent in set(parents.values()):
        target: tuple[str, int] | None = parent
        seen = 0
        while target is not None and target not in items and seen < 16:
            target = above.get(target)
            seen += 1
        nearest[parent] = items[target]["children"] if target is not None and target in items else None
    for at in sorted(range(len(placed)), key=keys.__getitem__):
        key, item = placed[at]
        children = nearest[parents[key]]
        if children is not None and children is not item["children"]:
            children.append(item)
        else:
            top.append(item)
    return top


def count(items: Sequence[Item]) -> int:
    return sum(1 + count(item["children"]) for item in items)


def flatten(items: Sequence[Item]) -> list[Item]:
    """Every item of the tree, depth first."""
    found: list[Item] = []
    for item in items:
        found.append(item)
        found.extend(flatten(item["children"]))
    return found

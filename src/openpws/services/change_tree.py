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
shown. ``before`` and ``after`` hold every member of a row deleted or inserted, and only the
members that changed of a row updated.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import Connection

from openpws.store import change_journal as store
from openpws.store import schema
from openpws.store.changes import ReadPart, decoded

Item = dict[str, Any]
Row = dict[str, Any]

KINDS = ("client", "engagement", "contract_line_item", "project", "role", "hours", "note", "invoice", "lock")
_ORDER = {kind: n for n, kind in enumerate(KINDS)}
# Columns never shown: ids, the account, the case-folded keys, and the links that place a row in the tree.
_HIDDEN = {"id", "account_id", "number_key", "code_key", "name_key", "external_key", "role_id", "project_id",
           "engagement_id", "client_id", "entity_id", "lock_set_id"}
# Columns that hold the id of another row, shown as what names it: (member, table).
_REFERENCES = {"stage_id": ("stage", "stages"), "manager_user_id": ("manager", "users"),
               "parent_id": ("parent", "clients"),
               "contract_line_item_id": ("contract_line_item", "contract_line_items"),
               "requested_user_id": ("requested_resource", "users"), "booked_user_id": ("booked_resource", "users"),
               "author_user_id": ("author", "users"), "user_id": ("holder", "users"),
               "stolen_by_user_id": ("stolen_by", "users")}
_RENAMED = {"rowversion": "timestamp", "weekly_minutes": "minutes", "external_id": "external_system_identifier",
            "kind": "side"}
_WEEK = ("role_id", "kind", "bucket_start")
_KEYS = {"role_hours": _WEEK, "role_allocation_notes": _WEEK}
_SIDES = {"R": "requested", "A": "booked"}
_LOCKED_TABLES = {"E": "engagements", "P": "projects", "R": "project_roles"}


def token(version: int) -> str:
    """A row version as clients see it (8 bytes big-endian, Base64: the wire form of EngagementTimestamp)."""
    return base64.b64encode(version.to_bytes(8, "big")).decode("ascii")


def _time(moment: datetime) -> str:
    text = moment.isoformat()
    return text + "Z"


def _shown(column: str, value: Any) -> Any:
    if isinstance(value, datetime):
        return _time(value)
    if isinstance(value, date):
        return value.isoformat()
    if column == "rowversion" and value is not None:
        return token(int(value))
    if column == "notes" and isinstance(value, str):
        return json.loads(value)
    if column == "kind":
        return _SIDES.get(value, value)
    if column == "daily_minutes" and isinstance(value, str):
        return [int(m) for m in value.split(",")]
    return value


@dataclass(frozen=True)
class _Kind:
    kind: str
    code: Callable[[Row], str | None]
    name: Callable[[Row], str | None]
    parent: Callable[[Row], tuple[str, int] | None]
    uid: Callable[[Row], int | None] = lambda row: row.get("uid")


def _get(column: str) -> Callable[[Row], Any]:
    return lambda row: row.get(column)


def _link(table: str, column: str) -> Callable[[Row], tuple[str, int] | None]:
    def parent(row: Row) -> tuple[str, int] | None:
        value = row.get(column)
        return None if value is None else (table, int(value))
    return parent


def _none(_row: Row) -> None:
    return None


def _week(row: Row, suffix: str = "") -> str:
    start = row.get("bucket_start")
    return f"{_SIDES.get(row.get('kind', ''), row.get('kind'))}{suffix} {start.isoformat() if start else ''}".strip()


def _invoice_parent(row: Row) -> tuple[str, int] | None:
    if row.get("project_id") is not None:
        return ("projects", int(row["project_id"]))
    return ("engagements", int(row["engagement_id"]))


def _locked(row: Row) -> tuple[str, int] | None:
    table = _LOCKED_TABLES.get(row.get("entity_type", ""))
    return None if table is None else (table, int(row["entity_id"]))


def _lock_code(row: Row) -> str:
    return f"{row.get('entity_type')}:{row.get('entity_code') or row.get('entity_uid')}"


_SHAPES: dict[str, _Kind] = {
    "clients": _Kind("client", _get("number"), _get("name"), _link("clients", "parent_id")),
    "engagements": _Kind("engagement", _get("code"), _get("name"), _link("clients", "client_id")),
    "contract_line_items": _Kind("contract_line_item", _get("code"), _get("name"),
                                 _link("engagements", "engagement_id")),
    "projects": _Kind("project", _get("code"), _get("name"), _link("engagements", "engagement_id")),
    "project_roles": _Kind("role", _get("external_id"), _get("name"), _link("projects", "project_id")),
    "role_hours": _Kind("hours", _week, _none, _link("project_roles", "role_id")),
    "role_allocation_notes": _Kind("hours", lambda row: _week(row, " notes"), _none,
                                   _link("project_roles", "role_id")),
    "role_notes": _Kind("note", _none, _none, _link("project_roles", "role_id")),
    "invoices": _Kind("invoice", _get("draft_number"), _get("name"), _invoice_parent),
    "locks": _Kind("lock", _lock_code, _none, _locked, _get("entity_uid")),
    "lock_sets": _Kind("lock", lambda row: f"set {row.get('id')}", _none, _none, _none),
}
TABLES = {name: table for name, table in schema.metadata.tables.items() if name in _SHAPES}


def kind_of(table: str) -> str | None:
    shape = _SHAPES.get(table)
    return None if shape is None else shape.kind


def code_and_uid(table: str, row: Row) -> tuple[str | None, int | None]:
    shape = _SHAPES[table]
    return shape.code(row), shape.uid(row)


@dataclass
class _Change:
    table: str
    key: Any
    before: Row | None
    after: Row | None
    order: int


def _key(table: str, row: Row) -> Any:
    keys = _KEYS.get(table)
    return tuple(row.get(k) for k in keys) if keys else row.get("id")


def pair(parts: Sequence[ReadPart]) -> list[_Change]:
    """Each row the parts touched, as it was before the first of them and after the last."""
    found: dict[tuple[str, Any], _Change] = {}
    for part in parts:
        table = TABLES.get(part.table)
        if table is None:
            continue
        before = decoded(table, part.columns, part.before) if part.before is not None else []
        after = decoded(table, part.columns, part.after) if part.after is not None else []
        written = {_key(part.table, row): row for row in after}
        for row in before:
            key = _key(part.table, row)
            change = found.get((part.table, key))
            new = written.pop(key, None)
            if change is None:
                found[(part.table, key)] = _Change(part.table, key, row, new, len(found))
            else:
                change.after = new
        for key, row in written.items():
            change = found.get((part.table, key))
            if change is None:
                found[(part.table, key)] = _Change(part.table, key, None, row, len(found))
            else:
                change.after = row
    return list(found.values())


def _action(change: _Change, before: Row, after: Row) -> str:
    if change.table in ("project_roles", "invoices") and before.get("deleted") != after.get("deleted"):
        return "delete" if after.get("deleted") else "undelete"
    if change.table == "clients" and after.get("inactive") and not before.get("inactive"):
        return "inactivate"
    return "update"


class _Labels:
    """What the ids rows refer to stand for: from the changed rows themselves, else the database."""

    def __init__(self, tx: Connection, account_id: int, changes: Sequence[_Change]) -> None:
        self.found: dict[str, dict[int, str | None]] = {}
        wanted: dict[str, set[int]] = {}
        own: dict[str, dict[int, str | None]] = {}
        for change in changes:
            for row in (change.before, change.after):
                if row is None:
                    continue
                if change.table in store.LABELS and row.get("id") is not None:
                    column = store.LABELS[change.table].name
                    own.setdefault(change.table, {})[int(row["id"])] = row.get(column)
                for column, (_member, table) in _REFERENCES.items():
                    value = row.get(column)
                    if value is not None:
                        wanted.setdefault(table, set()).add(int(value))
        for table, ids in wanted.items():
            mine = own.get(table, {})
            self.found[table] = {**store.labels(tx, account_id, table, ids - set(mine)), **mine}

    def members(self, row: Row, only: set[str] | None = None) -> dict[str, Any]:
        shown: dict[str, Any] = {}
        for column, value in row.items():
            if column in _HIDDEN or (only is not None and column not in only):
                continue
            reference = _REFERENCES.get(column)
            if reference is not None:
                member, table = reference
                shown[member] = None if value is None else self.found.get(table, {}).get(int(value))
            else:
                shown[_RENAMED.get(column, column)] = _shown(column, value)
        return shown


def _placed(tx: Connection, account_id: int, items: dict[tuple[str, Any], Item],
            parents: dict[tuple[str, Any], tuple[str, int] | None]) -> list[Item]:
    """The items hung under the nearest changed row above them; the rest at the top."""
    # Rows above that did not change: their own parents, from the database, a level at a time.
    above: dict[tuple[str, int], tuple[str, int] | None] = {}
    missing = {parent for parent in parents.values() if parent is not None and parent not in items}
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
    top: list[Item] = []
    for key, item in items.items():
        parent = parents[key]
        seen = 0
        while parent is not None and parent not in items and seen < 16:
            parent = above.get(parent)
            seen += 1
        if parent is not None and parent in items and parent != key:
            items[parent]["children"].append(item)
        else:
            top.append(item)
    for item in items.values():
        item["children"].sort(key=_sort_key)
    top.sort(key=_sort_key)
    return top


def _sort_key(item: Item) -> tuple[int, str, int]:
    return (_ORDER.get(item["kind"], len(_ORDER)), item["code"] or "", item["uid"] or 0)


def tree(tx: Connection, account_id: int, parts: Sequence[ReadPart]) -> list[Item]:
    """The change tree of ``parts`` (a request's, in order), read in ``tx`` for what ids stand for."""
    changes = pair(parts)
    labels = _Labels(tx, account_id, changes)
    items: dict[tuple[str, Any], Item] = {}
    parents: dict[tuple[str, Any], tuple[str, int] | None] = {}
    for change in changes:
        before, after = change.before, change.after
        if before is None and after is None:
            continue  # made and removed by the same request
        if before is None:
            assert after is not None
            action, shown_before, shown_after, row = "insert", None, labels.members(after), after
        elif after is None:
            action, shown_before, shown_after, row = "delete", labels.members(before), None, before
        else:
            differing = {column for column in after if after.get(column) != before.get(column)}
            if not differing - _HIDDEN or differing <= {"updated_at"}:
                continue  # nothing a caller would see changed
            action = _action(change, before, after)
            shown_before, shown_after, row = labels.members(before, differing), labels.members(after, differing), after
        shape = _SHAPES[change.table]
        key = (change.table, change.key)
        items[key] = {"kind": shape.kind, "code": shape.code(row), "uid": shape.uid(row), "name": shape.name(row),
                      "action": action, "before": shown_before, "after": shown_after, "children": []}
        parent = shape.parent(row)
        parents[key] = parent
    return _placed(tx, account_id, items, parents)


def count(items: Sequence[Item]) -> int:
    return sum(1 + count(item["children"]) for item in items)


def flatten(items: Sequence[Item]) -> list[Item]:
    """Every item of the tree, depth first."""
    found: list[Item] = []
    for item in items:
        found.append(item)
        found.extend(flatten(item["children"]))
    return found

"""What an undo puts back, read from a delete request's record in the change journal
(``services.undo``): the rows it removed, table by table and column by column as they were
captured (a cascade's tens of thousands go back as they are, without a Python object per row),
and the rows whose flags it set (a client marked inactive, a role flagged deleted, a lock set
stolen), to change back.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, Table

from openpws.services import change_tree
from openpws.store import changes as capture
from openpws.store import undo as store
from openpws.store.schema import (
    clients,
    contract_line_items,
    engagements,
    locks,
    metadata,
    project_roles,
    projects,
    role_allocation_notes,
    role_hours,
    role_notes,
)

# The tables an undo puts rows back into, parents first.
TABLES: tuple[Table, ...] = tuple(t for t in metadata.sorted_tables if t in {
    clients, engagements, contract_line_items, projects, project_roles, role_hours, role_allocation_notes,
    role_notes, locks})
# Columns that hold an id of another table without a foreign key, and a lock's entity by its type.
UNDECLARED = {("locks", "engagement_id"): "engagements", ("locks", "project_id"): "projects"}
LOCKED = {"E": "engagements", "P": "projects", "R": "project_roles"}
BY_NAME = {t.name: t for t in metadata.sorted_tables}


@dataclass
class Row:
    """One row, as captured and as Python values."""

    table: str
    raw: dict[str, Any]
    row: dict[str, Any]

    @property
    def item(self) -> tuple[str, str | None, int | None, str | None]:
        code, uid = change_tree.code_and_uid(self.table, self.row)
        name = self.row.get("name") if self.table != "locks" else None
        return change_tree.kind_of(self.table) or self.table, code, uid, name


class Back:
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

    def at(self, index: int) -> Row:
        names = list(self.columns)
        raw = {name: self.columns[name][index] for name in names}
        [row] = capture.decoded(self.table, names, [[raw[name]] for name in names])
        return Row(self.table.name, raw, row)

    def ids(self) -> set[int]:
        return {int(i) for i in self.column("id") if i is not None} if "id" in self.table.c else set()


@dataclass
class Plan:
    back: dict[str, Back] = field(default_factory=dict)  # rows to put back, by table
    reverted: list[tuple[Row, Row]] = field(default_factory=list)  # (as before, as after) rows to change back

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


def _decoded_row(table: str, raw: dict[str, Any]) -> Row:
    names = list(raw)
    [row] = capture.decoded(BY_NAME[table], names, [[raw[name]] for name in names])
    return Row(table, raw, row)


def plan_of(parts: Sequence[capture.ReadPart]) -> Plan:
    """What an undo of these parts (a delete request's) puts back and changes back."""
    plan = Plan()
    putting_back = {t.name for t in TABLES}
    touches: dict[str, int] = {}
    for part in parts:
        touches[part.table] = touches.get(part.table, 0) + 1
    first: dict[tuple[str, Any], dict[str, Any] | None] = {}
    last: dict[tuple[str, Any], dict[str, Any] | None] = {}
    for part in parts:
        table = BY_NAME.get(part.table)
        if table is None:
            continue
        if part.table in putting_back and part.before and not part.after and touches[part.table] == 1:
            # A table one statement only removed rows of (a cascade's): its rows go back as they are.
            plan.back[part.table] = Back(table, part.columns, part.before)
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
            plan.back[name] = Back(BY_NAME[name], names, [[row.get(n) for row in rows] for n in names])
        else:
            back.extend(rows)
    return plan


def references(back: Back) -> list[tuple[str, str, list[Any]]]:
    """The columns of ``back`` that refer to rows of other tables: (column, table, its values)."""
    table = back.table
    found = []
    for key in table.foreign_keys:
        target = key.column.table.name
        if target != "accounts" and key.parent.name in back.columns:
            found.append((key.parent.name, target, back.columns[key.parent.name]))
    for (name, column), target in UNDECLARED.items():
        if name == table.name and column in back.columns:
            found.append((column, target, back.columns[column]))
    if table.name == "locks":
        for kind, target in LOCKED.items():
            values = [ident if entity == kind else None
                      for entity, ident in zip(back.column("entity_type"), back.column("entity_id"), strict=True)]
            found.append(("entity_id", target, values))
    return found


def parents_first(back: Back) -> None:
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


def move_taken_ids(tx: Connection, plan: Plan) -> None:
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
        for column, target, values in [*references(back), ("id", name, back.column("id"))]:
            new = moved.get(target)
            if not new or column not in back.columns:
                continue
            if column == "entity_id":  # a lock's: only those of the entity type ``values`` picked out
                back.columns[column] = [new.get(int(v), v) if p is not None and v is not None else v
                                        for p, v in zip(values, back.columns[column], strict=True)]
            else:
                back.columns[column] = [new.get(int(v), v) if v is not None else v for v in back.columns[column]]

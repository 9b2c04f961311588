"""The change journal's capture: every row a write request inserts, updates or deletes, before
and after, taken in the request's own transaction (so a write that rolls back records nothing).

The request's transaction carries a ``Recorder`` (``start``/``stop``, by
``services.context.perform``). Every statement of the store that changes an account's data goes
through the helpers here (``insert_row``, ``update_rows``, ``delete_rows``, or ``capture`` around a
prebuilt one), which, while a recorder is there, read the rows the statement is about to change or
remove (before) and what it wrote (after): one aggregate query per statement, which the database
answers with one value, the rows as JSON column by column (``[[id, id, …], [uid, uid, …], …]``).
(A DELETE feeding the aggregate itself, ``WITH gone AS (DELETE … RETURNING …) SELECT json_agg …``
on PostgreSQL, was measured slower than the aggregate followed by the DELETE: bench/changes.py.)
A cascade over 50,000 rows so costs a handful of queries and no Python object per row; column by
column is what both databases build fastest (json_group_array / json_agg per column: 10-40% less
than an array per row, measured). Values are as the database's JSON gives them: on SQLite as the
file holds them (times as SQLAlchemy writes them, flags 0 and 1), on PostgreSQL as json_agg
writes them; ``decoded`` reads either.

Without a recorder (reads, the CLI's own writes, fixtures' loading, the change journal switched
off) the helpers only run their statement.

A recorder of a preview (``preview=True``) is also what makes the counters of a PostgreSQL
transaction that will be rolled back peek at their sequences instead of taking values from them
(``counters``): sequences are not transactional, and a preview leaves no trace.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import orjson
from sqlalchemy import (
    Boolean,
    Connection,
    Date,
    DateTime,
    Table,
    Text,
    bindparam,
    cast,
    delete,
    func,
    insert,
    select,
    text,
    update,
)
from sqlalchemy.sql import ColumnElement

from openpws.store import statements
from openpws.store.prebuilt import Prebuilt

_KEY = "openpws.changes"


@dataclass(frozen=True)
class Captured:
    """Rows of one table at one moment: how many, and their columns' values as JSON text."""

    count: int
    values: str  # [[values of the first column], [values of the second], ...]


@dataclass(frozen=True)
class Part:
    """What one statement did to one table: the rows it was about to change or remove (``before``)
    and the rows it wrote (``after``); either is None when there were none."""

    table: str
    columns: tuple[str, ...]
    before: Captured | None
    after: Captured | None


@dataclass
class Recorder:
    """The changes of one transaction, statement by statement, in order."""

    preview: bool = False
    parts: list[Part] = field(default_factory=list)
    # A preview's counters: the values it has taken, by sequence (see counters).
    peeked: dict[str, int] = field(default_factory=dict)

    @property
    def rows(self) -> int:
        return sum(max(p.before.count if p.before else 0, p.after.count if p.after else 0) for p in self.parts)


def start(tx: Connection, *, preview: bool = False) -> Recorder:
    """Record the changes of ``tx``'s transaction until ``stop``."""
    recorder = Recorder(preview)
    tx.info[_KEY] = recorder
    return recorder


def stop(tx: Connection) -> None:
    # The info dictionary belongs to the driver's connection, which outlives the transaction.
    tx.info.pop(_KEY, None)


def recorder_of(tx: Connection) -> Recorder | None:
    found: Recorder | None = tx.info.get(_KEY)
    return found


# --- capturing ------------------------------------------------------------------------------------

def _aggregate(dialect: str, table: Table) -> Any:
    """The one value that holds the rows' every column, as JSON, column by column."""
    if dialect == "sqlite":
        return func.json_array(*(func.json_group_array(column) for column in table.c))
    return cast(func.json_build_array(*(func.json_agg(column) for column in table.c)), Text)


def _captured(found: Sequence[Any]) -> Captured | None:
    values, count = found[0] if found else (None, 0)
    return Captured(int(count), str(values)) if count else None


def _select(tx: Connection, table: Table, where: ColumnElement[bool]) -> Captured | None:
    query = select(_aggregate(tx.dialect.name, table), func.count()).select_from(table).where(where)
    return _captured(statements.rows(tx, query))


class _ById:
    """The capture of rows by id, prebuilt per table: every save captures a row or two by id."""

    def __init__(self) -> None:
        self._built: dict[tuple[str, str], Prebuilt] = {}

    def __call__(self, tx: Connection, table: Table, ids: Sequence[int]) -> Captured | None:
        key = (tx.dialect.name, table.name)
        built = self._built.get(key)
        if built is None:
            built = self._built[key] = Prebuilt(
                select(_aggregate(key[0], table), func.count()).select_from(table)
                .where(table.c.id.in_(bindparam("ids", expanding=True))), expanding=["ids"])
        return _captured(built.all(tx, ids=list(ids)))


_BY_ID = _ById()


def capture(tx: Connection, table: Table, where: ColumnElement[bool]) -> Captured | None:
    """The rows ``where`` selects now, when the transaction is recorded (else None, unread)."""
    if recorder_of(tx) is None:
        return None
    return _select(tx, table, where)


def add(tx: Connection, table: Table, before: Captured | None, after: Captured | None) -> None:
    """Record that a statement changed ``before`` into ``after``."""
    recorder = recorder_of(tx)
    if recorder is not None and (before is not None or after is not None):
        recorder.parts.append(Part(str(table.name), tuple(str(c.name) for c in table.c), before, after))


def add_inserted(tx: Connection, table: Table, names: Sequence[str], values: Sequence[Sequence[Any]]) -> None:
    """Record rows a statement inserted that the caller holds already, column by column, as the
    database's JSON would give them (an undo's: the rows it put back are those the delete captured,
    with their new row version): no query to read them again."""
    recorder = recorder_of(tx)
    if recorder is not None and values and values[0]:
        after = Captured(len(values[0]), json.dumps([list(column) for column in values], separators=(",", ":")))
        recorder.parts.append(Part(table.name, tuple(names), None, after))


def ids_of(table: Table, captured: Captured | None) -> list[int]:
    if captured is None:
        return []
    at = [c.name for c in table.c].index("id")
    return [int(i) for i in orjson.loads(captured.values)[at]]


def delete_rows(tx: Connection, table: Table, where: ColumnElement[bool]) -> int:
    """DELETE the rows ``where`` selects; how many went."""
    recorder = recorder_of(tx)
    before = _select(tx, table, where) if recorder is not None else None
    if recorder is not None and before is None:
        return 0  # nothing to delete
    count = statements.change(tx, delete(table).where(where))
    if before is not None:
        add(tx, table, before, None)
    return count


def update_rows(tx: Connection, table: Table, where: ColumnElement[bool], values: Mapping[str, Any]) -> int:
    """UPDATE the rows ``where`` selects (a table with an id) with ``values``; how many changed."""
    recorder = recorder_of(tx)
    before = _select(tx, table, where) if recorder is not None else None
    count = statements.change(tx, update(table).where(where).values(dict(values)))
    if before is not None:
        add(tx, table, before, _BY_ID(tx, table, ids_of(table, before)))
    return count


def before_ids(tx: Connection, table: Table, ids: Sequence[int]) -> Captured | None:
    """The rows of these ids now, when the transaction is recorded (for ``after_ids``)."""
    if recorder_of(tx) is None or not ids:
        return None
    return _BY_ID(tx, table, ids)


def after_ids(tx: Connection, table: Table, before: Captured | None, ids: Sequence[int]) -> None:
    """Record the rows of these ids as a statement left them, after ``before_ids``."""
    if recorder_of(tx) is None or not ids:
        return
    add(tx, table, before, _BY_ID(tx, table, ids))


def insert_row(tx: Connection, table: Table, values: Mapping[str, Any]) -> int:
    """INSERT one row of a table with an id; its id. A preview on PostgreSQL gives the row the id
    its table's sequence would hand out next, without taking it (as ``peek`` does for Uids)."""
    recorder = recorder_of(tx)
    if recorder is not None and recorder.preview and tx.dialect.name == "postgresql" and "id" not in values:
        values = {**values, "id": peek(tx, recorder, _serial(tx, table))}
    row_id = int(statements.scalar(tx, insert(table).values(dict(values)).returning(table.c.id)))
    if recorder_of(tx) is not None:
        add(tx, table, None, _BY_ID(tx, table, [row_id]))
    return row_id


# --- a preview's sequences -------------------------------------------------------------------------

_SERIALS: dict[str, str] = {}


def _serial(tx: Connection, table: Table) -> str:
    """The sequence of ``table``'s id (PostgreSQL)."""
    name = _SERIALS.get(table.name)
    if name is None:
        name = _SERIALS[table.name] = str(statements.scalar(tx, select(
            func.pg_get_serial_sequence(table.name, "id"))))
    return name


def peek(tx: Connection, recorder: Recorder, sequence: str) -> int:
    """A preview's next value of a PostgreSQL sequence: the one the sequence would hand out next,
    counted in the preview alone. Sequences are not rolled back with a transaction, so taking
    values would leave a trace (and the write the preview stands for would then take others);
    SQLite's counters and ids are rows of the transaction, rolled back with it. (A real write that
    takes the same value meanwhile makes the preview's row collide with its own: the preview is
    then run again, ``services.context.perform``.)"""
    peeked = recorder.peeked
    if sequence not in peeked:
        [(last, called)] = statements.rows(tx, text(f"SELECT last_value, is_called FROM {sequence}"))  # noqa: S608 - a sequence's own name
        peeked[sequence] = int(last) if called else int(last) - 1
    peeked[sequence] += 1
    return peeked[sequence]


# --- reading captured rows back ---------------------------------------------------------------------

def _flags(values: list[Any]) -> list[Any]:
    return [None if v is None else bool(v) for v in values]


def _moments(values: list[Any]) -> list[Any]:
    """Times as either database's JSON writes them: '2026-01-05 09:00:00.000000' (SQLite, as
    SQLAlchemy stores them) or '2026-01-05T09:00:00' (PostgreSQL)."""
    parse = datetime.fromisoformat
    return [None if v is None else parse(v) for v in values]


def _days(values: list[Any]) -> list[Any]:
    """Dates as ISO 8601 text, as both databases' JSON write them (kept as text: a cascade's tens of
    thousands of hours weeks are shown as text, and compared as text within one store)."""
    return [None if v is None else str(v)[:10] for v in values]


def readers(table: Table) -> list[Any]:
    """Per column of ``table``, what turns its captured values (a column's, a list) into their
    Python values (None: as they are). A column at a time: a cascade's columns are tens of
    thousands of values long."""
    found: list[Any] = []
    for column in table.c:
        kind = column.type
        if isinstance(kind, Boolean):
            found.append(_flags)
        elif isinstance(kind, DateTime):
            found.append(_moments)
        elif isinstance(kind, Date):
            found.append(_days)
        else:
            found.append(None)
    return found


def columns(captured: Captured) -> list[list[Any]]:
    """The captured values, column by column, as the database wrote them."""
    values: list[list[Any]] = orjson.loads(captured.values)
    return values


def converted(table: Table, names: Sequence[str], values: Sequence[Sequence[Any]]) -> dict[str, list[Any]]:
    """Captured values (column by column, of the columns ``names``) as Python values, column by
    column, for the columns the table still has."""
    by_name = {c.name: r for c, r in zip(table.c, readers(table), strict=True)}
    found: dict[str, list[Any]] = {}
    for name, column in zip(names, values, strict=True):
        if name in by_name:
            read = by_name[name]
            found[str(name)] = read(list(column)) if read is not None else list(column)
    return found


def decoded(table: Table, names: Sequence[str], values: Sequence[Sequence[Any]]) -> list[dict[str, Any]]:
    """Captured rows as dictionaries of Python values (see ``converted``)."""
    columns = converted(table, names, values)
    keys = list(columns)
    return [dict(zip(keys, row, strict=True)) for row in zip(*columns.values(), strict=True)]


def parts_text(parts: Iterable[Part]) -> str:
    """The parts as one JSON document: the captured values go in as they are (they are JSON)."""
    written = []
    for part in parts:
        before = part.before.values if part.before is not None else "null"
        after = part.after.values if part.after is not None else "null"
        written.append(f'{{"table":{json.dumps(part.table)},"columns":{json.dumps(list(part.columns))},'
                       f'"before":{before},"after":{after}}}')
    return '{"format":1,"parts":[' + ",".join(written) + "]}"


@dataclass(frozen=True)
class ReadPart:
    """A part read back: its table's name, its columns then, and its values column by column."""

    table: str
    columns: list[str]
    before: list[list[Any]] | None
    after: list[list[Any]] | None


def read_parts(text: str) -> list[ReadPart]:
    document = orjson.loads(text)
    return [ReadPart(p["table"], p["columns"], p["before"], p["after"]) for p in document["parts"]]


def live_parts(recorder: Recorder) -> list[ReadPart]:
    """A recorder's parts as ``read_parts`` gives them (a preview's, never written)."""
    return [ReadPart(p.table, list(p.columns), columns(p.before) if p.before else None,
                     columns(p.after) if p.after else None) for p in recorder.parts]

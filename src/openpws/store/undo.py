"""The SQL of an undo (``services.undo``): which of a set of values a column holds now, and
putting captured rows back into their tables.

Captured rows (``store.changes``) hold their values as the database's JSON wrote them, column by
column. On SQLite those are the values as the file holds them, and go back verbatim, one prepared
INSERT the driver runs for each row in C; on PostgreSQL they go back by COPY, which the driver
writes in C and the server reads as it reads text (a time as JSON gives it, a flag as true or
false): 4-5 times faster than the same rows cast from JSON arrays by the server (measured).

Ids: PostgreSQL's sequences never hand an id out twice, so a removed row's id is free when it comes
back. SQLite gives a new row the highest id plus one, so the id of a row removed while it was the
highest may since have gone to another row: ``taken_ids`` finds those, and the caller gives the
rows new ids (and the rows that refer to them the new ones), as a snapshot's restore does.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Sequence
from typing import Any

import psycopg
from sqlalchemy import (
    JSON,
    Column,
    ColumnElement,
    Connection,
    Table,
    Text,
    bindparam,
    cast,
    func,
    insert,
    literal,
    literal_column,
    select,
)
from sqlalchemy.exc import IntegrityError

from openpws.store import statements


def present(tx: Connection, column: Column[Any], values: Iterable[Any], *, account_id: int | None = None,
            extra: Sequence[ColumnElement[Any]] = ()) -> dict[Any, tuple[Any, ...]]:
    """Which of ``values`` ``column`` holds now (in the account's rows, if it has them): each with
    the row's ``extra`` columns. One statement, however many values."""
    table = column.table
    wanted = sorted({v for v in values if v is not None}, key=str)
    if not wanted:
        return {}
    query = select(column, *extra).where(within(tx, column, wanted))
    if account_id is not None and isinstance(table, Table) and "account_id" in table.c:
        query = query.where(table.c.account_id == account_id)
    return {row[0]: tuple(row[1:]) for row in statements.rows(tx, query)}


def highest_id(tx: Connection, table: Table) -> int:
    return int(statements.scalar(tx, select(func.max(table.c.id))) or 0)


def within(tx: Connection, column: Column[Any], values: Sequence[Any]) -> ColumnElement[bool]:
    """``column IN values`` for any number of values: one JSON array parameter, not one each."""
    given = literal(json.dumps(list(values)), type_=Text)
    if tx.dialect.name == "sqlite":
        return column.in_(select(literal_column("value")).select_from(func.json_each(given)))
    elements = func.json_array_elements_text(cast(given, JSON))
    return column.in_(select(cast(literal_column("value"), column.type)).select_from(elements))


def insert_columns(tx: Connection, table: Table, names: Sequence[str], values: Sequence[Sequence[Any]]) -> None:
    """Insert rows given column by column (``values[i]`` holds column ``names[i]`` of every row). A
    row a concurrent writer got in the way of (a code it took meanwhile) fails them all, as
    SQLAlchemy's IntegrityError whatever the driver raised."""
    if not values or not values[0]:
        return
    try:
        _insert(tx, table, names, values)
    except (sqlite3.IntegrityError, psycopg.IntegrityError) as error:
        raise IntegrityError(f"INSERT INTO {table.name}", None, error) from error


def _insert(tx: Connection, table: Table, names: Sequence[str], values: Sequence[Sequence[Any]]) -> None:
    if tx.dialect.name == "sqlite":
        built = insert(table).values({name: bindparam(name) for name in names}).compile(dialect=tx.dialect)
        order = list(built.positiontup or ())
        at = [list(names).index(name) for name in order]
        columns = [values[i] for i in at]
        statements.cursor_change_many(tx, str(built), list(zip(*columns, strict=True)))
        return
    quote = tx.dialect.identifier_preparer.quote
    sql = f"COPY {quote(table.name)} ({', '.join(quote(name) for name in names)}) FROM STDIN"
    statements.copy_rows(tx, sql, zip(*values, strict=True))

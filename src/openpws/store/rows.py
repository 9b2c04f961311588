"""Reading rows into frozen dataclasses whose fields are named after the table's columns."""

from __future__ import annotations

from dataclasses import fields
from typing import Any, TypeVar

from sqlalchemy import Connection, Table, select

R = TypeVar("R")


def columns_for(table: Table, row_type: type[Any]) -> list[Any]:
    return [table.c[f.name] for f in fields(row_type)]


def fetch(connection: Connection, table: Table, row_type: type[R], *where: Any,
          order_by: Any = None, limit: int | None = None, for_update: bool = False) -> list[R]:
    """Rows of ``table`` matching ``where`` as ``row_type`` instances (FOR UPDATE on PostgreSQL
    when asked; SQLite's write transactions are already exclusive)."""
    query = select(*columns_for(table, row_type)).where(*where)
    if order_by is not None:
        query = query.order_by(*(order_by if isinstance(order_by, list | tuple) else [order_by]))
    if limit is not None:
        query = query.limit(limit)
    if for_update and connection.dialect.name == "postgresql":
        query = query.with_for_update()
    return [row_type(**row._asdict()) for row in connection.execute(query)]


def fetch_one(connection: Connection, table: Table, row_type: type[R], *where: Any,
              for_update: bool = False) -> R | None:
    found = fetch(connection, table, row_type, *where, limit=1, for_update=for_update)
    return found[0] if found else None


def like_pattern(text: str) -> str:
    """A case-insensitive LIKE pattern (use with escape="\\\\") matching ``text`` anywhere."""
    return "%" + text.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"

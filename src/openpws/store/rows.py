"""Reading rows into frozen dataclasses whose fields are named after the table's columns."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import fields
from typing import Any, Generic, Protocol, TypeVar

from sqlalchemy import Connection, Table, bindparam, select, update

from openpws.store import changes, statements
from openpws.store.prebuilt import Prebuilt, PrebuiltRows

R = TypeVar("R")


class _HasId(Protocol):
    @property
    def id(self) -> int: ...


Keyed = TypeVar("Keyed", bound=_HasId)


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
    return [row_type(**row._asdict()) for row in statements.rows(connection, query)]


def fetch_one(connection: Connection, table: Table, row_type: type[R], *where: Any,
              for_update: bool = False) -> R | None:
    found = fetch(connection, table, row_type, *where, limit=1, for_update=for_update)
    return found[0] if found else None


class ById(Generic[Keyed]):
    """Rows of one account by id, the statements built once (with and without FOR UPDATE): every
    write reads by id."""

    def __init__(self, table: Table, row_type: type[Keyed]) -> None:
        plain = select(*columns_for(table, row_type)).where(
            table.c.account_id == bindparam("account"), table.c.id.in_(bindparam("ids", expanding=True)))
        self._plain = PrebuiltRows(plain, row_type, expanding=["ids"])
        self._locking = PrebuiltRows(plain.with_for_update(), row_type, expanding=["ids"])

    def __call__(self, connection: Connection, account_id: int, ids: Iterable[int | None], *,
                 for_update: bool = False) -> dict[int, Keyed]:
        wanted = sorted({i for i in ids if i is not None})
        if not wanted:
            return {}
        locking = for_update and connection.dialect.name == "postgresql"
        statement = self._locking if locking else self._plain
        return {row.id: row for row in statement.rows(connection, account=account_id, ids=wanted)}


class UpdateById:
    """``UPDATE table SET … WHERE id = :id``, prebuilt once per set of columns a write changes (a
    handful per table): every save updates a row or two."""

    def __init__(self, table: Table) -> None:
        self.table = table
        self._statements: dict[frozenset[str], Prebuilt] = {}

    def __call__(self, connection: Connection, row_id: int, values: Mapping[str, Any]) -> int:
        names = frozenset(values)
        statement = self._statements.get(names)
        if statement is None:
            columns = self.table.c
            statement = self._statements[names] = Prebuilt(update(self.table).where(
                columns.id == bindparam("row_id")).values(
                {name: bindparam(f"new_{name}", type_=columns[name].type) for name in sorted(names)}))
        before = changes.before_ids(connection, self.table, [row_id])
        count = statement.run(connection, row_id=row_id, **{f"new_{name}": value for name, value in values.items()})
        changes.after_ids(connection, self.table, before, [row_id])
        return count


def like_pattern(text: str) -> str:
    """A case-insensitive LIKE pattern (use with escape="\\\\") matching ``text`` anywhere."""
    return "%" + text.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"

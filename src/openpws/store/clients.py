"""Client rows. Every query is confined to one account."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, func, or_, select

from openpws.entities import ClientRow
from openpws.store import changes, statements
from openpws.store.rows import UpdateById, fetch, fetch_one
from openpws.store.schema import clients

_COLUMNS = (
    clients.c.id, clients.c.uid, clients.c.number, clients.c.name, clients.c.inactive, clients.c.parent_id,
    clients.c.billing_instructions, clients.c.purchase_order_number, clients.c.rowversion, clients.c.updated_at,
)


def _rows(connection: Connection, *where: Any, order: bool = False, limit: int | None = None) -> list[ClientRow]:
    query = select(*_COLUMNS).where(*where)
    if order:
        query = query.order_by(clients.c.number_key)
    if limit is not None:
        query = query.limit(limit)
    return [ClientRow(**row._asdict()) for row in statements.rows(connection, query)]


def by_number(connection: Connection, account_id: int, number: str) -> ClientRow | None:
    found = _rows(connection, clients.c.account_id == account_id, clients.c.number_key == number.upper())
    return found[0] if found else None


def by_ids(connection: Connection, account_id: int, ids: set[int]) -> dict[int, ClientRow]:
    if not ids:
        return {}
    return {row.id: row for row in _rows(connection, clients.c.account_id == account_id, clients.c.id.in_(ids))}


def children_of(connection: Connection, account_id: int, parent_ids: set[int]) -> list[ClientRow]:
    if not parent_ids:
        return []
    return _rows(connection, clients.c.account_id == account_id, clients.c.parent_id.in_(parent_ids))


def search(connection: Connection, account_id: int, query: str | None, include_inactive: bool,
           updated_since: datetime | None) -> list[ClientRow]:
    """Clients whose number or name contains ``query`` (case-insensitive), ordered by number."""
    where: list[Any] = [clients.c.account_id == account_id]
    if query:
        pattern = "%" + query.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        where.append(or_(func.lower(clients.c.number).like(pattern, escape="\\"),
                         func.lower(clients.c.name).like(pattern, escape="\\")))
    if not include_inactive:
        where.append(clients.c.inactive.is_(False))
    if updated_since is not None:
        where.append(clients.c.updated_at >= updated_since)
    return _rows(connection, *where, order=True)


def insert_client(connection: Connection, account_id: int, values: dict[str, Any]) -> int:
    return changes.insert_row(connection, clients, {
        "account_id": account_id, "number_key": values["number"].upper(), **values})


_UPDATE = UpdateById(clients)


def update_client(connection: Connection, client_id: int, values: dict[str, Any]) -> None:
    if "number" in values:
        values = {**values, "number_key": values["number"].upper()}
    _UPDATE(connection, client_id, values)


def count_clients(connection: Connection, account_id: int) -> int:
    return int(statements.scalar(connection, select(func.count()).where(clients.c.account_id == account_id)))


def lock(connection: Connection, client_id: int) -> ClientRow | None:
    """The client, row-locked until commit (on SQLite the write transaction already excludes
    other writers), or None when it is gone."""
    return fetch_one(connection, clients, ClientRow, clients.c.id == client_id, for_update=True)


def lock_many(connection: Connection, account_id: int, ids: list[int]) -> list[ClientRow]:
    """These clients of the account, row-locked until commit in id order (so that two writers
    locking overlapping sets cannot deadlock); those that are gone are missing."""
    if not ids:
        return []
    return fetch(connection, clients, ClientRow, clients.c.account_id == account_id, clients.c.id.in_(ids),
                 order_by=clients.c.id, for_update=True)

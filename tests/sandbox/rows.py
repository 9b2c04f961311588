"""Control-plane calls the sandbox tests share, and every row of an account, read from the tables
themselves (whatever tables the schema holds, so that a new one is covered without a change)."""

from __future__ import annotations

from typing import Any

import httpx
from sqlalchemy import Table, select

from openpws.store import schema
from openpws.store.transactions import Store

API = "/_openpws/api"


def create(api: httpx.Client, **body: Any) -> dict[str, Any]:
    """A new account (POST /accounts with ``body``): its code, endpoint and users."""
    answer = api.post(f"{API}/accounts", json=body)
    assert answer.status_code == 201, answer.text
    created: dict[str, Any] = answer.json()
    return created


def password_of(created: dict[str, Any], login: str) -> str:
    return next(str(u["password"]) for u in created["users"] if u["login"] == login)


def account_id(store: Store, code: str) -> int | None:
    a = schema.accounts
    with store.read() as tx:
        found = tx.execute(select(a.c.id).where(a.c.code_key == code.lower())).scalar()
    return None if found is None else int(found)


def _owner_join(table: Table) -> tuple[Table, Any] | None:
    """For a table without account_id: a table it refers to that has one, and the join condition."""
    for key in table.foreign_keys:
        parent = key.column.table
        if isinstance(parent, Table) and "account_id" in parent.c:
            return parent, key.parent == key.column
    return None


def rows_of(store: Store, account: int) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of the account in every table, sorted: the account's own row, each table with an
    account_id, and each table without one through the table it belongs to (hours, permissions)."""
    found: dict[str, list[tuple[Any, ...]]] = {}
    with store.read() as tx:
        for table in schema.metadata.sorted_tables:
            if table is schema.accounts:
                query = select(table).where(table.c.id == account)
            elif "account_id" in table.c:
                query = select(table).where(table.c.account_id == account)
            else:
                owner = _owner_join(table)
                if owner is None:
                    continue  # shared by every account (the counters)
                parent, condition = owner
                query = select(table).join(parent, condition).where(parent.c.account_id == account)
            found[table.name] = sorted((tuple(row) for row in tx.execute(query)), key=repr)
    return found


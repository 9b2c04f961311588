"""Accounts (installations), their users and the users' permissions."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import Connection, Select, bindparam, func, insert, select

from openpws.entities import AccountRow, PersonRow, UserRow
from openpws.store import statements
from openpws.store.counters import next_uid
from openpws.store.schema import accounts, user_permissions, users


class DuplicateError(ValueError):
    """An account code, or a login within an account, is already taken."""


def create_account(connection: Connection, code: str, name: str, now: datetime, week_start: int = 0) -> AccountRow:
    if find_account(connection, code) is not None:
        raise DuplicateError(f"account {code!r} already exists")
    uid = next_uid(connection)
    account_id = int(statements.scalar(connection, insert(accounts).values(
        uid=uid, code=code, code_key=code.lower(), name=name, created_at=now, week_start=week_start,
    ).returning(accounts.c.id)))
    return AccountRow(account_id, uid, code, name, week_start)


_ACCOUNT_COLUMNS = (accounts.c.id, accounts.c.uid, accounts.c.code, accounts.c.name, accounts.c.week_start)


def find_account(connection: Connection, code: str) -> AccountRow | None:
    """The account ``code``, held against a concurrent deletion in a write (``hold``)."""
    query = select(*_ACCOUNT_COLUMNS).where(accounts.c.code_key == code.lower())
    found = statements.rows(connection, held(connection, query))
    return AccountRow(*found[0]) if found else None


Q = TypeVar("Q", bound=Select[Any])


def held(connection: Connection, query: Q) -> Q:
    """``query``, locking the account rows it reads FOR KEY SHARE when the transaction must hold
    them (``statements.holds_account``): a concurrent deletion of the account then waits for this
    transaction, or, having removed it first, leaves the query without the row. Updates of the
    account's row (its clock, settings) do not wait for it."""
    return query.with_for_update(key_share=True, of=accounts) if statements.holds_account(connection) else query


_HOLD = select(accounts.c.id).where(accounts.c.id == bindparam("account_id")).with_for_update(key_share=True)


def hold(connection: Connection, account_id: int) -> bool:
    """Hold the account's row for the rest of the transaction (see ``held``); False when it is
    gone. Always True outside a PostgreSQL write."""
    if not statements.holds_account(connection):
        return True
    return statements.scalar(connection, _HOLD, {"account_id": account_id}) is not None


_WEEK_START = select(accounts.c.week_start).where(accounts.c.id == bindparam("account_id"))


def week_start(connection: Connection, account_id: int) -> int:
    """The account's first day of the week (0 Monday … 6 Sunday)."""
    return int(statements.scalar(connection, _WEEK_START, {"account_id": account_id}))


def create_user(
    connection: Connection,
    account: AccountRow,
    *,
    login: str,
    display_name: str,
    reference_id: str | None,
    email: str | None,
    password_hash: str,
    permissions: Iterable[str],
    now: datetime,
) -> UserRow:
    if find_user(connection, account.id, login) is not None:
        raise DuplicateError(f"user {login!r} already exists in account {account.code!r}")
    uid = next_uid(connection)
    user_id = int(statements.scalar(connection, insert(users).values(
        uid=uid, account_id=account.id, login=login, login_key=login.lower(), display_name=display_name,
        reference_id=reference_id, email=email, password_hash=password_hash, created_at=now,
    ).returning(users.c.id)))
    granted = frozenset(permissions)
    if granted:
        statements.change(connection, insert(user_permissions),
                          [{"user_id": user_id, "permission": p} for p in sorted(granted)])
    return UserRow(user_id, uid, account.id, login, display_name, reference_id, email, password_hash, granted)


_USER_COLUMNS = (
    users.c.id, users.c.uid, users.c.account_id, users.c.login, users.c.display_name,
    users.c.reference_id, users.c.email, users.c.password_hash,
)


_PERMISSIONS = select(user_permissions.c.permission).where(user_permissions.c.user_id == bindparam("user_id"))


def permissions_of(connection: Connection, user_id: int) -> frozenset[str]:
    return frozenset(statements.scalars(connection, _PERMISSIONS, {"user_id": user_id}))


def find_user(connection: Connection, account_id: int, login: str) -> UserRow | None:
    found = statements.rows(connection, select(*_USER_COLUMNS).where(
        users.c.account_id == account_id, users.c.login_key == login.lower()))
    return UserRow(*found[0], permissions=permissions_of(connection, found[0].id)) if found else None


def list_users(connection: Connection, account_id: int) -> list[UserRow]:
    rows = statements.rows(connection, select(*_USER_COLUMNS).where(
        users.c.account_id == account_id).order_by(users.c.login_key))
    return [UserRow(*row, permissions=permissions_of(connection, row.id)) for row in rows]



_PERSON_COLUMNS = (users.c.id, users.c.uid, users.c.display_name, users.c.reference_id, users.c.email)


def people_by_ids(connection: Connection, account_id: int, ids: Iterable[int | None]) -> dict[int, PersonRow]:
    wanted = {i for i in ids if i is not None}
    if not wanted:
        return {}
    rows = statements.rows(connection, select(*_PERSON_COLUMNS).where(
        users.c.account_id == account_id, users.c.id.in_(wanted)))
    return {row.id: PersonRow(*row) for row in rows}


def find_people(connection: Connection, account_id: int, *, display_name: str | None, reference_id: str | None,
                uid: int | None) -> list[PersonRow]:
    """The account's users matching every key given (display names and reference ids match
    case-insensitively); at least one key must be given."""
    where = [users.c.account_id == account_id]
    if uid is not None:
        where.append(users.c.uid == uid)
    if display_name is not None:
        where.append(func.lower(users.c.display_name) == display_name.lower())
    if reference_id is not None:
        where.append(func.lower(users.c.reference_id) == reference_id.lower())
    assert len(where) > 1
    return [PersonRow(*row) for row in statements.rows(connection, select(*_PERSON_COLUMNS).where(*where).limit(2))]


def lock_numbering(connection: Connection, account_id: int) -> None:
    """Make the account's writers that pick or check a unique code or number (client numbers,
    engagement and project codes, role identifiers, draft invoice numbers) take turns until
    commit, so two of them cannot take the same one. FOR NO KEY UPDATE on the account row: it does
    not block the key-share locks that inserts of the account's other rows take. Writers that also
    lock an engagement lock it first. SQLite's write transactions are already exclusive."""
    if connection.dialect.name == "postgresql":
        statements.rows(connection, select(accounts.c.id).where(accounts.c.id == account_id)
                        .with_for_update(key_share=True))

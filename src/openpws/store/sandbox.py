"""What the sandbox keeps of an account beside its data: its clock, its expiry and the fixture it
was created from; how many rows of each kind it holds; and removing it whole."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Table, delete, func, or_, select, update

from openpws.clock import Clock, utc
from openpws.store import statements
from openpws.store.accounts import held
from openpws.store.schema import (
    accounts,
    clients,
    engagements,
    invoices,
    lock_sets,
    locks,
    metadata,
    project_roles,
    projects,
    users,
)


@dataclass(frozen=True)
class AccountState:
    id: int
    uid: int
    code: str
    name: str
    created_at: datetime  # naive UTC, account time at creation
    expires_at: datetime | None  # naive UTC, real time
    fixture_name: str | None
    clock: Clock

    def expired(self, real: datetime) -> bool:
        return self.expires_at is not None and utc(self.expires_at) <= real


def clock_of(frozen_at: datetime | None, offset_us: int) -> Clock:
    """The clock kept in an account's clock_frozen_at and clock_offset_us columns."""
    if frozen_at is not None:
        return Clock(frozen_at=utc(frozen_at))
    return Clock(offset=timedelta(microseconds=offset_us)) if offset_us else Clock()


def _naive(moment: datetime) -> datetime:
    return utc(moment).replace(tzinfo=None)


_STATE = select(accounts.c.id, accounts.c.uid, accounts.c.code, accounts.c.name, accounts.c.created_at,
                accounts.c.expires_at, accounts.c.fixture_name, accounts.c.clock_frozen_at,
                accounts.c.clock_offset_us)


def _state(row: Sequence[Any]) -> AccountState:
    account_id, uid, code, name, created_at, expires_at, fixture_name, frozen_at, offset_us = row
    return AccountState(account_id, uid, code, name, created_at, expires_at, fixture_name,
                        clock_of(frozen_at, offset_us))


def find_state(connection: Connection, code: str) -> AccountState | None:
    """The account ``code``, held against a concurrent deletion in a write (``accounts.held``)."""
    found = statements.rows(connection, held(connection, _STATE.where(accounts.c.code_key == code.lower())))
    return _state(found[0]) if found else None


def state_of(connection: Connection, account_id: int) -> AccountState:
    return _state(statements.rows(connection, _STATE.where(accounts.c.id == account_id))[0])


def list_states(connection: Connection, real: datetime, limit: int) -> list[AccountState]:
    """The accounts that have not expired at real time ``real``, newest first."""
    query = (_STATE.where(or_(accounts.c.expires_at.is_(None), accounts.c.expires_at > _naive(real)))
             .order_by(accounts.c.created_at.desc(), accounts.c.id.desc()).limit(limit))
    return [_state(row) for row in statements.rows(connection, query)]


def set_clock(connection: Connection, account_id: int, clock: Clock) -> None:
    offset_us = (clock.offset // timedelta(microseconds=1)) if clock.frozen_at is None else 0
    statements.change(connection, update(accounts).where(accounts.c.id == account_id).values(
        clock_frozen_at=None if clock.frozen_at is None else _naive(clock.frozen_at), clock_offset_us=offset_us))


def set_origin(connection: Connection, account_id: int, *, expires_at: datetime | None,
               fixture_name: str | None) -> None:
    statements.change(connection, update(accounts).where(accounts.c.id == account_id).values(
        expires_at=None if expires_at is None else _naive(expires_at), fixture_name=fixture_name))


# --- counts ----------------------------------------------------------------------------------------

# What an account's summary counts, each as (table, the condition a counted row meets).
_COUNTED: tuple[tuple[str, Table, Any], ...] = (
    ("users", users, None),
    ("clients", clients, None),
    ("engagements", engagements, None),
    ("projects", projects, None),
    ("roles", project_roles, project_roles.c.deleted.is_(False)),
    ("invoices", invoices, invoices.c.deleted.is_(False)),
)


def counts(connection: Connection, states: Sequence[AccountState], real: datetime) -> dict[int, dict[str, int]]:
    """Per account: its users, clients, engagements, projects, live roles, invoices, and the locks
    live on its own clock at real time ``real``. One grouped query per kind."""
    ids = [state.id for state in states]
    found: dict[int, dict[str, int]] = {i: {name: 0 for name, _, _ in _COUNTED} | {"locks": 0} for i in ids}
    if not ids:
        return found
    for name, table, condition in _COUNTED:
        query = (select(table.c.account_id, func.count()).where(table.c.account_id.in_(ids))
                 .group_by(table.c.account_id))
        if condition is not None:
            query = query.where(condition)
        for account_id, count in statements.rows(connection, query):
            found[account_id][name] = int(count)
    # A lock set is live until it expires on its account's clock, which each account keeps apart.
    sets = (select(lock_sets.c.account_id, lock_sets.c.expires_at, func.count(locks.c.id))
            .join(locks, locks.c.lock_set_id == lock_sets.c.id)
            .where(lock_sets.c.account_id.in_(ids), lock_sets.c.released_at.is_(None),
                   lock_sets.c.stolen_at.is_(None))
            .group_by(lock_sets.c.id, lock_sets.c.account_id, lock_sets.c.expires_at))
    now = {state.id: _naive(state.clock.at(real)) for state in states}
    for account_id, expires_at, count in statements.rows(connection, sets):
        if expires_at > now[account_id]:
            found[account_id]["locks"] += int(count)
    return found


# --- removal ---------------------------------------------------------------------------------------

def _account_tables() -> list[Table]:
    """Every table with rows of an account, those that refer to others first. A table without an
    account_id column (hours, permissions) goes with the rows it belongs to (ON DELETE CASCADE)."""
    return [t for t in reversed(metadata.sorted_tables) if t is not accounts and "account_id" in t.c]


def delete_account(connection: Connection, account_id: int) -> None:
    """Delete every row of the account, table by table, then the account itself. Explicit deletes
    in dependency order rather than the accounts row's cascade: each is one indexed, set-based
    statement, and a table that refers to another without a cascade (a manager, a lock's holder)
    is emptied before the table it refers to."""
    if connection.dialect.name == "postgresql":
        # First the account's row: writes in the account hold it (accounts.held), so this waits for
        # those under way, and those that come later find no account.
        statements.rows(connection, select(accounts.c.id).where(accounts.c.id == account_id).with_for_update())
    for table in _account_tables():
        statements.change(connection, delete(table).where(table.c.account_id == account_id))
    statements.change(connection, delete(accounts).where(accounts.c.id == account_id))


def expired_ids(connection: Connection, real: datetime) -> list[int]:
    return list(statements.scalars(connection, select(accounts.c.id).where(
        accounts.c.expires_at <= _naive(real)).order_by(accounts.c.id)))


def take_expired(connection: Connection, account_id: int, real: datetime) -> bool:
    """Lock the account's row if it has expired and no other transaction holds it (another
    process sweeping it: that one removes it). SQLite's writers are already alone."""
    query = select(accounts.c.id).where(accounts.c.id == account_id, accounts.c.expires_at <= _naive(real))
    if connection.dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    return bool(statements.rows(connection, query))


"""Session rows. Only a SHA-256 hash of each ticket is stored: a leaked database holds no
usable ticket, and tickets are 128 random bits, so a fast hash is enough (no KDF needed)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, bindparam, func, insert, select, update

from openpws.clock import Clock
from openpws.store import statements
from openpws.store.prebuilt import Prebuilt
from openpws.store.sandbox import clock_of
from openpws.store.schema import accounts, sessions, user_permissions, users


@dataclass(frozen=True)
class SessionRow:
    id: int
    account_id: int
    user_id: int
    created_at: datetime
    last_seen_at: datetime
    ended_at: datetime | None


def insert_session(connection: Connection, ticket_hash: str, account_id: int, user_id: int, now: datetime) -> None:
    statements.change(connection, insert(sessions).values(
        ticket_hash=ticket_hash, account_id=account_id, user_id=user_id, created_at=now, last_seen_at=now))


def touch_session(connection: Connection, session_id: int, now: datetime) -> None:
    statements.change(connection, update(sessions).where(
        sessions.c.id == session_id, sessions.c.ended_at.is_(None)).values(last_seen_at=now))


def end_session(connection: Connection, session_id: int, now: datetime) -> None:
    statements.change(connection, update(sessions).where(sessions.c.id == session_id).values(ended_at=now))


@dataclass(frozen=True)
class SessionOwner:
    """A session with what a caller needs of its user and account, read in one query."""

    session: SessionRow
    account_uid: int
    account_code: str
    account_clock: Clock
    account_expires_at: datetime | None  # naive UTC, real time
    user_uid: int
    login: str
    display_name: str
    reference_id: str | None
    permissions: frozenset[str]  # as granted (before the implied ones are added)


# Every request runs it: the session check is a single query, one row, with the user's permissions
# in one comma-separated column (permission names hold no commas).
_PERMISSIONS = (
    select(func.aggregate_strings(user_permissions.c.permission, ","))
    .where(user_permissions.c.user_id == users.c.id)
    .scalar_subquery()
)
_OWNER_QUERY = (
    select(
        sessions.c.id, sessions.c.account_id, sessions.c.user_id, sessions.c.created_at,
        sessions.c.last_seen_at, sessions.c.ended_at, accounts.c.uid, accounts.c.code, accounts.c.clock_frozen_at,
        accounts.c.clock_offset_us, accounts.c.expires_at, users.c.uid, users.c.login, users.c.display_name,
        users.c.reference_id, _PERMISSIONS,
    )
    .join(users, users.c.id == sessions.c.user_id)
    .join(accounts, accounts.c.id == sessions.c.account_id)
    .where(sessions.c.ticket_hash == bindparam("ticket_hash"))
)
_OWNER = Prebuilt(_OWNER_QUERY)
# In a PostgreSQL write, the account's row is held too (accounts.held).
_OWNER_HOLDING = Prebuilt(_OWNER_QUERY.with_for_update(key_share=True, of=accounts))


def find_session_owner(connection: Connection, ticket_hash: str) -> SessionOwner | None:
    """The session of ``ticket_hash`` with its account and user; in a write, the account is held
    against a concurrent deletion (which, when it came first, leaves no owner to find)."""
    rows = (_OWNER_HOLDING if statements.holds_account(connection) else _OWNER).all(connection, ticket_hash=ticket_hash)
    if not rows:
        return None
    (*session, account_uid, account_code, frozen_at, offset_us, expires_at, user_uid, login, display_name,
     reference_id, granted), = rows
    return SessionOwner(SessionRow(*session), account_uid, account_code, clock_of(frozen_at, offset_us), expires_at,
                        user_uid, login, display_name, reference_id,
                        frozenset(granted.split(",")) if granted else frozenset())

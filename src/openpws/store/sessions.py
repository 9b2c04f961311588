"""Session rows. Only a SHA-256 hash of each ticket is stored: a leaked database holds no
usable ticket, and tickets are 128 random bits, so a fast hash is enough (no KDF needed)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, bindparam, insert, select, update

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
    connection.execute(
        insert(sessions).values(
            ticket_hash=ticket_hash, account_id=account_id, user_id=user_id, created_at=now, last_seen_at=now
        )
    )


def touch_session(connection: Connection, session_id: int, now: datetime) -> None:
    connection.execute(
        update(sessions).where(sessions.c.id == session_id, sessions.c.ended_at.is_(None)).values(last_seen_at=now)
    )


def end_session(connection: Connection, session_id: int, now: datetime) -> None:
    connection.execute(update(sessions).where(sessions.c.id == session_id).values(ended_at=now))


@dataclass(frozen=True)
class SessionOwner:
    """A session with what a caller needs of its user and account, read in one query."""

    session: SessionRow
    account_uid: int
    account_code: str
    user_uid: int
    login: str
    display_name: str
    reference_id: str | None
    permissions: frozenset[str]  # as granted (before the implied ones are added)


# Built once: every request runs it, and building a statement costs more than running it. One
# row per permission the user holds (or one with NULL): the session check is a single query.
_OWNER = (
    select(
        sessions.c.id, sessions.c.account_id, sessions.c.user_id, sessions.c.created_at,
        sessions.c.last_seen_at, sessions.c.ended_at, accounts.c.uid, accounts.c.code, users.c.uid,
        users.c.login, users.c.display_name, users.c.reference_id, user_permissions.c.permission,
    )
    .join(users, users.c.id == sessions.c.user_id)
    .join(accounts, accounts.c.id == sessions.c.account_id)
    .outerjoin(user_permissions, user_permissions.c.user_id == users.c.id)
    .where(sessions.c.ticket_hash == bindparam("ticket_hash"))
)


def find_session_owner(connection: Connection, ticket_hash: str) -> SessionOwner | None:
    rows = connection.execute(_OWNER, {"ticket_hash": ticket_hash}).all()
    if not rows:
        return None
    first = rows[0]
    account_uid, account_code, user_uid, login, display_name, reference_id = first[6:12]
    granted = frozenset(row[12] for row in rows if row[12] is not None)
    return SessionOwner(SessionRow(*first[:6]), account_uid, account_code, user_uid, login, display_name,
                        reference_id, granted)

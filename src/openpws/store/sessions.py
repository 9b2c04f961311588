"""Session rows. Only a SHA-256 hash of each ticket is stored: a leaked database holds no
usable ticket, and tickets are 128 random bits, so a fast hash is enough (no KDF needed)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, insert, select, update

from openpws.store.schema import sessions


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


def find_session(connection: Connection, ticket_hash: str) -> SessionRow | None:
    row = connection.execute(
        select(
            sessions.c.id, sessions.c.account_id, sessions.c.user_id, sessions.c.created_at,
            sessions.c.last_seen_at, sessions.c.ended_at,
        ).where(sessions.c.ticket_hash == ticket_hash)
    ).first()
    return SessionRow(*row) if row else None


def touch_session(connection: Connection, session_id: int, now: datetime) -> None:
    connection.execute(
        update(sessions).where(sessions.c.id == session_id, sessions.c.ended_at.is_(None)).values(last_seen_at=now)
    )


def end_session(connection: Connection, session_id: int, now: datetime) -> None:
    connection.execute(update(sessions).where(sessions.c.id == session_id).values(ended_at=now))

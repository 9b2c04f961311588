"""Lock sets and locks. Every query is confined to one account.

A lock is live while its set is neither released, nor stolen, nor expired; "now" is passed in so
that one request judges every lock at the same instant.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, insert, select, update

from openpws.store.rows import columns_for, fetch, fetch_one
from openpws.store.schema import lock_sets, locks


@dataclass(frozen=True)
class LockSetRow:
    id: int
    user_id: int
    internal: bool
    created_at: datetime
    expires_at: datetime
    released_at: datetime | None
    stolen_by_user_id: int | None
    stolen_at: datetime | None

    def live(self, now: datetime) -> bool:
        return self.released_at is None and self.stolen_at is None and self.expires_at > now


@dataclass(frozen=True)
class LockRow:
    id: int
    lock_set_id: int
    entity_type: str
    entity_id: int
    entity_uid: int
    entity_code: str | None
    engagement_id: int
    project_id: int | None
    acquired_at: datetime


@dataclass(frozen=True)
class HeldLock:
    """A live lock with its set's holder and whether the set may be stolen."""

    lock: LockRow
    user_id: int
    internal: bool


def set_by_id(connection: Connection, account_id: int, set_id: int, *, for_update: bool = False) -> LockSetRow | None:
    return fetch_one(connection, lock_sets, LockSetRow, lock_sets.c.account_id == account_id,
                     lock_sets.c.id == set_id, for_update=for_update)


def sets_by_ids(connection: Connection, account_id: int, ids: Iterable[int]) -> dict[int, LockSetRow]:
    wanted = set(ids)
    if not wanted:
        return {}
    rows = fetch(connection, lock_sets, LockSetRow, lock_sets.c.account_id == account_id, lock_sets.c.id.in_(wanted))
    return {row.id: row for row in rows}


def create_set(connection: Connection, account_id: int, user_id: int, *, internal: bool, now: datetime,
               expires_at: datetime) -> int:
    return int(connection.execute(insert(lock_sets).values(
        account_id=account_id, user_id=user_id, internal=internal, created_at=now, expires_at=expires_at,
    ).returning(lock_sets.c.id)).scalar_one())


def update_set(connection: Connection, set_id: int, values: dict[str, Any]) -> None:
    connection.execute(update(lock_sets).where(lock_sets.c.id == set_id).values(**values))


def steal_sets(connection: Connection, set_ids: Iterable[int], by_user_id: int, now: datetime) -> None:
    wanted = set(set_ids)
    if wanted:
        connection.execute(update(lock_sets).where(lock_sets.c.id.in_(wanted))
                           .values(stolen_by_user_id=by_user_id, stolen_at=now))


def add_lock(connection: Connection, account_id: int, values: dict[str, Any]) -> None:
    connection.execute(insert(locks).values(account_id=account_id, **values))


def locks_of_set(connection: Connection, set_id: int) -> list[LockRow]:
    return fetch(connection, locks, LockRow, locks.c.lock_set_id == set_id, order_by=locks.c.id)


def held_in_graphs(connection: Connection, account_id: int, engagement_ids: Iterable[int],
                   now: datetime) -> list[HeldLock]:
    """The live locks in these engagements' graphs, oldest first."""
    wanted = set(engagement_ids)
    if not wanted:
        return []
    return _held(connection, now, locks.c.account_id == account_id, locks.c.engagement_id.in_(wanted))


def held_in_account(connection: Connection, account_id: int, now: datetime) -> list[HeldLock]:
    return _held(connection, now, locks.c.account_id == account_id)


def _held(connection: Connection, now: datetime, *where: Any) -> list[HeldLock]:
    query = (select(*columns_for(locks, LockRow), lock_sets.c.user_id, lock_sets.c.internal)
             .join(lock_sets, lock_sets.c.id == locks.c.lock_set_id)
             .where(*where, lock_sets.c.released_at.is_(None), lock_sets.c.stolen_at.is_(None),
                    lock_sets.c.expires_at > now)
             .order_by(locks.c.acquired_at, locks.c.id))
    found = []
    for row in connection.execute(query):
        values = row._asdict()
        user_id, internal = values.pop("user_id"), values.pop("internal")
        found.append(HeldLock(LockRow(**values), user_id, internal))
    return found

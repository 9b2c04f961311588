"""Lock sets and locks. Every query is confined to one account.

A lock is live while its set is neither released, nor stolen, nor expired; "now" is passed in so
that one request judges every lock at the same instant. The lock rows of a set that ended are
deleted (on release and theft at once, on expiry when a new lock is taken in the same graph):
only live locks are ever looked for, and dead ones would make every look-up grow with history.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, bindparam, select

from openpws.entities import HeldLock, ListedLock, LockRow, LockSetRow
from openpws.store import changes, statements
from openpws.store.rows import columns_for, fetch, fetch_one
from openpws.store.schema import lock_sets, locks, users


def set_by_id(connection: Connection, account_id: int, set_id: int, *, for_update: bool = False) -> LockSetRow | None:
    return fetch_one(connection, lock_sets, LockSetRow, lock_sets.c.account_id == account_id,
                     lock_sets.c.id == set_id, for_update=for_update)


def lock_sets_for_update(connection: Connection, account_id: int, set_ids: Iterable[int]) -> None:
    """Row-lock these sets, in id order so that two requests locking overlapping sets cannot
    deadlock (SQLite's write transactions are exclusive already)."""
    wanted = set(set_ids)
    if wanted and connection.dialect.name == "postgresql":
        statements.rows(connection, select(lock_sets.c.id).where(lock_sets.c.account_id == account_id,
                                                                 lock_sets.c.id.in_(wanted))
                        .order_by(lock_sets.c.id).with_for_update())


def create_set(connection: Connection, account_id: int, user_id: int, *, internal: bool, now: datetime,
               expires_at: datetime) -> int:
    return changes.insert_row(connection, lock_sets, {
        "account_id": account_id, "user_id": user_id, "internal": internal, "created_at": now,
        "expires_at": expires_at})


def renew_set(connection: Connection, set_id: int, expires_at: datetime, now: datetime) -> None:
    """The set lives until ``expires_at`` and its locks count as acquired ``now``: a renewal is a
    change of the lock state that a LocksToSteal read before it must not match."""
    changes.update_rows(connection, lock_sets, lock_sets.c.id == set_id, {"expires_at": expires_at})
    changes.update_rows(connection, locks, locks.c.lock_set_id == set_id, {"acquired_at": now})


def release_set(connection: Connection, set_id: int, now: datetime) -> None:
    changes.update_rows(connection, lock_sets, lock_sets.c.id == set_id, {"released_at": now})
    changes.delete_rows(connection, locks, locks.c.lock_set_id == set_id)


def steal_sets(connection: Connection, set_ids: Iterable[int], by_user_id: int, now: datetime) -> None:
    wanted = set(set_ids)
    if wanted:
        changes.update_rows(connection, lock_sets, lock_sets.c.id.in_(wanted),
                            {"stolen_by_user_id": by_user_id, "stolen_at": now})
        changes.delete_rows(connection, locks, locks.c.lock_set_id.in_(wanted))


def purge_expired(connection: Connection, account_id: int, engagement_ids: Iterable[int], now: datetime) -> None:
    """Delete the locks of expired sets in these engagements' graphs."""
    wanted = set(engagement_ids)
    if wanted:
        expired = select(lock_sets.c.id).where(lock_sets.c.account_id == account_id, lock_sets.c.expires_at <= now)
        changes.delete_rows(connection, locks, (locks.c.account_id == account_id) & locks.c.engagement_id.in_(wanted)
                            & locks.c.lock_set_id.in_(expired))


def add_lock(connection: Connection, account_id: int, values: dict[str, Any]) -> None:
    changes.insert_row(connection, locks, {"account_id": account_id, **values})


def locks_of_set(connection: Connection, set_id: int) -> list[LockRow]:
    return fetch(connection, locks, LockRow, locks.c.lock_set_id == set_id, order_by=locks.c.id)


# Built once: every write asks it.
_HELD = (select(*columns_for(locks, LockRow), lock_sets.c.user_id, lock_sets.c.internal)
         .join(lock_sets, lock_sets.c.id == locks.c.lock_set_id)
         .where(locks.c.account_id == bindparam("account"),
                locks.c.engagement_id.in_(bindparam("engagements", expanding=True)),
                lock_sets.c.released_at.is_(None), lock_sets.c.stolen_at.is_(None),
                lock_sets.c.expires_at > bindparam("now"))
         .order_by(locks.c.acquired_at, locks.c.id))


def held_in_graphs(connection: Connection, account_id: int, engagement_ids: Iterable[int],
                   now: datetime) -> list[HeldLock]:
    """The live locks in these engagements' graphs, oldest first."""
    wanted = sorted(set(engagement_ids))
    if not wanted:
        return []
    found = []
    for row in statements.rows(connection, _HELD, {"account": account_id, "engagements": wanted, "now": now}):
        values = row._asdict()
        user_id, internal = values.pop("user_id"), values.pop("internal")
        found.append(HeldLock(LockRow(**values), user_id, internal))
    return found


def listed_in_account(connection: Connection, account_id: int, now: datetime) -> list[ListedLock]:
    """Every live lock of the account with its holder's login, by set then lock."""
    query = (select(*columns_for(locks, LockRow), lock_sets.c.expires_at, lock_sets.c.internal, users.c.login,
                    users.c.display_name)
             .join(lock_sets, lock_sets.c.id == locks.c.lock_set_id)
             .join(users, users.c.id == lock_sets.c.user_id)
             .where(locks.c.account_id == account_id, *_live(now))
             .order_by(locks.c.lock_set_id, locks.c.id))
    found = []
    for row in statements.rows(connection, query):
        values = row._asdict()
        extra = {name: values.pop(name) for name in ("expires_at", "internal", "login", "display_name")}
        found.append(ListedLock(LockRow(**values), **extra))
    return found


def _live(now: datetime) -> tuple[Any, ...]:
    return (lock_sets.c.released_at.is_(None), lock_sets.c.stolen_at.is_(None), lock_sets.c.expires_at > now)

"""Snapshots of an account, and putting one back: restore, and reset (the restore of the snapshot
taken as the account was created). What a snapshot holds, and how a restore keeps Uids, row
versions and ids, is ``store.snapshots``'s to say.

Taking a snapshot reads the account in one read transaction (one moment of the database, while
its users go on writing) and stores the image in a short write transaction of its own. A restore
reads and unpacks the image first, so that the write transaction, which on SQLite holds back every
other writer, only deletes and inserts rows.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.exc import IntegrityError

from openpws.clock import utc
from openpws.services.context import Environment
from openpws.services.sandbox import Conflict, Invalid, NotFound, live_account
from openpws.store import sandbox as sandbox_store
from openpws.store import snapshots as store
from openpws.store.sandbox import AccountState
from openpws.store.snapshots import SnapshotRow

NAME_LENGTH = 100
# A restore that meets rows held by requests under way gives way and tries again: for this long
# at most, then the caller is told the account is busy.
BUSY_SECONDS = 10.0
_BUSY_PAUSE_SECONDS = 0.02


@dataclass(frozen=True)
class SnapshotView:
    id: int
    account: str
    name: str | None
    creation: bool  # taken as the account was created: what a reset restores
    taken_at: datetime  # aware UTC, on the account's clock
    rows: int
    counts: Mapping[str, int]  # the account's counts when it was taken
    size: int  # bytes the compressed image takes


def _view(state: AccountState, row: SnapshotRow) -> SnapshotView:
    return SnapshotView(row.id, state.code, row.name, row.creation, utc(row.taken_at), row.rows, row.counts, row.size)


def _not_found(state: AccountState, snapshot_id: int) -> NotFound:
    return NotFound(f"account {state.code!r} has no snapshot {snapshot_id}", "id")


def take(environment: Environment, code: str, real: datetime, *, name: str | None = None,
         creation: bool = False) -> SnapshotView:
    """Snapshot the account ``code`` now (real time ``real``), named ``name`` if given;
    ``creation`` marks the snapshot a reset goes back to."""
    if name is not None and not 1 <= len(name) <= NAME_LENGTH:
        raise Invalid(f"a snapshot's name has 1 to {NAME_LENGTH} characters", "name")
    with environment.store.read() as tx:
        state = live_account(tx, code, real)
        image = store.capture(tx, state.id)
        counts = sandbox_store.counts(tx, [state], real)[state.id]
    data = store.pack(image)
    taken_at = utc(state.clock.at(real)).replace(tzinfo=None)
    try:
        with environment.store.write() as tx:
            if live_account(tx, code, real).id != state.id:  # deleted, and its code taken again, meanwhile
                raise NotFound(f"there is no account {code!r}", "code")
            snapshot_id = store.save(tx, state.id, name=name, creation=creation, taken_at=taken_at, rows=image.rows,
                                     counts=counts, image=data)
    except IntegrityError:
        # PostgreSQL: the account was deleted between the check and the insert.
        raise NotFound(f"there is no account {code!r}", "code") from None
    return SnapshotView(snapshot_id, state.code, name, creation, utc(taken_at), image.rows, counts, len(data))


def snapshots(environment: Environment, code: str, real: datetime, limit: int) -> list[SnapshotView]:
    """The account's snapshots, newest first, at most ``limit``."""
    with environment.store.read() as tx:
        state = live_account(tx, code, real)
        return [_view(state, row) for row in store.listed(tx, state.id, limit)]


def restore(environment: Environment, code: str, snapshot_id: int, real: datetime) -> SnapshotView:
    """Put the account back exactly as its snapshot ``snapshot_id`` holds it."""
    with environment.store.read() as tx:
        state = live_account(tx, code, real)
        row = store.find(tx, state.id, snapshot_id)
        if row is None:
            raise _not_found(state, snapshot_id)
        data = store.image_of(tx, row.id)
    return _restore(environment, state, row, data, real)


def reset(environment: Environment, code: str, real: datetime) -> SnapshotView:
    """Put the account back as it was when it was created (its creation snapshot)."""
    with environment.store.read() as tx:
        state = live_account(tx, code, real)
        row = store.of_creation(tx, state.id)
        if row is None:
            raise NotFound(f"account {state.code!r} has no snapshot of its creation (it was created before "
                           "openpws kept them, or not by the control plane)", "code")
        data = store.image_of(tx, row.id)
    return _restore(environment, state, row, data, real)


def _restore(environment: Environment, state: AccountState, row: SnapshotRow, data: bytes,
             real: datetime) -> SnapshotView:
    deadline = time.monotonic() + BUSY_SECONDS
    pause = _BUSY_PAUSE_SECONDS
    while True:
        try:
            image = store.unpack(data)  # each attempt spends its own
            with environment.store.write() as tx:
                if live_account(tx, state.code, real).id != state.id:
                    raise NotFound(f"there is no account {state.code!r}", "code")
                if store.find(tx, state.id, row.id) is None:  # the account was deleted and made again
                    raise _not_found(state, row.id)
                store.restore(tx, state.id, image)
            return _view(state, row)
        except store.Unrestorable as error:
            raise Conflict(f"snapshot {row.id} cannot be restored: {error}", "id") from None
        except store.Busy:
            if time.monotonic() + pause > deadline:
                raise Conflict(f"account {state.code!r} is busy: requests under way held its rows for "
                               f"{BUSY_SECONDS:g} s; try the restore again", "code") from None
            time.sleep(pause)
            pause = min(pause * 2, 0.5)

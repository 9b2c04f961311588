"""The lock services (pws-core §6.2): PwsAcquireProjectorLocks, PwsCheckProjectorLocks,
PwsRenewProjectorLocks, PwsReleaseProjectorLocks, and the administration of an account's locks.

What a lock reaches and when one blocks is ``openpws.services.locks``; this module makes, checks
and ends lock sets with it. Renewing a set (or extending it with more locks) counts as acquiring
its locks again, so a LocksToSteal read before the renewal no longer matches.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection

from openpws import errors
from openpws.entities import ListedLock
from openpws.services import refs
from openpws.services.access import require
from openpws.services.checks import Stamp, check_timestamps
from openpws.services.context import Context
from openpws.services.graph_write import GraphWrite
from openpws.services.locks import (
    ENGAGEMENT,
    PROJECT,
    ROLE,
    Assertion,
    EntitySummary,
    Scope,
    Taker,
    guard_locks,
    judge,
    lock_time,
    others_in,
    own_set,
    people_of,
    scope_of_engagement,
    scope_of_project,
    scope_of_role,
    summarise,
    taker_of,
)
from openpws.services.permissions import Permission
from openpws.services.sessions import Caller
from openpws.store import engagements as engagement_store
from openpws.store import locks as store
from openpws.store import projects as project_store
from openpws.store import roles as role_store

MODELLED_TYPES = (ENGAGEMENT, PROJECT, ROLE)
# The other documented lock types: valid in Projector, refused with 10126 until modelled here.
UNMODELLED_TYPES = {"C": "contract line items", "RT": "rate types and tasks", "CP": "cost plans",
                    "CB": "cost baselines", "I": "invoices"}
NOUNS = {ENGAGEMENT: "engagement", PROJECT: "project", ROLE: "project role"}
MAX_DURATION_SECONDS = 86400
MAX_LOCKS = 100


@dataclass(frozen=True)
class LockTarget:
    """An entity a lock names, resolved."""

    entity_type: str
    entity_id: int
    entity_uid: int
    entity_code: str | None
    scope: Scope  # what a lock on it reaches
    version: int | None  # the entity's current row version (EntityTimestamp); None once it is gone
    noun: str  # what errors call it: engagement, project, project role

    @property
    def label(self) -> str:
        return f"{self.noun} {self.entity_code or self.entity_uid}"


@dataclass(frozen=True)
class LockRequest:
    """A PwsProjectorLockRequest as sent: its entity's LockType and keys, its EntityTimestamp."""

    lock_type: str | None
    key: refs.Key
    timestamp: Stamp | None


@dataclass(frozen=True)
class AcquireLocks:
    seconds: int
    requests: tuple[LockRequest, ...]
    assertion: Assertion


@dataclass(frozen=True)
class CheckLocks:
    requests: tuple[LockRequest, ...]
    assertion: Assertion


@dataclass(frozen=True)
class RenewLocks:
    set_id: int
    seconds: int


@dataclass(frozen=True)
class Acquired:
    set_id: int
    states: list[LockState]


@dataclass(frozen=True)
class Released:
    taker: Taker | None
    warnings: tuple[errors.Message, ...]


@dataclass(frozen=True)
class LockState:
    """One entity of a lock service's answer (PwsProjectorLock)."""

    target: LockTarget
    stolen: tuple[EntitySummary, ...] = ()


def _lock_type(request: LockRequest) -> str:
    sent = (request.lock_type or "").strip()
    if sent.upper() in MODELLED_TYPES:
        return sent.upper()
    detail = f"LockType={sent}" if sent else "LockType is missing"
    if sent.upper() in UNMODELLED_TYPES:
        detail += f": locks on {UNMODELLED_TYPES[sent.upper()]} are not modelled by this server"
    raise errors.fail(errors.INVALID_ENUMERATION_VALUE, detail, field="LockType", valid=", ".join(MODELLED_TYPES))


def _not_found(kind: refs.RefKind[Any], key: refs.Key) -> errors.PwsError:
    """The lock services' documented answer for an entity that is not there: 50024."""
    return errors.fail(errors.ENTITY_NOT_FOUND, kind.describe(key), entity=kind.ref_type)


def _resolve(tx: Connection, caller: Caller, requests: Sequence[LockRequest]) -> list[LockTarget]:
    """The entity each PwsProjectorLockEntity names (50024 for one that names none), with a few
    queries however many there are."""
    types = [_lock_type(request) for request in requests]
    keys = [request.key for request in requests]
    kinds: dict[str, refs.RefKind[Any]] = {ENGAGEMENT: refs.ENGAGEMENT, PROJECT: refs.PROJECT, ROLE: refs.ROLE}
    rows: dict[int, Any] = {}
    for lock_type, kind in kinds.items():
        wanted = [i for i, t in enumerate(types) if t == lock_type]
        for i, row in zip(wanted, kind.find_all(tx, caller, [keys[i] for i in wanted]), strict=True):
            if row is None:
                raise _not_found(kind, keys[i])
            rows[i] = row
    parents = project_store.by_ids(tx, caller.account_id, {r.project_id for i, r in rows.items() if types[i] == ROLE})
    targets = []
    for i, lock_type in enumerate(types):
        row = rows[i]
        if lock_type == ENGAGEMENT:
            targets.append(LockTarget(ENGAGEMENT, row.id, row.uid, row.code, scope_of_engagement(row.id, subtree=True),
                                      row.rowversion, NOUNS[ENGAGEMENT]))
        elif lock_type == PROJECT:
            targets.append(LockTarget(PROJECT, row.id, row.uid, row.code,
                                      scope_of_project(row.engagement_id, row.id, subtree=True), row.rowversion,
                                      NOUNS[PROJECT]))
        else:
            parent = parents.get(row.project_id)
            if parent is None:  # a delete of its project completed between the two reads
                raise _not_found(refs.ROLE, keys[i])
            targets.append(LockTarget(ROLE, row.id, row.uid, row.external_id,
                                      scope_of_role(parent.engagement_id, parent.id, row.id), row.rowversion,
                                      NOUNS[ROLE]))
    return targets


def _check_count(requests: Sequence[LockRequest], field: str = "Locks") -> None:
    if not requests:
        raise errors.fail(errors.FIELD_NOT_SPECIFIED, "no Locks were sent", field=field)
    if len(requests) > MAX_LOCKS:
        raise errors.fail(errors.VALUE_OUT_OF_RANGE, f"{len(requests)} locks were sent", field="the number of Locks",
                          minimum=1, maximum=MAX_LOCKS)


def _duration(seconds: int) -> timedelta:
    if not 1 <= seconds <= MAX_DURATION_SECONDS:
        raise errors.fail(errors.VALUE_OUT_OF_RANGE, f"LockDurationSeconds={seconds}", field="LockDurationSeconds",
                          minimum=1, maximum=MAX_DURATION_SECONDS)
    return timedelta(seconds=seconds)


def acquire(ctx: Context, seconds: int, requests: Sequence[LockRequest], assertion: Assertion, *,
            internal: bool = False, by_admin: bool = False) -> tuple[int, list[LockState]]:
    """PwsAcquireProjectorLocks: lock every entity requested, in a new set or (with a
    ProjectorLockSetId) the caller's existing one, whose locks then count as acquired now and
    which then expires ``seconds`` from now. Nothing is locked unless everything can be.

    Locking is preparing to edit, so it needs projects-update; ``by_admin`` (the CLI taking a lock
    for a user, e.g. to show a sandbox what a colleague's edit looks like) skips that check."""
    tx, caller, now = ctx.tx, ctx.user, ctx.now
    if not by_admin:
        require(caller, Permission.PROJECTS_UPDATE)
    duration = _duration(seconds)
    _check_count(requests)
    scopes = [t.scope for t in _resolve(tx, caller, requests)]
    gone = errors.fail(errors.ENTITY_NOT_FOUND, "deleted by a request that completed meanwhile",
                       entity="PwsProjectorLockEntity")
    GraphWrite.open(ctx, [s.engagement_id for s in scopes], gone)
    taken = guard_locks(tx, caller, scopes, assertion, now)
    # Resolved again under the engagement locks: the versions checked are the ones being locked.
    targets = _resolve(tx, caller, requests)
    for request, target in zip(requests, targets, strict=True):
        assert target.version is not None
        check_timestamps(target.noun, target.label, target.version, request.timestamp)
    moment = lock_time(now)
    store.purge_expired(tx, caller.account_id, {t.scope.engagement_id for t in targets}, moment)
    if assertion.lock_set_id is None:
        set_id = store.create_set(tx, caller.account_id, caller.user_id, internal=internal, now=moment,
                                  expires_at=moment + duration)
        held: set[tuple[str, int]] = set()
    else:
        set_id = assertion.lock_set_id
        store.renew_set(tx, set_id, moment + duration, moment)
        held = {(lock.entity_type, lock.entity_id) for lock in store.locks_of_set(tx, set_id)}
    for target in targets:
        if (target.entity_type, target.entity_id) in held:
            continue
        held.add((target.entity_type, target.entity_id))
        store.add_lock(tx, caller.account_id, {
            "lock_set_id": set_id, "entity_type": target.entity_type, "entity_id": target.entity_id,
            "entity_uid": target.entity_uid, "entity_code": target.entity_code,
            "engagement_id": target.scope.engagement_id, "project_id": target.scope.project_id,
            "acquired_at": moment})
    people = people_of(tx, caller, taken)
    return set_id, [LockState(t, summarise([h for h in taken if t.scope.blocks(h.lock)], people)) for t in targets]


def _set_states(tx: Connection, caller: Caller, set_id: int) -> list[LockState]:
    """The locks of a set as they stand, with their entities' current codes and versions."""
    lock_rows = store.locks_of_set(tx, set_id)
    ids = {t: {lock.entity_id for lock in lock_rows if lock.entity_type == t} for t in MODELLED_TYPES}
    current: dict[tuple[str, int], Any] = {}
    for lock_type, rows in ((ENGAGEMENT, engagement_store.by_ids(tx, caller.account_id, ids[ENGAGEMENT])),
                            (PROJECT, project_store.by_ids(tx, caller.account_id, ids[PROJECT])),
                            (ROLE, role_store.by_ids(tx, caller.account_id, ids[ROLE]))):
        current.update(((lock_type, row_id), row) for row_id, row in rows.items())
    states = []
    for lock in lock_rows:
        row = current.get((lock.entity_type, lock.entity_id))
        code = (row.external_id if lock.entity_type == ROLE else row.code) if row is not None else lock.entity_code
        scope = Scope(lock.engagement_id, lock.project_id, lock.entity_id if lock.entity_type == ROLE else None)
        states.append(LockState(LockTarget(lock.entity_type, lock.entity_id, lock.entity_uid, code, scope,
                                           row.rowversion if row is not None else None, NOUNS[lock.entity_type])))
    return states


def check(tx: Connection, caller: Caller, requests: Sequence[LockRequest], assertion: Assertion,
          now: datetime) -> list[LockState]:
    """PwsCheckProjectorLocks: with a ProjectorLockSetId, that the caller's set is still valid
    (and, without Locks, its locks); with Locks, that nobody else holds locks that would keep the
    caller from locking them (a LockConflict names the holders; LocksToSteal that matches them
    exactly counts as clear, since a steal would succeed)."""
    require(caller, Permission.PROJECTS_VIEW)
    if assertion.lock_set_id is not None:
        own_set(tx, caller, assertion.lock_set_id, now)
        if not requests:
            return _set_states(tx, caller, assertion.lock_set_id)
    _check_count(requests, "Locks or ProjectorLockSetId")
    targets = _resolve(tx, caller, requests)
    held = others_in(tx, caller, [t.scope for t in targets], now)
    judge(held, people_of(tx, caller, held), Assertion(locks_to_steal=assertion.locks_to_steal))
    return [LockState(t) for t in targets]


def renew(tx: Connection, caller: Caller, set_id: int, seconds: int, now: datetime) -> None:
    """PwsRenewProjectorLocks: the set now expires ``seconds`` from now (and its locks count as
    acquired now). 50475 for an unknown or expired set, 50485 for a released one, a LockConflict
    naming the taker for a stolen one."""
    duration = _duration(seconds)
    lock_set = own_set(tx, caller, set_id, now, for_update=True, allow_released=True)
    if lock_set.released_at is not None:
        raise errors.fail(errors.CANNOT_RENEW_LOCK_RELEASED, f"lock set {set_id}")
    store.renew_set(tx, set_id, lock_time(now) + duration, lock_time(now))


def release(tx: Connection, caller: Caller, set_id: int, now: datetime) -> tuple[Taker | None, list[errors.Message]]:
    """PwsReleaseProjectorLocks: the set's locks end now. A set released before gives warning
    50476; a stolen set is reported with who took it (StolenLock)."""
    lock_set = store.set_by_id(tx, caller.account_id, set_id, for_update=True)
    if lock_set is None or lock_set.user_id != caller.user_id:
        raise errors.fail(errors.SPECIFIED_LOCK_NOT_FOUND, f"ProjectorLockSetId={set_id}")
    if lock_set.released_at is not None:
        return None, [errors.message(errors.LOCK_ALREADY_RELEASED, f"lock set {set_id}", lock_set_id=set_id)]
    store.release_set(tx, set_id, lock_time(now))
    return (taker_of(tx, caller, lock_set) if lock_set.stolen_at is not None else None), []


def acquire_locks(ctx: Context, request: AcquireLocks) -> Acquired:
    """PwsAcquireProjectorLocks."""
    set_id, states = acquire(ctx, request.seconds, request.requests, request.assertion)
    return Acquired(set_id, states)


def check_locks(ctx: Context, request: CheckLocks) -> list[LockState]:
    """PwsCheckProjectorLocks."""
    return check(ctx.tx, ctx.user, request.requests, request.assertion, ctx.now)


def renew_locks(ctx: Context, request: RenewLocks) -> None:
    """PwsRenewProjectorLocks."""
    renew(ctx.tx, ctx.user, request.set_id, request.seconds, ctx.now)


def release_locks(ctx: Context, set_id: int) -> Released:
    """PwsReleaseProjectorLocks."""
    taker, warnings = release(ctx.tx, ctx.user, set_id, ctx.now)
    return Released(taker, tuple(warnings))


# ---------------------------------------------------------------------------------------------
# Administration (the CLI): any set of an account, whoever holds it


def list_locks(tx: Connection, account_id: int, now: datetime) -> list[ListedLock]:
    """Every live lock of the account, by lock set."""
    return store.listed_in_account(tx, account_id, lock_time(now))


def end_set(tx: Connection, account_id: int, set_id: int, now: datetime) -> bool:
    """Release the account's set ``set_id`` whoever holds it: True when it was live until now,
    False when it had already ended (released, stolen or expired); 50475 when there is none."""
    lock_set = store.set_by_id(tx, account_id, set_id, for_update=True)
    if lock_set is None:
        raise errors.fail(errors.SPECIFIED_LOCK_NOT_FOUND, f"ProjectorLockSetId={set_id}")
    live = lock_set.released_at is None and lock_set.stolen_at is None and lock_set.expires_at > lock_time(now)
    if lock_set.released_at is None:
        store.release_set(tx, set_id, lock_time(now))
    return live

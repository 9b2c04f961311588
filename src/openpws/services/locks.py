"""Pessimistic locks (pws-core §6, SPEC "Locks"): lock sets, and the check every write makes.

A lock set belongs to one user and holds locks on engagements (E), projects (P) and roles (R);
it lives until it expires, is released, or is stolen. A write (or a new lock) reaches a scope in
one engagement graph: the entity itself and the engagement and project above it (a cascade
delete: everything below too). Another user's live lock in that scope blocks it with a LockConflict
(a SOAP fault carrying PwsFault), unless the caller steals: LocksToSteal must describe the
blocking locks exactly as they are now (the PwsFault's LockHolders, sent back unchanged), while
the deprecated StealLockFlag takes whatever is there. Locks of internal sets are never stolen.
Stealing any lock of a set ends the whole set; its owner learns who took it (LockTaker) the next
time the set is used. The caller's own locks never block it. Writers lock the engagement rows
first, so checking and stealing cannot interleave with another writer of the same graph.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection

from openpws import errors
from openpws.services import refs
from openpws.services.checks import check_timestamps
from openpws.services.sessions import Caller
from openpws.store import accounts as account_store
from openpws.store import engagements as engagement_store
from openpws.store import locks as store
from openpws.store import projects as project_store
from openpws.store.accounts import PersonRow
from openpws.store.locks import HeldLock, LockRow, LockSetRow

ENGAGEMENT, PROJECT, ROLE = "E", "P", "R"
MODELLED_TYPES = (ENGAGEMENT, PROJECT, ROLE)
MAX_DURATION_SECONDS = 86400
MAX_LOCKS = 100


@dataclass(frozen=True)
class Scope:
    """What a write or a lock reaches in one engagement graph."""

    engagement_id: int
    project_id: int | None = None
    role_id: int | None = None
    subtree: bool = False  # also everything below (a cascade delete)

    def blocks(self, lock: LockRow) -> bool:
        if lock.engagement_id != self.engagement_id:
            return False
        if lock.entity_type == ENGAGEMENT:
            return True
        if self.subtree and self.role_id is None:
            return self.project_id is None or lock.project_id == self.project_id
        if lock.entity_type == PROJECT:
            return lock.entity_id == self.project_id
        return lock.entity_type == ROLE and lock.entity_id == self.role_id


@dataclass(frozen=True)
class HolderItem:
    """One user's locks on one entity (PwsEntityLockSummaryItem)."""

    holder: PersonRow
    count: int
    most_recent: datetime


@dataclass(frozen=True)
class EntitySummary:
    """The locks on one entity (PwsEntityLockSummary)."""

    entity_type: str
    entity_uid: int
    entity_code: str | None
    items: tuple[HolderItem, ...]

    def fingerprint(self) -> tuple[str, int, frozenset[tuple[int, int, datetime]]]:
        return (self.entity_type, self.entity_uid,
                frozenset((i.holder.uid, i.count, _ms(i.most_recent)) for i in self.items))


@dataclass(frozen=True)
class SentItem:
    holder_uid: int | None
    count: int | None
    most_recent: datetime | None


@dataclass(frozen=True)
class SentSummary:
    """A PwsEntityLockSummary as a caller sent it back in LocksToSteal."""

    entity_type: str | None
    entity_uid: int | None
    items: tuple[SentItem, ...]

    def fingerprint(self) -> tuple[str | None, int | None, frozenset[tuple[int | None, int | None, datetime | None]]]:
        return (self.entity_type, self.entity_uid,
                frozenset((i.holder_uid, i.count, _ms(i.most_recent) if i.most_recent else None) for i in self.items))


@dataclass(frozen=True)
class Assertion:
    """What a request says about locks: the lock set it holds, and what it means to steal."""

    lock_set_id: int | None = None
    locks_to_steal: tuple[SentSummary, ...] | None = None
    steal_flag: bool = False


NO_ASSERTION = Assertion()


@dataclass(frozen=True)
class Taker:
    """Who stole a lock set (PwsStolenLock)."""

    user: PersonRow
    lock_set_id: int


class LockConflict(Exception):
    """Locks prevent the request (or the caller's own set was stolen): answered as a PwsFault."""

    def __init__(self, message: errors.Message, *, holders: tuple[EntitySummary, ...] = (),
                 allow_steal: bool = True, taker: Taker | None = None) -> None:
        super().__init__(message.additional_text)
        self.message = message
        self.holders = holders
        self.allow_steal = allow_steal
        self.taker = taker

    @property
    def holder(self) -> PersonRow | None:
        return self.holders[0].items[0].holder if self.holders else None


@dataclass(frozen=True)
class Stolen:
    """The locks a request stole (empty when it stole none)."""

    summaries: tuple[EntitySummary, ...] = ()

    @property
    def from_user(self) -> PersonRow | None:
        return self.summaries[0].items[0].holder if self.summaries else None


def _ms(moment: datetime) -> datetime:
    """Lock times travel with millisecond precision; compare them so."""
    return moment.replace(tzinfo=None, microsecond=moment.microsecond // 1000 * 1000)


def _naive(now: datetime) -> datetime:
    return _ms(now)


def scope_of_engagement(engagement_id: int, *, subtree: bool = False) -> Scope:
    return Scope(engagement_id, subtree=subtree)


def scope_of_project(engagement_id: int, project_id: int, *, subtree: bool = False) -> Scope:
    return Scope(engagement_id, project_id, subtree=subtree)


def scope_of_role(engagement_id: int, project_id: int, role_id: int) -> Scope:
    return Scope(engagement_id, project_id, role_id)


def _summaries(tx: Connection, caller: Caller, held: Sequence[HeldLock]) -> tuple[EntitySummary, ...]:
    people = account_store.people_by_ids(tx, caller.account_id, {h.user_id for h in held})
    by_entity: dict[tuple[str, int], list[HeldLock]] = {}
    for lock in held:
        by_entity.setdefault((lock.lock.entity_type, lock.lock.entity_id), []).append(lock)
    summaries = []
    for locks in by_entity.values():
        by_user: dict[int, list[HeldLock]] = {}
        for lock in locks:
            by_user.setdefault(lock.user_id, []).append(lock)
        items = tuple(HolderItem(people[user_id], len(mine), max(m.lock.acquired_at for m in mine))
                      for user_id, mine in by_user.items())
        first = locks[0].lock
        summaries.append(EntitySummary(first.entity_type, first.entity_uid, first.entity_code, items))
    return tuple(summaries)


def _conflict(summaries: tuple[EntitySummary, ...], allow: bool, detail: str) -> LockConflict:
    on_engagement = next((s for s in summaries if s.entity_type == ENGAGEMENT), None)
    if on_engagement is not None:
        message = errors.message(errors.ENGAGEMENT_IS_LOCKED, detail,
                                 ownerDisplayName=on_engagement.items[0].holder.display_name)
    else:
        message = errors.message(errors.ENTITY_ALREADY_LOCKED, detail)
    return LockConflict(message, holders=summaries, allow_steal=allow)


def _taker(tx: Connection, caller: Caller, lock_set: LockSetRow) -> Taker:
    assert lock_set.stolen_by_user_id is not None
    people = account_store.people_by_ids(tx, caller.account_id, {lock_set.stolen_by_user_id})
    return Taker(people[lock_set.stolen_by_user_id], lock_set.id)


def stolen_conflict(tx: Connection, caller: Caller, lock_set: LockSetRow) -> LockConflict:
    taker = _taker(tx, caller, lock_set)
    message = errors.message(errors.ENTITY_ALREADY_LOCKED,
                             f"lock set {lock_set.id} was stolen by {taker.user.display_name}")
    return LockConflict(message, taker=taker)


def own_set(tx: Connection, caller: Caller, set_id: int, now: datetime, *, for_update: bool = False,
            allow_released: bool = False) -> LockSetRow:
    """The caller's lock set ``set_id``: 50475 when it is unknown, another user's, expired or
    (unless allowed) released; a LockConflict naming the taker when it was stolen."""
    lock_set = store.set_by_id(tx, caller.account_id, set_id, for_update=for_update)
    if lock_set is None or lock_set.user_id != caller.user_id:
        raise errors.fail(errors.SPECIFIED_LOCK_NOT_FOUND, f"ProjectorLockSetId={set_id}")
    if lock_set.stolen_at is not None:
        raise stolen_conflict(tx, caller, lock_set)
    if lock_set.released_at is not None and not allow_released:
        raise errors.fail(errors.SPECIFIED_LOCK_NOT_FOUND, f"lock set {set_id} was released")
    if lock_set.released_at is None and lock_set.expires_at <= _naive(now):
        raise errors.fail(errors.SPECIFIED_LOCK_NOT_FOUND, f"lock set {set_id} expired")
    return lock_set


def blocking(tx: Connection, caller: Caller, scopes: Sequence[Scope], now: datetime) -> list[HeldLock]:
    """Other users' live locks in any of ``scopes``, after locking their engagements' rows."""
    engagement_ids = sorted({s.engagement_id for s in scopes})
    for engagement_id in engagement_ids:
        engagement_store.lock(tx, caller.account_id, engagement_id)
    held = store.held_in_graphs(tx, caller.account_id, engagement_ids, _naive(now))
    return [h for h in held if h.user_id != caller.user_id and any(s.blocks(h.lock) for s in scopes)]


def _matches(sent: Iterable[SentSummary], current: Iterable[EntitySummary]) -> bool:
    return {s.fingerprint() for s in sent} == {c.fingerprint() for c in current}


def guard(tx: Connection, caller: Caller, scopes: Sequence[Scope], assertion: Assertion, now: datetime) -> Stolen:
    """The check every write makes before it changes anything in ``scopes``: raise a LockConflict,
    or steal as the request asks and report what was stolen."""
    if assertion.lock_set_id is not None:
        own_set(tx, caller, assertion.lock_set_id, now)
    held = blocking(tx, caller, scopes, now)
    if not held:
        return Stolen()
    summaries = _summaries(tx, caller, held)
    allow = not any(h.internal for h in held)
    codes = ", ".join(f"{s.entity_type} {s.entity_code}" for s in summaries)
    if not (assertion.steal_flag or assertion.locks_to_steal is not None) or not allow:
        raise _conflict(summaries, allow, f"locked: {codes}")
    if assertion.locks_to_steal is not None and not _matches(assertion.locks_to_steal, summaries):
        raise _conflict(summaries, allow, f"LocksToSteal no longer matches the locks held: {codes}")
    store.steal_sets(tx, {h.lock.lock_set_id for h in held}, caller.user_id, _naive(now))
    return Stolen(summaries)


# ---------------------------------------------------------------------------------------------
# The lock services


@dataclass(frozen=True)
class LockTarget:
    """An entity a lock request names, resolved."""

    entity_type: str
    entity_id: int
    entity_uid: int
    entity_code: str | None
    scope: Scope
    version: int  # the entity's current row version (EntityTimestamp)


@dataclass(frozen=True)
class LockRequest:
    """A PwsProjectorLockRequest as sent."""

    entity: Mapping[str, Any]
    timestamp: str | None


@dataclass(frozen=True)
class LockState:
    """One entity of a lock service's answer (PwsProjectorLock)."""

    target: LockTarget
    stolen: tuple[EntitySummary, ...] = ()


def _target(tx: Connection, caller: Caller, entity: Mapping[str, Any]) -> LockTarget:
    lock_type = (entity.get("LockType") or "").strip().upper()
    if lock_type not in MODELLED_TYPES:
        raise errors.fail(errors.INVALID_ENUMERATION_VALUE, f"LockType={entity.get('LockType')}",
                          field="LockType", valid=", ".join(MODELLED_TYPES))
    key = refs.Key((entity.get("EntityCode") or "").strip() or None, entity.get("EntityUid"))
    if lock_type == ENGAGEMENT:
        engagement = refs.ENGAGEMENT.find(tx, caller, key)
        if engagement is None:
            raise _not_found(refs.ENGAGEMENT, key)
        return LockTarget(ENGAGEMENT, engagement.id, engagement.uid, engagement.code,
                          scope_of_engagement(engagement.id), engagement.rowversion)
    if lock_type == PROJECT:
        project = refs.PROJECT.find(tx, caller, key)
        if project is None:
            raise _not_found(refs.PROJECT, key)
        return LockTarget(PROJECT, project.id, project.uid, project.code,
                          scope_of_project(project.engagement_id, project.id), project.rowversion)
    row = refs.ROLE.find(tx, caller, key)
    if row is None:
        raise _not_found(refs.ROLE, key)
    project = project_store.by_ids(tx, caller.account_id, {row.project_id})[row.project_id]
    return LockTarget(ROLE, row.id, row.uid, row.external_id,
                      scope_of_role(project.engagement_id, project.id, row.id), row.rowversion)


def _not_found(kind: refs.RefKind[Any], key: refs.Key) -> errors.PwsError:
    """The lock services' documented answer for an entity that is not there: 50024."""
    return errors.fail(errors.ENTITY_NOT_FOUND, kind.describe(key), entity=kind.ref_type)


def _targets(tx: Connection, caller: Caller, requests: Sequence[LockRequest]) -> list[LockTarget]:
    if not requests:
        raise errors.fail(errors.FIELD_NOT_SPECIFIED, "Locks", field="Locks")
    if len(requests) > MAX_LOCKS:
        raise errors.fail(errors.VALUE_OUT_OF_RANGE, f"{len(requests)} locks were sent", field="the number of Locks",
                          minimum=1, maximum=MAX_LOCKS)
    targets = [_target(tx, caller, request.entity) for request in requests]
    for request, target in zip(requests, targets, strict=True):
        check_timestamps("entity", f"{target.entity_type} {target.entity_code}", target.version, request.timestamp)
    return targets


def _duration(seconds: int) -> timedelta:
    if not 1 <= seconds <= MAX_DURATION_SECONDS:
        raise errors.fail(errors.VALUE_OUT_OF_RANGE, f"LockDurationSeconds={seconds}", field="LockDurationSeconds",
                          minimum=1, maximum=MAX_DURATION_SECONDS)
    return timedelta(seconds=seconds)


def acquire(tx: Connection, caller: Caller, seconds: int, requests: Sequence[LockRequest], assertion: Assertion,
            now: datetime, *, internal: bool = False) -> tuple[int, list[LockState]]:
    """PwsAcquireProjectorLocks: lock every entity requested, in a new set or (with a
    ProjectorLockSetId) the caller's existing one, which then expires ``seconds`` from now."""
    duration = _duration(seconds)
    targets = _targets(tx, caller, requests)
    existing = own_set(tx, caller, assertion.lock_set_id, now, for_update=True) if assertion.lock_set_id else None
    stolen = guard(tx, caller, [t.scope for t in targets], Assertion(None, assertion.locks_to_steal,
                                                                     assertion.steal_flag), now)
    moment = _naive(now)
    if existing is None:
        set_id = store.create_set(tx, caller.account_id, caller.user_id, internal=internal, now=moment,
                                  expires_at=moment + duration)
        held: set[tuple[str, int]] = set()
    else:
        set_id = existing.id
        store.update_set(tx, set_id, {"expires_at": moment + duration})
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
    return set_id, [LockState(t, tuple(s for s in stolen.summaries if _in_scope(s, t))) for t in targets]


def _in_scope(summary: EntitySummary, target: LockTarget) -> bool:
    """Whether a stolen summary was stolen for ``target`` (it was on the target or above it)."""
    return (summary.entity_type, summary.entity_uid) == (target.entity_type, target.entity_uid) or (
        summary.entity_type == ENGAGEMENT and target.entity_type != ENGAGEMENT) or (
        summary.entity_type == PROJECT and target.entity_type == ROLE)


def check(tx: Connection, caller: Caller, requests: Sequence[LockRequest], assertion: Assertion,
          now: datetime) -> list[LockState]:
    """PwsCheckProjectorLocks: with a ProjectorLockSetId, that the caller's set is still valid
    (and, without Locks, its locks); with Locks, that nobody else holds locks on them (a
    LockConflict names the holders; LocksToSteal that matches them exactly counts as clear)."""
    if assertion.lock_set_id is not None:
        own_set(tx, caller, assertion.lock_set_id, now)
        if not requests:
            targets = [_target(tx, caller, {"EntityUid": lock.entity_uid, "LockType": lock.entity_type})
                       for lock in store.locks_of_set(tx, assertion.lock_set_id)]
            return [LockState(t) for t in targets]
    targets = _targets(tx, caller, requests)
    held = blocking(tx, caller, [t.scope for t in targets], now)
    if held:
        summaries = _summaries(tx, caller, held)
        allow = not any(h.internal for h in held)
        if assertion.locks_to_steal is None or not allow or not _matches(assertion.locks_to_steal, summaries):
            raise _conflict(summaries, allow, "locked: " + ", ".join(f"{s.entity_type} {s.entity_code}"
                                                                     for s in summaries))
    return [LockState(t) for t in targets]


def renew(tx: Connection, caller: Caller, set_id: int, seconds: int, now: datetime) -> None:
    """PwsRenewProjectorLocks: the set now expires ``seconds`` from now. 50475 for an unknown or
    expired set, 50485 for a released one, a LockConflict naming the taker for a stolen one."""
    duration = _duration(seconds)
    lock_set = own_set(tx, caller, set_id, now, for_update=True, allow_released=True)
    if lock_set.released_at is not None:
        raise errors.fail(errors.CANNOT_RENEW_LOCK_RELEASED, f"lock set {set_id}")
    store.update_set(tx, set_id, {"expires_at": _naive(now) + duration})


def release(tx: Connection, caller: Caller, set_id: int, now: datetime) -> tuple[Taker | None, list[errors.Message]]:
    """PwsReleaseProjectorLocks: the set's locks end now. A set released before gives warning
    50476; a stolen set is reported with who took it (StolenLock)."""
    lock_set = store.set_by_id(tx, caller.account_id, set_id, for_update=True)
    if lock_set is None or lock_set.user_id != caller.user_id:
        raise errors.fail(errors.SPECIFIED_LOCK_NOT_FOUND, f"ProjectorLockSetId={set_id}")
    if lock_set.released_at is not None:
        return None, [errors.message(errors.LOCK_ALREADY_RELEASED, f"lock set {set_id}", lock_set_id=set_id)]
    store.update_set(tx, set_id, {"released_at": _naive(now)})
    return (_taker(tx, caller, lock_set) if lock_set.stolen_at is not None else None), []


@dataclass(frozen=True)
class ListedLock:
    """A live lock as the administration command lists it."""

    lock: LockRow
    lock_set: LockSetRow
    holder: PersonRow


def list_locks(tx: Connection, caller_account_id: int, now: datetime) -> list[ListedLock]:
    held = store.held_in_account(tx, caller_account_id, _naive(now))
    sets = store.sets_by_ids(tx, caller_account_id, {h.lock.lock_set_id for h in held})
    people = account_store.people_by_ids(tx, caller_account_id, {h.user_id for h in held})
    return [ListedLock(h.lock, sets[h.lock.lock_set_id], people[h.user_id]) for h in held]

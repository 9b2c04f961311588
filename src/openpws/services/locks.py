"""Pessimistic locks (pws-core §6, SPEC "Locks"): what a lock reaches, and the check every write
makes (``guard``). The lock services themselves are ``openpws.services.lock_sets``.

A lock set belongs to one user and holds locks on engagements (E), projects (P) and roles (R);
it lives until it expires, is released, or is stolen. A write reaches a scope in one engagement
graph: the entity itself and the engagement and project above it (a cascade delete: everything
below too). A lock reaches the same, plus everything below the entity: an engagement lock keeps
every other writer out of the graph, so nobody else may hold a lock inside it at the same time.

Another user's live lock in the scope blocks with a LockConflict (a SOAP fault carrying PwsFault),
unless the caller steals: LocksToSteal must describe the blocking locks exactly as they are now
(the PwsFault's LockHolders, sent back unchanged; a lock added, renewed, released or changed
since makes the steal fail), while the deprecated StealLockFlag takes whatever is there. Locks of
internal sets are never stolen. Stealing any lock of a set ends the whole set; its owner learns
who took it (LockTaker) the next time the set is used. The caller's own locks never block it.

Writers lock the engagement rows first and the lock sets involved second (in id order), so
checking and stealing cannot interleave with another writer of the same graph, nor with a
renewal or release of a set being stolen.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Connection

from openpws import errors
from openpws.entities import HeldLock, LockRow, LockSetRow, PersonRow
from openpws.services.sessions import Caller
from openpws.store import accounts as account_store
from openpws.store import locks as store

ENGAGEMENT, PROJECT, ROLE = "E", "P", "R"


@dataclass(frozen=True)
class Scope:
    """What a write or a lock reaches in one engagement graph."""

    engagement_id: int
    project_id: int | None = None
    role_id: int | None = None
    subtree: bool = False  # also everything below (a cascade delete, or a lock)

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
                frozenset((i.holder.uid, i.count, lock_time(i.most_recent)) for i in self.items))


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
        return (self.entity_type, self.entity_uid, frozenset(
            (i.holder_uid, i.count, lock_time(i.most_recent) if i.most_recent else None) for i in self.items))


@dataclass(frozen=True)
class Assertion:
    """What a request says about locks: the lock set it holds, and what it means to steal."""

    lock_set_id: int | None = None
    locks_to_steal: tuple[SentSummary, ...] | None = None
    steal_flag: bool = False

    @property
    def stealing(self) -> bool:
        # An empty LocksToSteal names nothing to steal: the request is judged as if it sent none.
        return bool(self.locks_to_steal) or self.steal_flag


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


def lock_time(moment: datetime) -> datetime:
    """Lock times are kept and compared in naive UTC with millisecond precision (as they travel)."""
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC).replace(tzinfo=None)
    return moment.replace(microsecond=moment.microsecond // 1000 * 1000)


def scope_of_engagement(engagement_id: int, *, subtree: bool = False) -> Scope:
    return Scope(engagement_id, subtree=subtree)


def scope_of_project(engagement_id: int, project_id: int, *, subtree: bool = False) -> Scope:
    return Scope(engagement_id, project_id, subtree=subtree)


def scope_of_role(engagement_id: int, project_id: int, role_id: int) -> Scope:
    return Scope(engagement_id, project_id, role_id)


def people_of(tx: Connection, caller: Caller, held: Iterable[HeldLock]) -> dict[int, PersonRow]:
    return account_store.people_by_ids(tx, caller.account_id, {h.user_id for h in held})


def summarise(held: Sequence[HeldLock], people: Mapping[int, PersonRow]) -> tuple[EntitySummary, ...]:
    """The locks grouped by entity, then by holder (oldest first, as ``held`` is ordered)."""
    by_entity: dict[tuple[str, int], dict[int, list[LockRow]]] = {}
    for h in held:
        by_entity.setdefault((h.lock.entity_type, h.lock.entity_id), {}).setdefault(h.user_id, []).append(h.lock)
    summaries = []
    for by_user in by_entity.values():
        first = next(iter(by_user.values()))[0]
        items = tuple(HolderItem(people[user_id], len(mine), max(m.acquired_at for m in mine))
                      for user_id, mine in by_user.items())
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


def taker_of(tx: Connection, caller: Caller, lock_set: LockSetRow) -> Taker:
    assert lock_set.stolen_by_user_id is not None
    people = account_store.people_by_ids(tx, caller.account_id, {lock_set.stolen_by_user_id})
    return Taker(people[lock_set.stolen_by_user_id], lock_set.id)


def stolen_conflict(tx: Connection, caller: Caller, lock_set: LockSetRow) -> LockConflict:
    taker = taker_of(tx, caller, lock_set)
    message = errors.message(errors.LOCK_SET_STOLEN, f"lock set {lock_set.id}", taker=taker.user.display_name)
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
    if lock_set.released_at is None and lock_set.expires_at <= lock_time(now):
        raise errors.fail(errors.SPECIFIED_LOCK_NOT_FOUND, f"lock set {set_id} expired")
    return lock_set


def others_in(tx: Connection, caller: Caller, scopes: Sequence[Scope], now: datetime) -> list[HeldLock]:
    """Other users' live locks in any of ``scopes``."""
    held = store.held_in_graphs(tx, caller.account_id, {s.engagement_id for s in scopes}, lock_time(now))
    return [h for h in held if h.user_id != caller.user_id and any(s.blocks(h.lock) for s in scopes)]


def _matches(sent: Iterable[SentSummary], current: Iterable[EntitySummary]) -> bool:
    return {s.fingerprint() for s in sent} == {c.fingerprint() for c in current}


def judge(held: Sequence[HeldLock], people: Mapping[int, PersonRow], assertion: Assertion) -> None:
    """Raise the LockConflict ``held`` amounts to, unless the request may steal it all."""
    summaries = summarise(held, people)
    allow = not any(h.internal for h in held)
    codes = ", ".join(f"{s.entity_type} {s.entity_code}" for s in summaries)
    if assertion.locks_to_steal:
        if not held:
            raise LockConflict(errors.message(errors.LOCKS_TO_STEAL_NOT_HELD, "no lock is held now"))
        if allow and not _matches(assertion.locks_to_steal, summaries):
            raise _conflict(summaries, allow, f"LocksToSteal no longer matches the locks held: {codes}")
    elif not held:
        return
    if not allow:
        raise _conflict(summaries, allow, f"locked by an internal process, which cannot be stolen from: {codes}")
    if not assertion.stealing:
        raise _conflict(summaries, allow, f"locked: {codes}")


def guard_locks(tx: Connection, caller: Caller, scopes: Sequence[Scope], assertion: Assertion,
                now: datetime) -> list[HeldLock]:
    """``guard``, answering with the locks it stole as they were."""
    held = others_in(tx, caller, scopes, now)
    sets = {h.lock.lock_set_id for h in held} if assertion.stealing else set()
    if assertion.lock_set_id is not None:
        sets.add(assertion.lock_set_id)
    store.lock_sets_for_update(tx, caller.account_id, sets)
    if assertion.lock_set_id is not None:
        own_set(tx, caller, assertion.lock_set_id, now)
    if held and assertion.stealing:
        # Read again under the sets' row locks: a renewal or release that committed meanwhile counts.
        held = others_in(tx, caller, scopes, now)
    judge(held, people_of(tx, caller, held), assertion)
    store.steal_sets(tx, {h.lock.lock_set_id for h in held}, caller.user_id, lock_time(now))
    return held


def guard(tx: Connection, caller: Caller, scopes: Sequence[Scope], assertion: Assertion, now: datetime) -> Stolen:
    """The check every write makes before it changes anything in ``scopes``: raise a LockConflict,
    or steal as the request asks and report what was stolen. The scopes' engagements are row-locked
    already (``openpws.services.graph_write``)."""
    taken = guard_locks(tx, caller, scopes, assertion, now)
    return Stolen(summarise(taken, people_of(tx, caller, taken)))

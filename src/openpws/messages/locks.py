"""PwsAcquireProjectorLocks, PwsCheckProjectorLocks, PwsRenewProjectorLocks,
PwsReleaseProjectorLocks, and the lock members every write shares (ProjectorLockSetId,
LocksToSteal, StealLockFlag in; StolenLocks, LockStolenFromUserIdentity out; PwsFault)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from openpws.contract.record import Record
from openpws.messages.binding import Reply, require
from openpws.messages.common import entity_summary, timestamp, user_summary
from openpws.messages.tokens import stamp
from openpws.services.lock_sets import (
    Acquired,
    AcquireLocks,
    CheckLocks,
    LockRequest,
    LockState,
    Released,
    RenewLocks,
)
from openpws.services.locks import Assertion, SentItem, SentSummary
from openpws.services.refs import Key


def _sent(summary: Mapping[str, Any]) -> SentSummary:
    entity = summary.get("EntityIdentity") or {}
    lock_type = (entity.get("LockType") or "").strip().upper() or None
    items = tuple(SentItem((item.get("LockHolderUserIdentity") or {}).get("UserUid"), item.get("LockCount"),
                           item.get("MostRecentLockAcquisitionTimestamp"))
                  for item in (summary.get("EntityLockSummary") or []) if item is not None)
    return SentSummary(lock_type, entity.get("EntityUid"), items)


def assertion_of(rq: Record) -> Assertion:
    """The lock members of a write request (all optional)."""
    to_steal = rq.get("LocksToSteal")
    return Assertion(
        lock_set_id=rq.get("ProjectorLockSetId"),
        locks_to_steal=tuple(_sent(s) for s in to_steal if s is not None) if to_steal is not None else None,
        steal_flag=bool(rq.get("StealLockFlag")),
    )


def _requests(rq: Record) -> tuple[LockRequest, ...]:
    requests = []
    for r in rq.get("Locks", []):
        if r is None:
            continue
        entity = r.get("EntityIdentity") or {}
        requests.append(LockRequest(entity.get("LockType"),
                                    Key((entity.get("EntityCode") or "").strip() or None, entity.get("EntityUid")),
                                    stamp(r.get("EntityTimestamp"))))
    return tuple(requests)


def _lock_states(states: Sequence[LockState]) -> list[dict[str, Any]]:
    return [{
        "EntityIdentity": {"EntityCode": s.target.entity_code, "EntityId": None, "EntityUid": s.target.entity_uid,
                           "LockType": s.target.entity_type},
        "EntityTimestamp": timestamp(s.target.version) if s.target.version is not None else None,
        "LockStolenFlag": bool(s.stolen),
        "StolenLocks": [item for summary in s.stolen for item in entity_summary(summary)["EntityLockSummary"]],
    } for s in states]


# PwsAcquireProjectorLocks: LockDurationSeconds (1..86400) and Locks (1..100
# PwsProjectorLockRequest, each with an optional EntityTimestamp) → a lock set: ProjectorLockSetId
# and Locks (PwsProjectorLock[]). With a ProjectorLockSetId the caller's set is extended;
# LocksToSteal steals the locks a previous PwsFault reported.

def decode_acquire(rq: Record) -> AcquireLocks:
    return AcquireLocks(require(rq, "LockDurationSeconds"), _requests(rq), assertion_of(rq))


def encode_acquire(acquired: Acquired) -> Reply:
    return Reply({"Locks": _lock_states(acquired.states), "ProjectorLockSetId": acquired.set_id})


# PwsCheckProjectorLocks: whether the caller's lock set (ProjectorLockSetId) still holds (without
# Locks: its locks), and whether the entities in Locks are free of other users' locks (a PwsFault
# names the holders when they are not).

# A check reports each entity's current version; the version a request sends is not compared.
CHECK_NOT_MODELLED = ("Locks/EntityTimestamp",)


def decode_check(rq: Record) -> CheckLocks:
    return CheckLocks(_requests(rq), assertion_of(rq))


def encode_check(states: list[LockState]) -> Reply:
    return Reply({"Locks": _lock_states(states)})


# PwsRenewProjectorLocks: the caller's set ProjectorLockSetId expires LockDurationSeconds from now.

def decode_renew(rq: Record) -> RenewLocks:
    return RenewLocks(require(rq, "ProjectorLockSetId"), require(rq, "LockDurationSeconds"))


# PwsReleaseProjectorLocks ends the caller's set ProjectorLockSetId; StolenLock says who took it
# if it was stolen.

def decode_release(rq: Record) -> int:
    set_id: int = require(rq, "ProjectorLockSetId")
    return set_id


def encode_release(released: Released) -> Reply:
    taker = released.taker
    stolen = {"LockStolenByUser": user_summary(taker.user), "ProjectorLockSetId": taker.lock_set_id} if taker else None
    return Reply({"StolenLock": stolen}, released.warnings)

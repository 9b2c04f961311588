"""Answering a request the account's fault rules may answer instead (``services.faults``).

The request runs as usual with the rules' check in its RequestTime; if a rule matches, its
transaction is rolled back and the rule answers: a documented error (Status Fail), the lock
conflict PwsFault naming the rule's user, a SOAP fault, an HTTP status or a dropped connection
(``errors.InjectedFault``, which the dispatcher turns into them), or a delay, after which the
request runs again without that rule. A resend that steals the simulated lock (LocksToSteal equal
to the PwsFault's LockHolders, or StealLockFlag) passes the rule, and its answer reports the
rule's user in LockStolenFromUserIdentity, as a real steal would.
"""

from __future__ import annotations

from datetime import UTC
from typing import Any

from openpws import errors
from openpws.clock import RequestTime
from openpws.contract.record import Record
from openpws.entities import PersonRow
from openpws.messages.binding import Binding, Reply, answer
from openpws.messages.common import lock_fault, user_ref
from openpws.messages.locks import assertion_of
from openpws.services import faults
from openpws.services.context import Environment
from openpws.services.locks import ENGAGEMENT, EntitySummary, HolderItem, LockConflict

# The simulated lock is on no real entity: its LockHolders names Uid 0.
NO_ENTITY_UID = 0
STEAL_MEMBERS = ("LocksToSteal", "StealLockFlag")


def answer_screened(environment: Environment, binding: Binding[Any, Any], request: Record, time: RequestTime,
                    operation: str) -> Reply:
    """Answer ``request`` (of ``operation``) at ``time``, unless a fault rule of its account does."""
    rules = environment.faults
    rules.refresh(environment.store)
    if not rules.any:
        return answer(environment, binding, request, time)
    passed: frozenset[int] = frozenset()
    stolen_from: dict[str, Any] | None = None
    while True:
        time.screen = rules.screen(operation, passed)
        try:
            reply = answer(environment, binding, request, time)
        except faults.FaultMatched as matched:
            rule = matched.rule
        else:
            if stolen_from is not None and "LockStolenFromUserIdentity" in reply.members:
                reply = Reply({**reply.members, "LockStolenFromUserIdentity": stolen_from}, reply.messages)
            return reply
        finally:
            time.screen = None
        passed |= {rule.id}
        then = rule.then
        if isinstance(then, faults.LockHeld):
            person = faults.holder(environment, rule, then.login)
            if person is None:
                continue  # the user is gone: the rule no longer answers
            conflict = _conflict(then, person, rule)
            if then.stealable and _steals(request, conflict):
                # What it stole was the rule's pretence: the request runs as if it had stolen nothing.
                time.exchange.fault_rule, stolen_from, request = rule.id, user_ref(person), _without_steal(request)
                continue
        if not faults.answers(environment, rule, preview=time.exchange.preview):
            continue
        time.exchange.fault_rule = rule.id
        match then:
            case faults.Error(number):
                entry = faults.entry_of(number)
                assert entry is not None  # checked when the rule was made
                raise errors.fail(entry)
            case faults.LockHeld():
                raise lock_fault(conflict)
            case faults.SoapFault(code):
                raise errors.InjectedFault(soap_fault=code)
            case faults.HttpStatus(status):
                raise errors.InjectedFault(http_status=status)
            case faults.Drop():
                raise errors.InjectedFault(drop=True)
            case faults.Delay(ms):
                time.exchange.delay_seconds += ms / 1000


def _conflict(then: faults.LockHeld, person: PersonRow, rule: faults.Rule) -> LockConflict:
    summary = EntitySummary(ENGAGEMENT, NO_ENTITY_UID, None,
                            (HolderItem(person, 1, rule.created_at.replace(tzinfo=UTC)),))
    message = errors.message(errors.ENGAGEMENT_IS_LOCKED, ownerDisplayName=person.display_name)
    return LockConflict(message, holders=(summary,), allow_steal=then.stealable)


def _without_steal(request: Record) -> Record:
    rest = Record(request.ctype)
    rest.update((name, value) for name, value in request.items() if name not in STEAL_MEMBERS)
    return rest


def _steals(request: Record, conflict: LockConflict) -> bool:
    """Whether the request steals the simulated lock: StealLockFlag, or LocksToSteal describing it exactly."""
    assertion = assertion_of(request)
    if assertion.steal_flag:
        return True
    sent = assertion.locks_to_steal or ()
    return bool(sent) and {s.fingerprint() for s in sent} == {h.fingerprint() for h in conflict.holders}

"""Fault rules (SPEC "The sandbox", Faults): per account, rules that answer matching requests
instead of their operation, so that an integration can be tested against failures it cannot
otherwise provoke: a documented error, a lock held by another user, a SOAP fault, an HTTP status,
a slow answer, a dropped connection.

A rule matches an operation, optionally one user; it answers ``remaining`` more calls (None: no
limit), each with ``probability`` (None: always). The newest matching rule answers. Rules live in
the database, so every server process sees them; each process keeps a copy of all rules that
it refreshes at most ``CACHE_SECONDS`` after it was read (at once after its own changes), so a
request of an account without rules costs a dictionary lookup. A rule's calls are counted in the
database, one statement per call, so ``times`` holds exactly across processes.

A request is matched the moment its account becomes known (``RequestTime.acting_as``: its
session's account, or the account PwsAuthenticate names), inside its transaction and before its
work; a match raises ``FaultMatched``, which rolls that transaction back, so a fault never changes
data. The caller (``messages.faults``) then counts the call and answers as the rule says.
"""

from __future__ import annotations

import json
import random
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection

from openpws import errors
from openpws.entities import PersonRow
from openpws.services.context import Environment
from openpws.services.copies import AccountCopy
from openpws.services.sandbox import Invalid, NotFound, live_account
from openpws.store import accounts as account_store
from openpws.store import faults as store
from openpws.store.faults import RuleRow

# How long a process answers from its copy of the rules before reading them again.
CACHE_SECONDS = 1.0
# The longest delay a rule may add, in milliseconds.
MAX_DELAY_MS = 60_000
SOAP_FAULT_CODES = ("Server", "Client")


# --- what a rule answers with ----------------------------------------------------------------------

@dataclass(frozen=True)
class Error:
    """A documented error: the catalogue's message for ``number``, Status Fail."""

    number: int


@dataclass(frozen=True)
class LockHeld:
    """The lock conflict PwsFault naming ``login`` as the holder."""

    login: str
    stealable: bool = True


@dataclass(frozen=True)
class SoapFault:
    code: str  # Server or Client


@dataclass(frozen=True)
class HttpStatus:
    status: int


@dataclass(frozen=True)
class Delay:
    """Answer normally, ``ms`` milliseconds late."""

    ms: int


@dataclass(frozen=True)
class Drop:
    """Close the connection without an answer."""


Then = Error | LockHeld | SoapFault | HttpStatus | Delay | Drop


def then_json(then: Then) -> dict[str, Any]:
    match then:
        case Error(number):
            return {"error": number}
        case LockHeld(login, stealable):
            return {"lock_held_by": login, "stealable": stealable}
        case SoapFault(code):
            return {"soap_fault": code}
        case HttpStatus(status):
            return {"http_status": status}
        case Delay(ms):
            return {"delay_ms": ms}
        case Drop():
            return {"drop_connection": True}


def _then_of(document: Mapping[str, Any]) -> Then:
    if "error" in document:
        return Error(int(document["error"]))
    if "lock_held_by" in document:
        return LockHeld(str(document["lock_held_by"]), bool(document.get("stealable", True)))
    if "soap_fault" in document:
        return SoapFault(str(document["soap_fault"]))
    if "http_status" in document:
        return HttpStatus(int(document["http_status"]))
    if "delay_ms" in document:
        return Delay(int(document["delay_ms"]))
    return Drop()


def entry_of(number: int) -> errors.Entry | None:
    """The catalogue's entry for ``number``."""
    return next((e for e in errors.CATALOGUE if e.number == number), None)


@dataclass(frozen=True)
class Rule:
    id: int
    account_key: str
    operation: str
    user_key: str | None
    remaining: int | None
    probability: float | None
    then: Then
    answered: int
    created_at: datetime  # naive UTC, real time

    def matches(self, operation: str, user: str | None) -> bool:
        return self.operation == operation and (self.user_key is None or
                                                (user is not None and user.lower() == self.user_key))


def _rule(row: RuleRow) -> Rule:
    return Rule(row.id, row.account_key, row.operation, row.user_key, row.remaining, row.probability,
                _then_of(json.loads(row.then)), row.answered, row.created_at)


# --- the control plane's side ----------------------------------------------------------------------

@dataclass(frozen=True)
class NewRule:
    operation: str
    then: Then
    user: str | None = None
    times: int | None = None
    probability: float | None = None


def _check(rule: NewRule) -> None:
    if rule.times is not None and rule.times < 1:
        raise Invalid("times is a number of calls, at least 1", "times")
    if rule.probability is not None and not 0 <= rule.probability <= 1:
        raise Invalid("probability is a number from 0 to 1", "probability")
    match rule.then:
        case Error(number) if entry_of(number) is None:
            raise Invalid(f"{number} is not an error number of the catalogue (docs/errors.md)", "then.error")
        case SoapFault(code) if code not in SOAP_FAULT_CODES:
            raise Invalid("soap_fault is Server or Client", "then.soap_fault")
        case HttpStatus(status) if not 400 <= status <= 599:
            raise Invalid("http_status is an error status, 400 to 599", "then.http_status")
        case Delay(ms) if not 0 <= ms <= MAX_DELAY_MS:
            raise Invalid(f"delay_ms is from 0 to {MAX_DELAY_MS}", "then.delay_ms")
        case _:
            pass


def add(environment: Environment, code: str, rule: NewRule, real: datetime) -> Rule:
    """A new rule of the account ``code``; its users are looked up by login (case-insensitively)."""
    _check(rule)
    with environment.store.write() as tx:
        account = live_account(tx, code, real)
        if rule.user is not None and account_store.find_user(tx, account.id, rule.user) is None:
            raise Invalid(f"the account has no user {rule.user!r}", "user")
        if isinstance(rule.then, LockHeld) and account_store.find_user(tx, account.id, rule.then.login) is None:
            raise Invalid(f"the account has no user {rule.then.login!r}", "then.lock_held_by")
        row = store.insert_rule(tx, account.id, operation=rule.operation,
                                user_key=None if rule.user is None else rule.user.lower(), remaining=rule.times,
                                probability=rule.probability, then=json.dumps(then_json(rule.then)),
                                created_at=real.replace(tzinfo=None))
    environment.faults.forget()
    return _rule(row)


def rules(environment: Environment, code: str, real: datetime) -> list[Rule]:
    """The account's rules, newest first."""
    with environment.store.read() as tx:
        return [_rule(row) for row in store.account_rules(tx, live_account(tx, code, real).id)]


def remove(environment: Environment, code: str, rule_id: int, real: datetime) -> None:
    with environment.store.write() as tx:
        if not store.delete_rule(tx, live_account(tx, code, real).id, rule_id):
            raise NotFound(f"the account has no fault rule {rule_id}", "id")
    environment.faults.forget()


def clear(environment: Environment, code: str, real: datetime) -> None:
    with environment.store.write() as tx:
        store.clear(tx, live_account(tx, code, real).id)
    environment.faults.forget()


# --- the requests' side ----------------------------------------------------------------------------

class FaultMatched(Exception):
    """The request is answered by ``rule``, not by its operation."""

    def __init__(self, rule: Rule) -> None:
        super().__init__(f"fault rule {rule.id}")
        self.rule = rule


def _rules_by_account(tx: Connection) -> dict[str, tuple[Rule, ...]]:
    by_account: dict[str, list[Rule]] = {}
    for row in store.all_rules(tx):
        by_account.setdefault(row.account_key, []).append(_rule(row))
    return {key: tuple(value) for key, value in by_account.items()}


class Rules(AccountCopy[tuple[Rule, ...]]):
    """A process's copy of every account's rules, by lower-cased account code, read again once
    it is ``CACHE_SECONDS`` old."""

    def __init__(self) -> None:
        super().__init__(_rules_by_account, CACHE_SECONDS)

    def screen(self, operation: str, passed: frozenset[int] = frozenset()) -> Callable[[str, str | None], None]:
        """What a request of ``operation`` calls once it knows its account and user: raises
        FaultMatched with the rule that answers it, if one does (rules in ``passed`` do not)."""
        by_account = self.by_account

        def screen(account: str, user: str | None) -> None:
            for rule in by_account.get(account.lower(), ()):
                if rule.id in passed or not rule.matches(operation, user):
                    continue
                if rule.probability is not None and not random.random() < rule.probability:
                    continue
                raise FaultMatched(rule)

        return screen


def answers(environment: Environment, rule: Rule, *, preview: bool = False) -> bool:
    """Count one call ``rule`` answers; False when it has gone or has no calls left (another
    process answered its last). A preview's call is judged the same and not counted."""
    with environment.store.write(commit=not preview) as tx:
        taken = store.consume(tx, rule.id)
    if preview:
        return taken
    if not taken or rule.remaining is not None:
        environment.faults.forget()
    return taken


def holder(environment: Environment, rule: Rule, login: str) -> PersonRow | None:
    """The user a lock rule names, as the PwsFault shows them (None: no longer a user)."""
    with environment.store.read() as tx:
        account = account_store.find_account(tx, rule.account_key)
        user = account_store.find_user(tx, account.id, login) if account is not None else None
    return None if user is None else PersonRow(user.id, user.uid, user.display_name, user.reference_id, user.email)

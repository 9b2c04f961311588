"""The sandbox's rules for accounts as a whole: creating a throwaway account with its users,
describing and listing accounts, setting an account's clock, removing an account, and sweeping
the ones whose time is up. Each function is one transaction of its own.

Expiry counts real time; an account's clock is its own (``openpws.clock``). An account past its
expiry is absent from the moment it expires: logins and tickets are refused, it is neither listed
nor found, its code can be taken again, and a sweep removes its rows.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import Connection
from sqlalchemy.exc import IntegrityError

from openpws.clock import Clock, utc
from openpws.services import admin
from openpws.services.context import Environment
from openpws.services.passwords import GENERATED_PASSWORD_COST
from openpws.services.permissions import Permission
from openpws.services.weeks import MONDAY
from openpws.store import sandbox as store
from openpws.store.sandbox import AccountState


class SandboxError(admin.AdminError):
    """A control-plane request that cannot be carried out; ``path`` names the member of the request at fault."""

    code = "invalid"

    def __init__(self, message: str, path: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.path = path


class NotFound(SandboxError):
    code = "not_found"


class Conflict(SandboxError):
    code = "conflict"


class Invalid(SandboxError):
    code = "invalid"


@dataclass(frozen=True)
class NewUser:
    login: str
    display_name: str
    reference_id: str | None
    permissions: frozenset[Permission]
    password: str
    email: str | None = None
    generated: bool = False  # by openpws, random: hashed at passwords.GENERATED_PASSWORD_COST


@dataclass(frozen=True)
class ClockView:
    now: datetime  # aware UTC
    frozen: bool
    offset: timedelta  # the account's now minus real now


@dataclass(frozen=True)
class AccountView:
    code: str
    name: str
    created_at: datetime  # aware UTC
    expires_at: datetime | None  # aware UTC, real time
    fixture_name: str | None
    clock: ClockView
    counts: Mapping[str, int]


# --- clock changes (SPEC "Control-plane conventions") ---------------------------------------------

@dataclass(frozen=True)
class FreezeAt:
    """Frozen at ``moment``; None: at the instant the clock shows now."""

    moment: datetime | None


@dataclass(frozen=True)
class RunFrom:
    """Running on from ``moment``."""

    moment: datetime


@dataclass(frozen=True)
class Advance:
    """Moved forward by ``by``, frozen or running as it was."""

    by: timedelta


@dataclass(frozen=True)
class RealTime:
    """Back to real time."""


ClockChange = FreezeAt | RunFrom | Advance | RealTime


# An account's clock stays within these years, far from the ends of Python's dates, so that no date
# arithmetic of a request (a week's start, an expiry) falls off them.
EARLIEST, LATEST = datetime(1900, 1, 1, tzinfo=UTC), datetime(9000, 1, 1, tzinfo=UTC)


def _changed(clock: Clock, change: ClockChange, real: datetime) -> Clock:
    match change:
        case FreezeAt(moment):
            return Clock.frozen_on(clock.at(real) if moment is None else moment)
        case RunFrom(moment):
            return Clock.running_from(moment, real)
        case Advance(by):
            if by < timedelta(0):
                raise Invalid("the clock only moves forward: advance by zero seconds or more", "advance_seconds")
            return clock.advanced(by)
        case RealTime():
            return Clock()
    raise AssertionError(change)


def changed(clock: Clock, change: ClockChange, real: datetime) -> Clock:
    """``clock`` after ``change`` at real time ``real``."""
    path = {FreezeAt: "frozen_at", RunFrom: "set", Advance: "advance_seconds"}.get(type(change))
    try:
        moved = _changed(clock, change, real)
        now = moved.at(real)
    except OverflowError:
        now = LATEST
    if not EARLIEST <= now < LATEST:
        raise Invalid(f"an account's clock shows a time from {EARLIEST.year} to {LATEST.year - 1}", path)
    return moved


def clock_view(clock: Clock, real: datetime) -> ClockView:
    now = clock.at(real)
    return ClockView(now, clock.frozen, now - real)


# --- accounts -------------------------------------------------------------------------------------

def _live(tx: Connection, code: str, real: datetime) -> AccountState:
    state = store.find_state(tx, code)
    if state is None or state.expired(real):
        raise NotFound(f"there is no account {code!r}", "code")
    return state


def live_account(tx: Connection, code: str, real: datetime) -> AccountState:
    """The account ``code`` at real time ``real``; NotFound (path ``code``) when it is absent or expired."""
    return _live(tx, code, real)


def _view(state: AccountState, counts: Mapping[str, int], real: datetime) -> AccountView:
    return AccountView(state.code, state.name, utc(state.created_at),
                       None if state.expires_at is None else utc(state.expires_at), state.fixture_name,
                       clock_view(state.clock, real), counts)


def create_account(environment: Environment, *, code: str, name: str | None, users: Sequence[NewUser],
                   fixture_name: str | None, expires_at: datetime | None, real: datetime,
                   week_start: int = MONDAY) -> int:
    """The account ``code`` with ``users``, expiring at ``expires_at`` (real time; never when
    None); its Uid. A code an expired account still holds is taken over: that account is removed
    first."""
    code = code.strip()
    if not code or len(code) > 30:
        raise Invalid("an account code has 1 to 30 characters", "code")
    settings = environment.settings
    try:
        with environment.store.write() as tx:
            held = store.find_state(tx, code)
            if held is not None:
                if not held.expired(real):
                    raise Conflict(f"account {held.code!r} already exists", "code")
                store.delete_account(tx, held.id)
            moment = real.replace(tzinfo=None)
            account = admin.create_account(tx, code, name, moment, week_start)
            store.set_origin(tx, account.id, expires_at=expires_at, fixture_name=fixture_name)
            for user in users:
                admin.create_user(tx, account.code, login=user.login, display_name=user.display_name,
                                  password=user.password, permissions=user.permissions,
                                  reference_id=user.reference_id, email=user.email,
                                  scrypt_cost=GENERATED_PASSWORD_COST if user.generated else settings.scrypt_cost,
                                  now=moment)
            return account.uid
    except (IntegrityError, admin.AccountTaken):
        # Another request took the code after the check above (PostgreSQL: SQLite's writers take
        # turns): committed before the insert's own check, or refused by the unique code after.
        raise Conflict(f"account {code!r} already exists", "code") from None


def describe(environment: Environment, code: str, real: datetime) -> AccountView:
    with environment.store.read() as tx:
        state = _live(tx, code, real)
        return _view(state, store.counts(tx, [state], real)[state.id], real)


def list_accounts(environment: Environment, real: datetime, limit: int) -> list[AccountView]:
    """The accounts that have not expired, newest first, at most ``limit``."""
    with environment.store.read() as tx:
        states = store.list_states(tx, real, limit)
        counts = store.counts(tx, states, real)
        return [_view(state, counts[state.id], real) for state in states]


def delete_account(environment: Environment, code: str, real: datetime) -> None:
    """Remove the account and everything of it, in one transaction."""
    with environment.store.write() as tx:
        store.delete_account(tx, _live(tx, code, real).id)


def discard(environment: Environment, code: str) -> None:
    """Remove the account if it is there, expired or not (an account whose creation failed)."""
    with environment.store.write() as tx:
        state = store.find_state(tx, code)
        if state is not None:
            store.delete_account(tx, state.id)


def set_expiry(environment: Environment, code: str, expires_at: datetime | None) -> None:
    with environment.store.write() as tx:
        state = store.find_state(tx, code)
        if state is None:
            raise NotFound(f"there is no account {code!r}", "code")
        store.set_origin(tx, state.id, expires_at=expires_at, fixture_name=state.fixture_name)


def now_in(tx: Connection, code: str, real: datetime) -> datetime:
    """The account's time at real time ``real``, in a transaction of the caller's."""
    return _live(tx, code, real).clock.at(real)


def clock(environment: Environment, code: str, real: datetime) -> ClockView:
    with environment.store.read() as tx:
        return clock_view(_live(tx, code, real).clock, real)


def set_clock(environment: Environment, code: str, change: ClockChange, real: datetime) -> ClockView:
    with environment.store.write() as tx:
        state = _live(tx, code, real)
        new = changed(state.clock, change, real)
        store.set_clock(tx, state.id, new)
        return clock_view(new, real)


def sweep(environment: Environment, real: datetime) -> int:
    """Remove the accounts expired at ``real``, each in a transaction of its own; how many went.
    Any number of processes may sweep at once: an account another one is removing is left to it."""
    with environment.store.read() as tx:
        expired = store.expired_ids(tx, real)
    removed = 0
    for account_id in expired:
        with environment.store.write() as tx:
            if store.take_expired(tx, account_id, real):
                store.delete_account(tx, account_id)
                removed += 1
    return removed

"""The control plane's operations, one set behind every door: the JSON API (``sandbox.api``) and
the ``openpws`` command call these and nothing else. Each reads real time once and hands it to
the sandbox services (``services.sandbox``), which keep every piece of state in the database, so
any server process may answer the next call.

Loading a fixture (a document, or one packaged by name: ``sandbox.fixtures``) sends PWS requests
through the dispatcher (``handle``), the way an integrator would build the same tree, so the tree
obeys every rule the services enforce (``sandbox.loading``); exporting an account gives the same
format back (``sandbox.export``).
"""

from __future__ import annotations

import asyncio
import logging
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, TypeVar

from openpws.clock import real_now
from openpws.contract import load_contract
from openpws.sandbox import export
from openpws.sandbox.fixtures import Fixture, check, for_account, packaged, packaged_names, week_base
from openpws.sandbox.loading import Loader
from openpws.services import admin, faults, rate_limits, sandbox, snapshots
from openpws.services import fixtures as fixture_services
from openpws.services.context import Environment
from openpws.services.permissions import ALL
from openpws.services.sandbox import (
    AccountView,
    ClockChange,
    ClockView,
    Conflict,
    Invalid,
    NewUser,
    SandboxError,
)
from openpws.services.snapshots import SnapshotView
from openpws.services.weeks import MONDAY, day_name
from openpws.soap.client import LocalClient

log = logging.getLogger("openpws")
T = TypeVar("T")

# The packaged fixtures an account can be created from, by name.
FIXTURES = packaged_names()
# Generated account codes: a prefix that says where they came from, and 40 random bits.
GENERATED_PREFIX = "sbx-"
# Accounts listed at most, newest first.
LIST_LIMIT = 1000
# While an account is made (its fixture loaded, its creation snapshot taken), it expires no sooner
# than this: a short time to live counts from the end of the creation, and an account whose making
# a crash cut short is still removed.
LOADING_GRACE = timedelta(hours=1)

Handle = Callable[[bytes], tuple[int, bytes]]


@dataclass(frozen=True)
class CreatedUser:
    login: str
    password: str
    display_name: str
    permissions: tuple[str, ...]


@dataclass(frozen=True)
class Created:
    code: str
    uid: int
    users: tuple[CreatedUser, ...]
    requests: int = 0  # the PWS requests that loaded its fixture
    week_start: int = MONDAY


def _password() -> str:
    return secrets.token_urlsafe(18)


class Control:
    def __init__(self, environment: Environment, handle: Handle, *,
                 clock: Callable[[], datetime] = real_now) -> None:
        self.environment = environment
        self.handle = handle  # answers a SOAP request: the dispatcher's
        self.clock = clock

    def create_account(self, *, code: str | None = None, name: str | None = None, fixture_name: str | None = None,
                       fixture: object = None, ttl_seconds: float | None = None, administrator: bool = True,
                       week_start: int | None = None, password: str | None = None) -> Created:
        """A new account: ``code`` (generated when None), loaded from the fixture document
        ``fixture`` or the packaged fixture ``fixture_name``, removed ``ttl_seconds`` after its
        creation ends (real time), its weeks starting on ``week_start`` (0 Monday … 6 Sunday; the
        fixture's first day when it names one, else Monday). Without a fixture it holds no data,
        and one user admin@CODE with every permission when ``administrator`` (the command line's
        ``account create`` makes none: its users are made one by one). Passwords the fixture does
        not give are ``password``, or else generated; they are shown only here."""
        chosen = self._fixture(fixture_name, fixture)
        if chosen is not None and chosen.week_start is not None:
            if week_start is not None and week_start != chosen.week_start:
                raise Invalid(f"the fixture's weeks start on {day_name(chosen.week_start)}", "week_start")
            week_start = chosen.week_start
        if ttl_seconds is not None and not ttl_seconds > 0:
            raise Invalid("ttl_seconds is a number of seconds above zero", "ttl_seconds")
        ttl = None if ttl_seconds is None else timedelta(seconds=ttl_seconds)
        code = None if code is None else code.strip()
        name = name if name is not None or chosen is None else chosen.name
        for attempt in range(3):
            made = code if code is not None else GENERATED_PREFIX + secrets.token_hex(5)
            users = self._users(made, chosen, administrator, password)
            real = self.clock()
            expires_at = None if ttl is None else real + max(ttl, LOADING_GRACE)
            try:
                uid = sandbox.create_account(self.environment, code=made, name=name, users=users,
                                             fixture_name=fixture_name, expires_at=expires_at, real=real,
                                             week_start=MONDAY if week_start is None else week_start)
            except Conflict:
                if code is not None or attempt == 2:
                    raise
                continue  # a generated code that was taken: draw another
            except SandboxError:
                raise
            except admin.AdminError as error:  # a user the fixture describes cannot be made
                raise Invalid(str(error), "users") from None
            break
        requests = 0
        if chosen is not None:
            loaded = chosen
            requests = self._load(made, lambda: self._load_fixture(made, loaded))
        # What a reset goes back to: the account as its creation leaves it.
        self._load(made, lambda: snapshots.take(self.environment, made, self.clock(), creation=True))
        if ttl is not None:
            sandbox.set_expiry(self.environment, made, self.clock() + ttl)
        return Created(made, uid, tuple(CreatedUser(u.login, u.password, u.display_name,
                                                    tuple(sorted(p.value for p in u.permissions))) for u in users),
                       requests, MONDAY if week_start is None else week_start)

    @staticmethod
    def _fixture(fixture_name: str | None, fixture: object) -> Fixture | None:
        if fixture is not None and fixture_name is not None:
            raise Invalid("give a fixture document or the name of a packaged fixture, not both", "fixture")
        if fixture_name is not None:
            return packaged(fixture_name)
        if fixture is None:
            return None
        try:
            return check(fixture)
        except Invalid as error:
            if error.path is None:  # the document as a whole
                raise Invalid(error.message, "fixture") from None
            raise

    @staticmethod
    def _users(code: str, fixture: Fixture | None, administrator: bool, password: str | None) -> list[NewUser]:
        """The new account's users; a password neither the fixture nor ``password`` gives is
        generated (random, so hashed cheaply: see NewUser.generated)."""
        if fixture is not None:
            return [NewUser(for_account(u.login, code), u.display_name, u.reference_id, u.permissions,
                            u.password or password or _password(),
                            None if u.email is None else for_account(u.email, code),
                            generated=not (u.password or password)) for u in fixture.users]
        if administrator:
            return [NewUser(f"admin@{code}", "Administrator", "ADMIN", ALL, password or _password(),
                            generated=password is None)]
        return []

    def _load(self, code: str, load: Callable[[], T]) -> T:
        """Load a fixture into the new account (or snapshot it); if that fails, the account goes again."""
        try:
            return load()
        except BaseException:
            sandbox.discard(self.environment, code)
            raise

    def _load_fixture(self, code: str, fixture: Fixture) -> int:
        """Build the fixture's tree with PWS requests, then take its locks; how many requests it took."""
        loading = fixture_services.begin_loading(self.environment, code, self.clock())
        pws = LocalClient(load_contract(), self.handle, loading.ticket)
        try:
            Loader(pws, fixture, code, loading.users, week_base(loading.now, loading.week_start)).load()
        finally:
            fixture_services.end_loading(self.environment, loading)
        if fixture.locks:
            fixture_services.take_locks(self.environment, code, [
                fixture_services.LockOrder(for_account(lock.user, code), tuple((e.kind, e.code) for e in lock.entities),
                                           lock.seconds, lock.internal, lock.path) for lock in fixture.locks],
                self.clock())
        return pws.sent

    def export_account(self, code: str) -> dict[str, Any]:
        """The account ``code`` as a fixture document (``sandbox.export``)."""
        return export.document(fixture_services.contents(self.environment, code, self.clock()))

    def accounts(self, limit: int = LIST_LIMIT) -> list[AccountView]:
        return sandbox.list_accounts(self.environment, self.clock(), limit)

    def account(self, code: str) -> AccountView:
        return sandbox.describe(self.environment, code, self.clock())

    def delete_account(self, code: str) -> None:
        sandbox.delete_account(self.environment, code, self.clock())

    def get_clock(self, code: str) -> ClockView:
        return sandbox.clock(self.environment, code, self.clock())

    def set_clock(self, code: str, change: ClockChange) -> ClockView:
        return sandbox.set_clock(self.environment, code, change, self.clock())

    def take_snapshot(self, code: str, name: str | None = None) -> SnapshotView:
        return snapshots.take(self.environment, code, self.clock(), name=name)

    def snapshots(self, code: str, limit: int = LIST_LIMIT) -> list[SnapshotView]:
        return snapshots.snapshots(self.environment, code, self.clock(), limit)

    def restore_snapshot(self, code: str, snapshot_id: int) -> SnapshotView:
        return snapshots.restore(self.environment, code, snapshot_id, self.clock())

    def reset_account(self, code: str) -> SnapshotView:
        """Back to the account's creation snapshot."""
        return snapshots.reset(self.environment, code, self.clock())

    def add_fault(self, code: str, rule: faults.NewRule) -> faults.Rule:
        """A new fault rule of the account (``services.faults``); its operation must be the contract's."""
        if rule.operation not in load_contract().operations:
            raise Invalid(f"the service has no operation {rule.operation!r}", "operation")
        return faults.add(self.environment, code, rule, self.clock())

    def fault_rules(self, code: str) -> list[faults.Rule]:
        return faults.rules(self.environment, code, self.clock())

    def remove_fault(self, code: str, rule_id: int) -> None:
        faults.remove(self.environment, code, rule_id, self.clock())

    def clear_faults(self, code: str) -> None:
        faults.clear(self.environment, code, self.clock())

    def set_rate_limits(self, code: str, limits: rate_limits.Limits) -> rate_limits.Limits:
        """The account's rate limiting (``services.rate_limits``); the weights' operations must be
        the contract's."""
        operations = load_contract().operations
        for operation in limits.weights:
            if operation not in operations:
                raise Invalid(f"the service has no operation {operation!r}", f"weights.{operation}")
        return rate_limits.configure(self.environment, code, limits, self.clock())

    def rate_limits(self, code: str) -> rate_limits.Limits:
        return rate_limits.current(self.environment, code, self.clock())

    def clear_rate_limit_hits(self, code: str) -> None:
        rate_limits.clear_hits(self.environment, code, self.clock())

    def sweep(self) -> int:
        """Remove the accounts whose time is up; how many went."""
        return sandbox.sweep(self.environment, self.clock())


# A server process sweeps this often: an expired account is gone within a minute of its expiry.
SWEEP_SECONDS = 20.0


async def sweep_forever(control: Control, run: Callable[[Callable[[], int]], Awaitable[int]],
                        every: float | None = None) -> None:
    """Sweep every ``every`` seconds (SWEEP_SECONDS when None), on the worker threads (``run``),
    until cancelled. Every server process does: the sweep holds no state of its own, and
    processes sweeping at once leave each other's accounts alone."""
    while True:
        await asyncio.sleep(every if every is not None else SWEEP_SECONDS)
        try:
            removed = await run(control.sweep)
        except Exception:
            log.exception("sweeping expired accounts failed")
            continue
        if removed:
            log.info("removed %d expired account(s)", removed)

"""The control plane's operations, one set behind every door: the JSON API (``sandbox.api``) and
the ``openpws`` command call these and nothing else. Each reads real time once and hands it to
the sandbox services (``services.sandbox``), which keep every piece of state in the database, so
any server process may answer the next call.

Loading a packaged fixture sends PWS requests through the dispatcher (``handle``), the way an
integrator would build the same tree, so the tree obeys every rule the services enforce.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from openpws import demo
from openpws.clock import real_now
from openpws.services import sandbox, snapshots
from openpws.services.context import Environment
from openpws.services.permissions import ALL
from openpws.services.sandbox import AccountView, ClockChange, ClockView, Conflict, Invalid, NewUser
from openpws.services.snapshots import SnapshotView
from openpws.services.weeks import MONDAY

log = logging.getLogger("openpws")

# The packaged fixtures an account can be created from, by name.
FIXTURES = ("demo",)
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


def _password() -> str:
    return secrets.token_urlsafe(18)


class Control:
    def __init__(self, environment: Environment, handle: Handle, *,
                 clock: Callable[[], datetime] = real_now) -> None:
        self.environment = environment
        self.handle = handle  # answers a SOAP request: the dispatcher's
        self.clock = clock

    def create_account(self, *, code: str | None = None, name: str | None = None, fixture_name: str | None = None,
                       fixture: object = None, ttl_seconds: float | None = None,
                       administrator: bool = True, week_start: int = MONDAY) -> Created:
        """A new account: ``code`` (generated when None), loaded from the packaged fixture
        ``fixture_name``, removed ``ttl_seconds`` after its creation ends (real time), its weeks
        starting on ``week_start`` (0 Monday … 6 Sunday; the demo fixture's on Monday). Without a
        fixture it holds no data, and one user admin@CODE with every permission when
        ``administrator`` (the command line's ``account create`` makes none: its users are made
        one by one). Passwords are generated and shown only here."""
        if fixture is not None:
            raise Invalid("fixture documents are not supported yet: create the account from a packaged fixture "
                          f"(fixture_name: {', '.join(FIXTURES)}) or empty", "fixture")
        if fixture_name is not None and fixture_name not in FIXTURES:
            raise Invalid(f"there is no packaged fixture {fixture_name!r}; there is {', '.join(FIXTURES)}",
                          "fixture_name")
        if fixture_name == "demo" and week_start != MONDAY:
            raise Invalid("the demo fixture's hours are in weeks that start on Monday", "week_start")
        if ttl_seconds is not None and not ttl_seconds > 0:
            raise Invalid("ttl_seconds is a number of seconds above zero", "ttl_seconds")
        ttl = None if ttl_seconds is None else timedelta(seconds=ttl_seconds)
        code = None if code is None else code.strip()
        for attempt in range(3):
            chosen = code if code is not None else GENERATED_PREFIX + secrets.token_hex(5)
            users = self._users(chosen, fixture_name, administrator)
            real = self.clock()
            expires_at = None if ttl is None else real + max(ttl, LOADING_GRACE)
            try:
                uid = sandbox.create_account(self.environment, code=chosen, name=name, users=users,
                                             fixture_name=fixture_name, expires_at=expires_at, real=real,
                                             week_start=week_start)
            except Conflict:
                if code is not None or attempt == 2:
                    raise
                continue  # a generated code that was taken: draw another
            break
        if fixture_name == "demo":
            self._load(chosen, lambda: demo.load_tree(self.handle, real, chosen, users[0].password))
        # What a reset goes back to: the account as its creation leaves it.
        self._load(chosen, lambda: snapshots.take(self.environment, chosen, self.clock(), creation=True))
        if ttl is not None:
            sandbox.set_expiry(self.environment, chosen, self.clock() + ttl)
        return Created(chosen, uid, tuple(CreatedUser(u.login, u.password, u.display_name,
                                                 tuple(sorted(p.value for p in u.permissions))) for u in users))

    @staticmethod
    def _users(code: str, fixture_name: str | None, administrator: bool) -> list[NewUser]:
        if fixture_name == "demo":
            return [NewUser(u.login, u.display_name, u.reference_id, u.permissions, _password(), u.email,
                            generated=True) for u in demo.users_of(code)]
        if administrator:
            return [NewUser(f"admin@{code}", "Administrator", "ADMIN", ALL, _password(), generated=True)]
        return []

    def _load(self, code: str, load: Callable[[], object]) -> None:
        """Load a fixture into the new account; if that fails, the account goes again."""
        try:
            load()
        except BaseException:
            sandbox.discard(self.environment, code)
            raise

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

"""One request's work: its transaction, its caller, its instant.

``perform`` is the one place a request's transaction is opened: the session check and the
service run in it, all or nothing (a service that raises leaves nothing changed). The request's
real instant is read once, by whoever answers it (the SOAP dispatcher), and everything the request
does happens at that instant on its account's clock (``openpws.clock.RequestTime``), which the
session check enters.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from time import perf_counter
from typing import TYPE_CHECKING, TypeVar

from sqlalchemy import Connection
from sqlalchemy.exc import IntegrityError

from openpws.clock import RequestTime
from openpws.config import Settings
from openpws.services import sessions
from openpws.services.sessions import Caller
from openpws.store import changes as change_capture
from openpws.store.transactions import Store

if TYPE_CHECKING:
    from openpws.services.faults import Rules
    from openpws.services.rate_limits import Gate

V = TypeVar("V")
# How often a preview is run before a collision with concurrent writes is let through.
PREVIEW_ATTEMPTS = 3


def _at_once(work: Callable[[], None]) -> None:
    work()


@dataclass(frozen=True)
class Context:
    """What a service works with: the request's transaction, its caller (None before a session
    exists), its one instant (on the caller's account's clock) and the server's settings."""

    tx: Connection
    caller: Caller | None
    now: datetime
    settings: Settings = field(default_factory=Settings)
    # The request's time, for a service that finds its account itself (PwsAuthenticate) and
    # enters that account's clock; None for work done outside a request.
    time: RequestTime | None = None

    def request_time(self) -> RequestTime:
        return self.time if self.time is not None else RequestTime(self.now)

    @property
    def user(self) -> Caller:
        assert self.caller is not None, "an operation without a session asked for its caller"
        return self.caller


def _rules() -> Rules:
    from openpws.services.faults import Rules  # it builds on this module

    return Rules()


def _gate() -> Gate:
    from openpws.services.rate_limits import Gate  # it builds on this module

    return Gate()


@dataclass(frozen=True)
class Environment:
    store: Store
    settings: Settings
    # Runs work the answer does not wait for (by default at once; the server hands it to its pool).
    defer: Callable[[Callable[[], None]], None] = _at_once
    # The process's copy of the accounts' fault rules.
    faults: Rules = field(default_factory=_rules)
    # The process's copy of the rate limits of the accounts that have them on.
    rate_limits: Gate = field(default_factory=_gate)


def perform(environment: Environment, work: Callable[[Context], V], *, time: RequestTime, ticket: str | None,
            write: bool) -> V:
    """Run ``work`` at ``time`` in one transaction (a write transaction when ``write``), as the
    caller whose session ``ticket`` names (no session check when None).

    A write records what it changed in the change journal (``services.changes``), in the same
    transaction. A preview (``time.exchange.preview``) runs exactly the same and is then rolled
    back: the data, the row versions and the locks stay as they were, its session's last-seen time
    is not written, and what it would have changed is left on the exchange (``changes``)."""
    store, settings = environment.store, environment.settings
    exchange = time.exchange
    preview = exchange.preview
    recording = write and (preview or (settings.changes_on and exchange.request_id != 0))
    touch = False
    caller = None
    recorder = None
    # The transaction's time, from asking for it (a SQLite write may wait for the write lock) to
    # the end of COMMIT or ROLLBACK: the request's database time (/metrics). Timing each
    # statement instead (statements.TRACE) cost PwsGetClient about 8% more server CPU.
    started = perf_counter()
    # A preview on PostgreSQL takes the Uids and ids the sequences would hand out next without
    # taking them (store.changes.peek): a real write that takes one meanwhile makes the preview's
    # row collide with its own, and the preview runs again, past it.
    attempts = PREVIEW_ATTEMPTS if preview and write else 1
    try:
        for attempt in range(attempts):
            try:
                with store.write(commit=not preview) if write else store.read() as tx:
                    if recording:
                        recorder = change_capture.start(tx, preview=preview)
                    try:
                        if ticket is not None:
                            caller, touch = sessions.resolve(tx, settings, time, ticket)
                        now = time.now
                        result = work(Context(tx, caller, now, settings, time))
                        if recorder is not None:
                            _recorded(tx, settings, time, recorder)
                    finally:
                        if recorder is not None:
                            change_capture.stop(tx)
                break
            except IntegrityError:
                if attempt + 1 == attempts:
                    raise
    finally:
        exchange.database_seconds += perf_counter() - started
    if preview:
        if recorder is not None:
            from openpws.services import changes  # it builds on this module

            changes.record_preview(store, settings, time, recorder)
        return result
    if touch and caller is not None:
        # A read stays a read: the session's last-seen time is written afterwards, not waited for.
        toucher = caller

        def touch_session() -> None:
            with store.write() as tx:
                sessions.touch(tx, toucher, now)

        environment.defer(touch_session)
    return result


def _recorded(tx: Connection, settings: Settings, time: RequestTime, recorder: change_capture.Recorder) -> None:
    """What the write changed: its change-journal row, or a preview's tree (read before the rollback)."""
    from openpws.services import changes  # it builds on this module

    if recorder.preview:
        time.exchange.changes = changes.preview_tree(tx, time, recorder)
    elif recorder.parts:
        changes.record(tx, settings, time, recorder)

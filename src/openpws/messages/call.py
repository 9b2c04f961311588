"""Running one operation: its transaction, its session check, its handler.

Every request is one transaction: a handler that raises PwsError leaves nothing changed.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection

from openpws.config import Settings
from openpws.contract.record import Record
from openpws.errors import Message, RequestFault
from openpws.messages.common import lock_fault
from openpws.services import sessions
from openpws.services.locks import LockConflict
from openpws.services.sessions import Caller
from openpws.store.transactions import Store


@dataclass(frozen=True)
class Call:
    """What a handler works with: its transaction, the caller (None before a session exists)."""

    tx: Connection
    caller: Caller | None
    now: datetime
    settings: Settings

    @property
    def user(self) -> Caller:
        assert self.caller is not None, "handler declared session=False but needs a caller"
        return self.caller


@dataclass(frozen=True)
class Reply:
    """A handler's answer: the response type's own members (wire names) and any warnings."""

    members: Mapping[str, Any] = field(default_factory=dict)
    messages: tuple[Message, ...] = ()


@dataclass(frozen=True)
class Handler:
    run: Callable[[Call, Record], Reply]
    session: bool = True  # needs a valid SessionTicket
    write: bool = False  # changes data: runs in a write transaction
    # may take long however it is stored (a cascade over a whole tree, a password's key derivation):
    # never run on the server's event loop
    long: bool = False


def _now(work: Callable[[], None]) -> None:
    work()


@dataclass(frozen=True)
class Environment:
    store: Store
    settings: Settings
    # Runs work the answer does not wait for (by default at once; the server hands it to its pool).
    defer: Callable[[Callable[[], None]], None] = _now


def require(record: Record, name: str) -> Any:
    """A member the operation cannot do without: absent or nil is a malformed request."""
    value = record.get(name)
    if value is None or value == "":
        raise RequestFault(f"Element {record.qname_of(name)} is required.")
    return value


def execute(environment: Environment, handler: Handler, request: Record) -> Reply:
    now = datetime.now(UTC)
    ticket = require(request, "SessionTicket") if handler.session else None
    store = environment.store
    touch = False
    with store.write() if handler.write else store.read() as tx:
        caller = None
        if ticket is not None:
            caller, touch = sessions.resolve(tx, environment.settings, now, ticket)
        try:
            reply = handler.run(Call(tx, caller, now, environment.settings), request)
        except LockConflict as conflict:
            raise lock_fault(conflict) from None
    if touch and caller is not None:
        toucher = caller

        def touch_session() -> None:
            with store.write() as tx:
                sessions.touch(tx, toucher, now)

        environment.defer(touch_session)
    return reply

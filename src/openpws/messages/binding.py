"""What binds an operation of the contract to its service: how its request is decoded, which
service answers it, how the answer is encoded, and what kind of work it is.

``messages`` is the one layer that knows wire names. A binding's ``decode`` turns the request
(a Record of wire names) into the typed request its service takes; the service returns a typed
view; ``encode`` turns that into the response type's members. The service runs in the request's
one transaction (``openpws.services.context.perform``); decoding runs inside it too, after the
session check, so that a request with a bad ticket is answered as a session problem first.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from openpws.clock import RequestTime
from openpws.contract.record import Record
from openpws.errors import Message, RequestFault
from openpws.messages.common import lock_fault
from openpws.services.context import Context, Environment, perform
from openpws.services.locks import LockConflict

Rq = TypeVar("Rq")
V = TypeVar("V")


@dataclass(frozen=True)
class Reply:
    """An operation's answer: the response type's own members (wire names) and any warnings."""

    members: Mapping[str, Any] = field(default_factory=dict)
    messages: tuple[Message, ...] = ()


@dataclass(frozen=True)
class Binding(Generic[Rq, V]):
    decode: Callable[[Record], Rq]
    serve: Callable[[Context, Rq], V]
    encode: Callable[[V], Reply]
    session: bool = True  # needs a valid SessionTicket
    write: bool = False  # changes data: runs in a write transaction
    # may take long however it is stored (a cascade over a whole tree, a password's key
    # derivation): never run on the server's event loop
    long: bool = False
    # Members of the request that the contract accepts and openpws does not model, as paths of wire
    # names ("ProjectRole/Keywords"; a step into an array reaches each of its items). A request that
    # sends one is answered with the X-Openpws-Not-Modelled header naming it (messages.modelled).
    not_modelled: tuple[str, ...] = ()


def nothing(_request: Record) -> None:
    """The decoder of an operation whose request carries nothing but its session ticket."""


def empty(_view: object) -> Reply:
    """The encoder of an operation whose response carries nothing but the common members."""
    return Reply()


def require(record: Record, name: str) -> Any:
    """A member the operation cannot do without: absent or nil is a malformed request."""
    value = record.get(name)
    if value is None or value == "":
        raise RequestFault(f"Element {record.qname_of(name)} is required.")
    return value


def answer(environment: Environment, binding: Binding[Any, Any], request: Record, time: RequestTime) -> Reply:
    """Run one operation at ``time``: decode, serve in one transaction, encode."""
    ticket = require(request, "SessionTicket") if binding.session else None

    def work(context: Context) -> Any:
        return binding.serve(context, binding.decode(request))

    try:
        view = perform(environment, work, time=time, ticket=ticket, write=binding.write)
    except LockConflict as conflict:
        raise lock_fault(conflict) from None
    return binding.encode(view)

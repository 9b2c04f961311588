"""What binds an operation of the contract to its service: how its request is decoded, which
service answers it, how the answer is encoded, and what kind of work it is.

``messages`` is the one layer that knows wire names. A binding's ``decode`` turns the request
(a Record of wire names) into the typed request its service takes; the service returns a typed
view; ``encode`` turns that into the response type's members. The service runs in the request's
one transaction (``openpws.services.context.perform``); decoding runs inside it too, after the
session check, so that a request with a bad ticket is answered as a session problem first.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from openpws.clock import RequestTime
from openpws.contract.record import Record
from openpws.errors import Message, PwsError, RequestFault
from openpws.messages.common import lock_fault
from openpws.services.blockers import Blocker
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
    # A delete's blockers (services.blockers): everything in the tree that makes the request as
    # sent fail, which a preview of it lists when it would fail.
    blockers: Callable[[Context, Rq], Sequence[Blocker]] | None = None


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
        _blockers(environment, binding, request, time, ticket)
        raise lock_fault(conflict) from None
    except PwsError:
        _blockers(environment, binding, request, time, ticket)
        raise
    return binding.encode(view)


def _blockers(environment: Environment, binding: Binding[Any, Any], request: Record, time: RequestTime,
              ticket: str | None) -> None:
    """A preview of a delete that fails: every blocker of it, on the exchange, read in a
    transaction of its own (the delete's was rolled back by its failure)."""
    find = binding.blockers
    if not time.exchange.preview or find is None:
        return
    screen, time.screen = time.screen, None  # the fault rules had their say
    try:
        found = perform(environment, lambda context: find(context, binding.decode(request)), time=time,
                        ticket=ticket, write=False)
    except (PwsError, LockConflict, RequestFault):
        return  # what fails before the tree is reached is the response's own message
    finally:
        time.screen = screen
    time.exchange.blockers = [blocker.json() for blocker in found]

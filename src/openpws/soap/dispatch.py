"""From request bytes to response bytes: parse, find the operation, check SOAPAction, decode,
run, encode. This is the one place where errors of every kind become SOAP (through
``openpws.soap.faults``), and where the clock is read: once for the instant the request's work
happens at, and again for the response's ServerTimestampUtc (the moment it is written, after the
work: a client that lists what changed since that timestamp does not see its own write again).
Both are real instants shown on the clock of the request's account (``openpws.clock``), which
the request's work enters once it knows the account; the timestamp of a request that never got
that far is real time.

Each call also fills in its ``Exchange`` (``openpws.exchange``): the operation, the Status it was
answered with (a fault's faultcode, or PwsFault), its error numbers and who it acted as, for the
server's metrics, request log and request journal."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Generic, Protocol, TypeVar

from openpws.clock import RequestTime, real_now
from openpws.contract import Contract, Operation, ns
from openpws.contract.record import Record
from openpws.errors import InjectedFault, Message, PwsError, PwsFault, RequestFault
from openpws.exchange import CLIENT_FAULT, DROPPED, PWS_FAULT, SERVER_FAULT, Exchange
from openpws.soap import faults
from openpws.soap.codec import ANY_ORDER, Encoder, decode
from openpws.soap.envelope import body_payload, response
from openpws.soap.xml import parse_message

log = logging.getLogger("openpws")

H = TypeVar("H")
_PWS_FAULT = ns.qname(ns.COMMON, "PwsFault")


@dataclass(frozen=True)
class Prepared(Generic[H]):
    """A request that was read and checked, and the handler that will answer it."""

    operation: Operation
    request: Record
    handler: H
    # the members it sent that openpws accepts but does not model (the X-Openpws-Not-Modelled header)
    not_modelled: tuple[str, ...] = ()
    # what the server's observers learn of it (filled in as it is answered)
    exchange: Exchange = field(default_factory=Exchange)


class ContractMismatch(RuntimeError):
    """The handler table and the WSDL disagree: the server refuses to start."""


class Outcome(Protocol):
    """What a runner returns: the response type's own members and the warnings to report."""

    @property
    def members(self) -> Mapping[str, Any]: ...

    @property
    def messages(self) -> tuple[Message, ...]: ...


def check_handlers(contract: Contract, handlers: Mapping[str, object]) -> None:
    missing = sorted(set(contract.operations) - set(handlers))
    extra = sorted(set(handlers) - set(contract.operations))
    if missing or extra:
        raise ContractMismatch(
            f"operations without a handler: {missing or 'none'}; handlers without an operation: {extra or 'none'}"
        )


def _nothing_unmodelled(_operation: str, _request: Record) -> tuple[str, ...]:
    return ()


class Dispatcher(Generic[H]):
    def __init__(self, contract: Contract, handlers: Mapping[str, H],
                 runner: Callable[[H, Record, RequestTime, str], Outcome], *,
                 clock: Callable[[], datetime] = real_now, strict_order: bool = True,
                 not_modelled: Callable[[str, Record], tuple[str, ...]] = _nothing_unmodelled) -> None:
        check_handlers(contract, handlers)
        self.contract = contract
        self.handlers = handlers
        self.runner = runner
        self.clock = clock
        # Which members of a decoded request openpws does not model (messages.modelled knows them).
        self.not_modelled = not_modelled
        self.encoder = Encoder(contract.types)
        # Strict: members out of production's order are a client fault (OPENPWS_MEMBER_ORDER).
        self.order = contract.positions if strict_order else ANY_ORDER

    def handle(self, body: bytes, soap_action: str | None) -> tuple[int, bytes]:
        """Answer one POSTed message: (HTTP status, response envelope)."""
        prepared = self.prepare(body, soap_action)
        return prepared if isinstance(prepared, tuple) else self.finish(prepared)

    def prepare(self, body: bytes, soap_action: str | None,
                exchange: Exchange | None = None) -> Prepared[H] | tuple[int, bytes]:
        """Parse and check a message: the call to run, or at once the fault that answers it."""
        exchange = Exchange() if exchange is None else exchange
        try:
            operation, request = self._read(body, soap_action, exchange)
            unmodelled = self.not_modelled(operation.name, request)
        except RequestFault as error:
            exchange.status = CLIENT_FAULT
            return 500, faults.client_fault(str(error))
        except Exception:
            log.exception("unexpected error while reading a request")
            exchange.status = SERVER_FAULT
            return 500, faults.server_fault()
        exchange.not_modelled = unmodelled
        return Prepared(operation, request, self.handlers[operation.name], unmodelled, exchange)

    def finish(self, prepared: Prepared[H]) -> tuple[int, bytes]:
        """Run a prepared call and answer it: (HTTP status, response envelope)."""
        operation, request, exchange = prepared.operation, prepared.request, prepared.exchange
        time: RequestTime | None = None
        try:
            request_id = request.get("RequestId") or 0
            time = RequestTime(self.clock(), exchange=exchange)
            try:
                outcome = self.runner(prepared.handler, request, time, operation.name)
            except PwsError as error:
                status, messages = faults.failure(error)
                answer = self._respond(operation, request_id, time, status, messages, {})
                exchange.status, exchange.errors = status, _numbers(error.messages)
                return 200, answer
            except PwsFault as error:
                answer = self._pws_fault(operation, request_id, error)
                exchange.status, exchange.errors = PWS_FAULT, _numbers((error.message,))
                return 500, answer
            except InjectedFault as error:
                return _injected(error, exchange)
            status = faults.status_of(outcome.messages)
            answer = self._respond(operation, request_id, time, status, faults.message_values(outcome.messages),
                                   outcome.members)
            exchange.status, exchange.errors = status, _numbers(outcome.messages)
            return 200, answer
        except RequestFault as error:
            exchange.status, exchange.errors = CLIENT_FAULT, ()
            return 500, faults.client_fault(str(error))
        except Exception:
            log.exception("unexpected error while answering a request")
            exchange.status, exchange.errors = SERVER_FAULT, ()
            return 500, faults.server_fault()
        finally:
            if time is not None:
                exchange.real, exchange.account_time = time.real, time.now

    def _read(self, body: bytes, soap_action: str | None, exchange: Exchange) -> tuple[Operation, Record]:
        payload = body_payload(parse_message(body))
        operation = self.contract.by_element.get(payload.tag)
        if operation is None:
            raise RequestFault(f"The service has no operation {payload.tag}.")
        exchange.operation = operation.name
        action = (soap_action or "").strip().strip('"')
        if action not in ("", "*", operation.soap_action):
            raise RequestFault(
                f"The SOAPAction {action!r} does not match the operation in the body, "
                f"{operation.name} (SOAPAction {operation.soap_action!r})."
            )
        wrapper = self.contract.types.complex(operation.input_element)
        found = decode(payload, wrapper, self.contract.types, self.order)
        request = found.get("serviceRequest")
        if request is None:
            raise RequestFault(f"Element {ns.qname(ns.PWS, 'serviceRequest')} is required.")
        assert isinstance(request, Record)
        return operation, request

    def _pws_fault(self, operation: Operation, request_id: int, error: PwsFault) -> bytes:
        values = {**error.members, "Messages": faults.message_values([error.message]), "ResponseId": request_id,
                  "ServiceName": operation.response_type[1:].partition("}")[2]}
        detail = self.encoder.standalone(_PWS_FAULT, self.contract.types.complex(_PWS_FAULT), values)
        return faults.pws_fault(detail, error.message.text)

    def _respond(self, operation: Operation, request_id: int, time: RequestTime, status: str,
                 messages: list[dict[str, Any]], members: Mapping[str, Any]) -> bytes:
        values = {
            **members,
            "Messages": messages,
            "ResponseId": request_id,
            "Status": status,
            "ServerTimestampUtc": time.clock.at(self.clock()),
        }
        result = self.encoder.result(ns.qname(ns.PWS, operation.result_member),
                                     self.contract.types.complex(operation.response_type), values)
        return response(operation.output_element, result)


def _injected(error: InjectedFault, exchange: Exchange) -> tuple[int, bytes]:
    """A fault rule's answer that is no PWS message. A dropped connection is status 0: the HTTP
    edge closes the connection instead of answering."""
    if error.drop:
        exchange.status = DROPPED
        return 0, b""
    if error.http_status is not None:
        exchange.status = f"HTTP {error.http_status}"
        return error.http_status, b""
    if error.soap_fault == "Client":
        exchange.status = CLIENT_FAULT
        return 500, faults.client_fault("The request was refused (an injected fault).")
    exchange.status = SERVER_FAULT
    return 500, faults.server_fault()


def _numbers(messages: tuple[Message, ...]) -> tuple[int, ...]:
    return tuple(m.entry.number for m in messages) if messages else ()

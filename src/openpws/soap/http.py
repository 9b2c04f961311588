"""The HTTP edge, as a plain ASGI application.

    GET  /OpsProjectorWcfSvc/PwsProjectorServices.svc?wsdl         the WSDL (addresses rewritten)
    GET  …svc?xsd=xsdN                                              its schema parts (likewise)
    GET  …svc?singleWsdl                                            WSDL and schemas in one document
    POST …svc                                                       SOAP 1.1 requests
    GET  /health                                                    "ok" (readiness; a trivial endpoint)
    *    a mounted prefix (e.g. /_openpws/)                         the application mounted there

ASGI servers set no limit on request bodies, so the limit is enforced here, before parsing, on
the declared Content-Length and again on the bytes actually received. Malformed requests are
answered here at once; a call is handed to ``run`` (``openpws.runner`` decides where it runs).

Every POST gets an id (``X-Openpws-Request-Id``, from ``next_id``: the id of its request-journal
entry) and an ``Exchange``, which, once the response is out, goes to ``observe`` (the metrics,
the request log and the request journal, ``openpws.observability``).

An account's fault rules (``services.faults``) may hold an answer back (a delay, slept here, off
the worker threads) or drop the connection: ASGI has no way to close a connection before the
response starts, so the status line and headers go out and then ``ConnectionDropped`` is raised,
which makes the server close the connection before the body. The server would log that as an
error; ``QuietDrops`` keeps it out of its log.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
from collections.abc import Awaitable, Callable, Coroutine, MutableMapping, Sequence
from typing import Any
from urllib.parse import parse_qsl

from openpws.contract import Contract
from openpws.exchange import CLIENT_FAULT, Exchange
from openpws.soap import faults
from openpws.soap.dispatch import Dispatcher, Prepared

SERVICE_PATH = "/OpsProjectorWcfSvc/PwsProjectorServices.svc"
XML = b"text/xml; charset=utf-8"
NOT_MODELLED = b"x-openpws-not-modelled"  # X-Openpws-Not-Modelled (ASGI header names are lower case)
REQUEST_ID = b"x-openpws-request-id"  # X-Openpws-Request-Id: the id of the exchange's journal entry
# X-Openpws-Preview: true asks for a preview (the work is done, answered and rolled back); the
# response says it was one with the same header.
PREVIEW = b"x-openpws-preview"
_YES, _NO = (b"true", b"1", b"yes"), (b"false", b"0", b"no", b"")

Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]
App = Callable[[Scope, Receive, Send], Awaitable[None]]


class BodyTooLarge(Exception):
    pass


class ConnectionDropped(Exception):
    """A fault rule's answer: the connection closes without the response's body."""


class QuietDrops(logging.Filter):
    """Leaves out the ASGI server's report of a connection a fault rule dropped."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not (record.exc_info and isinstance(record.exc_info[1], ConnectionDropped))


def _unobserved(_exchange: Exchange) -> None:
    pass


class SoapApp:
    def __init__(self, contract: Contract, dispatcher: Dispatcher[Any],
                 run: Callable[[Prepared[Any]], Awaitable[tuple[int, bytes]]], *, max_body_bytes: int,
                 on_shutdown: Callable[[], None], mounts: Sequence[tuple[str, App]] = (),
                 background: Sequence[Callable[[], Coroutine[Any, Any, None]]] = (),
                 observe: Callable[[Exchange], None] = _unobserved,
                 next_id: Callable[[], int] | None = None) -> None:
        self.contract = contract
        self.dispatcher = dispatcher
        # Answers a prepared call, on the event loop or on a worker thread (the runner decides).
        self.run = run
        self.max_body_bytes = max_body_bytes
        self.on_shutdown = on_shutdown
        # (path prefix, application): each is handed the requests under its prefix, whole scope
        # and all. They are looked at only once a path is not the PWS endpoint's.
        self.mounts = tuple(mounts)
        # Work the process runs from startup to shutdown (the sweep of expired accounts).
        self.background = tuple(background)
        # Told of every PWS exchange once its response is out (it must not raise).
        self.observe = observe
        # The id of the next PWS exchange (the request journal's numbering, unique across processes).
        # Without one (an application of no journal) a process-local count.
        self.next_id = next_id if next_id is not None else itertools.count(1).__next__
        self._tasks: list[asyncio.Task[None]] = []
        for name in ("uvicorn.error", "uvicorn"):
            logger = logging.getLogger(name)
            if not any(isinstance(f, QuietDrops) for f in logger.filters):
                logger.addFilter(QuietDrops())

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
            return
        if scope["type"] != "http":
            return
        path, method = scope["path"], scope["method"]
        if path.lower() == SERVICE_PATH.lower():
            if method == "POST":
                await self._soap(scope, receive, send)
            elif method in ("GET", "HEAD"):
                await self._metadata(scope, send)
            else:
                await _reply(send, 405, b"text/plain; charset=utf-8", b"Use GET for metadata or POST for SOAP.\n",
                             [(b"allow", b"GET, HEAD, POST")])
        elif path == "/health" and method in ("GET", "HEAD"):
            await _reply(send, 200, b"text/plain; charset=utf-8", b"ok\n")
        else:
            for prefix, app in self.mounts:
                if path.startswith(prefix):
                    await app(scope, receive, send)
                    return
            await _reply(send, 404, b"text/plain; charset=utf-8",
                         f"Not found. The PWS endpoint is {SERVICE_PATH}\n".encode())

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            event = await receive()
            if event["type"] == "lifespan.startup":
                self._tasks = [asyncio.create_task(work()) for work in self.background]
                await send({"type": "lifespan.startup.complete"})
            elif event["type"] == "lifespan.shutdown":
                for task in self._tasks:
                    task.cancel()
                await asyncio.gather(*self._tasks, return_exceptions=True)
                self.on_shutdown()
                await send({"type": "lifespan.shutdown.complete"})
                return

    async def _soap(self, scope: Scope, receive: Receive, send: Send) -> None:
        exchange = Exchange(self.next_id())
        http_status = 500  # unless answered: what escapes is a server error
        try:
            http_status = await self._answer(scope, receive, send, exchange)
        except ConnectionDropped:
            http_status = 0  # no answer
            raise
        finally:
            exchange.answered(http_status)
            self.observe(exchange)

    async def _answer(self, scope: Scope, receive: Receive, send: Send, exchange: Exchange) -> int:
        """Answer one POST: the HTTP status it was answered with."""
        headers = _headers(scope)
        extra = [(REQUEST_ID, str(exchange.request_id).encode("ascii"))]
        if headers.get(b"content-encoding", b"identity").lower() not in (b"identity", b""):
            exchange.status = CLIENT_FAULT
            return await _respond(send, exchange, 500, faults.client_fault(
                "Compressed request bodies (Content-Encoding) are not accepted; send plain XML."), extra)
        if b"application/soap+xml" in headers.get(b"content-type", b"").lower():
            exchange.status = CLIENT_FAULT
            return await _respond(send, exchange, 500, faults.client_fault(
                "SOAP 1.2 (application/soap+xml) is not supported: send SOAP 1.1 as text/xml."), extra)
        try:
            body = await self._read_body(headers, receive)
        except BodyTooLarge:
            exchange.status = CLIENT_FAULT
            return await _respond(send, exchange, 413, faults.client_fault(
                f"The request body is larger than the limit of {self.max_body_bytes} bytes."),
                [*extra, (b"connection", b"close")])
        exchange.request = body
        preview = headers.get(PREVIEW, b"").strip().lower()
        if preview not in _YES + _NO:
            exchange.status = CLIENT_FAULT
            return await _respond(send, exchange, 500, faults.client_fault(
                "The header X-Openpws-Preview must be true or false."), extra)
        if preview in _YES:
            exchange.preview = True
            extra.append((PREVIEW, b"true"))
        action = headers.get(b"soapaction")
        prepared = self.dispatcher.prepare(body, action.decode("latin-1") if action is not None else None, exchange)
        if isinstance(prepared, tuple):
            status, payload = prepared
            return await _respond(send, exchange, status, payload, extra)
        status, payload = await self.run(prepared)
        if exchange.delay_seconds:
            await asyncio.sleep(exchange.delay_seconds)
        if status == 0:  # dropped (soap.dispatch)
            await send({"type": "http.response.start", "status": 200,
                        "headers": [(b"content-type", XML), (b"content-length", b"1000")]})
            raise ConnectionDropped
        if prepared.not_modelled:
            # Members are wire names (ASCII): the header lists those sent that openpws does not model.
            extra.append((NOT_MODELLED, ", ".join(prepared.not_modelled).encode("ascii")))
        return await _respond(send, exchange, status, payload, extra)

    async def _read_body(self, headers: dict[bytes, bytes], receive: Receive) -> bytes:
        declared = headers.get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_body_bytes:
            raise BodyTooLarge
        chunks: list[bytes] = []
        size = 0
        while True:
            event = await receive()
            if event["type"] == "http.disconnect":
                break
            chunk = event.get("body", b"")
            size += len(chunk)
            if size > self.max_body_bytes:
                raise BodyTooLarge
            chunks.append(chunk)
            if not event.get("more_body", False):
                break
        return b"".join(chunks)

    async def _metadata(self, scope: Scope, send: Send) -> None:
        query = {k.lower(): v for k, v in parse_qsl(scope.get("query_string", b"").decode("latin-1"),
                                                    keep_blank_values=True)}
        address = _address(scope)
        if "wsdl" in query:
            await _reply(send, 200, XML, self.contract.served_wsdl(address))
        elif "singlewsdl" in query:
            await _reply(send, 200, XML, self.contract.served_wsdl(address, single=True))
        elif "xsd" in query:
            schema = self.contract.served_schema(query["xsd"], address)
            if schema is None:
                await _reply(send, 404, b"text/plain; charset=utf-8", b"No such schema part.\n")
            else:
                await _reply(send, 200, XML, schema)
        else:
            page = (
                "<html><head><title>PwsProjectorServices</title></head><body>"
                "<h1>PwsProjectorServices</h1><p>This is a PWS SOAP 1.1 endpoint. Its contract: "
                f'<a href="{SERVICE_PATH}?wsdl">?wsdl</a> or <a href="{SERVICE_PATH}?singleWsdl">?singleWsdl</a>.'
                "</p></body></html>"
            )
            await _reply(send, 200, b"text/html; charset=utf-8", page.encode())


def _headers(scope: Scope) -> dict[bytes, bytes]:
    return {name.lower(): value for name, value in scope.get("headers", [])}


def _address(scope: Scope) -> str:
    """The service address as the client reached it (for soap:address)."""
    host = _headers(scope).get(b"host")
    if host is None:
        server = scope.get("server") or ("localhost", None)
        name = f"{server[0]}:{server[1]}" if server[1] else str(server[0])
    else:
        name = host.decode("latin-1")
    return f"{scope.get('scheme', 'http')}://{name}{scope.get('root_path', '')}{SERVICE_PATH}"


async def _respond(send: Send, exchange: Exchange, status: int, envelope: bytes,
                   extra: list[tuple[bytes, bytes]]) -> int:
    exchange.response = envelope
    return await _reply(send, status, XML, envelope, extra)


async def _reply(send: Send, status: int, content_type: bytes, body: bytes,
                 extra: list[tuple[bytes, bytes]] | None = None) -> int:
    headers = [(b"content-type", content_type), (b"content-length", str(len(body)).encode()), *(extra or [])]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
    return status

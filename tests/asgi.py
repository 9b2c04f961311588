"""Serving an ASGI application in-process, with HTTP semantics and no socket.

``AsgiTransport`` is an httpx transport: the application runs on an event loop in a thread of its
own (the application hands work to a thread pool from that loop, as under uvicorn), it is sent
the lifespan startup event when the transport opens and shutdown when it closes, and each request
reaches it as an HTTP server hands it over: method, path, query string and headers (the client's
own, SOAPAction and Content-Length included) in the scope, the body in the chunks the client sent,
and http.disconnect once the response is out. A HEAD response loses its body, as on the wire.
Several threads may send requests at once; they are served concurrently on the one loop.

An exception the application lets out is raised in the test that made the request (a server
would log it and answer 500 Internal Server Error), so that it cannot go unnoticed.

``RequestsAdapter`` lets a ``requests`` session (zeep's transport) use the same application.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
from collections.abc import Callable, Iterator, MutableMapping
from contextlib import AbstractContextManager
from typing import Any
from urllib.parse import unquote

import anyio.from_thread
import httpx
import requests
import requests.adapters
import requests.structures
import requests.utils

Message = MutableMapping[str, Any]
App = Callable[..., Any]

# Long enough for the slowest request of the suite under load; a hung request fails instead of hanging.
REQUEST_TIMEOUT = 120.0


class AsgiTransport(httpx.BaseTransport):
    def __init__(self, app: App, *, client: tuple[str, int] = ("127.0.0.1", 50000)) -> None:
        self.app = app
        self.client = client
        self._portal_cm: AbstractContextManager[anyio.from_thread.BlockingPortal] = (
            anyio.from_thread.start_blocking_portal("asyncio", {"use_uvloop": True}))  # as uvicorn runs it
        self.portal = self._portal_cm.__enter__()
        self._lifespan_events: asyncio.Queue[Message] | None = None
        self._lifespan_replies: asyncio.Queue[Message] | None = None
        self._lifespan: concurrent.futures.Future[None] | None = None
        self._closed = False
        try:
            self._lifespan_step("startup")
        except BaseException:
            self._stop()
            raise

    # --- lifespan --------------------------------------------------------------------------------

    def _lifespan_step(self, step: str) -> None:
        if self._lifespan is None:
            self._lifespan_events, self._lifespan_replies = self.portal.call(_queues)
            self._lifespan = self.portal.start_task_soon(self._run_lifespan)
        assert self._lifespan_events is not None and self._lifespan_replies is not None
        self.portal.call(self._lifespan_events.put, {"type": f"lifespan.{step}"})
        reply = self.portal.call(_get, self._lifespan_replies, self._lifespan)
        if reply["type"] != f"lifespan.{step}.complete":
            raise RuntimeError(f"the application's lifespan {step} failed: {reply}")

    async def _run_lifespan(self) -> None:
        assert self._lifespan_events is not None and self._lifespan_replies is not None
        scope = {"type": "lifespan", "asgi": {"version": "3.0", "spec_version": "2.0"}, "state": {}}
        await self.app(scope, self._lifespan_events.get, self._lifespan_replies.put)

    # --- requests --------------------------------------------------------------------------------

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if self._closed:
            raise RuntimeError("the in-process server is closed")
        pending = self.portal.start_task_soon(self._serve, request)
        try:
            status, headers, body = pending.result(timeout=REQUEST_TIMEOUT)
        except concurrent.futures.TimeoutError:
            pending.cancel()
            raise httpx.ReadTimeout(f"no answer within {REQUEST_TIMEOUT} s", request=request) from None
        return httpx.Response(status, headers=headers, stream=httpx.ByteStream(body), request=request)

    async def _serve(self, request: httpx.Request) -> tuple[int, list[tuple[bytes, bytes]], bytes]:
        url = request.url
        raw_path, _, _ = url.raw_path.partition(b"?")
        scope = {
            "type": "http", "asgi": {"version": "3.0", "spec_version": "2.3"}, "http_version": "1.1",
            "method": request.method, "scheme": url.scheme, "path": unquote(raw_path.decode("ascii")),
            "raw_path": raw_path, "query_string": url.query, "root_path": "",
            "headers": [(name.lower(), value) for name, value in request.headers.raw],
            "client": self.client, "server": (url.host, url.port or (443 if url.scheme == "https" else 80)),
            "state": {},
        }
        chunks = _chunks(request)
        following = next(chunks, None)
        body_done = False
        responded = asyncio.Event()

        async def receive() -> Message:
            nonlocal following, body_done
            if body_done:
                await responded.wait()  # as a server does: the client goes once it has its answer
                return {"type": "http.disconnect"}
            chunk, following = following or b"", next(chunks, None)
            body_done = following is None
            return {"type": "http.request", "body": chunk, "more_body": not body_done}

        status: int | None = None
        headers: list[tuple[bytes, bytes]] = []
        body: list[bytes] = []

        async def send(message: Message) -> None:
            nonlocal status, headers
            if message["type"] == "http.response.start":
                if status is not None:
                    raise RuntimeError("the response was started twice")
                status, headers = message["status"], [(bytes(k), bytes(v)) for k, v in message.get("headers", [])]
            elif message["type"] == "http.response.body":
                if status is None or responded.is_set():
                    raise RuntimeError("response body sent before its start or after its end")
                body.append(bytes(message.get("body", b"")))
                if not message.get("more_body", False):
                    responded.set()

        await self.app(scope, receive, send)
        if status is None or not responded.is_set():
            raise RuntimeError(f"the application left {request.method} {url} without a complete response")
        return status, headers, b"" if request.method == "HEAD" else b"".join(body)

    # --- closing ---------------------------------------------------------------------------------

    def shutdown(self) -> None:
        """Send the lifespan shutdown event and stop the event loop (the transport's end)."""
        if self._closed:
            return
        self._closed = True
        try:
            self._lifespan_step("shutdown")
            assert self._lifespan is not None
            self._lifespan.result(timeout=REQUEST_TIMEOUT)
        finally:
            self._stop()

    def _stop(self) -> None:
        self._closed = True
        self.portal.call(self.portal.stop, True)  # cancels whatever is still running on the loop
        self._portal_cm.__exit__(None, None, None)

    def close(self) -> None:
        """A client closing: the application keeps running for the other clients."""


def _chunks(request: httpx.Request) -> Iterator[bytes]:
    """The request body as the client streams it (a generator's pieces, or the whole at once)."""
    stream = request.stream
    assert isinstance(stream, httpx.SyncByteStream), "a sync client"
    return (bytes(chunk) for chunk in stream if chunk)


async def _queues() -> tuple[asyncio.Queue[Message], asyncio.Queue[Message]]:
    return asyncio.Queue(), asyncio.Queue()


async def _get(queue: asyncio.Queue[Message], task: concurrent.futures.Future[None]) -> Message:
    """The application's next lifespan message; its failure if it ends instead."""
    while True:
        try:
            return await asyncio.wait_for(queue.get(), timeout=0.1)
        except TimeoutError:
            if task.done():
                task.result()
                raise RuntimeError("the application's lifespan ended without an answer") from None


class RequestsAdapter(requests.adapters.BaseAdapter):
    """Sends a ``requests`` session's requests through an httpx transport (for zeep)."""

    def __init__(self, transport: httpx.BaseTransport) -> None:
        super().__init__()
        self.transport = transport

    def send(self, request: requests.PreparedRequest, stream: bool = False, timeout: Any = None,
             verify: Any = True, cert: Any = None, proxies: Any = None) -> requests.Response:
        body = request.body.encode() if isinstance(request.body, str) else (request.body or b"")
        answer = self.transport.handle_request(httpx.Request(
            request.method or "GET", request.url or "", headers=list(request.headers.items()), content=body))
        response = requests.Response()
        response.status_code = answer.status_code
        response.reason = answer.reason_phrase
        response.headers = requests.structures.CaseInsensitiveDict(answer.headers)
        response._content = answer.read()
        response.encoding = requests.utils.get_encoding_from_headers(response.headers)
        response.url = request.url or ""
        response.request = request
        return response

    def close(self) -> None:
        """The transport belongs to the test session, not to the adapter."""

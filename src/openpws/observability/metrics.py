"""``/metrics``: the server's counters and histograms in Prometheus's text format.

    openpws_requests_total{operation,status}           requests answered, by Status (Ok, Fail, …,
                                                       s:Client, s:Server, PwsFault)
    openpws_errors_total{operation,error}              error numbers in the answers (warnings too)
    openpws_request_duration_seconds{operation}        from the request's arrival to its response
    openpws_database_seconds{operation}                the time its transaction lasted

With several worker processes (``openpws serve --workers N``) each keeps its values in files of
one directory, ``PROMETHEUS_MULTIPROC_DIR`` (prometheus_client's multiprocess mode), and whichever
worker answers ``/metrics`` sums them all. ``openpws serve`` makes that directory for its workers
and removes it when they stop; one set by the operator is used as it is. The choice is the
library's, made when prometheus_client is first imported, so it is read back from it here.

A request's database time is the time its transaction lasted, from BEGIN to the end of COMMIT
(``Store.transaction_seconds``): its statements and what the service did between them.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, generate_latest, values
from prometheus_client.multiprocess import MultiProcessCollector

from openpws.exchange import Exchange

MULTIPROCESS_DIR = "PROMETHEUS_MULTIPROC_DIR"
PATH = "/metrics"
# A PWS call takes from under a millisecond (a read on SQLite) to seconds (a cascade).
LATENCY_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
DATABASE_BUCKETS = (0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5)


def multiprocess_dir() -> str | None:
    """The directory of multiprocess mode when prometheus_client runs in it, else None."""
    if values.ValueClass is values.MutexValue:  # chosen at its import, from the environment then
        return None
    return os.environ.get(MULTIPROCESS_DIR)


@contextmanager
def shared_by_workers(workers: int) -> Iterator[None]:
    """For ``workers`` server processes (started inside the block, after this sets the
    environment they inherit): a scratch directory for their metrics, removed afterwards. One
    process needs none; a directory the operator set is left alone."""
    if workers == 1 or os.environ.get(MULTIPROCESS_DIR):
        yield
        return
    path = tempfile.mkdtemp(prefix="openpws-metrics-")
    os.environ[MULTIPROCESS_DIR] = path
    try:
        yield
    finally:
        os.environ.pop(MULTIPROCESS_DIR, None)
        shutil.rmtree(path, ignore_errors=True)


class Metrics:
    """The metrics of one server process, and the ASGI application that serves ``/metrics``."""

    def __init__(self) -> None:
        shared = multiprocess_dir()
        # In multiprocess mode values live in the directory's files, collected from there; the
        # metrics themselves are registered nowhere (collecting them too would count twice).
        own = None if shared else CollectorRegistry()
        self.requests = Counter("openpws_requests", "PWS requests answered, by operation and Status "
                                "(a SOAP fault's faultcode, or PwsFault, for the faults).",
                                ("operation", "status"), registry=own)
        self.errors = Counter("openpws_errors", "Error numbers in PWS answers (warnings' included), by operation.",
                              ("operation", "error"), registry=own)
        self.duration = Histogram("openpws_request_duration_seconds",
                                  "Time from a PWS request's arrival to its response, by operation.",
                                  ("operation",), buckets=LATENCY_BUCKETS, registry=own)
        self.database = Histogram("openpws_database_seconds",
                                  "Time a PWS request's database transaction lasted (BEGIN to the end of COMMIT: "
                                  "its statements and the work between them), by operation.",
                                  ("operation",), buckets=DATABASE_BUCKETS, registry=own)
        if shared:
            self.registry = CollectorRegistry()
            MultiProcessCollector(self.registry, path=shared)  # type: ignore[no-untyped-call]
        else:
            assert own is not None
            self.registry = own
        # Labelled children, kept: looking one up through ``labels`` costs more than the increment.
        self._counted: dict[tuple[str, str], Any] = {}
        self._timed: dict[str, tuple[Any, Any]] = {}

    def record(self, exchange: Exchange) -> None:
        """Count one answered exchange (on the event loop, after its response is out)."""
        operation = exchange.operation
        key = (operation, exchange.status)
        counted = self._counted.get(key)
        if counted is None:
            counted = self._counted[key] = self.requests.labels(operation, exchange.status)
        counted.inc()
        timed = self._timed.get(operation)
        if timed is None:
            timed = self._timed[operation] = (self.duration.labels(operation), self.database.labels(operation))
        timed[0].observe(exchange.seconds)
        timed[1].observe(exchange.database_seconds)
        for number in exchange.errors:
            self.errors.labels(operation, str(number)).inc()

    def exposition(self) -> bytes:
        """The metrics in Prometheus's text format (every worker's, in multiprocess mode)."""
        return generate_latest(self.registry)

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["path"] != PATH:
            status, content_type, body = 404, b"text/plain; charset=utf-8", b"Not found.\n"
        elif scope["method"] not in ("GET", "HEAD"):
            status, content_type, body = 405, b"text/plain; charset=utf-8", b"Use GET.\n"
        else:
            status, content_type, body = 200, CONTENT_TYPE_LATEST.encode(), self.exposition()
        await send({"type": "http.response.start", "status": status,
                    "headers": [(b"content-type", content_type), (b"content-length", str(len(body)).encode())]})
        await send({"type": "http.response.body", "body": body})

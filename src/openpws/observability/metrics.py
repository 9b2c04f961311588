"""``/metrics``: the server's counters and histograms in Prometheus's text format.

    openpws_requests_total{operation,status}           requests answered, by Status (Ok, Fail, …,
                                                       s:Client, s:Server, PwsFault)
    openpws_errors_total{operation,error}              error numbers in the answers (warnings too)
    openpws_request_duration_seconds{operation}        from the request's arrival to its response
    openpws_database_seconds{operation}                the time its transaction lasted

One process keeps its counts itself (``Tallies``) and hands them to prometheus_client when
scraped. With several worker processes (``openpws serve --workers N``) each keeps its values in
files of one directory, ``PROMETHEUS_MULTIPROC_DIR`` (prometheus_client's multiprocess mode), and whichever
worker answers ``/metrics`` sums them all. ``openpws serve`` makes that directory for its workers
and removes it when they stop; one set by the operator is used as it is. The choice is the
library's, made when prometheus_client is first imported, so it is read back from it here.

A request's database time is the time its transaction lasted, from asking for it to the end of
COMMIT (``services.context.perform`` times it): its statements and what the service did between
them.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from bisect import bisect_left
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from itertools import accumulate
from typing import Any

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, generate_latest, values
from prometheus_client.core import CounterMetricFamily, HistogramMetricFamily, Metric
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.utils import floatToGoString

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


REQUESTS_HELP = ("PWS requests answered, by operation and Status (a SOAP fault's faultcode, or PwsFault, for the "
                 "faults).")
ERRORS_HELP = "Error numbers in PWS answers (warnings' included), by operation."
DURATION_HELP = "Time from a PWS request's arrival to its response, by operation."
DATABASE_HELP = ("Time a PWS request's database transaction lasted (from asking for it to the end of COMMIT: its "
                 "statements and the work between them), by operation.")


class Tallies:
    """One process's counts in plain dictionaries, handed to prometheus_client as a collector
    when scraped. Only the event loop's thread touches them (it records each exchange and answers
    /metrics), so they take no lock: counting through prometheus_client's own metrics (a lock
    and a check per value) cost PwsGetClient about 2 µs of server CPU, this a quarter of that."""

    def __init__(self) -> None:
        self.requests: dict[tuple[str, str], int] = {}
        self.errors: dict[tuple[str, str], int] = {}
        # per operation: bucket counts (not cumulative; the last is +Inf) and sums, of both histograms
        self.histograms: dict[str, tuple[list[int], list[int], list[float]]] = {}

    def record(self, exchange: Exchange) -> None:
        operation = exchange.operation
        key = (operation, exchange.status)
        self.requests[key] = self.requests.get(key, 0) + 1
        kept = self.histograms.get(operation)
        if kept is None:
            kept = self.histograms[operation] = ([0] * (len(LATENCY_BUCKETS) + 1),
                                                 [0] * (len(DATABASE_BUCKETS) + 1), [0.0, 0.0])
        durations, databases, sums = kept
        durations[bisect_left(LATENCY_BUCKETS, exchange.seconds)] += 1  # the first bucket whose bound >= it
        databases[bisect_left(DATABASE_BUCKETS, exchange.database_seconds)] += 1
        sums[0] += exchange.seconds
        sums[1] += exchange.database_seconds
        for number in exchange.errors:
            error = (operation, str(number))
            self.errors[error] = self.errors.get(error, 0) + 1

    def collect(self) -> Iterator[Metric]:
        requests = CounterMetricFamily("openpws_requests", REQUESTS_HELP, labels=("operation", "status"))
        for labels, count in self.requests.items():
            requests.add_metric(labels, count)
        errors = CounterMetricFamily("openpws_errors", ERRORS_HELP, labels=("operation", "error"))
        for labels, count in self.errors.items():
            errors.add_metric(labels, count)
        duration = HistogramMetricFamily("openpws_request_duration_seconds", DURATION_HELP, labels=("operation",))
        database = HistogramMetricFamily("openpws_database_seconds", DATABASE_HELP, labels=("operation",))
        for operation, (durations, databases, sums) in self.histograms.items():
            duration.add_metric((operation,), _cumulative(LATENCY_BUCKETS, durations), sums[0])
            database.add_metric((operation,), _cumulative(DATABASE_BUCKETS, databases), sums[1])
        yield from (requests, errors, duration, database)


def _cumulative(bounds: tuple[float, ...], counts: list[int]) -> list[tuple[str, float]]:
    running = list(accumulate(counts))
    return [*((floatToGoString(bound), float(n))  # type: ignore[no-untyped-call]
              for bound, n in zip(bounds, running, strict=False)),
            ("+Inf", float(running[-1]))]


class Shared:
    """The counts of several worker processes: prometheus_client's own metrics in multiprocess
    mode, each process writing its values to files of one directory, collected from there."""

    def __init__(self) -> None:
        # Registered nowhere: the directory's collector reads their values (collecting them too
        # would count twice).
        self.requests = Counter("openpws_requests", REQUESTS_HELP, ("operation", "status"), registry=None)
        self.errors = Counter("openpws_errors", ERRORS_HELP, ("operation", "error"), registry=None)
        self.duration = Histogram("openpws_request_duration_seconds", DURATION_HELP, ("operation",),
                                  buckets=LATENCY_BUCKETS, registry=None)
        self.database = Histogram("openpws_database_seconds", DATABASE_HELP, ("operation",),
                                  buckets=DATABASE_BUCKETS, registry=None)
        # Labelled children, kept: looking one up through ``labels`` costs more than the increment.
        self._children: dict[tuple[str, str], tuple[Any, Any, Any]] = {}

    def record(self, exchange: Exchange) -> None:
        operation = exchange.operation
        key = (operation, exchange.status)
        children = self._children.get(key)
        if children is None:
            children = self._children[key] = (self.requests.labels(operation, exchange.status),
                                              self.duration.labels(operation), self.database.labels(operation))
        counted, duration, database = children
        counted.inc()
        duration.observe(exchange.seconds)
        database.observe(exchange.database_seconds)
        for number in exchange.errors:
            self.errors.labels(operation, str(number)).inc()


class Metrics:
    """The metrics of one server process, and the ASGI application that serves ``/metrics``."""

    def __init__(self) -> None:
        shared = multiprocess_dir()
        self.registry = CollectorRegistry()
        if shared:
            # Count one answered exchange (on the event loop, after its response is out).
            self.record: Callable[[Exchange], None] = Shared().record
            MultiProcessCollector(self.registry, path=shared)  # type: ignore[no-untyped-call]
        else:
            tallies = Tallies()
            self.record = tallies.record
            self.registry.register(tallies)

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

"""What the load benchmarks share: scratch databases, the server under test, SOAP envelopes, and a
load generator cheap enough not to be the bottleneck.

The load generator sends prebuilt HTTP/1.1 requests over keep-alive connections from raw sockets
and reads only the status line, Content-Length and body of each response, so one load process
spends a small fraction of what the server spends per request (each run reports both figures).
Every loop is bounded by a deadline and a request count; all traffic goes to 127.0.0.1.
"""

from __future__ import annotations

import http.client
import multiprocessing
import os
import secrets
import selectors
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from openpws.services import admin
from openpws.services.permissions import ALL
from openpws.store import migrate
from openpws.store.transactions import Store

PATH = "/OpsProjectorWcfSvc/PwsProjectorServices.svc"
CLK_TCK = os.sysconf("SC_CLK_TCK")
PAGE_KB = os.sysconf("SC_PAGE_SIZE") // 1024
# Password hashing is deliberately slow; the benchmark logs in once per server, so a small cost
# only saves setup time (the stored hash records its own cost).
SCRYPT_COST = 1024
ACCOUNT = "bench"
LOGIN = "b"
PASSWORD = "pw"  # noqa: S105 - a scratch account on a scratch database
NAMESPACES = (
    'xmlns:s="http://schemas.xmlsoap.org/soap/envelope/" '
    'xmlns:pws="http://projectorpsa.com/PwsProjectorServices/" '
    'xmlns:req="http://projectorpsa.com/DataContracts/Requests/" '
    'xmlns:com="http://projectorpsa.com/DataContracts/Shared/Common/"'
)
SCHEDULING = ' xmlns:sch="http://projectorpsa.com/DataContracts/Shared/Scheduling/"'


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def envelope(operation: str, members: str) -> bytes:
    return (
        # sch is declared only where it is used, so that a request's size is what it needs.
        f"<s:Envelope {NAMESPACES}{SCHEDULING if '<sch:' in members else ''}><s:Body>"
        f"<pws:{operation}><pws:serviceRequest>{members}</pws:serviceRequest></pws:{operation}></s:Body></s:Envelope>"
    ).encode()


def post(port: int, body: bytes, timeout: float = 30) -> bytes:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    connection.request("POST", PATH, body, {"Content-Type": "text/xml; charset=utf-8"})
    data = connection.getresponse().read()
    connection.close()
    return data


def between(data: bytes, tag: bytes) -> str:
    start = data.index(b">", data.index(tag)) + 1
    return data[start:data.index(b"<", start)].decode()


def median(values: Sequence[float]) -> float:
    return statistics.median(values) if values else float("nan")


# --- scratch databases ---------------------------------------------------------------------------


@contextmanager
def scratch_database(kind: str, postgres_admin: str, label: str = "bench") -> Iterator[str]:
    """A new, empty database for one benchmark run, removed afterwards: a temp SQLite file, or
    ``openpws_<label>_<hex>`` created on the PostgreSQL server ``postgres_admin`` names (dropped
    WITH (FORCE), so that connections a killed server left behind do not keep it)."""
    if kind == "sqlite":
        with tempfile.TemporaryDirectory(prefix=f"openpws-{label}-") as folder:
            yield f"sqlite:///{folder}/{label}.db"
        return
    name = f"openpws_{label}_{secrets.token_hex(6)}"
    engine = create_engine(make_url(postgres_admin).set(drivername="postgresql+psycopg"), isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
        yield make_url(postgres_admin).set(database=name).render_as_string(hide_password=False)
    finally:
        with engine.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        engine.dispose()


def prepare(database: str) -> Store:
    """The migrated store with the benchmark's account and its one user (every permission)."""
    store = Store.open(database)
    migrate.upgrade(store.engine)
    with store.write() as tx:
        admin.create_account(tx, ACCOUNT, "Bench", now())
        admin.create_user(tx, ACCOUNT, login=LOGIN, display_name="Bench", password=PASSWORD, permissions=ALL,
                          reference_id=None, email=None, scrypt_cost=SCRYPT_COST, now=now())
    return store


# --- the server under test -----------------------------------------------------------------------


def _cpu_of(pid: int) -> float:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:  # the process has gone: what it used is lost to the count
        return 0.0
    return (int(fields[11]) + int(fields[12])) / CLK_TCK  # utime + stime


def _rss_kb(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def _cmdline(pid: int) -> bytes:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return b""


def cpu_seconds(pids: Sequence[int]) -> float:
    return sum(_cpu_of(pid) for pid in pids)


def children(pid: int) -> list[int]:
    try:
        found = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    except OSError:
        return []
    return [int(c) for c in found]


def wait_ready(process: subprocess.Popen[bytes], port: int, workers: int, seconds: float, log: object = None) -> None:
    """Until ``openpws serve`` answers /health on ``port`` with all its ``workers`` up; a
    RuntimeError when it exits or takes longer than ``seconds`` (naming ``log`` if given)."""
    where = f"; see {log}" if log is not None else ""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"openpws serve exited with {process.returncode}{where}")
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=1)
            connection.request("GET", "/health")
            ready = connection.getresponse().status == 200
            connection.close()
        except OSError:
            ready = False
        # With several workers, one answering does not mean all of them are up.
        if ready and (workers == 1 or len(children(process.pid)) >= workers):
            time.sleep(0.5 if workers == 1 else 2.0)
            return
        time.sleep(0.05)
    raise RuntimeError(f"openpws serve did not come up within {seconds:g} s{where}")


class Server:
    """``openpws serve`` on ``database``, on a free port of 127.0.0.1; stop() ends it."""

    def __init__(self, database: str, workers: int, env: dict[str, str] | None = None) -> None:
        self.workers = workers
        self.port = free_port()
        env = {**os.environ, "OPENPWS_SCRYPT_COST": str(SCRYPT_COST), **(env or {})}
        self.process = subprocess.Popen(
            [sys.executable, "-m", "openpws", "serve", "--database", database, "--port", str(self.port),
             "--workers", str(workers)], stdout=subprocess.DEVNULL, env=env)
        self._wait_ready()
        self.pids = self._tree()

    def _tree(self) -> list[int]:
        pids = [self.process.pid]
        for child in children(self.process.pid):
            pids += [child, *children(child)]
        return pids

    def _wait_ready(self) -> None:
        try:
            wait_ready(self.process, self.port, self.workers, 60)
        except RuntimeError:
            self.stop()
            raise

    @property
    def worker_pids(self) -> list[int]:
        """The processes that serve requests (not the supervisor or its resource tracker)."""
        if self.workers == 1:
            return self.pids
        return [p for p in self.pids if p != self.process.pid and b"resource_tracker" not in _cmdline(p)]

    def cpu(self) -> float:
        return cpu_seconds(self.pids)

    def cpu_by_worker(self) -> dict[int, float]:
        return {pid: cpu_seconds([pid]) for pid in self.worker_pids}

    def rss_kb(self) -> int:
        return sum(_rss_kb(pid) for pid in self.worker_pids)

    def login(self) -> str:
        answer = post(self.port, envelope("PwsAuthenticate", f"<req:AccountCode>{ACCOUNT}</req:AccountCode>"
                                          f"<req:Password>{PASSWORD}</req:Password><req:UserName>{LOGIN}</req:UserName>"))
        return between(answer, b"SessionTicket")

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


# --- the load generator --------------------------------------------------------------------------


def http_request(method: str, path: str, body: bytes | None = None) -> bytes:
    """One prebuilt HTTP/1.1 keep-alive request."""
    head = f"{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n"
    if body is None:
        return (head + "\r\n").encode()
    return (head + f"Content-Type: text/xml; charset=utf-8\r\nContent-Length: {len(body)}\r\n\r\n").encode() + body


@dataclass(frozen=True)
class Stream:
    """What one connection sends: its requests in order, again and again when ``cycle`` (else
    each once), and whether a SOAP ``Status`` of Ok is required of each answer."""

    requests: Sequence[bytes]
    cycle: bool = True
    soap: bool = True


@dataclass(frozen=True)
class Load:
    requests: int
    errors: int
    seconds: float  # wall time of the longest load process
    latencies: Sequence[float]  # seconds, sorted
    loader_cpu: float  # CPU seconds the load processes used

    @property
    def rate(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    def percentile(self, fraction: float) -> float:
        if not self.latencies:
            return float("nan")
        return self.latencies[min(len(self.latencies) - 1, max(0, int(len(self.latencies) * fraction) - 1))]


class _Connection:
    def __init__(self, port: int, stream: Stream, limit: int) -> None:
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=60)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.stream = stream
        self.limit = min(limit, limit if stream.cycle else len(stream.requests))
        self.sent = 0
        self.buffer = b""
        self.began = 0.0

    def send_next(self) -> bool:
        if self.sent >= self.limit:
            return False
        requests = self.stream.requests
        self.began = time.perf_counter()
        self.sock.sendall(requests[self.sent % len(requests)])
        self.sent += 1
        return True

    def response(self) -> bytes | None:
        """The body once the whole response has arrived, else None (more to read)."""
        chunk = self.sock.recv(262144)
        if not chunk:
            raise ConnectionError("the server closed a keep-alive connection")
        self.buffer += chunk
        end = self.buffer.find(b"\r\n\r\n")
        if end < 0:
            return None
        length = 0
        for line in self.buffer[:end].split(b"\r\n")[1:]:
            if line[:15].lower() == b"content-length:":
                length = int(line[15:])
        if len(self.buffer) < end + 4 + length:
            return None
        status, body = self.buffer[9:12], self.buffer[end + 4:end + 4 + length]
        self.buffer = self.buffer[end + 4 + length:]
        return status + b"|" + body


def _load_process(port: int, streams: Sequence[Stream], seconds: float, limit: int, queue: Any) -> None:
    cpu_before = sum(os.times()[:2])
    selector = selectors.DefaultSelector()
    connections = [_Connection(port, stream, limit) for stream in streams]
    latencies: list[float] = []
    errors = 0
    began = time.perf_counter()
    deadline = began + seconds
    for connection in connections:
        if connection.send_next():
            selector.register(connection.sock, selectors.EVENT_READ, connection)
    open_count = len(selector.get_map())
    while open_count:
        for key, _ in selector.select(timeout=max(0.0, deadline + 60 - time.perf_counter())):
            connection = key.data
            answer = connection.response()
            if answer is None:
                continue
            latencies.append(time.perf_counter() - connection.began)
            if not answer.startswith(b"200|") or (connection.stream.soap and b">Ok<" not in answer):
                errors += 1
            if time.perf_counter() >= deadline or not connection.send_next():
                selector.unregister(connection.sock)
                open_count -= 1
        if time.perf_counter() > deadline + 60:  # a server that stopped answering
            break
    elapsed = time.perf_counter() - began
    for connection in connections:
        connection.sock.close()
    queue.put((latencies, errors, elapsed, sum(os.times()[:2]) - cpu_before))


def drive(port: int, streams: Sequence[Stream], *, seconds: float, processes: int = 1,
          limit: int = 10**9) -> Load:
    """Send ``streams`` (one connection each, spread over ``processes`` load processes) until
    ``seconds`` have passed, every connection has sent ``limit`` requests, or a non-cycling
    stream has run out."""
    processes = max(1, min(processes, len(streams)))
    context = multiprocessing.get_context("fork")
    queue: Any = context.Queue()
    workers = [context.Process(target=_load_process, args=(port, streams[i::processes], seconds, limit, queue))
               for i in range(processes)]
    for worker in workers:
        worker.start()
    results = [queue.get() for _ in workers]
    for worker in workers:
        worker.join()
    latencies = sorted(x for r in results for x in r[0])
    return Load(requests=len(latencies), errors=sum(r[1] for r in results), seconds=max(r[2] for r in results),
                latencies=latencies, loader_cpu=sum(r[3] for r in results))


def over_stores(title: str, stores: str, bench_store: Callable[[str], None]) -> None:
    """Run ``bench_store`` on each store of ``stores`` (``sqlite,postgres``), with a heading and the
    time it all took."""
    began = time.perf_counter()
    print(f"openpws {title} bench on {Path('/proc/cpuinfo').read_text().count('processor')} CPU(s)")
    for kind in stores.split(","):
        bench_store("postgresql" if kind.strip().startswith("postgres") else "sqlite")
    print(f"done in {time.perf_counter() - began:.0f} s")

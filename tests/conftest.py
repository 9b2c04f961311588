"""Fixtures: a scratch database (SQLite file or a PostgreSQL database made for this run and
dropped after it), the openpws application served in-process on it, an account per test, and,
for the tests that need one, a real ``openpws serve`` process on the same database.

Under pytest-xdist every worker process has its own session: its own scratch database, which it
creates and drops, its own in-process application and, if one of its tests asks, its own server.

The PostgreSQL leg runs when ``--postgres URL`` (or OPENPWS_TEST_POSTGRES) names a server to
create the scratch databases on; it fails loudly when that server cannot be reached.
"""

from __future__ import annotations

import logging
import os
import secrets
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import hypothesis
import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url

from openpws.app import create_app
from openpws.config import LENIENT, Settings
from openpws.services import admin
from openpws.services.permissions import ALL, VIEW_ONLY, Permission
from openpws.store import migrate
from openpws.store.transactions import Store
from tests.asgi import AsgiTransport
from tests.pws import SoapClient

# pytest's own harness for testing a plugin: openpws.testing is tested with it (tests/sandbox/test_plugin.py).
pytest_plugins = ("pytester",)

# Password hashing is deliberately slow in production; tests create many users and log in often,
# so they store hashes with a small scrypt cost (the stored hash records its own cost).
TEST_SCRYPT_COST = 2**10
PASSWORD = "Pa55-word!"
# The in-process application answers any host name; this one is never looked up.
IN_PROCESS_URL = "http://openpws.test"
# The control plane's admin token in the in-process application.
ADMIN_TOKEN = "test-admin-token"

# Hypothesis's default deadline (200 ms an example) fails tests as "flaky" when an example happens
# to run slowly: under coverage's tracing, on a shared 2-core machine, with a second xdist worker
# busy. What the tests check is the answers, not the time.
hypothesis.settings.register_profile("openpws", deadline=None)
hypothesis.settings.load_profile("openpws")


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--postgres", default=os.environ.get("OPENPWS_TEST_POSTGRES"), metavar="URL",
        help="Run against PostgreSQL: URL of a server/database where a scratch database may be created.",
    )


def pytest_report_header(config: pytest.Config) -> str:
    url = config.getoption("--postgres")
    return f"openpws store: {'PostgreSQL via ' + url if url else 'SQLite'}"


def _admin_engine(admin_url: str) -> Engine:
    return create_engine(make_url(admin_url).set(drivername="postgresql+psycopg"), isolation_level="AUTOCOMMIT")


def pytest_sessionstart(session: pytest.Session) -> None:
    """Before any worker starts: the PostgreSQL leg stops at once, and loudly, if it cannot connect."""
    admin_url = session.config.getoption("--postgres")
    if not admin_url or hasattr(session.config, "workerinput"):
        return
    engine = _admin_engine(admin_url)
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except Exception as error:
        pytest.exit(f"PostgreSQL leg requested but {admin_url} cannot be used: {error}", returncode=3)
    finally:
        engine.dispose()


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Slow tests first, so that under xdist they do not start last and finish alone."""
    items.sort(key=lambda item: item.get_closest_marker("slow") is None)


# The modules whose tests share a module-scoped server process: under xdist, each goes whole to
# one worker, which starts that server once.
ONE_WORKER_MODULES = ("tests/serve/test_races.py", "tests/sandbox/test_plugin.py", "tests/pages/test_browser.py")


def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> Any:
    """For --dist load: tests go to the workers one at a time, as they become free, except the
    modules of ONE_WORKER_MODULES, which go whole. (xdist's --dist loadgroup cannot do this
    here: it groups tests by renaming their node ids, which pytest 9 no longer allows.)"""
    if config.getvalue("dist") != "load":
        return None
    from xdist.scheduler import LoadScopeScheduling

    class ModulesTogether(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            module = nodeid.split("::", 1)[0]
            return module if module in ONE_WORKER_MODULES else nodeid

    return ModulesTogether(config, log)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def worker_id(config: pytest.Config) -> str:
    """This xdist worker's name (gw0, gw1, …), or "main" without xdist."""
    workerinput = getattr(config, "workerinput", None)
    return str(workerinput["workerid"]) if workerinput else "main"


@pytest.fixture(scope="session")
def database_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    admin_url = request.config.getoption("--postgres")
    if not admin_url:
        yield f"sqlite:///{tmp_path_factory.mktemp('db') / 'openpws.db'}"
        return
    name = f"openpws_test_{worker_id(request.config)}_{secrets.token_hex(6)}"
    admin_engine = _admin_engine(admin_url)
    try:
        with admin_engine.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as error:
        pytest.exit(f"PostgreSQL leg requested but {admin_url} cannot be used: {error}", returncode=3)
    try:
        yield make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin_engine.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin_engine.dispose()


@pytest.fixture(scope="session")
def store(database_url: str) -> Iterator[Store]:
    opened = Store.open(database_url)
    migrate.upgrade(opened.engine)
    yield opened
    opened.dispose()


# --- the application, in-process ------------------------------------------------------------------

class ErrorLog(logging.Handler):
    """What the application logs at ERROR or above (unexpected errors, with their tracebacks)."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)

    def since(self, start: int) -> str:
        return "\n".join(self.format(record) for record in self.records[start:])


@pytest.fixture(scope="session")
def server_errors() -> Iterator[ErrorLog]:
    handler = ErrorLog()
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    logger = logging.getLogger("openpws")
    logger.addHandler(handler)
    yield handler
    logger.removeHandler(handler)


@pytest.fixture(scope="session")
def app_transport(store: Store, database_url: str) -> Iterator[AsgiTransport]:
    """The application as ``openpws serve`` builds it, on this session's database, served
    in-process. It has a store of its own, as the server process had."""
    settings = Settings(database_url=database_url, scrypt_cost=TEST_SCRYPT_COST, admin_token=ADMIN_TOKEN)
    served = Store.open(database_url, threads=settings.threads)
    transport = AsgiTransport(create_app(settings, served))
    yield transport
    transport.shutdown()
    served.dispose()


@pytest.fixture(scope="session")
def lenient_transport(store: Store, database_url: str) -> Iterator[AsgiTransport]:
    """The application with OPENPWS_MEMBER_ORDER=lenient, in-process."""
    settings = Settings(database_url=database_url, scrypt_cost=TEST_SCRYPT_COST, member_order=LENIENT)
    served = Store.open(database_url, threads=settings.threads)
    transport = AsgiTransport(create_app(settings, served))
    yield transport
    transport.shutdown()
    served.dispose()


@pytest.fixture
def lenient_soap(lenient_transport: AsgiTransport, server_errors: ErrorLog) -> Iterator[SoapClient]:
    """A client of the application that reads members in any order (OPENPWS_MEMBER_ORDER=lenient)."""
    start = len(server_errors.records)
    with SoapClient(IN_PROCESS_URL, lenient_transport) as client:
        yield client
    assert len(server_errors.records) == start, f"the application logged:\n{server_errors.since(start)}"


@pytest.fixture
def soap(request: pytest.FixtureRequest, server_errors: ErrorLog) -> Iterator[SoapClient]:
    """A client of the application: in-process, or, for a test marked ``serve``, of the real
    ``openpws serve`` process over a socket. An in-process test fails if the application logged
    an error meanwhile (the server would have logged a traceback)."""
    if request.node.get_closest_marker("serve") is not None:
        server: Server = request.getfixturevalue("server")
        with SoapClient(server.base_url) as client:
            yield client
        return
    transport: AsgiTransport = request.getfixturevalue("app_transport")
    start = len(server_errors.records)
    with SoapClient(IN_PROCESS_URL, transport) as client:
        yield client
    assert len(server_errors.records) == start, f"the application logged:\n{server_errors.since(start)}"


@pytest.fixture
def api(app_transport: AsgiTransport, server_errors: ErrorLog) -> Iterator[httpx.Client]:
    """A client of the in-process application's control plane, with the admin token. The test
    fails if the application logged an error meanwhile."""
    start = len(server_errors.records)
    with httpx.Client(base_url=IN_PROCESS_URL, transport=app_transport, timeout=60,
                      headers={"Authorization": f"Bearer {ADMIN_TOKEN}"}) as client:
        yield client
    assert len(server_errors.records) == start, f"the application logged:\n{server_errors.since(start)}"


# --- a real server process ------------------------------------------------------------------------

@dataclass
class Server:
    base_url: str
    process: subprocess.Popen[bytes]
    output: Path


def start_server(database_url: str, tmp: Path, *args: str, env: dict[str, str] | None = None) -> Server:
    port = free_port()
    output = tmp / f"server-{port}.log"
    environment = {**os.environ, "OPENPWS_SCRYPT_COST": str(TEST_SCRYPT_COST), **(env or {})}
    with output.open("wb") as sink:
        process = subprocess.Popen(
            [sys.executable, "-m", "openpws", "serve", "--database", database_url, "--port", str(port), *args],
            stdout=sink, stderr=subprocess.STDOUT, env=environment,
        )
    base_url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"openpws serve exited early:\n{output.read_text()}")
        try:
            if httpx.get(base_url + "/health", timeout=1).status_code == 200:
                return Server(base_url, process, output)
        except httpx.TransportError:
            time.sleep(0.05)
    process.kill()
    raise RuntimeError(f"openpws serve did not come up:\n{output.read_text()}")


def stop_server(server: Server) -> None:
    server.process.terminate()
    try:
        server.process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        server.process.kill()


@pytest.fixture(scope="session")
def server(store: Store, database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """``openpws serve`` on this session's database, started when a test first asks for it."""
    running = start_server(database_url, tmp_path_factory.mktemp("server"))
    yield running
    stop_server(running)


# --- accounts -------------------------------------------------------------------------------------

@dataclass(frozen=True)
class AccountFixture:
    code: str
    admin: str
    viewer: str
    no_web: str
    password: str = PASSWORD


def make_user(store: Store, account: str, login: str, permissions: frozenset[Permission], password: str = PASSWORD,
              reference_id: str | None = None) -> None:
    with store.write() as tx:
        admin.create_user(
            tx, account, login=login, display_name=f"User {login}", password=password, permissions=permissions,
            reference_id=reference_id, email=None, scrypt_cost=TEST_SCRYPT_COST,
            now=datetime.now(UTC).replace(tzinfo=None),
        )


def make_account(store: Store, prefix: str = "acct", week_start: int = 0) -> AccountFixture:
    """A new account (whose weeks start on ``week_start``: 0 Monday … 6 Sunday) with three users."""
    code = f"{prefix}-{secrets.token_hex(4)}"
    with store.write() as tx:
        admin.create_account(tx, code, f"Account {code}", datetime.now(UTC).replace(tzinfo=None), week_start)
    made = AccountFixture(code, f"admin@{code}", f"viewer@{code}", f"noweb@{code}")
    make_user(store, code, made.admin, ALL, reference_id="E1")
    make_user(store, code, made.viewer, VIEW_ONLY, reference_id="E2")
    make_user(store, code, made.no_web, frozenset({Permission.CLIENTS_VIEW}))
    return made


@pytest.fixture
def account(store: Store) -> AccountFixture:
    """A fresh account of its own for each test: accounts share nothing, so tests cannot collide."""
    return make_account(store)

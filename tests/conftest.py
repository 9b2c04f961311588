"""Fixtures: a scratch database (SQLite file or a PostgreSQL database made for this run and
dropped after it), one real ``openpws serve`` process on it, and an account per test.

The PostgreSQL leg runs when ``--postgres URL`` (or OPENPWS_TEST_POSTGRES) names a server to
create the scratch database on; it fails loudly when that server cannot be reached.
"""

from __future__ import annotations

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

import httpx
import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from openpws.services import admin
from openpws.services.permissions import ALL, VIEW_ONLY, Permission
from openpws.store import migrate
from openpws.store.transactions import Store
from tests.pws import SoapClient

# Password hashing is deliberately slow in production; tests create many users and log in often,
# so they store hashes with a small scrypt cost (the stored hash records its own cost).
TEST_SCRYPT_COST = 2**10
PASSWORD = "Pa55-word!"


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--postgres", default=os.environ.get("OPENPWS_TEST_POSTGRES"), metavar="URL",
        help="Run against PostgreSQL: URL of a server/database where a scratch database may be created.",
    )


def pytest_report_header(config: pytest.Config) -> str:
    url = config.getoption("--postgres")
    return f"openpws store: {'PostgreSQL via ' + url if url else 'SQLite'}"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="session")
def database_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    admin_url = request.config.getoption("--postgres")
    if not admin_url:
        yield f"sqlite:///{tmp_path_factory.mktemp('db') / 'openpws.db'}"
        return
    name = f"openpws_test_{secrets.token_hex(6)}"
    admin_engine = create_engine(
        make_url(admin_url).set(drivername="postgresql+psycopg"), isolation_level="AUTOCOMMIT"
    )
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
            time.sleep(0.1)
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
    running = start_server(database_url, tmp_path_factory.mktemp("server"))
    yield running
    stop_server(running)


@pytest.fixture
def soap(server: Server) -> Iterator[SoapClient]:
    client = SoapClient(server.base_url)
    yield client
    client.close()


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


def make_account(store: Store, prefix: str = "acct") -> AccountFixture:
    code = f"{prefix}-{secrets.token_hex(4)}"
    with store.write() as tx:
        admin.create_account(tx, code, f"Account {code}", datetime.now(UTC).replace(tzinfo=None))
    made = AccountFixture(code, f"admin@{code}", f"viewer@{code}", f"noweb@{code}")
    make_user(store, code, made.admin, ALL, reference_id="E1")
    make_user(store, code, made.viewer, VIEW_ONLY, reference_id="E2")
    make_user(store, code, made.no_web, frozenset({Permission.CLIENTS_VIEW}))
    return made


@pytest.fixture
def account(store: Store) -> AccountFixture:
    """A fresh account of its own for each test: accounts share nothing, so tests cannot collide."""
    return make_account(store)

"""The store: migrations match the schema, counters, transactions all-or-nothing."""

from __future__ import annotations

import secrets
import threading
import time
from datetime import UTC, datetime

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import select

from openpws.messages.tokens import decode_rowversion, encode_rowversion
from openpws.services import admin
from openpws.store import migrate
from openpws.store.accounts import find_account
from openpws.store.counters import UID_BASE, next_rowversion, next_uid
from openpws.store.engine import DatabaseUrlError, normalise_url
from openpws.store.schema import accounts, metadata
from openpws.store.transactions import IDLE_PING_SECONDS, Store


def test_migrations_build_exactly_the_declared_schema(store: Store) -> None:
    with store.engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), metadata)
    assert differences == []


def test_migrating_twice_changes_nothing(store: Store) -> None:
    migrate.upgrade(store.engine)
    test_migrations_build_exactly_the_declared_schema(store)


def test_uids_and_rowversions_only_grow(store: Store) -> None:
    with store.write() as tx:
        uids = [next_uid(tx) for _ in range(5)]
        versions = [next_rowversion(tx) for _ in range(5)]
    assert all(u > UID_BASE for u in uids)
    assert uids == sorted(set(uids)) and versions == sorted(set(versions))
    with store.write() as tx:
        assert next_uid(tx) > uids[-1]


def test_a_failed_transaction_leaves_nothing_behind(store: Store) -> None:
    now = datetime.now(UTC).replace(tzinfo=None)
    with pytest.raises(RuntimeError), store.write() as tx:
        admin.create_account(tx, "rolled-back", None, now)
        raise RuntimeError("fail after the insert")
    with store.read() as tx:
        assert find_account(tx, "rolled-back") is None
        assert tx.execute(select(accounts.c.id).where(accounts.c.code == "rolled-back")).first() is None


def test_a_transaction_inside_another_runs_on_a_connection_of_its_own(store: Store) -> None:
    now = datetime.now(UTC).replace(tzinfo=None)
    code = f"nested-{secrets.token_hex(4)}"
    with store.write() as outer:
        admin.create_account(outer, code, None, now)
        with store.read() as inner:
            assert inner is not outer
            assert find_account(inner, code) is None  # the outer insert is not committed yet
        assert find_account(outer, code) is not None
    with store.read() as tx:
        assert find_account(tx, code) is not None


def test_a_read_sees_one_snapshot_and_a_write_sees_what_committed(store: Store) -> None:
    """A read that looks twice sees the same rows though a write committed in between (else a read
    of projects, then of their engagements, could find an engagement gone); a write sees it."""
    now = datetime.now(UTC).replace(tzinfo=None)
    code = f"snap-{secrets.token_hex(4)}"

    def commit_elsewhere() -> None:  # on a thread of its own: a connection of its own
        with store.write() as other:
            admin.create_account(other, code, None, now)

    # The connection goes from one kind to the other and back. (On SQLite writers take turns: no
    # write commits while another is open.)
    postgresql = store.engine.dialect.name == "postgresql"
    for write in (False, True, False) if postgresql else (False,):
        code = f"snap-{secrets.token_hex(4)}"
        with (store.write() if write else store.read()) as tx:
            assert find_account(tx, "demo-never-there") is None  # the snapshot starts here
            thread = threading.Thread(target=commit_elsewhere)
            thread.start()
            thread.join()
            assert (find_account(tx, code) is not None) is write


def test_a_connection_the_database_dropped_is_replaced_before_use(store: Store) -> None:
    with store.read() as tx:
        if store.dialect == "postgresql":
            pid = tx.exec_driver_sql("SELECT pg_backend_pid()").scalar()
    if store.dialect == "postgresql":
        with store.engine.connect() as admin_connection:
            assert admin_connection.exec_driver_sql(f"SELECT pg_terminate_backend({pid})").scalar() is True
        time.sleep(IDLE_PING_SECONDS + 0.1)  # a connection idle that long is checked before use
    else:
        tx.invalidate()  # what SQLAlchemy does when the driver reports the connection lost
    with store.read() as again:
        assert again.exec_driver_sql("SELECT 1").scalar() == 1
        if store.dialect == "postgresql":
            assert again.exec_driver_sql("SELECT pg_backend_pid()").scalar() != pid


def test_every_thread_of_a_server_gets_its_connection_at_once(database_url: str) -> None:
    threads = 22  # more than one pool's default size and overflow together
    opened = Store.open(database_url, threads=threads)
    inside = threading.Barrier(threads, timeout=20)
    failures: list[BaseException] = []

    def work() -> None:
        try:
            with opened.read() as tx:
                inside.wait()  # every thread holds its transaction at the same time
                assert tx.exec_driver_sql("SELECT 1").scalar() == 1
        except BaseException as error:
            failures.append(error)

    workers = [threading.Thread(target=work) for _ in range(threads)]
    try:
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join(30)
    finally:
        opened.dispose()
    assert failures == []


def test_the_writers_turn_is_taken_only_when_free_and_never_waited_for(store: Store) -> None:
    if store.dialect != "sqlite":
        with store.writers_turn_if_free() as free:
            assert free is False  # PostgreSQL's writers do not take turns in the process
        return
    holding, release = threading.Event(), threading.Event()

    def writer() -> None:
        with store.write():
            holding.set()
            release.wait(10)

    other = threading.Thread(target=writer)
    other.start()
    try:
        assert holding.wait(10)
        started = time.monotonic()
        with store.writers_turn_if_free() as free:
            assert free is False
        assert time.monotonic() - started < 1  # told at once, not after the other write
    finally:
        release.set()
        other.join(10)
    code = f"turn-{secrets.token_hex(4)}"
    with store.writers_turn_if_free() as free:
        assert free is True
        with store.write() as tx:  # goes straight on inside the turn
            admin.create_account(tx, code, None, datetime.now(UTC).replace(tzinfo=None))
    done = threading.Event()
    with store.read() as tx:
        assert find_account(tx, code) is not None
    threading.Thread(target=lambda: _write_once(store, done)).start()
    assert done.wait(10)  # the turn was given back


def _write_once(store: Store, done: threading.Event) -> None:
    with store.write():
        done.set()


@given(st.integers(0, 2**64 - 1))
def test_rowversion_tokens_round_trip(value: int) -> None:
    token = encode_rowversion(value)
    assert len(token) == 12 and decode_rowversion(token) == value


def test_rowversion_token_samples_from_the_wiki() -> None:
    assert decode_rowversion("AAAAAA99vU0=") == 0x0F7DBD4D
    assert encode_rowversion(0x0F8AEA2E) == "AAAAAA+K6i4="
    assert decode_rowversion("not base64!") is None
    assert decode_rowversion("AAAA") is None


def test_database_urls() -> None:
    assert normalise_url("postgresql://postgres@127.0.0.1:5432/x").startswith("postgresql+psycopg://")
    assert normalise_url("sqlite:///./a.db") == "sqlite+pysqlite:///./a.db"
    for bad in ("sqlite://", "sqlite:///:memory:", "mysql://h/x"):
        with pytest.raises(DatabaseUrlError):
            normalise_url(bad)


def test_sqlite_connections_use_wal_and_enforce_foreign_keys(store: Store) -> None:
    if store.dialect != "sqlite":
        pytest.skip("SQLite settings")
    with store.read() as tx:
        assert tx.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert tx.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert tx.exec_driver_sql("PRAGMA busy_timeout").scalar() == 30000

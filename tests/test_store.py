"""The store: migrations match the schema, counters, transactions all-or-nothing."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import select

from openpws.services import admin
from openpws.store import migrate
from openpws.store.accounts import find_account
from openpws.store.counters import UID_BASE, decode_rowversion, encode_rowversion, next_rowversion, next_uid
from openpws.store.engine import DatabaseUrlError, normalise_url
from openpws.store.schema import accounts, metadata
from openpws.store.transactions import Store


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

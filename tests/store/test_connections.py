"""Where a transaction's connection comes from: the thread's own while it keeps using it, else
SQLAlchemy's pool, whose pre-ping is the one check that a PostgreSQL connection is alive."""

from __future__ import annotations

import time

import pytest

from openpws.store import transactions
from openpws.store.transactions import Store


def test_a_thread_keeps_its_connection_from_one_transaction_to_the_next(store: Store) -> None:
    with store.read() as first:
        pass
    with store.write() as second:
        pass
    assert second is first and not first.closed


def test_a_connection_left_idle_goes_back_to_the_pool_and_the_next_is_checked_out(
        store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(transactions, "IDLE_PING_SECONDS", 0.001)
    with store.read() as first:
        pass
    time.sleep(0.01)
    with store.read() as second:
        assert second.exec_driver_sql("SELECT 1").scalar() == 1
    assert second is not first and first.closed


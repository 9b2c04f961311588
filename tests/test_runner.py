"""Where work runs: a short SQLite write first tries the event loop, and when another process
holds SQLite's write lock it waits on a worker thread instead, so the server keeps answering."""

from __future__ import annotations

import sqlite3
import threading
import time

import pytest
from sqlalchemy.engine import make_url

from tests.conftest import AccountFixture
from tests.pws import Answer, SoapClient
from tests.tree import Pws, ref, tag


def test_a_write_waiting_for_another_process_lock_does_not_hold_up_reads(
        soap: SoapClient, account: AccountFixture, database_url: str) -> None:
    if not database_url.startswith("sqlite"):
        pytest.skip("SQLite's one write lock, held by another process")
    pws = Pws(soap, account)
    client = pws.client("Acme")
    other = sqlite3.connect(make_url(database_url).database or "", isolation_level=None, timeout=30)
    other.execute("BEGIN IMMEDIATE")  # as a CLI command writing the same file would
    written: list[Answer] = []
    writer = threading.Thread(target=lambda: written.append(pws.call(
        "PwsSaveClient", f"<req:Client>{ref('Client', client)}<com:ClientName>Renamed</com:ClientName></req:Client>")))
    try:
        writer.start()
        time.sleep(0.5)  # the write is waiting for the lock now
        started = time.monotonic()
        read = pws.call("PwsGetClient", f"<req:ClientIdentities><com:PwsClientRef>{ref('Client', client)}"
                                        "</com:PwsClientRef></req:ClientIdentities>")
        read_seconds = time.monotonic() - started
        assert read.status == "Ok" and read_seconds < 0.5 and not written
    finally:
        other.execute("ROLLBACK")
        other.close()
    writer.join(30)
    assert written and written[0].status == "Ok"
    listed = pws.call("PwsGetClientList", tag("req:QueryString", "Renamed"))
    assert listed.status == "Ok" and client in listed.content.decode()

"""The request journal with real server processes: two workers answering at once keep exactly
the bound and lose nothing below it; the openpws requests commands, tail included."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from openpws.store.transactions import Store
from tests.conftest import PASSWORD, AccountFixture, Server, make_account, start_server, stop_server
from tests.pws import SoapClient
from tests.sandbox.rows import API
from tests.tree import Pws

pytestmark = pytest.mark.serve

TOKEN = "journal-test-token"
BOUND = 40


@pytest.fixture(scope="module")
def workers(store: Store, database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    running = start_server(database_url, tmp_path_factory.mktemp("journal"), "--workers", "2",
                           env={"OPENPWS_JOURNAL_SIZE": str(BOUND), "OPENPWS_ADMIN_TOKEN": TOKEN})
    yield running
    stop_server(running)


def ids_sent(server: Server, account: AccountFixture, calls: int) -> list[int]:
    """``calls`` PwsGetClientList of the account from 8 connections at once: the ids answered."""
    with SoapClient(server.base_url) as soap:
        ticket = soap.login(account.code, account.admin, PASSWORD)

    def one(_: int) -> int:
        with SoapClient(server.base_url) as client:
            answer = client.call("PwsGetClientList", f"<req:SessionTicket>{ticket}</req:SessionTicket>")
            assert answer.status == "Ok"
            return int(answer.headers["x-openpws-request-id"])

    with ThreadPoolExecutor(8) as pool:
        return list(pool.map(one, range(calls)))


def listed(server: Server, code: str, settle: float = 0.5) -> list[int]:
    time.sleep(settle)  # the other worker writes what it answered within milliseconds
    answer = httpx.get(f"{server.base_url}{API}/accounts/{code}/requests", params={"limit": 1000},
                       headers={"Authorization": f"Bearer {TOKEN}"})
    assert answer.status_code == 200, answer.text
    return [int(item["id"]) for item in answer.json()["items"]]


def test_two_workers_keep_exactly_the_bound_and_lose_nothing_below_it(workers: Server, store: Store) -> None:
    below = make_account(store)
    sent = ids_sent(workers, below, BOUND - 5)  # and the login: BOUND - 4 in all
    kept = listed(workers, below.code)
    assert len(kept) == BOUND - 4 and set(sent) <= set(kept)

    over = make_account(store)
    sent = ids_sent(workers, over, 5 * BOUND)
    kept = listed(workers, over.code)
    assert len(kept) == BOUND and len(set(kept)) == BOUND and set(kept) <= set(sent)
    # Trimmed on the way: the table holds little more than the bound (its rows are chunks of exchanges).
    with store.read() as tx:
        from sqlalchemy import func, select

        from openpws.store.schema import accounts, journal
        held = tx.execute(select(func.sum(journal.c.entries)).select_from(journal).join(accounts).where(
            accounts.c.code == over.code)).scalar_one()
    assert BOUND <= held <= BOUND + 2 * (BOUND // 10) + 8


def openpws(database_url: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "openpws", *args, "--database", database_url],
                          capture_output=True, text=True, timeout=120, env={"PATH": "/usr/bin:/bin"})


def test_the_requests_commands(workers: Server, store: Store, database_url: str, tmp_path: Path) -> None:
    account = make_account(store)
    output = tmp_path / "tail.out"
    with output.open("w") as sink:
        tail = subprocess.Popen([sys.executable, "-m", "openpws", "requests", "tail", "--account", account.code,
                                 "--xml", "--seconds", "20", "--every", "0.1", "--database", database_url],
                                stdout=sink, stderr=subprocess.STDOUT, text=True)
    try:
        time.sleep(3)  # the tail starts from what is there when it starts
        with SoapClient(workers.base_url) as soap:
            pws = Pws(soap, account)
            ok = pws.call("PwsGetClientList")
            failed = pws.call("PwsGetClient", "<req:ClientIdentity><com:ClientNumber>C404</com:ClientNumber>"
                              "</req:ClientIdentity>")
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline and output.read_text().count("PwsGetClient") < 2:
            time.sleep(0.2)
    finally:
        tail.terminate()
        tail.wait(timeout=10)
    printed = output.read_text()
    lines = [line for line in printed.splitlines() if "\tPws" in line]
    assert [line.split("\t")[3] for line in lines] == ["PwsAuthenticate", "PwsGetClientList", "PwsGetClient"]
    assert lines[2].split("\t")[4:6] == ["Fail", str(failed.error_numbers()[0])]
    assert "<req:SessionTicket>***</req:SessionTicket>" in printed and pws.ticket not in printed

    time.sleep(0.5)
    shown = openpws(database_url, "requests", "list", "--account", account.code, "--operation", "PwsGetClientList")
    assert shown.returncode == 0, shown.stderr
    [line] = shown.stdout.splitlines()
    assert line.split("\t")[0] == ok.headers["x-openpws-request-id"] and "\tOk\t-\t" in line
    detail = openpws(database_url, "requests", "show", "--account", account.code, ok.headers["x-openpws-request-id"])
    assert detail.returncode == 0 and "--- request" in detail.stdout and "PwsGetClientListResult" in detail.stdout
    missing = openpws(database_url, "requests", "show", "--account", account.code, "1")
    assert missing.returncode != 0 and "no request 1" in missing.stderr
    cleared = openpws(database_url, "requests", "clear", "--account", account.code)
    assert cleared.returncode == 0
    assert openpws(database_url, "requests", "list", "--account", account.code).stdout == ""
    assert "no account" in openpws(database_url, "requests", "list", "--account", "no-such-account").stderr

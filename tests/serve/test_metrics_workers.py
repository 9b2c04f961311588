"""/metrics and the JSON request log of a real ``openpws serve --workers 2``: whichever worker
answers /metrics counts every worker's requests, each request is one JSON line carrying the id
its response header gave, and the metrics directory serve made is gone when it stops."""

from __future__ import annotations

import json
import time
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from openpws.store.transactions import Store
from tests.conftest import Server, make_account, start_server, stop_server
from tests.observability.metrics import labels, scrape
from tests.pws import SoapClient

pytestmark = [pytest.mark.serve, pytest.mark.slow]


def logged(server: Server) -> dict[str, dict[str, Any]]:
    """The request lines the server wrote so far, by request id."""
    lines = [json.loads(line) for line in server.output.read_text().splitlines() if line.startswith("{")]
    return {line["request_id"]: line for line in lines if "request_id" in line}


def test_metrics_sum_every_worker_and_each_request_is_a_json_line(
        store: Store, database_url: str, tmp_path: Path) -> None:
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    server = start_server(database_url, tmp_path, "--workers", "2",
                          env={"OPENPWS_LOG_FORMAT": "json", "TMPDIR": str(scratch)})
    try:
        [shared] = scratch.glob("openpws-metrics-*")
        account = make_account(store)
        with SoapClient(server.base_url) as soap:
            login = soap.authenticate(account.code, account.admin, account.password)
            ticket = login.member("SessionTicket").text  # type: ignore[union-attr]
        ids = {login.headers["x-openpws-request-id"]}
        # A connection for each request, so that both workers answer some (until they have, bounded).
        for _ in range(20):
            for _ in range(10):
                with SoapClient(server.base_url) as soap:
                    answer = soap.call("PwsGetClientList", f"<req:SessionTicket>{ticket}</req:SessionTicket>")
                assert answer.status == "Ok", answer.content
                ids.add(answer.headers["x-openpws-request-id"])
            time.sleep(0.2)  # the lines reach the log
            if len({logged(server)[i]["pid"] for i in ids if i in logged(server)}) == 2:
                break
        lines = logged(server)
        assert set(lines) == ids  # one line per request, under the id its response carried
        assert len({line["pid"] for line in lines.values()}) == 2, "one worker answered every request"
        calls = len(ids) - 1

        for _ in range(6):  # each scrape on a new connection: answered by either worker, always the sum
            with httpx.Client(base_url=server.base_url) as http:
                samples = scrape(http)
            assert samples[("openpws_requests_total", labels(operation="PwsGetClientList", status="Ok"))] == calls
            assert samples[("openpws_requests_total", labels(operation="PwsAuthenticate", status="Ok"))] == 1
            for histogram in ("openpws_request_duration_seconds_count", "openpws_database_seconds_count"):
                assert samples[(histogram, labels(operation="PwsGetClientList"))] == calls

        first = lines[login.headers["x-openpws-request-id"]]
        assert first["operation"] == "PwsAuthenticate" and first["status"] == "Ok" and first["errors"] == []
        for line in lines.values():
            assert line["account"] == account.code and line["user"] == account.admin
            assert line["http_status"] == 200 and line["errors"] == []
            assert 0 <= line["database_ms"] <= line["duration_ms"] < 60_000
            assert datetime.fromisoformat(line["time"]).tzinfo is not None
        assert {line["operation"] for line in lines.values()} == {"PwsAuthenticate", "PwsGetClientList"}
    finally:
        stop_server(server)
    assert not shared.exists()  # serve removed the directory it made for its workers

"""/metrics over HTTP, in-process: no token, every PWS request counted once by operation and
Status (faults by faultcode, lock conflicts as PwsFault), its error numbers, and the latency and
database histograms counting the same requests; the X-Openpws-Request-Id header."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from openpws.exchange import NO_OPERATION
from tests.asgi import AsgiTransport
from tests.conftest import IN_PROCESS_URL, AccountFixture
from tests.messages.test_lock_enforcement import Tree, lock, save_engagement
from tests.observability.metrics import labels, moved, scrape
from tests.pws import SoapClient, envelope
from tests.tree import Pws, ref


@pytest.fixture
def http(app_transport: AsgiTransport) -> Iterator[httpx.Client]:
    """A client that sends no token."""
    with httpx.Client(base_url=IN_PROCESS_URL, transport=app_transport) as client:
        yield client


def test_metrics_needs_no_token_and_speaks_prometheus(http: httpx.Client) -> None:
    response = http.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/plain; version=1.0.0; charset=utf-8"
    for name in ("openpws_requests_total", "openpws_errors_total", "openpws_request_duration_seconds",
                 "openpws_database_seconds"):
        assert f"# TYPE {name} " in response.text, response.text
    assert http.post("/metrics").status_code == 405
    assert http.get("/metrics/other").status_code == 404


def test_counters_move_by_exactly_the_requests_made(
        soap: SoapClient, http: httpx.Client, account: AccountFixture, store: Any) -> None:
    before = scrape(http)
    tree = Tree(soap, store, account)  # two logins, a client, an engagement, two projects, a role
    missing = tree.me.call("PwsGetEngagement", "<sch:EngagementIdentities><com:PwsEngagementRef>"
                           f"{ref('Engagement', 'NOPE')}</com:PwsEngagementRef></sch:EngagementIdentities>")
    assert missing.status == "OkWithWarnings" and missing.error_numbers() == [105]
    viewer = Pws(soap, account, account.viewer)
    refused = viewer.call("PwsSaveClient", "<req:Client><com:ClientName>Not mine</com:ClientName></req:Client>")
    assert refused.status == "Fail" and refused.error_numbers() == [50046]
    assert lock(tree.other, "E", tree.engagement).status == "Ok"
    conflict = save_engagement(tree.me, tree.engagement, "Mine now")
    assert conflict.faultcode == "s:Client" and conflict.find("s:Body/s:Fault/detail") is not None
    stale = soap.call("PwsGetClientList", "<req:SessionTicket>AAAAAAAAAAAAAAAAAAAAAA==</req:SessionTicket>")
    assert stale.status == "FailSessionInvalid" and stale.error_numbers() == [10004]
    assert soap.post(b"not xml").faultcode == "s:Client"
    wrong = soap.post(envelope("PwsGetClientList", ""), action="urn:other")
    assert wrong.faultcode == "s:Client"
    after = scrape(http)

    assert moved(before, after, "openpws_requests_total") == {
        labels(operation="PwsAuthenticate", status="Ok"): 3,
        labels(operation="PwsSaveClient", status="Ok"): 1,
        labels(operation="PwsSaveEngagement", status="Ok"): 1,
        labels(operation="PwsSaveProject", status="Ok"): 2,
        labels(operation="PwsSaveProjectRole", status="Ok"): 1,
        labels(operation="PwsGetEngagement", status="OkWithWarnings"): 1,
        labels(operation="PwsSaveClient", status="Fail"): 1,
        labels(operation="PwsAcquireProjectorLocks", status="Ok"): 1,
        labels(operation="PwsSaveEngagement", status="PwsFault"): 1,
        labels(operation="PwsGetClientList", status="FailSessionInvalid"): 1,
        labels(operation=NO_OPERATION, status="s:Client"): 1,
        labels(operation="PwsGetClientList", status="s:Client"): 1,
    }
    assert moved(before, after, "openpws_errors_total") == {
        labels(operation="PwsGetEngagement", error="105"): 1,
        labels(operation="PwsSaveClient", error="50046"): 1,
        labels(operation="PwsSaveEngagement", error="54076"): 1,
        labels(operation="PwsGetClientList", error="10004"): 1,
    }
    counted = {"PwsAuthenticate": 3, "PwsSaveClient": 2, "PwsSaveEngagement": 2, "PwsSaveProject": 2,
               "PwsSaveProjectRole": 1, "PwsGetEngagement": 1, "PwsAcquireProjectorLocks": 1,
               "PwsGetClientList": 2, NO_OPERATION: 1}
    for histogram in ("openpws_request_duration_seconds", "openpws_database_seconds"):
        assert {dict(k)["operation"]: v for k, v in moved(before, after, f"{histogram}_count").items()} == counted
        infinite = {dict(k)["operation"]: v for k, v in moved(before, after, f"{histogram}_bucket").items()
                    if dict(k)["le"] == "+Inf"}
        assert infinite == counted
    # Work that reached the database took some of its time there; a fault before it took none.
    database = moved(before, after, "openpws_database_seconds_sum")
    assert database[labels(operation="PwsSaveProject")] > 0
    assert labels(operation=NO_OPERATION) not in database
    duration = moved(before, after, "openpws_request_duration_seconds_sum")
    assert duration[labels(operation="PwsSaveProject")] >= database[labels(operation="PwsSaveProject")]


def test_an_internal_error_is_counted_as_s_server(
        soap: SoapClient, http: httpx.Client, account: AccountFixture, server_errors: Any,
        monkeypatch: pytest.MonkeyPatch) -> None:
    from openpws.services import sessions

    pws = Pws(soap, account)

    def broken(*_: object) -> None:
        raise RuntimeError("a bug")

    monkeypatch.setattr(sessions, "resolve", broken)
    before = scrape(http)
    start = len(server_errors.records)
    answer = pws.call("PwsGetClientList", check=False)
    assert answer.status_code == 500 and answer.faultcode == "s:Server"
    after = scrape(http)
    assert moved(before, after, "openpws_requests_total") == {labels(operation="PwsGetClientList", status="s:Server"): 1}
    assert moved(before, after, "openpws_errors_total") == {}
    [logged] = server_errors.records[start:]
    assert logged.exc_info is not None and str(logged.exc_info[1]) == "a bug"
    del server_errors.records[start:]  # (logged on purpose)


def test_every_pws_response_carries_its_own_request_id(soap: SoapClient, account: AccountFixture) -> None:
    answers = [soap.authenticate(account.code, account.admin, account.password),
               soap.authenticate(account.code, account.admin, "wrong"),
               soap.post(b"not xml"),
               soap.post(b"<x/>", headers={"Content-Encoding": "gzip"})]
    ids = [answer.headers["X-Openpws-Request-Id"] for answer in answers]
    assert [a.status_code for a in answers] == [200, 200, 500, 500]
    assert all(re.fullmatch(r"[0-9a-f]{16}", i) for i in ids), ids
    assert len(set(ids)) == len(ids)
    assert "X-Openpws-Request-Id" not in soap.get("?wsdl").headers  # metadata is not a PWS exchange

"""OPENPWS_LOG_FORMAT=json, in-process: each PWS request's line says who asked (as far as the
request got), what it asked, and how it was answered."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from openpws.app import create_app
from openpws.config import Settings
from openpws.observability.logs import REQUESTS, JsonLines
from openpws.services import faults
from openpws.services.context import Environment
from openpws.store.transactions import Store
from tests.asgi import AsgiTransport
from tests.conftest import ADMIN_TOKEN, IN_PROCESS_URL, TEST_SCRYPT_COST, AccountFixture
from tests.pws import SoapClient
from tests.sandbox.rows import API


class Lines(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.setFormatter(JsonLines())
        self.lines: list[dict[str, Any]] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(json.loads(self.format(record)))


@pytest.fixture
def json_soap(store: Store, database_url: str) -> Iterator[tuple[SoapClient, Lines]]:
    """A client of an application logging as json, and the lines it logs."""
    root = logging.getLogger("openpws")
    handlers = list(root.handlers)
    level = REQUESTS.level
    captured = Lines()
    REQUESTS.addHandler(captured)
    settings = Settings(database_url=database_url, scrypt_cost=TEST_SCRYPT_COST, log_format="json",
                        admin_token=ADMIN_TOKEN)
    transport = AsgiTransport(create_app(settings, store))
    try:
        with SoapClient(IN_PROCESS_URL, transport) as client:
            yield client, captured
    finally:
        transport.shutdown()
        REQUESTS.removeHandler(captured)
        REQUESTS.setLevel(level)
        for handler in set(root.handlers) - set(handlers):  # the server's stderr handler
            root.removeHandler(handler)


def test_each_line_says_who_asked_as_far_as_the_request_got(
        json_soap: tuple[SoapClient, Lines], account: AccountFixture) -> None:
    soap, log = json_soap
    answers = [
        soap.authenticate(account.code, account.viewer, "wrong"),
        soap.call("PwsGetClientList", "<req:SessionTicket>AAAAAAAAAAAAAAAAAAAAAA==</req:SessionTicket>"),
        soap.post(b"not xml"),
    ]
    ticket = soap.login(account.code, account.admin, account.password)
    answers.append(soap.call("PwsGetClientList", f"<req:SessionTicket>{ticket}</req:SessionTicket>"))
    lines = log.lines
    assert [line["request_id"] for line in lines if line["operation"] != "PwsAuthenticate" or
            line["status"] != "Ok"] == [a.headers["x-openpws-request-id"] for a in answers]
    shown = [{k: line[k] for k in ("account", "user", "operation", "status", "errors", "http_status")}
             for line in lines]
    assert shown == [
        {"account": account.code, "user": account.viewer, "operation": "PwsAuthenticate", "status": "Fail",
         "errors": [answers[0].error_numbers()[0]], "http_status": 200},
        {"account": None, "user": None, "operation": "PwsGetClientList", "status": "FailSessionInvalid",
         "errors": [10004], "http_status": 200},
        {"account": None, "user": None, "operation": "unknown", "status": "s:Client", "errors": [],
         "http_status": 500},
        {"account": account.code, "user": account.admin, "operation": "PwsAuthenticate", "status": "Ok",
         "errors": [], "http_status": 200},
        {"account": account.code, "user": account.admin, "operation": "PwsGetClientList", "status": "Ok",
         "errors": [], "http_status": 200},
    ]
    assert all(line["duration_ms"] >= line["database_ms"] >= 0 for line in lines)
    assert lines[2]["database_ms"] == 0  # refused before any work


def test_a_line_and_the_journal_entry_of_a_request_share_its_id(
        json_soap: tuple[SoapClient, Lines], account: AccountFixture) -> None:
    soap, log = json_soap
    ticket = soap.login(account.code, account.admin, account.password)
    answer = soap.call("PwsGetClientList", f"<req:SessionTicket>{ticket}</req:SessionTicket>")
    [line] = [line for line in log.lines if line["operation"] == "PwsGetClientList"]
    assert line["request_id"] == answer.headers["x-openpws-request-id"]
    with httpx.Client(base_url=IN_PROCESS_URL, transport=soap.transport,
                      headers={"Authorization": f"Bearer {ADMIN_TOKEN}"}) as api:
        entry = api.get(f"{API}/accounts/{account.code}/requests/{line['request_id']}")
    assert entry.status_code == 200, entry.text
    assert {k: entry.json()[k] for k in ("operation", "status", "user")} == {
        k: line[k] for k in ("operation", "status", "user")}


def test_a_line_names_the_fault_rule_that_answered(json_soap: tuple[SoapClient, Lines], store: Store,
                                                   account: AccountFixture) -> None:
    soap, log = json_soap
    environment = Environment(store, Settings())
    rule = faults.add(environment, account.code, faults.NewRule("PwsGetClientList", faults.HttpStatus(503), times=1),
                      datetime.now(UTC))
    time.sleep(faults.CACHE_SECONDS + 0.1)  # the application's copy of the rules is its own
    ticket = soap.login(account.code, account.admin, account.password)
    body = f"<req:SessionTicket>{ticket}</req:SessionTicket>"
    assert [soap.call("PwsGetClientList", body).status_code for _ in range(2)] == [503, 200]
    shown = [(line["fault_rule"], line["status"], line["http_status"]) for line in log.lines[-2:]]
    assert shown == [(rule.id, "HTTP 503", 503), (None, "Ok", 200)]

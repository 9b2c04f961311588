"""The request journal over HTTP: every PWS exchange kept per account with the id its response
carried, masked, filtered, counted, cleared; the server-wide journal; the bound."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from openpws.app import create_app
from openpws.config import Settings
from openpws.store.transactions import Store
from tests.asgi import AsgiTransport
from tests.conftest import ADMIN_TOKEN, IN_PROCESS_URL, TEST_SCRYPT_COST, AccountFixture, make_account
from tests.messages.deletes_common import delete_project
from tests.messages.test_locks import Two, acquire, entity
from tests.pws import Answer, SoapClient, envelope
from tests.sandbox.rows import API
from tests.sandbox.test_api import error_of
from tests.tree import Pws, ref


def journal(api: httpx.Client, code: str | None, **params: Any) -> list[dict[str, Any]]:
    path = f"{API}/accounts/{code}/requests" if code is not None else f"{API}/requests"
    answer = api.get(path, params={"limit": 1000, **params})
    assert answer.status_code == 200, answer.text
    items: list[dict[str, Any]] = answer.json()["items"]
    return items


def detail(api: httpx.Client, code: str | None, ident: int | str) -> dict[str, Any]:
    answer = api.get(f"{API}/accounts/{code}/requests/{ident}" if code else f"{API}/requests/{ident}")
    assert answer.status_code == 200, answer.text
    found: dict[str, Any] = answer.json()
    return found


def count(api: httpx.Client, code: str, **matcher: Any) -> int:
    answer = api.post(f"{API}/accounts/{code}/requests/count", json=matcher)
    assert answer.status_code == 200, answer.text
    return int(answer.json()["count"])


def request_id(answer: Answer) -> int:
    return int(answer.headers["x-openpws-request-id"])


def test_every_exchange_is_kept_under_the_id_its_response_carried(
        api: httpx.Client, soap: SoapClient, account: AccountFixture) -> None:
    pws = Pws(soap, account)
    ok = pws.call("PwsGetClientList")
    missing = pws.call("PwsGetClient", f"<req:ClientIdentity>{ref('Client', 'C404')}</req:ClientIdentity>")
    assert missing.status == "Fail"
    unmodelled = pws.call("PwsGetClientList", "<req:MaxRowsToReturn>5</req:MaxRowsToReturn>")
    ids = [request_id(a) for a in (ok, missing, unmodelled)]
    assert len(set(ids)) == 3

    items = journal(api, account.code)
    # Newest first: the three calls, then the login.
    assert [item["id"] for item in items[:3]] == ids[::-1]
    assert [item["operation"] for item in items] == ["PwsGetClientList", "PwsGetClient", "PwsGetClientList",
                                                     "PwsAuthenticate"]
    login = items[3]
    assert (login["user"], login["status"], login["http_status"], login["errors"]) == (
        account.admin, "Ok", 200, [])
    assert (items[2]["status"], items[2]["errors"], items[2]["fault_rule"]) == ("Ok", [], None)
    assert missing.error_numbers()
    assert (items[1]["status"], items[1]["errors"], items[1]["http_status"]) == (
        "Fail", missing.error_numbers(), 200)
    assert items[0]["not_modelled"] == unmodelled.not_modelled
    assert all(item["duration_ms"] > 0 and item["user"] == account.admin for item in items)
    assert set(items[0]) == {"id", "time", "user", "operation", "status", "http_status", "errors",
                             "duration_ms", "not_modelled", "fault_rule"}

    shown = detail(api, account.code, ids[1])
    assert {k: v for k, v in shown.items() if k not in ("request_xml", "response_xml")} == items[1]
    assert "C404" in shown["request_xml"] and str(missing.error_numbers()[0]) in shown["response_xml"]
    assert shown["response_xml"] == missing.content.decode()


def test_tickets_and_passwords_are_masked(api: httpx.Client, soap: SoapClient, account: AccountFixture) -> None:
    ticket = soap.login(account.code, account.admin, account.password)
    soap.call("PwsGetClientList", f"<req:SessionTicket>{ticket}</req:SessionTicket>")
    items = journal(api, account.code)
    texts = [detail(api, account.code, item["id"]) for item in items]
    everything = "".join(t["request_xml"] + t["response_xml"] for t in texts)
    assert ticket not in everything and account.password not in everything
    assert "<req:Password>***</req:Password>" in texts[1]["request_xml"]
    assert "SessionTicket>***</" in texts[1]["response_xml"]
    assert "<req:SessionTicket>***</req:SessionTicket>" in texts[0]["request_xml"]


def test_a_lock_fault_a_client_fault_and_a_failed_login(
        api: httpx.Client, soap: SoapClient, store: Store, account: AccountFixture) -> None:
    two = Two(soap, store, account)
    acquire(two.other, entity("E", two.engagement))
    blocked = delete_project(two.me, two.project, cascade=True)
    assert blocked.status_code == 500
    # A member that is not of its type, read after the session check: the account's, as s:Client.
    bad = two.me.call("PwsSaveClient")  # no Client
    wrong = soap.authenticate(account.code, account.admin, "not the password")
    items = journal(api, account.code)
    by_id = {item["id"]: item for item in items}
    fault = by_id[request_id(blocked)]
    assert (fault["status"], fault["http_status"], fault["errors"], fault["operation"]) == (
        "PwsFault", 500, [54076], "PwsDeleteProject")
    assert bad.faultcode == "s:Client"
    assert (by_id[request_id(bad)]["status"], by_id[request_id(bad)]["http_status"]) == ("s:Client", 500)
    failed = by_id[request_id(wrong)]
    assert (failed["status"], failed["errors"], failed["user"]) == ("Fail", [10002], account.admin)


def test_filters_and_the_count_matcher(api: httpx.Client, soap: SoapClient, account: AccountFixture) -> None:
    pws = Pws(soap, account)
    engagement = pws.engagement(pws.client("Acme"), "Work")
    keep, goes = pws.project(engagement, "Keep"), pws.project(engagement, "Goes")
    pws.role(goes, "Engineer")
    assert delete_project(pws, goes).status == "Fail"  # a role blocks without the cascade
    assert delete_project(pws, goes, cascade=True).status == "Ok"
    assert delete_project(pws, keep, cascade=False).status == "Ok"

    assert [i["operation"] for i in journal(api, account.code, operation="PwsDeleteProject")] == [
        "PwsDeleteProject"] * 3
    [failed] = journal(api, account.code, status="Fail")
    assert failed["operation"] == "PwsDeleteProject" and failed["errors"]
    assert journal(api, account.code, error=failed["errors"][0]) == [failed]
    assert journal(api, account.code, error=1) == []
    assert len(journal(api, account.code, limit=2)) == 2

    # "My code called PwsDeleteProject once with CascadeDeleteFlag true."
    assert count(api, account.code, operation="PwsDeleteProject", body_contains="CascadeDeleteFlag>true<") == 1
    assert count(api, account.code, operation="PwsDeleteProject", status="Ok") == 2
    assert count(api, account.code, operation="PwsDeleteProject") == 3
    assert count(api, account.code) == len(journal(api, account.code))
    assert count(api, account.code, since="2999-01-01T00:00:00Z") == 0
    assert count(api, account.code, since=failed["time"]) == 3


def test_clear_and_isolation(api: httpx.Client, soap: SoapClient, store: Store, account: AccountFixture) -> None:
    other = make_account(store)
    Pws(soap, account).call("PwsGetClientList")
    Pws(soap, other).call("PwsGetClientList")
    mine, theirs = journal(api, account.code), journal(api, other.code)
    assert {i["id"] for i in mine}.isdisjoint(i["id"] for i in theirs)
    assert all(i["user"].endswith(account.code) for i in mine)
    assert error_of(api.get(f"{API}/accounts/{other.code}/requests/{mine[0]['id']}"), 404)["path"] == "id"

    answer = api.delete(f"{API}/accounts/{account.code}/requests")
    assert answer.status_code == 204 and answer.content == b""
    assert journal(api, account.code) == [] and journal(api, other.code) == theirs


def test_requests_that_name_no_account_go_to_the_server_wide_journal(
        api: httpx.Client, soap: SoapClient, account: AccountFixture) -> None:
    marker = secrets.token_hex(8)
    bad_ticket = soap.call("PwsGetClientList", f"<req:SessionTicket>{marker}AAAAAAAAAAAAAAAA==</req:SessionTicket>")
    assert bad_ticket.error_numbers() == [10004]
    not_xml = soap.post(f"<oops {marker}".encode())
    unknown = soap.post(envelope("PwsNoSuchThing", marker))
    wrong_account = soap.authenticate(f"none-{marker}", "x", "y")
    ids = {request_id(a): a for a in (bad_ticket, not_xml, unknown, wrong_account)}
    items = {i["id"]: i for i in journal(api, None) if i["id"] in ids}
    assert set(items) == set(ids)
    assert items[request_id(bad_ticket)]["status"] == "FailSessionInvalid"
    assert items[request_id(bad_ticket)]["errors"] == [10004]
    assert (items[request_id(not_xml)]["status"], items[request_id(not_xml)]["operation"]) == ("s:Client", None)
    assert items[request_id(wrong_account)]["errors"] == [10002]
    assert marker not in detail(api, None, request_id(bad_ticket))["request_xml"]  # the ticket is masked
    assert marker in detail(api, None, request_id(unknown))["request_xml"]
    assert all(i["id"] not in ids for i in journal(api, account.code))


@pytest.mark.parametrize(("method", "path", "body", "status", "at"), [
    ("GET", "/accounts/no-such/requests", None, 404, "code"),
    ("GET", "/accounts/no-such/requests/1", None, 404, "code"),
    ("POST", "/accounts/no-such/requests/count", {}, 404, "code"),
    ("DELETE", "/accounts/no-such/requests", None, 404, "code"),
    ("GET", "/accounts/{code}/requests/999999999", None, 404, "id"),
    ("GET", "/accounts/{code}/requests/abc", None, 422, "id"),
    ("GET", "/accounts/{code}/requests?limit=0", None, 422, "limit"),
    ("GET", "/accounts/{code}/requests?since=yesterday", None, 422, "since"),
    ("GET", "/accounts/{code}/requests?error=x", None, 422, "error"),
    ("POST", "/accounts/{code}/requests/count", {"body": "x"}, 422, "body"),
    ("POST", "/accounts/{code}/requests/count", {"error": "many"}, 422, "error"),
    ("POST", "/requests/count", {"since": "never"}, 422, "since"),
])
def test_bad_journal_calls_are_json_errors(api: httpx.Client, account: AccountFixture, method: str, path: str,
                                           body: Any, status: int, at: str) -> None:
    answer = api.request(method, API + path.format(code=account.code), json=body)
    assert error_of(answer, status)["path"] == at


@pytest.fixture
def small(store: Store, database_url: str) -> Iterator[AsgiTransport]:
    """The application keeping 5 exchanges per account."""
    settings = Settings(database_url=database_url, scrypt_cost=TEST_SCRYPT_COST, admin_token=ADMIN_TOKEN,
                        journal_size=5)
    served = Store.open(database_url, threads=settings.threads)
    transport = AsgiTransport(create_app(settings, served))
    yield transport
    transport.shutdown()
    served.dispose()


def test_the_journal_keeps_its_bound(small: AsgiTransport, store: Store, account: AccountFixture) -> None:
    with SoapClient(IN_PROCESS_URL, small) as soap, httpx.Client(
            base_url=IN_PROCESS_URL, transport=small, headers={"Authorization": f"Bearer {ADMIN_TOKEN}"}) as api:
        pws = Pws(soap, account)
        sent = [request_id(pws.call("PwsGetClientList")) for _ in range(12)]
        items = journal(api, account.code)
        assert [i["id"] for i in items] == sent[::-1][:5]
        assert count(api, account.code) == 5
        assert error_of(api.get(f"{API}/accounts/{account.code}/requests/{sent[0]}"), 404)["path"] == "id"


def test_off_records_nothing_and_still_numbers_responses(store: Store, database_url: str,
                                                         account: AccountFixture) -> None:
    settings = Settings(database_url=database_url, scrypt_cost=TEST_SCRYPT_COST, admin_token=ADMIN_TOKEN,
                        journal=False)
    served = Store.open(database_url, threads=settings.threads)
    transport = AsgiTransport(create_app(settings, served))
    try:
        with SoapClient(IN_PROCESS_URL, transport) as soap, httpx.Client(
                base_url=IN_PROCESS_URL, transport=transport,
                headers={"Authorization": f"Bearer {ADMIN_TOKEN}"}) as api:
            answer = Pws(soap, account).call("PwsGetClientList")
            assert request_id(answer) > 0
            assert journal(api, account.code) == []
    finally:
        transport.shutdown()
        served.dispose()


def test_a_restore_does_not_rewind_the_journal(api: httpx.Client, soap: SoapClient, account: AccountFixture) -> None:
    taken = api.post(f"{API}/accounts/{account.code}/snapshots")
    assert taken.status_code == 201, taken.text
    pws = Pws(soap, account)
    after = [request_id(pws.call("PwsGetClientList")) for _ in range(2)]
    restored = api.post(f"{API}/accounts/{account.code}/snapshots/{taken.json()['id']}/restore")
    assert restored.status_code == 200, restored.text
    # What the client did after the snapshot stays listed: the journal is not part of the account's state.
    assert [item["id"] for item in journal(api, account.code)][:2] == after[::-1]


def test_a_removed_accounts_exchanges_never_reach_an_account_made_after_it(api: httpx.Client, soap: SoapClient,
                                                                         store: Store) -> None:
    """An account removed right after a request (its exchange still waiting to be written) takes
    the exchange with it, even when the next account made is given the removed one's id."""
    for _ in range(10):
        gone = make_account(store, prefix="gone")
        pws = Pws(soap, gone)
        pws.call("PwsSaveClient", "<req:Client><com:ClientName>Gone</com:ClientName></req:Client>")
        assert api.delete(f"{API}/accounts/{gone.code}").status_code == 204
        fresh = make_account(store, prefix="fresh")
        assert [entry["user"] for entry in journal(api, fresh.code)] == []

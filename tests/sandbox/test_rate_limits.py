"""Rate limiting over HTTP: PwsTestRateLimiter's snapshot and simulated hits, error mode's PwsFault
before any work, warning mode's warning after it, weights, the installation/user/session counts,
the window on the account's clock, zeep seeing the 10016 PwsFault as the typed fault, one
account's limits never touching another's, the control plane's calls and bad input."""

from __future__ import annotations

import re
import time
from typing import Any

import httpx
import pytest
import zeep
import zeep.exceptions
from click.testing import CliRunner
from lxml import etree

from openpws.cli import main
from openpws.contract import ns
from openpws.services.rate_limits import CACHE_SECONDS
from openpws.store.transactions import Store
from tests.conftest import AccountFixture, make_account
from tests.messages.test_locks import fault_numbers, pws_fault
from tests.pws import NAMESPACES, Answer, SoapClient, envelope
from tests.sandbox.test_faults import data_of as rows_besides_faults
from tests.sandbox.test_faults import save_client
from tests.tree import Pws

API = "/_openpws/api"
SIMULATED = ("InstallationHitsAfter", "InstallationHitsBefore", "SessionHitsAfter", "SessionHitsBefore",
             "UserHitsAfter", "UserHitsBefore")


def data_of(store: Store, code: str) -> dict[str, list[tuple[Any, ...]]]:
    """The account's rows but for the hits counted and what a fault rule may change."""
    return {table: rows for table, rows in rows_besides_faults(store, code).items() if table != "rate_limit_hits"}


def set_limits(api: httpx.Client, code: str, **body: Any) -> dict[str, Any]:
    answer = api.put(f"{API}/accounts/{code}/rate-limits", json=body)
    assert answer.status_code == 200, answer.text
    limits: dict[str, Any] = answer.json()
    return limits


def test_rate_limiter(pws: Pws, **simulate: int) -> Answer:
    members = "".join(f"<req:Simulate{name}>{simulate[name]}</req:Simulate{name}>" for name in SIMULATED
                      if name in simulate)
    return pws.call("PwsTestRateLimiter", members)


test_rate_limiter.__test__ = False  # type: ignore[attr-defined]


def snapshot(answer: Answer) -> dict[str, str]:
    assert answer.status == "Ok", answer.content.decode()
    found = answer.member("RateLimitSnapshot")
    assert found is not None, answer.content.decode()
    return {etree.QName(child).localname: child.text or "" for child in found}


def counts(answer: Answer) -> tuple[int, int, int]:
    shown = snapshot(answer)
    return int(shown["InstallationHitCount"]), int(shown["UserHitCount"]), int(shown["SessionHitCount"])


def test_pws_test_rate_limiter_reports_counts_and_limits_with_limiting_off(soap: SoapClient,
                                                                        account: AccountFixture) -> None:
    pws = Pws(soap, account)
    first = test_rate_limiter(pws)
    assert snapshot(first) == {
        "EnabledFlag": "false", "InstallationHitCount": "1", "InstallationRateLimit": "2400",
        "RollingWindowSeconds": "60", "SessionHitCount": "1", "SessionRateLimit": "1200", "UserHitCount": "1",
        "UserRateLimit": "1800"}
    # The wiki's example: hits simulated before and after the algorithm both stay in the window.
    second = test_rate_limiter(pws, InstallationHitsAfter=500, InstallationHitsBefore=1500, SessionHitsAfter=200,
                               SessionHitsBefore=1000, UserHitsAfter=1000, UserHitsBefore=1000)
    assert counts(second) == (1 + 1 + 1500 + 500, 1 + 1 + 1000 + 1000, 1 + 1 + 1000 + 200)
    # Limiting off: nothing fails, and other calls are not counted.
    pws.ok("PwsGetClientList")
    assert counts(test_rate_limiter(pws)) == (2003, 2003, 1203)


def test_error_mode_refuses_before_any_work_with_the_pws_fault(api: httpx.Client, soap: SoapClient, store: Store,
                                                               account: AccountFixture) -> None:
    pws = Pws(soap, account)
    set_limits(api, account.code, mode="error", limits={"session": 3})
    assert [save_client(pws, f"C{i}").status for i in range(3)] == ["Ok", "Ok", "Ok"]
    before = data_of(store, account.code)
    refused = save_client(pws, "Too many")
    assert fault_numbers(refused) == [10016]
    message = pws_fault(refused).find("com:Messages/com:PwsMessage", NAMESPACES)
    assert message is not None
    assert message.findtext("com:Type", namespaces=NAMESPACES) == "Error"
    assert message.findtext("com:ErrorCode", namespaces=NAMESPACES) == "RequestExceededRateLimit"
    text = message.findtext("com:ErrorText", namespaces=NAMESPACES) or ""
    assert "4 of 3 session hits" in text and "4 of 1800 user hits" in text and "4 of 2400 installation" in text
    assert pws_fault(refused).findtext("com:ServiceName", namespaces=NAMESPACES) == "PwsSaveClientRs"
    assert data_of(store, account.code) == before  # refused before any work
    entry = api.get(f"{API}/accounts/{account.code}/requests/{refused.headers['x-openpws-request-id']}").json()
    assert entry["status"] == "PwsFault" and entry["errors"] == [10016]
    # A new session of the same user starts its own session count.
    assert save_client(Pws(soap, account), "Fresh session").status == "Ok"


def test_warning_mode_does_the_work_and_warns(api: httpx.Client, soap: SoapClient, account: AccountFixture) -> None:
    pws = Pws(soap, account)
    set_limits(api, account.code, mode="warning", limits={"user": 1})
    assert pws.ok("PwsGetClientList").status == "Ok"
    over = save_client(pws, "Still saved")
    assert over.status == "OkWithWarnings" and over.error_numbers() == [10016]
    assert over.messages()[0]["Type"] == "Warning"
    assert "2 of 1 user hits" in (over.messages()[0]["ErrorText"] or "")
    listed = pws.ok("PwsGetClientList")
    assert "Still saved" in listed.content.decode()
    # A request that fails anyway carries the warning beside its error.
    failed = pws.call("PwsGetClient", "<req:ClientIdentities/>")
    assert failed.status == "Fail" and 10016 in failed.error_numbers()


def test_weights_count_an_operation_several_hits(api: httpx.Client, soap: SoapClient,
                                                 account: AccountFixture) -> None:
    pws = Pws(soap, account)
    limits = set_limits(api, account.code, mode="error", limits={"installation": 10},
                        weights={"PwsGetClientList": 4})
    assert limits == {"mode": "error", "limits": {"installation": 10, "user": 1800, "session": 1200},
                      "weights": {"PwsGetClientList": 4}, "window_seconds": 60}
    assert [pws.call("PwsGetClientList").status for _ in range(2)] == ["Ok", "Ok"]
    assert fault_numbers(pws.call("PwsGetClientList")) == [10016]  # 12 > 10
    assert fault_numbers(test_rate_limiter(pws)) == [10016]  # any operation: 13 > 10


def test_the_window_runs_on_the_accounts_clock(api: httpx.Client, soap: SoapClient, account: AccountFixture) -> None:
    assert api.put(f"{API}/accounts/{account.code}/clock", json={"frozen_at": "2031-01-01T09:00:00Z"}).is_success
    pws = Pws(soap, account)
    set_limits(api, account.code, mode="error", limits={"user": 2})
    assert [save_client(pws, f"C{i}").status for i in range(2)] == ["Ok", "Ok"]
    assert fault_numbers(save_client(pws, "Refused")) == [10016]
    assert api.put(f"{API}/accounts/{account.code}/clock", json={"advance_seconds": 59}).is_success
    assert fault_numbers(save_client(pws, "Still refused")) == [10016]  # every refused call counted too
    assert api.put(f"{API}/accounts/{account.code}/clock", json={"advance_seconds": 61}).is_success
    assert save_client(pws, "After the window").status == "Ok"


def test_simulated_hits_before_can_make_the_call_itself_fail(api: httpx.Client, soap: SoapClient,
                                                            account: AccountFixture) -> None:
    pws = Pws(soap, account)
    set_limits(api, account.code, mode="error")
    refused = test_rate_limiter(pws, UserHitsBefore=1800, UserHitsAfter=50)
    assert fault_numbers(refused) == [10016]
    assert pws_fault(refused).findtext("com:ServiceName", namespaces=NAMESPACES) == "PwsTestRateLimiterRs"
    # The After hits of a refused call were never added; the Before ones and its weight were.
    assert fault_numbers(save_client(pws)) == [10016]
    assert api.delete(f"{API}/accounts/{account.code}/rate-limits/hits").status_code == 204
    assert save_client(pws).status == "Ok"
    # After hits count against the next call, not this one.
    assert counts(test_rate_limiter(pws, SessionHitsAfter=1198)) == (2, 2, 1200)
    assert fault_numbers(save_client(pws)) == [10016]


def test_pws_authenticate_counts_for_the_installation_and_user(api: httpx.Client, soap: SoapClient,
                                                              account: AccountFixture) -> None:
    set_limits(api, account.code, mode="error", limits={"user": 3})
    Pws(soap, account)  # one PwsAuthenticate
    pws = Pws(soap, account)  # a second
    assert counts(test_rate_limiter(pws)) == (3, 3, 1)
    refused = soap.authenticate(account.code, account.admin, account.password)
    assert fault_numbers(refused) == [10016]
    assert soap.authenticate(account.code, account.viewer, account.password).status == "Ok"  # another user


def test_zeep_sees_the_rate_limit_error_as_the_typed_pws_fault(api: httpx.Client, soap: SoapClient,
                                                               account: AccountFixture) -> None:
    pws = Pws(soap, account)
    client = zeep.Client(soap.endpoint + "?wsdl", transport=soap.zeep_transport())
    shown = client.service.PwsTestRateLimiter(serviceRequest={"SessionTicket": pws.ticket,
                                                              "SimulateUserHitsAfter": 10})
    assert shown.Status == "Ok" and shown.RateLimitSnapshot.UserHitCount == 11
    assert shown.RateLimitSnapshot.EnabledFlag is False
    set_limits(api, account.code, mode="error", limits={"user": 11})
    with pytest.raises(zeep.exceptions.Fault) as raised:
        client.service.PwsGetClientList(serviceRequest={"SessionTicket": pws.ticket, "RequestId": 9})
    assert raised.value.detail is not None
    fault = client.get_type(f"{{{ns.COMMON}}}PwsFault").parse_xmlelement(raised.value.detail[0], client.wsdl.types)
    assert fault.ResponseId == 9 and fault.ServiceName == "PwsGetClientListRs"
    assert fault.Messages.PwsMessage[0].ErrorNumber == 10016


def test_one_accounts_limits_never_touch_another(api: httpx.Client, soap: SoapClient, store: Store,
                                                account: AccountFixture) -> None:
    other = make_account(store)
    set_limits(api, account.code, mode="error", limits={"installation": 1})
    mine, theirs = Pws(soap, account), Pws(soap, other)
    assert fault_numbers(save_client(mine)) == [10016]
    assert [save_client(theirs, f"C{i}").status for i in range(3)] == ["Ok", "Ok", "Ok"]
    assert api.get(f"{API}/accounts/{other.code}/rate-limits").json()["mode"] == "off"


def test_the_settings_calls(api: httpx.Client, soap: SoapClient, account: AccountFixture) -> None:
    fresh = api.get(f"{API}/accounts/{account.code}/rate-limits")
    assert fresh.status_code == 200
    assert fresh.json() == {"mode": "off", "limits": {"installation": 2400, "user": 1800, "session": 1200},
                            "weights": {}, "window_seconds": 60}
    set_limits(api, account.code, mode="error", limits={"user": 1})
    pws = Pws(soap, account)
    assert fault_numbers(pws.call("PwsGetClientList")) == [10016]
    # PUT replaces the whole: what it leaves out takes the defaults.
    assert set_limits(api, account.code, mode="off")["limits"]["user"] == 1800
    assert pws.call("PwsGetClientList").status == "Ok"


@pytest.mark.parametrize(("body", "path"), [
    ({"mode": "sometimes"}, "mode"),
    ({}, "mode"),
    ({"mode": "error", "limits": {"user": 0}}, "limits.user"),
    ({"mode": "error", "limits": {"user": "10"}}, "limits.user"),
    ({"mode": "error", "limits": {"everyone": 10}}, "limits.everyone"),
    ({"mode": "error", "weights": {"PwsNoSuchThing": 2}}, "weights.PwsNoSuchThing"),
    ({"mode": "error", "weights": {"PwsGetClient": -1}}, "weights.PwsGetClient"),
    ({"mode": "error", "window": 30}, "window"),
])
def test_bad_settings_are_refused(api: httpx.Client, account: AccountFixture, body: dict[str, Any], path: str) -> None:
    answer = api.put(f"{API}/accounts/{account.code}/rate-limits", json=body)
    assert answer.status_code == 422, answer.text
    assert answer.json()["error"]["path"] == path
    assert api.get(f"{API}/accounts/{account.code}/rate-limits").json()["mode"] == "off"


def test_an_unknown_account_is_404(api: httpx.Client) -> None:
    for answer in (api.put(f"{API}/accounts/no-such/rate-limits", json={"mode": "error"}),
                   api.get(f"{API}/accounts/no-such/rate-limits"),
                   api.delete(f"{API}/accounts/no-such/rate-limits/hits")):
        assert answer.status_code == 404 and answer.json()["error"]["code"] == "not_found"


def test_a_negative_simulated_count_is_a_client_fault(soap: SoapClient, account: AccountFixture) -> None:
    answer = test_rate_limiter(Pws(soap, account), UserHitsBefore=-5)
    assert answer.status_code == 500 and answer.faultcode == "s:Client"
    assert "cannot be negative" in answer.faultstring


def test_the_largest_simulated_counts_are_held(api: httpx.Client, soap: SoapClient,
                                                account: AccountFixture) -> None:
    pws = Pws(soap, account)
    largest = 2**31 - 1
    shown = counts(test_rate_limiter(pws, InstallationHitsBefore=largest, InstallationHitsAfter=largest,
                                     UserHitsAfter=largest))
    assert shown == (largest, largest, 1)  # shown as the largest Int32, however many more
    set_limits(api, account.code, mode="error")
    assert fault_numbers(test_rate_limiter(pws, SessionHitsBefore=largest)) == [10016]


def test_a_preview_is_answered_as_the_request_would_be_and_counts_nothing(
        api: httpx.Client, soap: SoapClient, account: AccountFixture) -> None:
    pws = Pws(soap, account)
    set_limits(api, account.code, mode="error", limits={"session": 2})
    body = envelope("PwsGetClientList", f"<req:SessionTicket>{pws.ticket}</req:SessionTicket>")
    previews = [soap.post(body, headers={"X-Openpws-Preview": "true"}) for _ in range(3)]
    assert [p.status for p in previews] == ["Ok", "Ok", "Ok"]  # each would be the session's first or second hit
    assert [pws.call("PwsGetClientList").status for _ in range(2)] == ["Ok", "Ok"]  # the previews counted nothing
    over = soap.post(body, headers={"X-Openpws-Preview": "true"})
    assert fault_numbers(over) == [10016]  # what the next call gets
    assert fault_numbers(pws.call("PwsGetClientList")) == [10016]


def test_the_command_line(api: httpx.Client, soap: SoapClient, database_url: str, account: AccountFixture) -> None:
    """`openpws rate-limits` changes the same settings; a server sees them within a second."""
    runner = CliRunner()

    def openpws(*args: str) -> str:
        done = runner.invoke(main, [*args, "--account", account.code, "--database", database_url])
        assert done.exit_code == 0, done.output
        return done.output

    shown = openpws("rate-limits", "set", "--mode", "error", "--user", "2", "--weight", "PwsGetClientList=2")
    assert shown.splitlines() == ["mode\terror", "limits\tinstallation 2400\tuser 2\tsession 1200", "window\t60 s",
                                  "weight\tPwsGetClientList\t2"]
    assert openpws("rate-limits", "show") == shown
    time.sleep(CACHE_SECONDS + 0.1)
    pws = Pws(soap, account)
    assert fault_numbers(pws.call("PwsGetClientList")) == [10016]  # 1 (authenticate) + 2 > 2
    assert openpws("rate-limits", "clear-hits") == f"Cleared the rate-limit hits of {account.code}.\n"
    assert pws.call("PwsGetClientList").status == "Ok"
    refused = runner.invoke(main, ["rate-limits", "set", "--mode", "error", "--weight", "nonsense",
                                   "--account", account.code, "--database", database_url])
    assert refused.exit_code == 2 and "OPERATION=HITS" in refused.output
    assert re.search(r"mode\terror", openpws("rate-limits", "show"))

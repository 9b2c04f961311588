"""Fault rules over HTTP: each kind of answer, `times` and `probability`, the user filter, the
simulated lock and its steal, zeep seeing an injected PwsFault as the typed fault and a 503 as a
transport error, no data changed by a fault, one account's rules never touching another's
requests, and bad input refused with a JSON error."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest
import zeep
import zeep.exceptions
from click.testing import CliRunner

from openpws.cli import main
from openpws.contract import ns
from openpws.services.faults import CACHE_SECONDS
from openpws.services.permissions import ALL
from openpws.soap.http import ConnectionDropped
from openpws.store.transactions import Store
from tests.conftest import AccountFixture, make_account, make_user
from tests.messages.test_locks import FAULT, fault_numbers, holders_as_locks_to_steal
from tests.pws import SoapClient
from tests.sandbox.rows import API, account_id, rows_of
from tests.tree import Pws, ref, tag

# What a fault may change: the rule's own count, the session's last-seen time, and the request
# journal (which records the answered request).
NOT_DATA = ("fault_rules", "sessions", "journal")


def add(api: httpx.Client, code: str, **body: Any) -> dict[str, Any]:
    answer = api.post(f"{API}/accounts/{code}/faults", json=body)
    assert answer.status_code == 201, answer.text
    rule: dict[str, Any] = answer.json()
    return rule


def rules(api: httpx.Client, code: str) -> list[dict[str, Any]]:
    answer = api.get(f"{API}/accounts/{code}/faults")
    assert answer.status_code == 200, answer.text
    items: list[dict[str, Any]] = answer.json()["items"]
    return items


def data_of(store: Store, code: str) -> dict[str, list[tuple[Any, ...]]]:
    found = account_id(store, code)
    assert found is not None
    return {table: rows for table, rows in rows_of(store, found).items() if table not in NOT_DATA}


def save_client(pws: Pws, name: str = "Acme") -> Any:
    return pws.call("PwsSaveClient", f"<req:Client><com:ClientName>{name}</com:ClientName></req:Client>")


def rename(pws: Pws, engagement: str, extra: str = "") -> Any:
    return pws.call("PwsSaveEngagement", f"<sch:Engagement>{ref('Engagement', engagement)}<com:EngagementName>"
                    f"Renamed</com:EngagementName></sch:Engagement>{extra}")


def test_an_error_rule_answers_the_catalogue_message_and_changes_nothing(
        api: httpx.Client, soap: SoapClient, store: Store, account: AccountFixture) -> None:
    pws = Pws(soap, account)
    existing = pws.client("Existing")
    rule = add(api, account.code, operation="PwsSaveClient", then={"error": 50046})
    assert rule["then"] == {"error": 50046} and rule["times"] is None and rule["answered"] == 0
    before = data_of(store, account.code)
    answer = save_client(pws)
    assert answer.status == "Fail" and answer.error_numbers() == [50046]
    assert answer.messages()[0]["ErrorText"] == "You do not have permission to update this item."
    assert data_of(store, account.code) == before
    assert rules(api, account.code)[0]["answered"] == 1
    assert pws.engagement(existing, "Work")  # other operations are answered as ever


def test_the_journal_entry_names_the_rule_that_answered(api: httpx.Client, soap: SoapClient,
                                                        account: AccountFixture) -> None:
    pws = Pws(soap, account)
    rule = add(api, account.code, operation="PwsSaveClient", times=1, then={"error": 50046})
    refused, saved = save_client(pws, "C1"), save_client(pws, "C2")
    entries = {}
    for answer in (refused, saved):
        entry = api.get(f"{API}/accounts/{account.code}/requests/{answer.headers['x-openpws-request-id']}")
        assert entry.status_code == 200, entry.text
        entries[answer.status] = entry.json()
    assert entries["Fail"]["fault_rule"] == rule["id"] and entries["Fail"]["errors"] == [50046]
    assert entries["Ok"]["fault_rule"] is None


def test_times_counts_the_calls_it_answers(api: httpx.Client, soap: SoapClient, account: AccountFixture) -> None:
    pws = Pws(soap, account)
    add(api, account.code, operation="PwsSaveClient", times=2, then={"error": 50046})
    assert [save_client(pws, f"C{i}").status for i in range(3)] == ["Fail", "Fail", "Ok"]
    assert rules(api, account.code) == []  # spent


@pytest.mark.parametrize(("probability", "expected"), [(0, "Ok"), (1, "Fail")])
def test_probability_zero_never_answers_and_one_always_does(api: httpx.Client, soap: SoapClient,
                                                            account: AccountFixture, probability: float,
                                                            expected: str) -> None:
    pws = Pws(soap, account)
    add(api, account.code, operation="PwsSaveClient", probability=probability, times=5, then={"error": 50046})
    assert {save_client(pws, f"C{i}").status for i in range(4)} == {expected}
    left = rules(api, account.code)
    assert left[0]["answered"] == (4 if probability else 0) and left[0]["times"] == (1 if probability else 5)


def test_a_user_filter_matches_that_users_requests_only(api: httpx.Client, soap: SoapClient, store: Store,
                                                        account: AccountFixture) -> None:
    other = f"other@{account.code}"
    make_user(store, account.code, other, ALL)
    add(api, account.code, operation="PwsSaveClient", user=other.upper(), then={"error": 50046})
    assert save_client(Pws(soap, account)).status == "Ok"
    assert save_client(Pws(soap, account, other), "Other").error_numbers() == [50046]


def test_pws_authenticate_naming_the_account_is_matched(api: httpx.Client, soap: SoapClient,
                                                        account: AccountFixture) -> None:
    add(api, account.code, operation="PwsAuthenticate", user=account.viewer, times=1, then={"error": 50220})
    assert soap.authenticate(account.code, account.admin, account.password).status == "Ok"
    refused = soap.authenticate(account.code, account.viewer, account.password)
    assert refused.status == "Fail" and refused.error_numbers() == [50220]
    assert soap.authenticate(account.code, account.viewer, account.password).status == "Ok"


@pytest.mark.parametrize("code", ["Server", "Client"])
def test_a_soap_fault_rule(api: httpx.Client, soap: SoapClient, store: Store, account: AccountFixture,
                           code: str) -> None:
    pws = Pws(soap, account)
    add(api, account.code, operation="PwsSaveClient", then={"soap_fault": code})
    before = data_of(store, account.code)
    answer = save_client(pws)
    assert answer.status_code == 500 and answer.faultcode == f"s:{code}"
    assert data_of(store, account.code) == before


def test_an_http_status_rule_is_a_transport_error_to_zeep(api: httpx.Client, soap: SoapClient,
                                                          account: AccountFixture) -> None:
    pws = Pws(soap, account)
    add(api, account.code, operation="PwsGetClient", then={"http_status": 503})
    client = zeep.Client(soap.endpoint + "?wsdl", transport=soap.zeep_transport())
    with pytest.raises(zeep.exceptions.TransportError) as raised:
        client.service.PwsGetClient(serviceRequest={"SessionTicket": pws.ticket})
    assert raised.value.status_code == 503
    answer = pws.call("PwsGetClient")
    assert answer.status_code == 503 and answer.content == b""


def test_a_delay_rule_answers_normally_late(api: httpx.Client, soap: SoapClient, store: Store,
                                            account: AccountFixture) -> None:
    pws = Pws(soap, account)
    add(api, account.code, operation="PwsSaveClient", times=1, then={"delay_ms": 300})
    started = time.perf_counter()
    answer = save_client(pws)
    assert answer.status == "Ok" and time.perf_counter() - started >= 0.3
    assert pws.client("Acme2")  # the rule was spent: the next call is prompt and works


def test_a_dropped_connection(api: httpx.Client, soap: SoapClient, store: Store, account: AccountFixture) -> None:
    pws = Pws(soap, account)
    add(api, account.code, operation="PwsSaveClient", times=1, then={"drop_connection": True})
    before = data_of(store, account.code)
    with pytest.raises(ConnectionDropped):
        save_client(pws)
    assert data_of(store, account.code) == before
    assert save_client(pws).status == "Ok"


def test_a_lock_rule_is_the_pws_fault_and_a_resend_steals_it(api: httpx.Client, soap: SoapClient, store: Store,
                                                             account: AccountFixture) -> None:
    other = f"other@{account.code}"
    make_user(store, account.code, other, ALL, reference_id="OTHER")
    pws = Pws(soap, account)
    engagement = pws.engagement(pws.client("Acme"), "Work")
    rule = add(api, account.code, operation="PwsSaveEngagement", then={"lock_held_by": other})
    assert rule["then"] == {"lock_held_by": other, "stealable": True}
    before = data_of(store, account.code)
    refused = rename(pws, engagement)
    assert fault_numbers(refused) == [54076]
    assert refused.text(FAULT + "com:LockHolderUserIdentity/com:UserReferenceSystemId") == "OTHER"
    assert refused.text(FAULT + "com:AllowLocksToBeStolenFlag") == "true"
    assert data_of(store, account.code) == before

    stolen = rename(pws, engagement, holders_as_locks_to_steal(refused, ns.SCHEDULING))
    assert stolen.status == "Ok", stolen.content.decode()
    assert stolen.text(".//sch:LockStolenFromUserIdentity/com:UserReferenceSystemId") == "OTHER"
    by_flag = rename(pws, engagement, tag("StealLockFlag", True))
    assert by_flag.status == "Ok"
    assert by_flag.text(".//sch:LockStolenFromUserIdentity/com:UserReferenceSystemId") == "OTHER"
    assert rules(api, account.code)[0]["answered"] == 1  # steals pass the rule; they are not its answers


def test_a_lock_rule_that_is_not_stealable(api: httpx.Client, soap: SoapClient, store: Store,
                                           account: AccountFixture) -> None:
    pws = Pws(soap, account)
    engagement = pws.engagement(pws.client("Acme"), "Work")
    add(api, account.code, operation="PwsSaveEngagement", then={"lock_held_by": account.viewer, "stealable": False})
    refused = rename(pws, engagement)
    assert refused.text(FAULT + "com:AllowLocksToBeStolenFlag") == "false"
    assert fault_numbers(rename(pws, engagement, tag("StealLockFlag", True))) == [54076]


def test_zeep_sees_an_injected_lock_fault_as_the_typed_pws_fault(api: httpx.Client, soap: SoapClient,
                                                                 account: AccountFixture) -> None:
    pws = Pws(soap, account)
    engagement = pws.engagement(pws.client("Acme"), "Work")
    add(api, account.code, operation="PwsSaveEngagement", then={"lock_held_by": account.viewer})
    client = zeep.Client(soap.endpoint + "?wsdl", transport=soap.zeep_transport())
    request = {"SessionTicket": pws.ticket, "RequestId": 7,
               "Engagement": {"EngagementCode": engagement, "EngagementName": "Renamed"}}
    with pytest.raises(zeep.exceptions.Fault) as raised:
        client.service.PwsSaveEngagement(serviceRequest=request)
    assert raised.value.detail is not None
    fault = client.get_type(f"{{{ns.COMMON}}}PwsFault").parse_xmlelement(raised.value.detail[0], client.wsdl.types)
    assert fault.ServiceName == "PwsSaveEngagementRs" and fault.ResponseId == 7
    assert fault.Messages.PwsMessage[0].ErrorNumber == 54076
    assert fault.LockHolderUserIdentity.UserDisplayName == f"User {account.viewer}"
    stolen = client.service.PwsSaveEngagement(serviceRequest={
        **request, "LocksToSteal": {"PwsEntityLockSummary": fault.LockHolders.PwsEntityLockSummary}})
    assert stolen.Status == "Ok"
    assert stolen.LockStolenFromUserIdentity.UserDisplayName == f"User {account.viewer}"


def test_one_accounts_rules_never_touch_another_accounts_requests(api: httpx.Client, soap: SoapClient,
                                                                  store: Store, account: AccountFixture) -> None:
    other = make_account(store)
    add(api, account.code, operation="PwsSaveClient", then={"error": 50046})
    assert save_client(Pws(soap, other)).status == "Ok"
    assert rules(api, other.code) == []
    assert save_client(Pws(soap, account)).status == "Fail"


def test_list_remove_and_clear(api: httpx.Client, soap: SoapClient, account: AccountFixture) -> None:
    first = add(api, account.code, operation="PwsSaveClient", then={"error": 50046})
    second = add(api, account.code, operation="PwsSaveClient", then={"http_status": 503})
    assert [r["id"] for r in rules(api, account.code)] == [second["id"], first["id"]]
    assert Pws(soap, account).call("PwsSaveClient").status_code == 503  # the newest answers
    assert api.delete(f"{API}/accounts/{account.code}/faults/{second['id']}").status_code == 204
    assert [r["id"] for r in rules(api, account.code)] == [first["id"]]
    missing = api.delete(f"{API}/accounts/{account.code}/faults/{second['id']}")
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "not_found"
    assert api.delete(f"{API}/accounts/{account.code}/faults").status_code == 204
    assert rules(api, account.code) == []
    assert save_client(Pws(soap, account)).status == "Ok"


@pytest.mark.parametrize(("body", "path"), [
    ({"operation": "PwsSaveClient", "then": {"error": 12345678}}, "then.error"),
    ({"operation": "PwsNoSuchThing", "then": {"error": 50046}}, "operation"),
    ({"operation": "PwsSaveClient", "then": {"error": 50046, "delay_ms": 5}}, "then"),
    ({"operation": "PwsSaveClient", "then": {}}, "then"),
    ({"operation": "PwsSaveClient", "then": {"http_status": 200}}, "then.http_status"),
    ({"operation": "PwsSaveClient", "then": {"soap_fault": "Oops"}}, "then.soap_fault"),
    ({"operation": "PwsSaveClient", "then": {"lock_held_by": "nobody@nowhere"}}, "then.lock_held_by"),
    ({"operation": "PwsSaveClient", "user": "nobody@nowhere", "then": {"error": 50046}}, "user"),
    ({"operation": "PwsSaveClient", "times": 0, "then": {"error": 50046}}, "times"),
    ({"operation": "PwsSaveClient", "probability": 1.5, "then": {"error": 50046}}, "probability"),
    ({"operation": "PwsSaveClient", "then": {"error": 50046}, "when": "now"}, "when"),
])
def test_bad_rules_are_refused(api: httpx.Client, account: AccountFixture, body: dict[str, Any], path: str) -> None:
    answer = api.post(f"{API}/accounts/{account.code}/faults", json=body)
    assert answer.status_code == 422, answer.text
    assert answer.json()["error"]["path"] == path
    assert rules(api, account.code) == []


def test_an_unknown_account_is_404(api: httpx.Client) -> None:
    for answer in (api.post(f"{API}/accounts/no-such/faults", json={"operation": "PwsSaveClient",
                                                                     "then": {"error": 50046}}),
                   api.get(f"{API}/accounts/no-such/faults"), api.delete(f"{API}/accounts/no-such/faults")):
        assert answer.status_code == 404 and answer.json()["error"]["code"] == "not_found"



def test_the_command_line(api: httpx.Client, soap: SoapClient, database_url: str, account: AccountFixture) -> None:
    """`openpws faults` changes the same rules; a server sees them within a second (its copy's age)."""
    runner = CliRunner()

    def openpws(*args: str) -> str:
        done = runner.invoke(main, [*args, "--account", account.code, "--database", database_url])
        assert done.exit_code == 0, done.output
        return done.output

    added = openpws("faults", "add", "PwsSaveClient", "--times", "3", "--error", "50046").split("\t")
    assert added[1:7] == ["PwsSaveClient", "-", "3", "-", '{"error": 50046}', "0"]
    assert [r["id"] for r in rules(api, account.code)] == [int(added[0])]
    time.sleep(CACHE_SECONDS + 0.1)
    assert save_client(Pws(soap, account)).error_numbers() == [50046]
    assert openpws("faults", "list").split("\t")[3] == "2"
    openpws("faults", "add", "PwsGetClient", "--lock-held-by", account.viewer, "--not-stealable")
    assert rules(api, account.code)[0]["then"] == {"lock_held_by": account.viewer, "stealable": False}
    assert openpws("faults", "remove", added[0]) == f"Removed fault rule {added[0]} of {account.code}.\n"
    openpws("faults", "clear")
    assert rules(api, account.code) == []
    refused = runner.invoke(main, ["faults", "add", "PwsSaveClient", "--error", "1", "--delay-ms", "5",
                                   "--account", account.code, "--database", database_url])
    assert refused.exit_code == 2 and "exactly one of" in refused.output
    unknown = runner.invoke(main, ["faults", "add", "PwsSaveClient", "--error", "1",
                                   "--account", account.code, "--database", database_url])
    assert unknown.exit_code == 1 and "not an error number" in unknown.output


def test_times_holds_exactly_under_concurrent_requests(api: httpx.Client, soap: SoapClient,
                                                       account: AccountFixture) -> None:
    sessions = [Pws(soap.another(), account) for _ in range(4)]
    add(api, account.code, operation="PwsGetClientList", times=7, then={"error": 50045})

    def calls(pws: Pws) -> list[str]:
        return [pws.call("PwsGetClientList").status for _ in range(5)]

    with ThreadPoolExecutor(len(sessions)) as pool:
        statuses = [status for answers in pool.map(calls, sessions) for status in answers]
    assert statuses.count("Fail") == 7 and statuses.count("Ok") == 13

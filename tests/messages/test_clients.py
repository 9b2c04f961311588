"""PwsGetClient, PwsGetClientList, PwsSaveClient over real HTTP."""

from __future__ import annotations

from xml.sax.saxutils import escape

import pytest
import zeep
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from openpws.contract import compile_schema
from openpws.store.transactions import Store
from tests.conftest import AccountFixture, make_account
from tests.pws import Answer, SoapClient


class Clients:
    """One logged-in user of an account, speaking the client services."""

    def __init__(self, soap: SoapClient, account: AccountFixture, user: str | None = None) -> None:
        self.soap = soap
        self.ticket = soap.login(account.code, user or account.admin, account.password)

    def save(self, detail: str, *, full: bool = True, clear_parent: bool = False) -> Answer:
        extra = ("<req:FullDetailFlag>true</req:FullDetailFlag>" if full else "") + (
            "<req:ParentClientClearFlag>true</req:ParentClientClearFlag>" if clear_parent else "")
        answer = self.soap.call("PwsSaveClient", f"<req:SessionTicket>{self.ticket}</req:SessionTicket>"
                                f"<req:Client>{detail}</req:Client>{extra}")
        compile_schema().assertValid(answer.result.getparent())
        return answer

    def create(self, name: str, parent: str | None = None, number: str | None = None) -> str:
        detail = f"<com:ClientName>{escape(name)}</com:ClientName>"
        if number:
            detail = f"<com:ClientNumber>{number}</com:ClientNumber>" + detail
        if parent:
            detail += f"<com:ParentClientIdentity><com:ClientNumber>{parent}</com:ClientNumber></com:ParentClientIdentity>"
        answer = self.save(detail)
        assert answer.status == "Ok", answer.content
        return answer.text(".//rs:ClientIdentity/com:ClientNumber") or ""

    def get(self, *refs: str) -> Answer:
        body = "".join(f"<com:PwsClientRef>{r}</com:PwsClientRef>" for r in refs)
        answer = self.soap.call("PwsGetClient", f"<req:SessionTicket>{self.ticket}</req:SessionTicket>"
                                f"<req:ClientIdentities>{body}</req:ClientIdentities>")
        compile_schema().assertValid(answer.result.getparent())
        return answer

    def list(self, members: str = "") -> Answer:
        answer = self.soap.call("PwsGetClientList", f"<req:SessionTicket>{self.ticket}</req:SessionTicket>{members}")
        compile_schema().assertValid(answer.result.getparent())
        return answer


def numbers(answer: Answer, path: str = ".//rs:Clients/com:PwsClientSummary/com:ClientNumber") -> list[str]:
    return [e.text or "" for e in answer.root.findall(path, {"rs": "http://projectorpsa.com/DataContracts/Responses/",
                                                             "com": "http://projectorpsa.com/DataContracts/Shared/Common/"})]


def by_number(number: str) -> str:
    return f"<com:ClientNumber>{number}</com:ClientNumber>"


@pytest.fixture
def clients(soap: SoapClient, account: AccountFixture) -> Clients:
    return Clients(soap, account)


def test_insert_then_get_round_trip(clients: Clients) -> None:
    saved = clients.save("<com:ClientName>Acme Corp</com:ClientName><com:BillingInstructions>Net 30"
                         "</com:BillingInstructions><com:PurchaseOrderNumber>PO-7</com:PurchaseOrderNumber>")
    assert saved.status == "Ok"
    number = saved.text(".//rs:ClientIdentity/com:ClientNumber")
    uid = int(saved.text(".//rs:ClientIdentity/com:ClientUid") or 0)
    assert number == "C000001" and uid > 2**60
    got = clients.get(f"<com:ClientUid>{uid}</com:ClientUid>")
    assert got.status == "Ok"
    detail = ".//rs:Clients/com:PwsClientElement/com:ClientDetail/com:"
    assert got.text(detail + "ClientName") == "Acme Corp"
    assert got.text(detail + "ClientNumber") == "C000001"
    assert got.text(detail + "BillingInstructions") == "Net 30"
    assert got.text(detail + "PurchaseOrderNumber") == "PO-7"
    assert got.text(detail + "InactiveFlag") == "false"
    assert got.text(detail + "Timestamp") == saved.text(".//rs:Client/com:ClientDetail/com:Timestamp")


def test_numbers_are_generated_and_unique(clients: Clients) -> None:
    assert clients.create("First") == "C000001"
    assert clients.create("Mine", number="ACME") == "ACME"
    assert clients.create("Third") == "C000003"
    duplicate = clients.save("<com:ClientName>X</com:ClientName><com:NewClientNumber>acme</com:NewClientNumber>")
    assert duplicate.status == "Fail" and duplicate.error_numbers() == [990005]


def test_update_keeps_what_is_not_sent_and_renames(clients: Clients) -> None:
    number = clients.create("Before")
    renamed = clients.save(f"{by_number(number)}<com:NewClientNumber>NEW-1</com:NewClientNumber>")
    assert renamed.status == "Ok"
    assert renamed.text(".//rs:ClientIdentity/com:ClientNumber") == "NEW-1"
    assert renamed.text(".//rs:Client/com:ClientDetail/com:ClientName") == "Before"
    assert clients.get(by_number(number)).error_numbers() == [105]


def test_client_name_is_required_on_insert(clients: Clients) -> None:
    answer = clients.save("<com:InactiveFlag>false</com:InactiveFlag>")
    assert answer.status == "Fail" and answer.error_numbers() == [990004]


def test_parents_and_cycles(clients: Clients) -> None:
    top = clients.create("Top")
    middle = clients.create("Middle", parent=top)
    leaf = clients.create("Leaf", parent=middle)
    got = clients.get(by_number(leaf))
    assert got.text(".//com:ClientDetail/com:ParentClientIdentity/com:ClientNumber") == middle
    for child, parent in ((top, leaf), (top, top), (middle, leaf)):
        cycle = clients.save(f"{by_number(child)}<com:ParentClientIdentity>{by_number(parent)}"
                             "</com:ParentClientIdentity>")
        assert cycle.status == "Fail" and cycle.error_numbers() == [990006]
    cleared = clients.save(by_number(leaf), clear_parent=True)
    parent = cleared.find(".//rs:Client/com:ClientDetail/com:ParentClientIdentity")
    assert parent is not None and parent.get("{http://www.w3.org/2001/XMLSchema-instance}nil") == "true"
    missing = clients.save(f"{by_number(leaf)}<com:ParentClientIdentity>{by_number('NOPE')}</com:ParentClientIdentity>")
    assert missing.error_numbers() == [50024]


def test_get_reports_missing_refs_and_limits(clients: Clients) -> None:
    number = clients.create("Here")
    answer = clients.get(by_number(number), by_number("NOT-THERE"), "<com:ClientUid>1152921504606846976</com:ClientUid>")
    assert answer.status == "OkWithWarnings"
    assert answer.error_numbers() == [105]
    assert "NOT-THERE" in (answer.messages()[0]["AdditionalErrorText"] or "")
    assert numbers(answer, ".//rs:Clients/com:PwsClientElement/com:ClientDetail/com:ClientNumber") == [number]
    assert clients.get().error_numbers() == [990002]
    assert clients.get(*[by_number(number)] * 101).error_numbers() == [990003]
    assert clients.get(*[by_number(number)] * 100).status == "Ok"


def test_both_keys_must_name_the_same_client(clients: Clients) -> None:
    first, second = clients.create("One"), clients.create("Two")
    uid = clients.get(by_number(second)).text(".//com:ClientDetail/com:ClientUid")
    mixed = clients.get(f"{by_number(first)}<com:ClientUid>{uid}</com:ClientUid>")
    assert mixed.error_numbers() == [105]
    agreeing = clients.get(f"{by_number(second)}<com:ClientUid>{uid}</com:ClientUid>")
    assert agreeing.status == "Ok"


def test_list_query_matches_through_children_and_filters(clients: Clients) -> None:
    parent = clients.create("Globex Holdings")
    child = clients.create("Subsidiary One", parent=parent)
    grandchild = clients.create("Deep Unit", parent=child)
    clients.create("Unrelated Ltd")
    inactive = clients.create("Globex Dormant")
    assert clients.save(f"{by_number(inactive)}<com:InactiveFlag>true</com:InactiveFlag>").status == "Ok"
    found = clients.list("<req:QueryString>globex</req:QueryString>")
    assert found.status == "Ok"
    assert sorted(numbers(found)) == sorted([parent, child, grandchild])
    with_inactive = clients.list("<req:IncludeInactiveFlag>true</req:IncludeInactiveFlag><req:QueryString>GLOBEX</req:QueryString>")
    assert sorted(numbers(with_inactive)) == sorted([parent, child, grandchild, inactive])
    by_number_query = clients.list(f"<req:QueryString>{child}</req:QueryString>")
    assert sorted(numbers(by_number_query)) == sorted([child, grandchild])
    override = clients.list(f"<req:ClientIdentity>{by_number(inactive)}</req:ClientIdentity>"
                            "<req:QueryString>nothing-matches</req:QueryString>")
    assert numbers(override) == [inactive]


def test_list_row_limit_warns(clients: Clients) -> None:
    for name in ("A", "B", "C"):
        clients.create(name)
    capped = clients.list("<req:MaxRowsToReturn>2</req:MaxRowsToReturn>")
    assert capped.status == "OkWithWarnings" and capped.error_numbers() == [104]
    assert numbers(capped) == ["C000001", "C000002"]
    assert clients.list("<req:MaxRowsToReturn>3</req:MaxRowsToReturn>").status == "Ok"


def test_list_last_updated_since(clients: Clients) -> None:
    old = clients.create("Old")
    stamp = clients.save(by_number(old)).text(".//cs:ServerTimestampUtc")
    new = clients.create("New")
    recent = clients.list(f"<req:LastUpdatedSinceTimestamp>{stamp}</req:LastUpdatedSinceTimestamp>")
    assert new in numbers(recent)
    assert clients.list("<req:LastUpdatedSinceTimestamp>2999-01-01T00:00:00Z</req:LastUpdatedSinceTimestamp>").status == "Ok"
    assert numbers(clients.list("<req:LastUpdatedSinceTimestamp>2999-01-01T00:00:00Z</req:LastUpdatedSinceTimestamp>")) == []


def test_timestamp_mismatch_changes_nothing(clients: Clients) -> None:
    number = clients.create("Versioned")
    first = clients.get(by_number(number)).text(".//com:ClientDetail/com:Timestamp")
    assert clients.save(f"{by_number(number)}<com:ClientName>Second</com:ClientName>"
                        f"<com:Timestamp>{first}</com:Timestamp>").status == "Ok"
    stale = clients.save(f"{by_number(number)}<com:ClientName>Third</com:ClientName><com:Timestamp>{first}</com:Timestamp>")
    assert stale.status == "Fail" and stale.error_numbers() == [990007]
    after = clients.get(by_number(number))
    assert after.text(".//com:ClientDetail/com:ClientName") == "Second"
    assert after.text(".//com:ClientDetail/com:Timestamp") != first


def test_too_long_values_are_refused(clients: Clients) -> None:
    answer = clients.save(f"<com:ClientName>{'x' * 51}</com:ClientName>")
    assert answer.error_numbers() == [990008]


def test_permissions(soap: SoapClient, account: AccountFixture, clients: Clients) -> None:
    number = clients.create("Guarded")
    viewer = Clients(soap, account, account.viewer)
    assert viewer.get(by_number(number)).status == "Ok"
    refused = viewer.save(f"{by_number(number)}<com:ClientName>Changed</com:ClientName>")
    assert refused.status == "Fail" and refused.error_numbers() == [50046]
    assert clients.get(by_number(number)).text(".//com:ClientDetail/com:ClientName") == "Guarded"


def test_no_client_of_another_account_resolves(soap: SoapClient, store: Store, clients: Clients) -> None:
    number = clients.create("Private")
    uid = clients.get(by_number(number)).text(".//com:ClientDetail/com:ClientUid")
    other = make_account(store, "other")
    stranger = Clients(soap, other)
    assert stranger.get(by_number(number)).error_numbers() == [105]
    assert stranger.get(f"<com:ClientUid>{uid}</com:ClientUid>").error_numbers() == [105]
    assert stranger.save(f"<com:ClientUid>{uid}</com:ClientUid><com:ClientName>Mine</com:ClientName>").error_numbers() == [50024]
    assert numbers(stranger.list()) == []
    assert clients.get(by_number(number)).text(".//com:ClientDetail/com:ClientName") == "Private"


names = st.text(st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")), min_size=1, max_size=50).filter(str.strip)


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(name=names, inactive=st.booleans(), po=st.none() | st.text(
    st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")), max_size=50))
def test_save_then_get_round_trips_modelled_fields(clients: Clients, name: str, inactive: bool, po: str | None) -> None:
    detail = f"<com:ClientName>{escape(name)}</com:ClientName><com:InactiveFlag>{str(inactive).lower()}</com:InactiveFlag>"
    if po is not None:
        detail += f"<com:PurchaseOrderNumber>{escape(po)}</com:PurchaseOrderNumber>"
    saved = clients.save(detail)
    assert saved.status == "Ok", saved.content
    uid = saved.text(".//rs:ClientIdentity/com:ClientUid")
    got = clients.get(f"<com:ClientUid>{uid}</com:ClientUid>")
    assert got.text(".//com:ClientDetail/com:ClientName") == name
    assert got.text(".//com:ClientDetail/com:InactiveFlag") == str(inactive).lower()
    assert (got.text(".//com:ClientDetail/com:PurchaseOrderNumber") or "") == (po or "")


def test_zeep_builds_and_reads_a_client_tree(soap: SoapClient, account: AccountFixture) -> None:
    client = zeep.Client(soap.endpoint + "?wsdl", transport=soap.zeep_transport())
    ticket = client.service.PwsAuthenticate(serviceRequest={
        "AccountCode": account.code, "UserName": account.admin, "Password": account.password}).SessionTicket
    parent = client.service.PwsSaveClient(serviceRequest={"SessionTicket": ticket, "Client": {"ClientName": "Zeep Parent"}})
    assert parent.Status == "Ok"
    child = client.service.PwsSaveClient(serviceRequest={
        "SessionTicket": ticket, "FullDetailFlag": True,
        "Client": {"ClientName": "Zeep Child", "ParentClientIdentity": {"ClientUid": parent.ClientIdentity.ClientUid}}})
    assert child.Client.ClientDetail.ParentClientIdentity.ClientNumber == parent.ClientIdentity.ClientNumber
    listed = client.service.PwsGetClientList(serviceRequest={"SessionTicket": ticket, "QueryString": "zeep parent"})
    assert {c.ClientName for c in listed.Clients.PwsClientSummary} == {"Zeep Parent", "Zeep Child"}
    got = client.service.PwsGetClient(serviceRequest={
        "SessionTicket": ticket, "ClientIdentities": {"PwsClientRef": [{"ClientNumber": child.ClientIdentity.ClientNumber}]}})
    assert got.Clients.PwsClientElement[0].ClientDetail.ClientUid == child.ClientIdentity.ClientUid

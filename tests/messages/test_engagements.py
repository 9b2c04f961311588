"""PwsGetEngagement, PwsGetEngagementList, PwsSaveEngagement over real HTTP."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from xml.sax.saxutils import escape

import pytest
import zeep
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from openpws.services.permissions import Permission
from openpws.store.transactions import Store
from tests.conftest import AccountFixture, make_account, make_user
from tests.pws import Answer, SoapClient
from tests.tree import Pws, in_order, ref, tag

DETAIL = ".//sch:Engagements/com:PwsEngagementElement/com:EngagementDetail/com:"
SAVED = ".//sch:Engagement/com:EngagementDetail/com:"


@pytest.fixture
def pws(soap: SoapClient, account: AccountFixture) -> Pws:
    return Pws(soap, account)


def save(pws: Pws, detail: str, extra: str = "", full: bool = True) -> Answer:
    """PwsSaveEngagement of ``detail`` (PwsEngagementDetail members) with ``extra`` (more request
    members), each put in the contract's order."""
    flag = tag("FullDetailFlag", True) if full else ""
    members = f"<sch:Engagement>{in_order('PwsEngagementDetail', detail)}</sch:Engagement>{flag}{extra}"
    return pws.call("PwsSaveEngagement", in_order("PwsSaveEngagementRq", members))


def get(pws: Pws, *refs: str) -> Answer:
    body = "".join(f"<com:PwsEngagementRef>{r}</com:PwsEngagementRef>" for r in refs)
    return pws.call("PwsGetEngagement", f"<sch:EngagementIdentities>{body}</sch:EngagementIdentities>")


def listed(pws: Pws, members: str = "") -> Answer:
    return pws.call("PwsGetEngagementList", members)


def codes(answer: Answer) -> list[str]:
    return [e.text or "" for e in answer.root.iterfind(".//sch:Engagements/com:PwsEngagementSummary/com:EngagementCode",
                                                       {"sch": "http://projectorpsa.com/DataContracts/Shared/Scheduling/",
                                                        "com": "http://projectorpsa.com/DataContracts/Shared/Common/"})]


def client_of(client: str) -> str:
    return f"<com:ClientIdentity>{ref('Client', client)}</com:ClientIdentity>"


def test_insert_then_get_round_trip(pws: Pws, account: AccountFixture) -> None:
    client = pws.client("Acme")
    saved = save(pws, client_of(client) + "<com:EngagementName>Website rebuild</com:EngagementName>"
                 "<com:BillingInstructions>Bill monthly</com:BillingInstructions>"
                 "<com:EngagementStageIdentity><com:EngagementStageName>on hold</com:EngagementStageName>"
                 "</com:EngagementStageIdentity>"
                 "<com:ManagerIdentity><com:UserReferenceSystemId>E2</com:UserReferenceSystemId></com:ManagerIdentity>"
                 "<com:PurchaseOrderNumber>PO-1</com:PurchaseOrderNumber>")
    assert saved.status == "Ok", saved.content
    code = saved.text(".//sch:EngagementIdentity/com:EngagementCode")
    uid = int(saved.text(".//sch:EngagementIdentity/com:EngagementUid") or 0)
    assert code == "E000001" and uid > 2**60
    got = get(pws, ref("Engagement", uid=uid))
    assert got.status == "Ok"
    assert got.text(DETAIL + "EngagementName") == "Website rebuild"
    assert got.text(DETAIL + "ClientIdentity/com:ClientNumber") == client
    assert got.text(DETAIL + "BillingInstructions") == "Bill monthly"
    assert got.text(DETAIL + "PurchaseOrderNumber") == "PO-1"
    assert got.text(DETAIL + "EngagementStageIdentity/com:EngagementStageName") == "On Hold"
    assert got.text(DETAIL + "EngagementStageIdentity/com:EngagementStageShortName") == "OH"
    assert got.text(DETAIL + "ManagerIdentity/com:UserDisplayName") == f"User {account.viewer}"
    assert got.text(".//com:PwsEngagementElement/com:Client/com:ClientName") == "Acme"
    assert got.text(".//com:PwsEngagementElement/com:Manager/com:UserReferenceSystemId") == "E2"
    assert got.text(DETAIL + "EngagementTimestamp") == saved.text(".//sch:EngagementTimestamp")
    assert got.text(DETAIL + "EngagementTimestamp") == saved.text(SAVED + "EngagementTimestamp")


def test_codes_are_generated_unique_and_renamed(pws: Pws) -> None:
    client = pws.client("Acme")
    assert pws.engagement(client, "One") == "E000001"
    assert pws.engagement(client, "Two", code="P001323") == "P001323"
    assert pws.engagement(client, "Three") == "E000003"
    duplicate = save(pws, client_of(client) + "<com:EngagementCode>p001323</com:EngagementCode>"
                     "<com:EngagementName>Again</com:EngagementName>")
    assert duplicate.status == "Ok"  # a code in use names that engagement: this is an update
    assert duplicate.text(SAVED + "EngagementName") == "Again"
    taken = save(pws, ref("Engagement", "E000001") + "<com:NewEngagementCode>P001323</com:NewEngagementCode>")
    assert taken.status == "Fail" and taken.error_numbers() == [990005]
    renamed = save(pws, ref("Engagement", "E000001") + "<com:NewEngagementCode>NEW-1</com:NewEngagementCode>")
    assert renamed.text(".//sch:EngagementIdentity/com:EngagementCode") == "NEW-1"
    assert renamed.text(SAVED + "EngagementName") == "One"
    assert get(pws, ref("Engagement", "E000001")).error_numbers() == [105]


def test_insert_needs_an_active_client_and_a_name(pws: Pws, store: Store) -> None:
    client = pws.client("Dormant")
    no_client = save(pws, "<com:EngagementName>Orphan</com:EngagementName>")
    assert no_client.status == "Fail" and no_client.error_numbers() == [990004]
    no_name = save(pws, client_of(client))
    assert no_name.error_numbers() == [990004]
    assert "EngagementName" in (no_name.messages()[0]["AdditionalErrorText"] or "")
    unknown = save(pws, client_of("C999999") + "<com:EngagementName>X</com:EngagementName>")
    assert unknown.error_numbers() == [50024]
    pws.ok("PwsSaveClient", f"<req:Client>{ref('Client', client)}<com:InactiveFlag>true</com:InactiveFlag></req:Client>")
    inactive = save(pws, client_of(client) + "<com:EngagementName>Not allowed</com:EngagementName>")
    assert inactive.status == "Fail" and inactive.error_numbers() == [990013]
    assert codes(listed(pws, tag("IncludeClosedFlag", True))) == []


def test_an_engagement_cannot_move_to_another_client(pws: Pws) -> None:
    first, second = pws.client("First"), pws.client("Second")
    code = pws.engagement(first, "Stays")
    moved = save(pws, ref("Engagement", code) + client_of(second))
    assert moved.status == "Fail" and moved.error_numbers() == [990014]
    same = save(pws, ref("Engagement", code) + client_of(first) + "<com:EngagementName>Renamed</com:EngagementName>")
    assert same.status == "Ok"
    got = get(pws, ref("Engagement", code))
    assert got.text(DETAIL + "ClientIdentity/com:ClientNumber") == first


def test_get_reports_missing_refs_and_limits(pws: Pws) -> None:
    code = pws.engagement(pws.client("Acme"), "Here")
    answer = get(pws, ref("Engagement", code), ref("Engagement", "NOT-THERE"), ref("Engagement", uid=2**60 + 999999))
    assert answer.status == "OkWithWarnings" and answer.error_numbers() == [105]
    assert "NOT-THERE" in (answer.messages()[0]["AdditionalErrorText"] or "")
    assert answer.text(DETAIL + "EngagementCode") == code
    assert get(pws).error_numbers() == [12042]
    assert get(pws, *[ref("Engagement", code)] * 101).error_numbers() == [12044]
    assert get(pws, *[ref("Engagement", code)] * 100).status == "Ok"


def test_both_keys_must_name_the_same_engagement(pws: Pws) -> None:
    client = pws.client("Acme")
    first, second = pws.engagement(client, "One"), pws.engagement(client, "Two")
    uid = get(pws, ref("Engagement", second)).text(DETAIL + "EngagementUid")
    assert get(pws, ref("Engagement", first, uid)).error_numbers() == [105]
    assert get(pws, ref("Engagement", second, uid)).status == "Ok"
    mixed = save(pws, ref("Engagement", first, uid) + "<com:EngagementName>X</com:EngagementName>")
    assert mixed.status == "Fail" and mixed.error_numbers() == [54061]
    assert save(pws, ref("Engagement", uid=2**60 + 999999)).error_numbers() == [54061]


def test_list_query_matches_through_parent_clients_and_projects(pws: Pws) -> None:
    top = pws.client("Globex Holdings")
    middle = pws.client("Division", parent=top)
    leaf = pws.client("Unit", parent=middle)
    deep = pws.engagement(leaf, "Deep work")
    own = pws.engagement(pws.client("Other"), "Globex migration")
    unrelated = pws.engagement(pws.client("Initech"), "Printers")
    pws.project(unrelated, "Globex liaison")
    pws.engagement(pws.client("Nobody"), "Nothing")
    found = listed(pws, tag("QueryString", "GLOBEX"))
    assert found.status == "Ok"
    assert sorted(codes(found)) == sorted([deep, own, unrelated])
    assert codes(listed(pws, tag("QueryString", deep))) == [deep]
    assert codes(listed(pws, tag("QueryString", "division"))) == [deep]
    override = f"<sch:EngagementIdentity>{ref('Engagement', own)}</sch:EngagementIdentity>"
    assert codes(listed(pws, override + tag("QueryString", "nothing-matches"))) == [own]


def test_list_filters_closed_po_rows_and_time(pws: Pws) -> None:
    client = pws.client("Acme")
    first = pws.engagement(client, "A", "<com:PurchaseOrderNumber>PO-9</com:PurchaseOrderNumber>")
    closed = pws.engagement(client, "B", "<com:EngagementStageIdentity><com:EngagementStageShortName>CL"
                            "</com:EngagementStageShortName></com:EngagementStageIdentity>")
    third = pws.engagement(client, "C")
    assert codes(listed(pws)) == [first, third]
    assert codes(listed(pws, tag("IncludeClosedFlag", True))) == [first, closed, third]
    assert codes(listed(pws, tag("PurchaseOrderNumber", "PO-9"))) == [first]
    capped = listed(pws, tag("IncludeClosedFlag", True) + tag("MaxRowsToReturn", 1))
    assert capped.status == "OkWithWarnings" and capped.error_numbers() == [104] and codes(capped) == [first]
    assert listed(pws, tag("MaxRowsToReturn", 2)).status == "Ok"
    stamp = save(pws, ref("Engagement", first)).text(".//cs:ServerTimestampUtc")
    save(pws, ref("Engagement", third))
    assert codes(listed(pws, tag("LastUpdatedSinceTimestamp", stamp))) == [third]
    assert codes(listed(pws, tag("LastUpdatedSinceTimestamp", "2999-01-01T00:00:00Z"))) == []


def test_unknown_stage_or_manager_is_refused_and_changes_nothing(pws: Pws) -> None:
    code = pws.engagement(pws.client("Acme"), "Before")
    stage = save(pws, ref("Engagement", code) + "<com:EngagementName>After</com:EngagementName>"
                 "<com:EngagementStageIdentity><com:EngagementStageName>Pipeline</com:EngagementStageName>"
                 "</com:EngagementStageIdentity>")
    assert stage.status == "Fail" and stage.error_numbers() == [50024]
    manager = save(pws, ref("Engagement", code) + "<com:EngagementName>After</com:EngagementName>"
                   "<com:ManagerIdentity><com:UserUid>1152921504606846976</com:UserUid></com:ManagerIdentity>")
    assert manager.error_numbers() == [50024]
    assert get(pws, ref("Engagement", code)).text(DETAIL + "EngagementName") == "Before"


def test_timestamps_must_match_and_every_save_moves_it(pws: Pws) -> None:
    code = pws.engagement(pws.client("Acme"), "Versioned")
    first = get(pws, ref("Engagement", code)).text(DETAIL + "EngagementTimestamp")
    second = save(pws, ref("Engagement", code) + "<com:EngagementName>Second</com:EngagementName>"
                  f"<com:EngagementTimestamp>{first}</com:EngagementTimestamp>")
    assert second.status == "Ok"
    new = second.text(".//sch:EngagementTimestamp")
    assert new and new != first
    for stale in (f"<com:EngagementTimestamp>{first}</com:EngagementTimestamp>", ""):
        extra = "" if stale else tag("EngagementTimestamp", first)
        refused = save(pws, ref("Engagement", code) + "<com:EngagementName>Third</com:EngagementName>" + stale, extra)
        assert refused.status == "Fail" and refused.error_numbers() == [990007]
    after = get(pws, ref("Engagement", code))
    assert after.text(DETAIL + "EngagementName") == "Second"
    assert after.text(DETAIL + "EngagementTimestamp") == new
    assert save(pws, ref("Engagement", code), tag("EngagementTimestamp", new)).status == "Ok"


def test_full_detail_lists_the_projects(pws: Pws) -> None:
    code = pws.engagement(pws.client("Acme"), "With projects")
    projects = [pws.project(code, "P one"), pws.project(code, "P two")]
    full = save(pws, ref("Engagement", code))
    listed_codes = [e.text for e in full.root.iterfind(
        ".//{*}Engagement/{*}ProjectIdentities/{*}PwsProjectRef/{*}ProjectCode")]
    assert listed_codes == projects


def test_too_long_values_are_refused(pws: Pws) -> None:
    client = pws.client("Acme")
    answer = save(pws, client_of(client) + f"<com:EngagementName>{'x' * 256}</com:EngagementName>")
    assert answer.error_numbers() == [990008]
    assert save(pws, client_of(client) + f"<com:EngagementName>{'x' * 255}</com:EngagementName>").status == "Ok"


def test_permissions(soap: SoapClient, store: Store, account: AccountFixture, pws: Pws) -> None:
    code = pws.engagement(pws.client("Acme"), "Guarded")
    viewer = Pws(soap, account, account.viewer)
    assert get(viewer, ref("Engagement", code)).status == "Ok"
    refused = save(viewer, ref("Engagement", code) + "<com:EngagementName>Changed</com:EngagementName>")
    assert refused.status == "Fail" and refused.error_numbers() == [50046]
    login = f"clients-only@{account.code}"
    make_user(store, account.code, login, frozenset({Permission.WEB_SERVICES, Permission.CLIENTS_VIEW}))
    blind = Pws(soap, account, login)
    assert get(blind, ref("Engagement", code)).error_numbers() == [50045]
    assert listed(blind).error_numbers() == [50045]
    assert get(pws, ref("Engagement", code)).text(DETAIL + "EngagementName") == "Guarded"


def test_no_engagement_of_another_account_resolves(soap: SoapClient, store: Store, pws: Pws) -> None:
    client = pws.client("Private")
    client_uid = pws.ok("PwsGetClient", f"<req:ClientIdentities><com:PwsClientRef>{ref('Client', client)}"
                        "</com:PwsClientRef></req:ClientIdentities>").text(".//com:ClientDetail/com:ClientUid")
    code = pws.engagement(client, "Secret")
    uid = get(pws, ref("Engagement", code)).text(DETAIL + "EngagementUid")
    stranger = Pws(soap, make_account(store, "other"))
    assert get(stranger, ref("Engagement", code)).error_numbers() == [105]
    assert get(stranger, ref("Engagement", uid=uid)).error_numbers() == [105]
    assert save(stranger, ref("Engagement", uid=uid) + "<com:EngagementName>Mine</com:EngagementName>").error_numbers() == [54061]
    theirs = stranger.client("Theirs")
    foreign_client = f"<com:ClientIdentity>{ref('Client', uid=client_uid)}</com:ClientIdentity>"
    assert save(stranger, foreign_client + "<com:EngagementName>X</com:EngagementName>").error_numbers() == [50024]
    assert codes(listed(stranger, tag("QueryString", "secret"))) == []
    assert codes(listed(stranger)) == []
    assert stranger.engagement(theirs, "Own") == "E000001"
    assert get(pws, ref("Engagement", code)).text(DETAIL + "EngagementName") == "Secret"


texts = st.text(st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")), min_size=1, max_size=60).filter(str.strip)


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(name=texts, po=st.none() | texts.filter(lambda t: len(t) <= 50), instructions=st.none() | texts,
       stage=st.sampled_from(["Open", "On Hold", "Closed"]))
def test_save_then_get_round_trips_modelled_fields(pws: Pws, name: str, po: str | None, instructions: str | None,
                                                   stage: str) -> None:
    client = pws.client("Round trip")
    detail = (client_of(client) + f"<com:EngagementName>{escape(name)}</com:EngagementName>"
              f"<com:EngagementStageIdentity><com:EngagementStageName>{stage}</com:EngagementStageName>"
              "</com:EngagementStageIdentity>")
    if po is not None:
        detail += f"<com:PurchaseOrderNumber>{escape(po)}</com:PurchaseOrderNumber>"
    if instructions is not None:
        detail += f"<com:BillingInstructions>{escape(instructions)}</com:BillingInstructions>"
    saved = save(pws, detail)
    assert saved.status == "Ok", saved.content
    got = get(pws, ref("Engagement", uid=saved.text(".//sch:EngagementIdentity/com:EngagementUid")))
    assert got.text(DETAIL + "EngagementName") == name
    assert (got.text(DETAIL + "PurchaseOrderNumber") or None) == po
    assert (got.text(DETAIL + "BillingInstructions") or None) == instructions
    assert got.text(DETAIL + "EngagementStageIdentity/com:EngagementStageName") == stage


def test_zeep_builds_and_reads_an_engagement(soap: SoapClient, account: AccountFixture) -> None:
    client = zeep.Client(soap.endpoint + "?wsdl", transport=soap.zeep_transport())
    ticket = client.service.PwsAuthenticate(serviceRequest={
        "AccountCode": account.code, "UserName": account.admin, "Password": account.password}).SessionTicket
    owner = client.service.PwsSaveClient(serviceRequest={"SessionTicket": ticket, "Client": {"ClientName": "Zeep Co"}})
    saved = client.service.PwsSaveEngagement(serviceRequest={
        "SessionTicket": ticket, "FullDetailFlag": True,
        "Engagement": {"ClientIdentity": {"ClientUid": owner.ClientIdentity.ClientUid}, "EngagementName": "Zeep work",
                       "EngagementStageIdentity": {"EngagementStageShortName": "OH"}}})
    assert saved.Status == "Ok"
    assert saved.Engagement.EngagementDetail.EngagementStageIdentity.EngagementStageName == "On Hold"
    assert saved.Engagement.Client.ClientName == "Zeep Co"
    got = client.service.PwsGetEngagement(serviceRequest={
        "SessionTicket": ticket,
        "EngagementIdentities": {"PwsEngagementRef": [{"EngagementCode": saved.EngagementIdentity.EngagementCode}]}})
    detail = got.Engagements.PwsEngagementElement[0].EngagementDetail
    assert detail.EngagementUid == saved.EngagementIdentity.EngagementUid
    assert detail.EngagementTimestamp == saved.EngagementTimestamp
    listed_rows = client.service.PwsGetEngagementList(serviceRequest={"SessionTicket": ticket, "QueryString": "zeep co"})
    assert [e.EngagementName for e in listed_rows.Engagements.PwsEngagementSummary] == ["Zeep work"]


@pytest.mark.serve  # concurrent connections to the server process
def test_concurrent_inserts_get_distinct_numbers_and_codes(soap: SoapClient, account: AccountFixture, pws: Pws) -> None:
    writers = [Pws(soap.another(), account) for _ in range(6)]
    try:
        with ThreadPoolExecutor(len(writers)) as pool:
            numbers = list(pool.map(lambda writer: writer.client("Parallel"), writers))
            engagements = list(pool.map(lambda pair: pair[0].engagement(pair[1], "Parallel"), zip(writers, numbers, strict=True)))
            renames = list(pool.map(lambda pair: save(pair[0], ref("Engagement", pair[1])
                                                      + "<com:NewEngagementCode>WANTED</com:NewEngagementCode>"),
                                    zip(writers, engagements, strict=True)))
    finally:
        for writer in writers:
            writer.soap.close()
    assert sorted(numbers) == [f"C{n:06d}" for n in range(1, 7)]
    assert sorted(engagements) == [f"E{n:06d}" for n in range(1, 7)]
    assert sorted(r.status for r in renames) == ["Fail"] * 5 + ["Ok"]
    assert all(r.error_numbers() == [990005] for r in renames if r.status == "Fail")
    assert sorted(codes(listed(pws))) == sorted(["WANTED", *[c for c, r in zip(engagements, renames, strict=True) if r.status == "Fail"]])

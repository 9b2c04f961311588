"""Preview over HTTP: any PWS request run exactly as the endpoint would, then rolled back, with
what it would have changed and, for a delete that would fail, every blocker; the
X-Openpws-Preview header on the PWS endpoint, from zeep too. A preview leaves no trace: not in the
data, the row versions or Uids, the locks, the session's last-seen time or the fault rules."""

from __future__ import annotations

import re
import time
from typing import Any

import httpx
import zeep
from sqlalchemy import select

from openpws.store import schema
from openpws.store.transactions import Store
from tests.conftest import AccountFixture
from tests.pws import SoapClient, envelope
from tests.sandbox.changes import (
    demo,
    engagement_delete,
    listed,
    preview,
    request_id,
    ticket_envelope,
    tree_of,
    undo,
)
from tests.sandbox.rows import API, account_id, create, rows_of
from tests.sandbox.test_api import error_of
from tests.tree import Pws, ref, tag

# Rows a preview may leave behind: the journal of the exchanges (their own, and the login's).
JOURNALS = ("journal", "change_journal")


def state(store: Store, code: str) -> dict[str, list[tuple[Any, ...]]]:
    found = account_id(store, code)
    assert found is not None
    return {table: rows for table, rows in rows_of(store, found).items() if table not in JOURNALS}


def test_a_preview_answers_as_the_endpoint_would_and_changes_nothing(api: httpx.Client, soap: SoapClient,
                                                                     store: Store) -> None:
    code, pws = demo(api, soap)
    before = state(store, code)
    shown = preview(api, code, ticket_envelope(pws, *engagement_delete("P001323", cascade=True)))
    assert state(store, code) == before
    assert shown["http_status"] == 200 and shown["blockers"] == []
    assert shown["changes"][0]["kind"] == "engagement" and shown["changes"][0]["action"] == "delete"
    # The delete itself then answers the same, and its change journal holds the same tree.
    done = pws.ok(*engagement_delete("P001323", cascade=True))
    assert shown["response"] == done.content.decode()
    assert tree_of(api, code, request_id(done)) == shown["changes"]
    # A read previews as itself, changing nothing.
    read = preview(api, code, ticket_envelope(pws, "PwsGetClientList", ""))
    assert read["http_status"] == 200 and ">Ok<" in read["response"] and read["changes"] == []


def test_a_preview_takes_no_uid_and_no_row_version(api: httpx.Client, soap: SoapClient) -> None:
    code, pws = demo(api, soap)
    save = ("PwsSaveClient", "<req:Client><com:ClientName>Newco</com:ClientName></req:Client>")
    first = preview(api, code, ticket_envelope(pws, *save))["changes"][0]
    again = preview(api, code, ticket_envelope(pws, *save))["changes"][0]
    assert first == again
    # The write the previews stood for takes the Uid, number and row version they showed.
    made = tree_of(api, code, request_id(pws.ok(*save)))[0]
    assert (made["uid"], made["code"], made["after"]["timestamp"]) == (
        first["uid"], first["code"], first["after"]["timestamp"])
    # So does a lock set its ProjectorLockSetId.
    locking = ticket_envelope(pws, "PwsAcquireProjectorLocks", "<req:LockDurationSeconds>600</req:LockDurationSeconds>"
                              "<req:Locks><com:PwsProjectorLockRequest><com:EntityIdentity><com:EntityCode>P001323"
                              "</com:EntityCode><com:LockType>E</com:LockType></com:EntityIdentity>"
                              "</com:PwsProjectorLockRequest></req:Locks>")
    shown = preview(api, code, locking)
    set_id = re.search(r"ProjectorLockSetId>(\d+)<", shown["response"])
    assert set_id is not None and f"set {set_id.group(1)}" in [i["code"] for i in shown["changes"]]
    taken = soap.post(locking)
    assert taken.status == "Ok" and taken.text(".//rs:ProjectorLockSetId") == set_id.group(1)


def test_a_preview_writes_no_session_time_and_counts_no_fault_rule(api: httpx.Client, soap: SoapClient,
                                                                   store: Store) -> None:
    code, pws = demo(api, soap)

    def last_seen() -> Any:
        with store.read() as tx:
            return tx.execute(select(schema.sessions.c.last_seen_at).where(
                schema.sessions.c.account_id == account_id(store, code))).scalar_one()

    api.put(f"{API}/accounts/{code}/clock", json={"advance_seconds": 600})
    seen = last_seen()
    assert preview(api, code, ticket_envelope(pws, "PwsGetClientList", ""))["http_status"] == 200
    time.sleep(0.2)  # a session's time is written after the answer: it would have been by now
    assert last_seen() == seen
    pws.ok("PwsGetClientList")
    deadline = time.monotonic() + 5
    while last_seen() == seen and time.monotonic() < deadline:
        time.sleep(0.02)
    assert last_seen() != seen  # (as a request that is no preview does)

    rule = api.post(f"{API}/accounts/{code}/faults", json={"operation": "PwsSaveClient", "times": 1,
                                                          "then": {"error": 50046}}).json()
    save = ticket_envelope(pws, "PwsSaveClient", "<req:Client><com:ClientName>Newco</com:ClientName></req:Client>")
    shown = preview(api, code, save)
    assert "<b:ErrorNumber>50046</b:ErrorNumber>" in shown["response"] or ">50046<" in shown["response"]
    assert shown["changes"] == []
    [kept] = api.get(f"{API}/accounts/{code}/faults").json()["items"]
    assert (kept["id"], kept["times"], kept["answered"]) == (rule["id"], 1, 0)
    assert pws.call("PwsSaveClient", "<req:Client><com:ClientName>Newco</com:ClientName></req:Client>"
                    ).error_numbers() == [50046]


BLOCKED = {
    "users": [{"login": "admin@{account}", "display_name": "Admin", "permissions": "all"},
              {"login": "other@{account}", "display_name": "Olga Other", "permissions": "all"}],
    "clients": [
        {"number": "R", "name": "Root", "children": [
            {"number": "A", "name": "In use", "engagements": [{"code": "EA", "name": "Busy"}]},
            {"number": "B", "name": "Idle"}],
         "engagements": [{"code": "E", "name": "Blocked", "projects": [
             {"code": "P1", "name": "Invoiced"},
             {"code": "P2", "name": "Staffed", "roles": [
                 {"external_id": "R1", "name": "Booked", "booked": {"hours": [{"week": "+0w", "minutes": 600}]}},
                 {"external_id": "R2", "name": "Idle"}]}],
             "invoices": [{"name": "First", "content": "B", "project": "P1", "cost_center": "CC",
                           "currency": "USD", "culture": "en-US"}]}]}],
    "locks": [{"user": "other@{account}", "entities": ["R:R1"]},
              {"user": "other@{account}", "entities": ["R:R2"], "internal": True}],
}


def test_a_delete_that_would_fail_lists_every_blocker(api: httpx.Client, soap: SoapClient) -> None:
    created = create(api, fixture=BLOCKED)
    code = created["code"]
    admin = created["users"][0]
    pws = Pws(soap, AccountFixture(code, admin["login"], "", "", admin["password"]))

    def blockers(operation: str, members: str) -> set[tuple[Any, ...]]:
        shown = preview(api, code, ticket_envelope(pws, operation, members))
        assert shown["changes"] == []
        return {(b["kind"], b["code"], b["reason"], b["cleared_by"], b.get("holder")) for b in shown["blockers"]}

    stealable = ("lock", "R:R1", "50469 EntityAlreadyLocked", "LocksToSteal", "Olga Other")
    internal = ("lock", "R:R2", "50469 EntityAlreadyLocked", "none", "Olga Other")
    invoiced = ("project", "P1", "990071 ProjectHasInvoices", "none", None)
    assert blockers(*engagement_delete("E")) == {
        stealable, internal, invoiced, ("engagement", "E", "54556 EngagementHasInvoices", "none", None),
        ("project", "P1", "54537 EngagementHasProjects", "CascadeDeleteFlag", None),
        ("project", "P2", "54537 EngagementHasProjects", "CascadeDeleteFlag", None)}
    # What the flags sent clear is not listed. No steal gets past an internal lock, the stealable one included.
    assert blockers(*engagement_delete("E", cascade=True, steal=True)) == {
        stealable, internal, invoiced, ("engagement", "E", "54556 EngagementHasInvoices", "none", None)}
    project = f"<sch:ProjectIdentity>{ref('Project', 'P2')}</sch:ProjectIdentity>"
    assert blockers("PwsDeleteProject", project) == {
        stealable, internal, ("role", "R1", "990072 ProjectHasRoles", "CascadeDeleteFlag", None),
        ("role", "R2", "990072 ProjectHasRoles", "CascadeDeleteFlag", None)}
    # Where the stealable lock is alone, a steal clears it.
    assert blockers("PwsDeleteProjectRole", f"<sch:ProjectRoleIdentity>{ref('ProjectRole', 'R1')}"
                    "</sch:ProjectRoleIdentity>" + tag("StealLockFlag", True)) == {
        ("role", "R1", "54074 RoleHasHoursBookedOrRequested", "ZeroOutHoursFlag", None)}
    assert blockers("PwsDeleteProjectRole", f"<sch:ProjectRoleIdentity>{ref('ProjectRole', 'R1')}"
                    "</sch:ProjectRoleIdentity>") == {
        stealable, ("role", "R1", "54074 RoleHasHoursBookedOrRequested", "ZeroOutHoursFlag", None)}
    client = f"<req:ClientIdentity>{ref('Client', 'R')}</req:ClientIdentity>"
    assert blockers("PwsDeleteClient", client) == {
        ("client", "A", "57624 ClientHasChildClients", "CascadeDeleteFlag", None),
        ("client", "B", "57624 ClientHasChildClients", "CascadeDeleteFlag", None),
        ("client", "R", "990070 ClientInUse", "InactivateIfInuseFlag", None)}
    assert blockers("PwsDeleteClient", tag("req:CascadeDeleteFlag", True) + client) == {
        ("client", "A", "57625 ChildClientCouldNotBeDeleted", "InactivateIfInuseFlag", None),
        ("client", "R", "990070 ClientInUse", "InactivateIfInuseFlag", None)}
    # A delete that goes through has none, and shows what it would do.
    done = preview(api, code, ticket_envelope(pws, "PwsDeleteClient", tag("req:CascadeDeleteFlag", True) + client
                                              + tag("req:InactivateIfInuseFlag", True)))
    assert done["blockers"] == [] and done["changes"][0]["action"] == "inactivate"


def test_the_preview_header_on_the_pws_endpoint(api: httpx.Client, soap: SoapClient, store: Store) -> None:
    code, pws = demo(api, soap)
    before = state(store, code)
    members = engagement_delete("P001323", cascade=True)
    answer = soap.post(ticket_envelope(pws, *members), headers={"X-Openpws-Preview": "true"})
    assert answer.status == "Ok" and answer.headers["x-openpws-preview"] == "true"
    assert state(store, code) == before
    ident = request_id(answer)
    entry = api.get(f"{API}/accounts/{code}/changes/{ident}").json()
    assert entry["preview"] is True and entry["changes"][0]["code"] == "P001323"
    assert [e["id"] for e in listed(api, code)] == []  # it changed nothing
    assert undo(api, code, ident, status=409)["error"]["path"] == "id"
    # The request journal keeps it as any exchange.
    assert api.get(f"{API}/accounts/{code}/requests/{ident}").status_code == 200

    refused = soap.post(ticket_envelope(pws, *members), headers={"X-Openpws-Preview": "maybe"})
    assert refused.status_code == 500 and refused.faultcode == "s:Client"
    assert "X-Openpws-Preview" in refused.faultstring
    done = soap.post(ticket_envelope(pws, *members), headers={"X-Openpws-Preview": "false"})
    assert done.status == "Ok" and "x-openpws-preview" not in done.headers
    assert state(store, code) != before


def test_zeep_sends_the_preview_header(api: httpx.Client, soap: SoapClient) -> None:
    code, pws = demo(api, soap)
    transport = soap.zeep_transport()
    transport.session.headers["X-Openpws-Preview"] = "true"
    client = zeep.Client(soap.endpoint + "?wsdl", transport=transport)
    answer = client.service.PwsDeleteEngagement(serviceRequest={
        "SessionTicket": pws.ticket, "EngagementIdentity": {"EngagementCode": "P001323"}, "CascadeDeleteFlag": True})
    assert answer.Status == "Ok"
    still = pws.ok("PwsGetEngagement", "<sch:EngagementIdentities><com:PwsEngagementRef>"
                   f"{ref('Engagement', 'P001323')}</com:PwsEngagementRef></sch:EngagementIdentities>")
    assert b"P001323" in still.content and still.find(".//com:PwsEngagementElement") is not None
    [exchange] = api.get(f"{API}/accounts/{code}/requests", params={"operation": "PwsDeleteEngagement"}).json()["items"]
    assert tree_of(api, code, exchange["id"])[0]["code"] == "P001323"


def test_what_a_preview_refuses(api: httpx.Client, soap: SoapClient) -> None:
    code, pws = demo(api, soap)
    other, others = demo(api, soap)
    body = ticket_envelope(pws, "PwsGetClientList", "")
    assert error_of(api.post(f"{API}/accounts/nobody/preview", content=body), 404)["path"] == "code"
    assert error_of(api.post(f"{API}/accounts/{code}/preview", content=b""), 422)["path"] == "body"
    assert error_of(api.post(f"{API}/accounts/{other}/preview", content=body), 422)["path"] == "body"
    # What the endpoint answers with a fault is answered as such.
    broken = preview(api, code, b"<not-xml")
    assert broken["http_status"] == 500 and "s:Client" in broken["response"]
    wrong = preview(api, code, body, action='"http://projectorpsa.com/PwsProjectorServices/IPwsProjectorServices/'
                                            'PwsGetProject"')
    assert wrong["http_status"] == 500 and "SOAPAction" in wrong["response"]
    stale = preview(api, code, envelope("PwsGetClientList", "<req:SessionTicket>AAAAAAAAAAAAAAAAAAAAAA==</req:SessionTicket>"))
    assert stale["http_status"] == 200 and "10004" in stale["response"]
    assert others.ok("PwsGetClientList").status == "Ok"

"""Undo over HTTP: what a delete request removed or inactivated comes back, the same by export
(codes, Uids, hours, invoice links, flags, locks), with new row versions, journalled itself; refused
with 409, naming each conflict, when later changes stand in the way, and then nothing changes; its
preview; the requests it does not take."""

from __future__ import annotations

from typing import Any

import httpx
from sqlalchemy import select

from openpws.contract.ns import COMMON
from openpws.store import schema
from openpws.store.transactions import Store
from tests.conftest import AccountFixture
from tests.messages.deletes_common import delete_client, delete_project, delete_role, undelete_role
from tests.messages.test_locks import acquire, entity, set_of
from tests.pws import SoapClient
from tests.sandbox.changes import (
    changes_of,
    demo,
    engagement_delete,
    export,
    item,
    listed,
    request_id,
    tree_of,
    undo,
)
from tests.sandbox.rows import API, account_id, create
from tests.sandbox.test_api import error_of
from tests.sandbox.test_preview import state
from tests.tree import Pws, ref, tag


def engagement_stamp(pws: Pws, code: str) -> str:
    got = pws.ok("PwsGetEngagement", "<sch:EngagementIdentities><com:PwsEngagementRef>"
                 f"{ref('Engagement', code)}</com:PwsEngagementRef></sch:EngagementIdentities>")
    return got.text(".//com:EngagementTimestamp") or ""


def uids(store: Store, code: str) -> dict[str, set[int]]:
    found = account_id(store, code)
    with store.read() as tx:
        return {table.name: set(tx.execute(select(table.c.uid).where(table.c.account_id == found)).scalars())
                for table in (schema.clients, schema.engagements, schema.contract_line_items, schema.projects,
                              schema.project_roles, schema.invoices)}


def test_a_cascade_comes_back_as_it_was_with_new_row_versions(api: httpx.Client, soap: SoapClient,
                                                               store: Store) -> None:
    code, pws = demo(api, soap)
    other = Pws(soap, pws.account, None)
    held = set_of(acquire(other, entity("P", "P001323-001")))  # the caller's own lock set, in the graph
    before, kept = export(api, code), uids(store, code)
    stamp = engagement_stamp(pws, "P001323")
    deleted = request_id(pws.ok(*engagement_delete("P001323", cascade=True)))
    assert export(api, code) != before

    answer = undo(api, code, deleted)
    assert answer["undoes"] == deleted and answer["rows"] == 16
    assert answer["counts"] == {"engagement": 1, "contract_line_item": 2, "project": 2, "role": 3, "hours": 7, "lock": 1}
    assert export(api, code) == before and uids(store, code) == kept
    # New row versions: a timestamp read before the delete no longer matches.
    assert engagement_stamp(pws, "P001323") != stamp
    stale = pws.call("PwsSaveEngagement", "<sch:Engagement><com:EngagementCode>P001323</com:EngagementCode>"
                     f"<com:EngagementName>Stale</com:EngagementName><com:EngagementTimestamp>{stamp}"
                     "</com:EngagementTimestamp></sch:Engagement>")
    assert stale.error_numbers() == [990007]
    # The lock is back in its set, which its holder still holds.
    assert other.ok("PwsCheckProjectorLocks", tag("req:ProjectorLockSetId", held)).status == "Ok"
    # The undo is journalled, and the delete says it was undone.
    assert changes_of(api, code, deleted)["undone_by"] == answer["id"]
    entry = changes_of(api, code, answer["id"])
    assert (entry["operation"], entry["undoes"], entry["rows"]) == ("Undo", deleted, 16)
    assert item(entry["changes"], "engagement", "P001323")["action"] == "insert"
    assert [e["id"] for e in listed(api, code)][:2] == [answer["id"], deleted]
    # Done once: asked again, it is refused.
    assert undo(api, code, deleted, status=409)["error"]["message"].endswith(f"undone already, by {answer['id']}")


def test_deletes_of_projects_roles_and_clients_come_back(api: httpx.Client, soap: SoapClient, store: Store) -> None:
    code, pws = demo(api, soap)
    before, kept = export(api, code), uids(store, code)
    project = request_id(delete_project(pws, "P001053-001", tag("DeleteEmptyEngagementFlag", False), cascade=True))
    role = request_id(pws.ok("PwsDeleteProjectRole", f"<sch:ProjectRoleIdentity>{ref('ProjectRole', 'Role-301')}"
                             "</sch:ProjectRoleIdentity><sch:ZeroOutHoursFlag>true</sch:ZeroOutHoursFlag>"))
    client = delete_client(pws, "C000117", cascade=True, inactivate=True)
    assert client.status == "OkWithWarnings"
    for ident in (request_id(client), role, project):
        undo(api, code, ident)
    assert export(api, code) == before and uids(store, code) == kept


def test_an_undo_is_refused_naming_each_conflict_and_changes_nothing(api: httpx.Client, soap: SoapClient,
                                                                     store: Store) -> None:
    code, pws = demo(api, soap)
    deleted = request_id(pws.ok(*engagement_delete("P001323", cascade=True)))
    # Later: the engagement's code taken by a new engagement (with the line item it makes, P001323-CL1),
    # a project's code taken too.
    pws.engagement("C000121", "Squatter", code="P001323")
    pws.project("P001323", "Squatting project", code="P001323-002")
    before = state(store, code)
    error = undo(api, code, deleted, status=409)["error"]
    assert error["code"] == "conflict" and error["path"] == "id"
    reasons = {(c["kind"], c["code"]): c for c in error["conflicts"]}
    engagement = reasons[("engagement", "P001323")]
    assert "its code is taken by engagement P001323" in engagement["reason"]
    assert "its code is taken by project P001323-002" in reasons[("project", "P001323-002")]["reason"]
    assert set(reasons) == {("engagement", "P001323"), ("project", "P001323-002"),
                            ("contract_line_item", "P001323-CL1")}
    assert engagement["uid"] > 2**60
    assert state(store, code) == before
    # Its preview says the same, and changes nothing either.
    shown = undo(api, code, deleted, preview=True)
    assert shown["http_status"] == 409 and shown["changes"] == []
    assert {(c["kind"], c["code"]) for c in shown["conflicts"]} == set(reasons)
    assert state(store, code) == before


def test_an_undo_over_a_row_changed_or_removed_since_names_the_request(api: httpx.Client, soap: SoapClient) -> None:
    code, pws = demo(api, soap)
    role = pws.ok("PwsDeleteProjectRole", f"<sch:ProjectRoleIdentity>{ref('ProjectRole', 'Role-303')}"
                  "</sch:ProjectRoleIdentity>")
    uid = item(tree_of(api, code, request_id(role)), "role", "Role-303")["uid"]
    undeleted = request_id(undelete_role(pws, uid))
    [conflict] = undo(api, code, request_id(role), status=409)["error"]["conflicts"]
    assert (conflict["kind"], conflict["code"], conflict["request_id"]) == ("role", "Role-303", undeleted)
    assert "changed since" in conflict["reason"] and "PwsUndeleteProjectRole" in conflict["reason"]

    again = request_id(delete_role(pws, uid))
    gone = request_id(delete_project(pws, "P001323-001", cascade=True))
    [conflict] = undo(api, code, again, status=409)["error"]["conflicts"]
    assert (conflict["code"], conflict["request_id"]) == ("Role-303", gone) and "gone" in conflict["reason"]
    # Undone in turn, the project delete brings the role back, deleted as it was then; then the role's undo goes.
    undo(api, code, gone)
    undo(api, code, again)
    roles = pws.ok("PwsGetProjectRoles", "<sch:Mode>R</sch:Mode><sch:ProjectIdentities><com:PwsProjectRef>"
                   f"{ref('Project', 'P001323-001')}</com:PwsProjectRef></sch:ProjectIdentities>")
    assert b"Role-303" in roles.content


def test_a_steal_is_given_back(api: httpx.Client, soap: SoapClient, store: Store) -> None:
    created = create(api, fixture={
        "users": [{"login": "admin@{account}", "display_name": "Admin", "permissions": "all"},
                  {"login": "other@{account}", "display_name": "Olga Other", "permissions": "all"}],
        "clients": [{"number": "C", "name": "C", "engagements": [{"code": "E", "name": "E", "projects": [
            {"code": "P", "name": "P"}]}]}],
        "locks": [{"user": "other@{account}", "entities": ["P:P"]}]})
    code = created["code"]
    admin, olga = (Pws(soap, AccountFixture(code, u["login"], "", "", u["password"])) for u in created["users"])
    before = export(api, code)
    deleted = admin.ok(*engagement_delete("E", cascade=True, steal=True))
    assert b"Olga Other" in deleted.content
    assert export(api, code) != before
    undo(api, code, request_id(deleted))
    assert export(api, code) == before
    assert olga.ok("PwsGetClientList").status == "Ok"


def test_what_undo_does_not_take(api: httpx.Client, soap: SoapClient) -> None:
    code, pws = demo(api, soap)
    saved = request_id(pws.ok("PwsSaveClient", "<req:Client><com:ClientName>Newco</com:ClientName></req:Client>"))
    error = undo(api, code, saved, status=409)["error"]
    assert "PwsSaveClient" in error["message"] and "only deletes" in error["message"]
    assert error_of(api.post(f"{API}/accounts/{code}/changes/999999/undo"), 404)["path"] == "id"
    assert error_of(api.post(f"{API}/accounts/nobody/changes/1/undo"), 404)["path"] == "code"
    assert error_of(api.post(f"{API}/accounts/{code}/changes/{saved}/undo", params={"preview": "perhaps"}),
                    422)["path"] == "preview"


def test_ids_taken_since_are_given_anew(api: httpx.Client, soap: SoapClient, store: Store) -> None:
    """SQLite hands a removed row's id to the next row: the rows that come back take new ones, in
    the order they had (a project's roles are listed in it)."""
    code, pws = demo(api, soap)
    pws.engagement("C000121", "Last", code="LAST")
    pws.project("LAST", "Last project", code="LAST-1")
    for n in range(3):
        pws.role("LAST-1", f"Role {n}", external_id=f"LAST-R{n}")
    before = export(api, code)

    def ids(table: Any, codes: list[str]) -> list[int]:
        column = table.c.external_id if table is schema.project_roles else table.c.code
        with store.read() as tx:
            return list(tx.execute(select(table.c.id).where(column.in_(codes),
                                                            table.c.account_id == account_id(store, code))
                                   .order_by(table.c.id)).scalars())

    held = ids(schema.project_roles, ["LAST-R0", "LAST-R1", "LAST-R2"])
    deleted = request_id(pws.ok(*engagement_delete("LAST", cascade=True)))
    # New rows, made after the delete: on SQLite they take the ids it freed.
    pws.engagement("C000121", "New", code="NEW")
    pws.project("NEW", "New project", code="NEW-1")
    pws.role("NEW-1", "New role", external_id="NEW-R")
    if store.dialect == "sqlite":
        assert ids(schema.project_roles, ["NEW-R"])[0] in held
    undo(api, code, deleted)
    after = export(api, code)
    globex = next(c for c in after["clients"] if c["number"] == "C000121")
    # (Its engagements in id order: the one that came back has a new id, above the new one's.)
    assert sorted(e["code"] for e in globex["engagements"]) == ["LAST", "NEW"]
    globex["engagements"] = [e for e in globex["engagements"] if e["code"] != "NEW"]
    assert after == before
    # The roles are listed in the order they were made.
    roles = pws.ok("PwsGetProjectRoles", "<sch:Mode>R</sch:Mode><sch:ProjectIdentities><com:PwsProjectRef>"
                   f"{ref('Project', 'LAST-1')}</com:PwsProjectRef></sch:ProjectIdentities>")
    assert [e.text for e in roles.root.iterfind(".//com:ExternalSystemIdentifier", {"com": COMMON})] == [
        "LAST-R0", "LAST-R1", "LAST-R2"]

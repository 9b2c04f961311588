"""The change journal over HTTP: every write request's changed rows, before and after, as a tree
under the id its response carried; nothing for a write that failed; listed newest first and
filtered; bounded per account; switched off."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from contextlib import contextmanager

import httpx

from openpws.app import create_app
from openpws.config import Settings
from openpws.store.transactions import Store
from tests.asgi import AsgiTransport
from tests.conftest import ADMIN_TOKEN, IN_PROCESS_URL, TEST_SCRYPT_COST, AccountFixture
from tests.messages.deletes_common import delete_client, delete_engagement, invoice
from tests.messages.test_locks import acquire, entity
from tests.pws import SoapClient
from tests.sandbox.changes import (
    FROZEN_AT,
    changes_of,
    demo,
    engagement_delete,
    flat,
    item,
    listed,
    preview,
    request_id,
    shape,
    ticket_envelope,
    tree_of,
)
from tests.sandbox.rows import API, create
from tests.sandbox.test_api import error_of
from tests.tree import Pws


def rename_project(pws: Pws, code: str, name: str) -> int:
    return request_id(pws.ok("PwsSaveProject", f"<sch:Mode>R</sch:Mode><sch:Project><com:ProjectCode>{code}"
                                               f"</com:ProjectCode><com:ProjectName>{name}</com:ProjectName>"
                                               "</sch:Project>"))


def request_hours(pws: Pws, external_id: str, week: str = "2030-01-07", minutes: int = 600) -> int:
    return request_id(pws.ok(
        "PwsRequestOrBookRoleHours", "<sch:Mode>R</sch:Mode><sch:ProjectRoles><com:PwsProjectRoleHours>"
        f"<com:HoursBuckets><com:PwsProjectRoleHoursBucket><com:BucketStartDate>{week}T00:00:00</com:BucketStartDate>"
        f"<com:SchedulingMode>W</com:SchedulingMode><com:WeeklyMinutes>{minutes}</com:WeeklyMinutes>"
        "</com:PwsProjectRoleHoursBucket></com:HoursBuckets><com:ProjectRoleIdentity><com:ExternalSystemIdentifier>"
        f"{external_id}</com:ExternalSystemIdentifier></com:ProjectRoleIdentity></com:PwsProjectRoleHours>"
        "</sch:ProjectRoles>"))


def test_a_cascade_is_kept_as_a_tree_under_the_id_its_response_carried(api: httpx.Client, soap: SoapClient) -> None:
    code, pws = demo(api, soap)
    answer = pws.ok(*engagement_delete("P001323", cascade=True))
    entry = changes_of(api, code, request_id(answer))
    assert {k: v for k, v in entry.items() if k != "changes"} == {
        "id": request_id(answer), "time": FROZEN_AT, "user": pws.account.admin, "operation": "PwsDeleteEngagement",
        "preview": False, "undoes": None, "undone_by": None, "rows": 15}
    tree = entry["changes"]
    # The engagement with everything under it, each where it hangs; every item a delete.
    assert [(d, k, c) for d, k, c, _ in shape(tree) if k != "hours"] == [
        (0, "engagement", "P001323"),
        (1, "contract_line_item", "P001323-CL1"), (1, "contract_line_item", "P001323-CL2"),
        (1, "project", "P001323-001"),
        (2, "role", "Role-301"), (2, "role", "Role-302"), (2, "role", "Role-303"),
        (1, "project", "P001323-002")]
    assert {a for _, _, _, a in shape(tree)} == {"delete"}
    hours = [i["code"] for i in item(tree, "role", "Role-301")["children"]]
    assert len(hours) == 6 and sum(c.startswith("requested ") for c in hours) == 4
    assert len(flat(tree)) == entry["rows"]
    # Every member of a row deleted, by the names the control plane gives them (its code, Uid and
    # name are the item's own).
    role = item(tree, "role", "Role-301")
    assert role["after"] is None and role["name"] == "Project Manager" and role["uid"] > 2**60
    assert role["before"]["requested_resource"] == pws.account.admin and role["before"]["deleted"] is False
    assert not {"uid", "external_system_identifier", "name"} & set(role["before"])
    assert len(base64.b64decode(role["before"]["timestamp"])) == 8
    engagement = item(tree, "engagement", "P001323")
    assert engagement["before"]["stage"] == "Open" and engagement["before"]["manager"] == pws.account.admin
    week = item(tree, "role", "Role-302")["children"][0]
    assert week["code"].startswith("requested ") and week["before"]["daily_minutes"] == [480, 480, 480, 480, 240, 0, 0]
    assert week["before"]["minutes"] == 2160


def test_saves_hours_invoices_and_locks_are_kept_with_what_changed(api: httpx.Client, soap: SoapClient) -> None:
    code, pws = demo(api, soap)
    renamed = tree_of(api, code, rename_project(pws, "P001323-002", "Support, renamed"))
    # The project changed under its engagement, whose graph took a new version; only what changed is shown.
    assert shape(renamed) == [(0, "engagement", "P001323", "update"), (1, "project", "P001323-002", "update")]
    project = renamed[0]["children"][0]
    assert project["before"]["name"] == "Platform support" and project["after"]["name"] == "Support, renamed"
    assert set(project["after"]) == {"name", "timestamp", "updated_at"}
    assert set(renamed[0]["after"]) == {"timestamp", "updated_at"}

    hours = tree_of(api, code, request_hours(pws, "Role-303"))
    assert shape(hours) == [(0, "engagement", "P001323", "update"), (1, "role", "Role-303", "update"),
                            (2, "hours", "requested 2030-01-07", "insert")]
    assert hours[0]["children"][0]["after"]["open_request"] is True
    assert hours[0]["children"][0]["children"][0]["after"] == {
        "scheduling_mode": "W", "minutes": 600, "daily_minutes": None}

    invoice(pws, "C000117", "P001323", "P001323-002")
    invoiced = listed(api, code, entity="invoice")[0]["changes"]
    assert shape(invoiced) == [(0, "engagement", "P001323", "update"), (1, "project", "P001323-002", "update"),
                               (2, "invoice", "DRAFT00002", "insert")]
    assert invoiced[0]["after"] == {"ever_invoiced": True}

    locked = tree_of(api, code, request_id(acquire(pws, entity("P", "P001323-001"))))
    assert sorted((i["kind"], i["code"][:4], i["action"]) for i in locked) == [
        ("lock", "P:P0", "insert"), ("lock", "set ", "insert")]
    lock = next(i for i in locked if i["code"] == "P:P001323-001")
    lock_set = next(i for i in locked if i["code"].startswith("set "))
    assert lock["uid"] > 2**60 and lock_set["code"] == f"set {lock['after']['lock_set']}"
    assert set(lock["after"]) == {"lock_set", "acquired_at"} and lock_set["after"]["holder"] == pws.account.admin

    added = tree_of(api, code, request_id(pws.ok("PwsSaveClient", "<req:Client><com:ClientName>Newco</com:ClientName>"
                                                                  "</req:Client>")))
    assert [(i["kind"], i["action"], i["name"]) for i in added] == [("client", "insert", "Newco")]
    assert added[0]["after"]["inactive"] is False and added[0]["after"]["parent"] is None


def test_a_client_delete_shows_what_it_deleted_and_what_it_marked_inactive(api: httpx.Client,
                                                                           soap: SoapClient) -> None:
    created = create(api, fixture={"users": [{"login": "a@{account}", "display_name": "A", "permissions": "all"}],
                                   "clients": [{"number": "R", "name": "Root", "children": [
                                       {"number": "A", "name": "In use", "engagements": [{"code": "EA", "name": "E"}]},
                                       {"number": "B", "name": "Idle"}]}]})
    code = created["code"]
    pws = Pws(soap, AccountFixture(code, created["users"][0]["login"], "", "", created["users"][0]["password"]))
    answer = delete_client(pws, "R", cascade=True, inactivate=True)
    assert answer.status == "OkWithWarnings"
    tree = tree_of(api, code, request_id(answer))
    assert shape(tree) == [(0, "client", "R", "inactivate"), (1, "client", "A", "inactivate"),
                           (1, "client", "B", "delete")]
    assert tree[0]["before"]["inactive"] is False and tree[0]["after"]["inactive"] is True
    assert tree[0]["children"][1]["before"]["parent"] == "R"


def test_a_write_that_fails_and_a_read_record_nothing(api: httpx.Client, soap: SoapClient) -> None:
    code, pws = demo(api, soap)
    before = listed(api, code)
    refused = delete_engagement(pws, "P001323")
    assert refused.status == "Fail"
    read = pws.ok("PwsGetClientList")
    for answer in (refused, read):
        error = error_of(api.get(f"{API}/accounts/{code}/changes/{request_id(answer)}"), 404)
        assert error["path"] == "id"
    assert listed(api, code) == before


def test_changes_are_listed_newest_first_and_filtered(api: httpx.Client, soap: SoapClient) -> None:
    code, pws = demo(api, soap)
    saved = rename_project(pws, "P001323-002", "Renamed")
    api.put(f"{API}/accounts/{code}/clock", json={"advance_seconds": 3600})
    hours = request_hours(pws, "Role-303")
    deleted = request_id(pws.ok(*engagement_delete("E001400")))
    everything = listed(api, code)
    assert [e["id"] for e in everything] == [deleted, hours, saved]
    assert [e["id"] for e in listed(api, code, limit=2)] == [deleted, hours]
    assert [e["id"] for e in listed(api, code, entity="hours")] == [hours]
    assert [e["id"] for e in listed(api, code, entity="project")] == [saved]
    # A code matches without regard to case, with or without the entity; so does a Uid.
    assert [e["id"] for e in listed(api, code, code="p001323-002")] == [saved]
    assert [e["id"] for e in listed(api, code, entity="engagement", code="E001400")] == [deleted]
    assert listed(api, code, entity="role", code="E001400") == []
    uid = item(everything[0]["changes"], "engagement", "E001400")["uid"]
    assert [e["id"] for e in listed(api, code, code=str(uid))] == [deleted]
    assert [e["id"] for e in listed(api, code, since="2030-01-07T09:30:00Z")] == [deleted, hours]
    for params, path in (({"entity": "nothing"}, "entity"), ({"limit": 0}, "limit"), ({"since": "soon"}, "since")):
        assert error_of(api.get(f"{API}/accounts/{code}/changes", params=params), 422)["path"] == path
    for path in (f"{API}/accounts/nobody/changes", f"{API}/accounts/nobody/changes/1"):
        assert error_of(api.get(path), 404)["path"] == "code"
    assert error_of(api.get(f"{API}/accounts/{code}/changes/999999999"), 404)["path"] == "id"
    assert api.delete(f"{API}/accounts/{code}/changes").status_code == 204
    assert listed(api, code) == []


@contextmanager
def application(database_url: str, **settings: object) -> Iterator[tuple[SoapClient, httpx.Client]]:
    configured = Settings(database_url=database_url, scrypt_cost=TEST_SCRYPT_COST, admin_token=ADMIN_TOKEN,
                          **settings)  # type: ignore[arg-type]
    served = Store.open(database_url, threads=configured.threads)
    transport = AsgiTransport(create_app(configured, served))
    try:
        with SoapClient(IN_PROCESS_URL, transport) as soap, httpx.Client(
                base_url=IN_PROCESS_URL, transport=transport, headers={"Authorization": f"Bearer {ADMIN_TOKEN}"}) as api:
            yield soap, api
    finally:
        transport.shutdown()
        served.dispose()


def test_each_account_keeps_its_newest_requests(database_url: str) -> None:
    with application(database_url, journal_size=3) as (soap, api):
        code, pws = demo(api, soap)
        other, others = demo(api, soap)
        ids = [rename_project(pws, "P001323-002", f"Name {n}") for n in range(5)]
        rename_project(others, "P001323-002", "Elsewhere")
        assert [e["id"] for e in listed(api, code)] == ids[::-1][:3]
        error_of(api.get(f"{API}/accounts/{code}/changes/{ids[0]}"), 404)
        assert len(listed(api, other)) == 1


def test_without_the_change_journal_nothing_is_kept_and_previews_still_show(database_url: str) -> None:
    with application(database_url, change_journal=False) as (soap, api):
        code, pws = demo(api, soap)
        deleted = request_id(pws.ok(*engagement_delete("E001400")))
        error_of(api.get(f"{API}/accounts/{code}/changes/{deleted}"), 404)
        error_of(api.post(f"{API}/accounts/{code}/changes/{deleted}/undo"), 404)
        shown = preview(api, code, ticket_envelope(pws, *engagement_delete("P001323", cascade=True)))
        assert shown["changes"][0]["code"] == "P001323" and shown["changes"][0]["action"] == "delete"

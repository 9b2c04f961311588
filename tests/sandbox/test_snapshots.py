"""Snapshots, restore and reset over HTTP: a restore puts back exactly the rows the snapshot held
(codes, Uids, row versions, locks), sessions live on, later writes never take a version or Uid
that exists, other accounts stay byte for byte as they were, and bad input is a JSON error that
changes nothing."""

from __future__ import annotations

import json
import secrets
import threading
import time
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from openpws.messages.tokens import decode_rowversion
from openpws.services.permissions import ALL
from openpws.store import schema, snapshots
from openpws.store.transactions import Store
from tests.conftest import AccountFixture, make_account, make_user
from tests.messages.test_locks import acquire, check, entity, set_of
from tests.messages.test_roles import get_roles, roles_of
from tests.pws import SoapClient
from tests.sandbox.rows import API, account_id, create, rows_of
from tests.sandbox.test_api import error_of
from tests.tree import Pws, ref, tag

DETAIL = ".//sch:Engagements/com:PwsEngagementElement/com:EngagementDetail/com:"
# What a restore does not put back: sessions live on, snapshots are not part of an account's state, and its
# request and change journals record what was done to it.
NOT_RESTORED = ("sessions", "snapshots", "journal", "change_journal")


def held_rows(store: Store, found: int) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of account ``found`` that a snapshot holds, in every table."""
    return {table: rows for table, rows in rows_of(store, found).items() if table not in NOT_RESTORED}


def state_of(store: Store, code: str) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of the account that a snapshot holds, in every table."""
    found = account_id(store, code)
    assert found is not None
    return held_rows(store, found)


def pws_of(soap: SoapClient, created: dict[str, Any], user: int = 0) -> Pws:
    login = created["users"][user]
    return Pws(soap, AccountFixture(created["code"], login["login"], "", "", login["password"]))


def snapshot(api: httpx.Client, code: str, **body: Any) -> dict[str, Any]:
    answer = api.post(f"{API}/accounts/{code}/snapshots", json=body or None)
    assert answer.status_code == 201, answer.text
    taken: dict[str, Any] = answer.json()
    return taken


def restore(api: httpx.Client, code: str, snapshot_id: int) -> dict[str, Any]:
    answer = api.post(f"{API}/accounts/{code}/snapshots/{snapshot_id}/restore")
    assert answer.status_code == 200, answer.text
    restored: dict[str, Any] = answer.json()
    return restored


def listed(api: httpx.Client, code: str, **params: Any) -> list[dict[str, Any]]:
    answer = api.get(f"{API}/accounts/{code}/snapshots", params=params)
    assert answer.status_code == 200, answer.text
    items: list[dict[str, Any]] = answer.json()["items"]
    return items


def timestamp_of(pws: Pws, engagement: str) -> str:
    answer = pws.ok("PwsGetEngagement", f"<sch:EngagementIdentities><com:PwsEngagementRef>{ref('Engagement', engagement)}"
                                        "</com:PwsEngagementRef></sch:EngagementIdentities>")
    return answer.text(DETAIL + "EngagementTimestamp") or ""


def rename(pws: Pws, engagement: str, name: str, timestamp: str | None = None) -> Any:
    stamp = f"<com:EngagementTimestamp>{timestamp}</com:EngagementTimestamp>" if timestamp else ""
    return pws.call("PwsSaveEngagement", f"<sch:Engagement>{ref('Engagement', engagement)}"
                                         f"<com:EngagementName>{name}</com:EngagementName>{stamp}</sch:Engagement>")


def change_everything(pws: Pws) -> None:
    """Writes to every kind of row of the demo tree: a new client tree, a renamed and a deleted
    engagement, hours, a deleted role, an invoice, a lock released and one taken."""
    client = pws.client("Added after the snapshot")
    pws.client("Its child", parent=client)
    engagement = pws.engagement(client, "New engagement")
    project = pws.project(engagement, "New project")
    pws.role(project, "New role", external_id=f"new-{secrets.token_hex(2)}")
    assert rename(pws, "P001323", "Renamed after the snapshot").status == "Ok"
    pws.ok("PwsDeleteEngagement", "<sch:EngagementIdentity><com:EngagementCode>E001400</com:EngagementCode>"
                                  "</sch:EngagementIdentity>")
    pws.ok("PwsDeleteProjectRole", "<sch:ProjectRoleIdentity><com:ExternalSystemIdentifier>Role-303"
                                   "</com:ExternalSystemIdentifier></sch:ProjectRoleIdentity>")
    request_hours(pws, "Role-304")
    set_of(acquire(pws, entity("P", "P001053-001"), seconds=600))



def request_hours(pws: Pws, external_id: str) -> None:
    """600 minutes requested on the role in the week of 2031-01-06 (members in production's order)."""
    pws.ok("PwsRequestOrBookRoleHours", "<sch:Mode>R</sch:Mode><sch:ProjectRoles><com:PwsProjectRoleHours>"
           "<com:HoursBuckets><com:PwsProjectRoleHoursBucket><com:BucketStartDate>2031-01-06T00:00:00"
           "</com:BucketStartDate><com:SchedulingMode>W</com:SchedulingMode><com:WeeklyMinutes>600</com:WeeklyMinutes>"
           "</com:PwsProjectRoleHoursBucket></com:HoursBuckets><com:ProjectRoleIdentity><com:ExternalSystemIdentifier>"
           f"{external_id}</com:ExternalSystemIdentifier></com:ProjectRoleIdentity></com:PwsProjectRoleHours>"
           "</sch:ProjectRoles>")

def test_a_restore_puts_back_exactly_what_the_snapshot_held(api: httpx.Client, soap: SoapClient,
                                                             store: Store) -> None:
    created = create(api, fixture_name="demo")
    code = created["code"]
    admin, viewer = pws_of(soap, created), pws_of(soap, created, 1)
    # Values that must come back to the bit: a double of 17 significant digits, text JSON escapes.
    admin.ok("PwsSaveProject", "<sch:Mode>R</sch:Mode><sch:Project><com:ProjectCode>P001323-001</com:ProjectCode>"
                               "<com:Description>Ünïcødé “quoted” \\ back\\slash &lt;tag&gt; \"q\" \u2028</com:Description>"
                               "<com:PercentLikelihood>33.333333333333336</com:PercentLikelihood></sch:Project>")
    held = set_of(acquire(admin, entity("E", "P001323"), seconds=3600))  # a lock the snapshot holds
    before = state_of(store, code)
    assert before["locks"] and before["lock_sets"] and before["role_hours"] and before["invoices"]
    assert 33.333333333333336 in (value for row in before["projects"] for value in row)
    counts = api.get(f"{API}/accounts/{code}").json()["counts"]

    taken = snapshot(api, code, name="before the changes")
    assert taken["account"] == code and taken["name"] == "before the changes" and taken["creation"] is False
    assert taken["counts"] == counts and taken["counts"]["locks"] == 1
    assert taken["rows"] == sum(len(rows) for table, rows in before.items() if table != "accounts")
    assert 0 < taken["bytes"] < 20_000
    assert abs(datetime.fromisoformat(taken["taken_at"]) - datetime.now(UTC)).total_seconds() < 60

    assert check(admin, held).status == "Ok"
    admin.ok("PwsReleaseProjectorLocks", tag("req:ProjectorLockSetId", held))
    change_everything(admin)
    assert state_of(store, code) != before

    restored = restore(api, code, taken["id"])
    assert restored == taken
    assert state_of(store, code) == before
    assert api.get(f"{API}/accounts/{code}").json()["counts"] == counts
    # The sessions opened before the restore still work, and the lock set is the caller's again.
    assert admin.ok("PwsGetClientList").status == "Ok" and viewer.ok("PwsGetClientList").status == "Ok"
    assert check(admin, held).status == "Ok"
    assert rename(admin, "P001323", "Written after the restore").status == "Ok"
    # A snapshot can be restored again and again.
    restore(api, code, taken["id"])
    assert state_of(store, code) == before


def test_snapshots_are_listed_newest_first_after_the_one_of_creation(api: httpx.Client, store: Store) -> None:
    created = create(api, fixture_name="demo")
    code = created["code"]
    [creation] = listed(api, code)
    assert creation["creation"] is True and creation["name"] is None and creation["account"] == code
    assert creation["counts"] == api.get(f"{API}/accounts/{code}").json()["counts"]
    first, second = snapshot(api, code), snapshot(api, code.upper(), name="second")
    assert first["name"] is None and second["account"] == code
    assert [item["id"] for item in listed(api, code)] == [second["id"], first["id"], creation["id"]]
    assert listed(api, code)[0] == second
    assert listed(api, code, limit=1) == [second]
    # An empty account has its creation snapshot too.
    empty = create(api)["code"]
    [only] = listed(api, empty)
    assert only["creation"] is True and only["counts"]["users"] == 1 and only["counts"]["clients"] == 0


def test_reset_goes_back_to_the_account_as_it_was_created(api: httpx.Client, soap: SoapClient,
                                                          store: Store) -> None:
    created = create(api, fixture_name="demo", ttl_seconds=3600)
    code = created["code"]
    as_created = state_of(store, code)
    [creation] = listed(api, code)
    admin = pws_of(soap, created)
    change_everything(admin)
    later = snapshot(api, code)
    # A user added since, with a session: it goes with the reset, and its session with it.
    make_user(store, code, f"late@{code}", ALL)
    late = Pws(soap, AccountFixture(code, f"late@{code}", "", ""))
    assert late.ok("PwsGetClientList").status == "Ok"

    answer = api.post(f"{API}/accounts/{code}/reset")
    assert answer.status_code == 200, answer.text
    assert answer.json() == creation
    assert state_of(store, code) == as_created
    assert admin.ok("PwsGetClientList").status == "Ok"
    gone = late.call("PwsGetClientList")
    assert gone.status == "FailSessionInvalid" and gone.error_numbers() == [10004]
    assert soap.authenticate(code, f"late@{code}", "Pa55-word!").error_numbers() == [10002]
    # The clock and the expiry are not part of the account's state.
    assert api.get(f"{API}/accounts/{code}").json()["expires_at"] is not None
    # The snapshot taken after the changes is still there, and puts them back.
    assert [item["id"] for item in listed(api, code)] == [later["id"], creation["id"]]
    restore(api, code, later["id"])
    assert "Renamed after the snapshot" in admin.ok(
        "PwsGetEngagement", "<sch:EngagementIdentities><com:PwsEngagementRef>"
        f"{ref('Engagement', 'P001323')}</com:PwsEngagementRef></sch:EngagementIdentities>").content.decode()


def _highest(store: Store, column: str) -> int:
    """The highest value of ``column`` over every table of the database that has it."""
    with store.read() as tx:
        return max(int(tx.execute(select(func.max(table.c[column]))).scalar() or 0)
                   for table in schema.metadata.sorted_tables if column in table.c)


def test_after_a_restore_writes_take_new_versions_and_timestamps_behave_as_after_a_backup(
        api: httpx.Client, soap: SoapClient, store: Store) -> None:
    created = create(api, fixture_name="demo")
    code = created["code"]
    admin = pws_of(soap, created)
    before_snapshot = timestamp_of(admin, "P001323")
    taken = snapshot(api, code)
    assert rename(admin, "P001323", "After the snapshot").status == "Ok"
    after_snapshot = timestamp_of(admin, "P001323")
    added = admin.ok("PwsSaveClient", "<req:Client><com:ClientName>Gone with the restore</com:ClientName></req:Client>")
    added_uid = int(added.text(".//{*}ClientIdentity/com:ClientUid") or 0)
    highest_version, highest_uid = _highest(store, "rowversion"), _highest(store, "uid")

    restore(api, code, taken["id"])
    assert timestamp_of(admin, "P001323") == before_snapshot
    # A timestamp read after the snapshot names a version the restore took away: it never matches again.
    stale = rename(admin, "P001323", "Stale", after_snapshot)
    assert stale.status == "Fail" and stale.error_numbers() == [990007]
    # One read before the snapshot matches again, as after restoring a database from a backup.
    saved = rename(admin, "P001323", "Saved on the restored version", before_snapshot)
    assert saved.status == "Ok", saved.content.decode()
    new_version = decode_rowversion(saved.text(".//sch:EngagementTimestamp") or "")
    assert new_version > highest_version >= decode_rowversion(after_snapshot)
    # New Uids are above every Uid given out, the ones of rows the restore removed included.
    again = admin.ok("PwsSaveClient", "<req:Client><com:ClientName>After the restore</com:ClientName></req:Client>")
    assert int(again.text(".//{*}ClientIdentity/com:ClientUid") or 0) > highest_uid >= added_uid
    assert rename(admin, "P001323", "Stale again", after_snapshot).error_numbers() == [990007]


def test_restore_leaves_other_accounts_as_they_were_even_where_sqlite_gave_their_ids_out_again(
        api: httpx.Client, soap: SoapClient, store: Store) -> None:
    one, other = create(api, fixture_name="demo"), create(api, fixture_name="demo")
    mine, theirs = pws_of(soap, one), pws_of(soap, other)
    set_of(acquire(theirs, entity("E", "P001323"), seconds=3600))
    # The newest rows of their tables: a client tree with an engagement, project, role, hours and lock.
    client = mine.client("Newest")
    engagement = mine.engagement(client, "Newest engagement")
    project = mine.project(engagement, "Newest project")
    mine.role(project, "Newest role", external_id="newest-role")
    request_hours(mine, "newest-role")
    mine_set = set_of(acquire(mine, entity("P", project), seconds=3600))
    before = state_of(store, one["code"])
    taken = snapshot(api, one["code"])
    # Gone again, and the other account's new rows take their ids where SQLite hands them out again.
    mine.ok("PwsReleaseProjectorLocks", tag("req:ProjectorLockSetId", mine_set))
    delete_tree(mine, client, engagement)
    their_client = theirs.client("Takes the ids")
    their_project = theirs.project(theirs.engagement(their_client, "Their engagement"), "Their project")
    theirs.role(their_project, "Their role", external_id="their-role")
    set_of(acquire(theirs, entity("P", their_project), seconds=3600))
    other_id = account_id(store, other["code"])
    assert other_id is not None
    theirs_before = held_rows(store, other_id)
    if store.dialect == "sqlite":  # the case this test is about: their rows hold ids the snapshot's rows had
        for table in ("clients", "engagements", "contract_line_items", "projects", "project_roles", "locks"):
            mine_ids = {row[0] for row in before[table]}
            assert mine_ids & {row[0] for row in theirs_before[table]}, table

    restore(api, one["code"], taken["id"])
    assert held_rows(store, other_id) == theirs_before
    assert [r.esi for r in roles_of(get_roles(theirs, their_project))] == ["their-role"]
    # The account holds what it held, by codes, Uids and versions (on SQLite some rows under new ids).
    after = state_of(store, one["code"])
    assert {table: len(rows) for table, rows in after.items()} == {table: len(rows) for table, rows in before.items()}
    assert _uids_and_versions(after) == _uids_and_versions(before)
    [role] = roles_of(get_roles(mine, project))
    assert role.esi == "newest-role" and role.buckets == [("2031-01-06", "W", 600, None)]
    assert check(mine, mine_set).status == "Ok"  # its lock is its own again
    conflict = mine.call("PwsSaveProject", f"<sch:Mode>R</sch:Mode><sch:Project>{ref('Project', project)}"
                                           "<com:ProjectName>Locked by me</com:ProjectName></sch:Project>")
    assert conflict.status == "Ok", conflict.content.decode()
    mine.ok("PwsReleaseProjectorLocks", tag("req:ProjectorLockSetId", mine_set))
    delete_tree(mine, client, engagement)
    assert held_rows(store, other_id) == theirs_before


def delete_tree(pws: Pws, client: str, engagement: str) -> None:
    pws.ok("PwsDeleteEngagement", f"<sch:EngagementIdentity>{ref('Engagement', engagement)}</sch:EngagementIdentity>"
                                  + tag("CascadeDeleteFlag", True))
    pws.ok("PwsDeleteClient", f"<req:ClientIdentity>{ref('Client', client)}</req:ClientIdentity>")


def _uids_and_versions(state: dict[str, list[tuple[Any, ...]]]) -> dict[str, list[tuple[Any, ...]]]:
    """Per table, each row's Uid and row version (the internal ids left out)."""
    found = {}
    for table in schema.metadata.sorted_tables:
        if table.name in state and "uid" in table.c:
            at = [i for i, column in enumerate(table.c) if column.name in ("uid", "rowversion", "code", "number")]
            found[table.name] = sorted(tuple(row[i] for i in at) for row in state[table.name])
    return found


def test_requests_of_other_accounts_go_on_while_an_account_restores(api: httpx.Client, soap: SoapClient,
                                                                    store: Store) -> None:
    one, other = create(api, fixture_name="demo"), create(api, fixture_name="demo")
    mine, theirs = pws_of(soap, one), pws_of(soap, other)
    for n in range(30):
        mine.client(f"Bulk {n}")
    taken = snapshot(api, one["code"])
    stop = threading.Event()
    answers: list[str] = []

    def read_and_write() -> None:
        client = soap.another()
        try:
            ticket = theirs.ticket
            n = 0
            while not stop.is_set():
                n += 1
                got = client.call("PwsGetClient", f"<req:SessionTicket>{ticket}</req:SessionTicket>"
                                                  "<req:ClientIdentities><com:PwsClientRef><com:ClientNumber>C000117"
                                                  "</com:ClientNumber></com:PwsClientRef></req:ClientIdentities>")
                saved = client.call("PwsSaveClient", f"<req:SessionTicket>{ticket}</req:SessionTicket><req:Client>"
                                                     f"<com:ClientName>Meanwhile {n}</com:ClientName></req:Client>")
                answers.extend((got.status, saved.status))
        finally:
            client.close()

    worker = threading.Thread(target=read_and_write)
    worker.start()
    try:
        for _ in range(5):
            mine.client("Written between restores")
            restore(api, one["code"], taken["id"])
    finally:
        stop.set()
        worker.join(60)
    assert answers and set(answers) == {"Ok"}


@pytest.mark.skipif("config.getoption('--postgres') is None", reason="SQLite's writers take turns")
def test_writes_to_the_account_while_it_restores_wait_or_give_way(api: httpx.Client, soap: SoapClient,
                                                                  store: Store) -> None:
    """Requests of the account itself meet the restore on PostgreSQL: each is answered (Ok, or the
    entity's not-found when it read a row the restore replaced), never an internal error, and
    each restore puts the snapshot back whole."""
    created = create(api, fixture_name="demo")
    code = created["code"]
    admin = pws_of(soap, created)
    taken = snapshot(api, code)
    before = state_of(store, code)
    stop = threading.Event()
    answers: list[tuple[str, tuple[int, ...]]] = []

    def write() -> None:
        client = soap.another()
        try:
            n = 0
            while not stop.is_set():
                n += 1
                for operation, members in (
                        ("PwsSaveClient", f"<req:Client><com:ClientName>Meanwhile {n}</com:ClientName></req:Client>"),
                        ("PwsSaveEngagement", f"<sch:Engagement>{ref('Engagement', 'P001323')}<com:EngagementName>"
                                              f"Meanwhile {n}</com:EngagementName></sch:Engagement>"),
                        ("PwsSaveProject", "<sch:Mode>R</sch:Mode><sch:Project><com:EngagementIdentity>"
                                           f"{ref('Engagement', 'P001323')}</com:EngagementIdentity>"
                                           f"<com:ProjectName>Meanwhile {n}</com:ProjectName></sch:Project>")):
                    answer = client.call(operation, f"<req:SessionTicket>{admin.ticket}</req:SessionTicket>{members}")
                    answers.append((answer.status if answer.status_code == 200 else f"HTTP {answer.status_code}",
                                    tuple(answer.error_numbers()) if answer.status_code == 200 else ()))
        finally:
            client.close()

    writers = [threading.Thread(target=write) for _ in range(2)]
    for writer in writers:
        writer.start()
    try:
        deadline = time.monotonic() + 30
        while len(answers) < 6 and time.monotonic() < deadline:  # both writing
            time.sleep(0.01)
        for _ in range(10):
            restore(api, code, taken["id"])
    finally:
        stop.set()
        for writer in writers:
            writer.join(60)
    assert answers
    assert {answer for answer in answers if answer[0] != "Ok"} <= {("Fail", (50024,)), ("Fail", (54061,))}, answers
    restore(api, code, taken["id"])
    assert state_of(store, code) == before


@pytest.fixture
def accounts_and_snapshot(api: httpx.Client) -> tuple[str, str, int]:
    """An account and a snapshot of it, and another account (with its creation snapshot)."""
    first, second = create(api, fixture_name="demo")["code"], create(api)["code"]
    return first, second, snapshot(api, first)["id"]


@pytest.mark.parametrize(("method", "path", "body", "status", "at", "says"), [
    ("POST", "/accounts/no-such-account/snapshots", None, 404, "code", "no account 'no-such-account'"),
    ("GET", "/accounts/no-such-account/snapshots", None, 404, "code", "no account"),
    ("POST", "/accounts/no-such-account/snapshots/{id}/restore", None, 404, "code", "no account"),
    ("POST", "/accounts/no-such-account/reset", None, 404, "code", "no account"),
    ("POST", "/accounts/{code}/snapshots/2147483647/restore", None, 404, "id", "has no snapshot 2147483647"),
    ("POST", "/accounts/{code}/snapshots/{theirs}/restore", None, 404, "id", "has no snapshot"),
    ("POST", "/accounts/{code}/snapshots/2147483648/restore", None, 422, "id", "less than or equal to 2147483647"),
    ("POST", "/accounts/{code}/snapshots/0/restore", None, 422, "id", "greater than or equal to 1"),
    ("POST", "/accounts/{code}/snapshots/first/restore", None, 422, "id", "valid integer"),
    ("GET", "/accounts/{code}/snapshots/{id}/restore", None, 405, None, "does not take this method"),
    ("POST", "/accounts/{code}/snapshots", {"nam": "x"}, 422, "nam", "Extra inputs"),
    ("POST", "/accounts/{code}/snapshots", {"name": ""}, 422, "name", "at least 1"),
    ("POST", "/accounts/{code}/snapshots", {"name": "x" * 101}, 422, "name", "at most 100"),
    ("POST", "/accounts/{code}/snapshots", {"name": 5}, 422, "name", "valid string"),
    ("POST", "/accounts/{code}/snapshots", [1], 422, None, "not a JSON object"),
    ("POST", "/accounts/{code}/snapshots", b"{not json", 422, None, "not JSON"),
    ("GET", "/accounts/{code}/snapshots?limit=0", None, 422, "limit", "greater than or equal to 1"),
])
def test_bad_input_is_a_json_error_that_changes_nothing(
        api: httpx.Client, store: Store, accounts_and_snapshot: tuple[str, str, int], method: str, path: str,
        body: Any, status: int, at: str | None, says: str) -> None:
    code, second, snapshot_id = accounts_and_snapshot
    theirs = listed(api, second)[0]["id"]
    url = API + path.format(code=code, id=snapshot_id, theirs=theirs)
    before = {c: rows_of(store, account_id(store, c) or 0) for c in (code, second)}
    content = body if isinstance(body, bytes) else None
    answer = api.request(method, url, content=content, json=None if content is not None or body is None else body,
                         headers={"content-type": "application/json"} if content is not None else None)
    error = error_of(answer, status)
    assert error["path"] == at and says in error["message"], error
    assert {c: rows_of(store, account_id(store, c) or 0) for c in (code, second)} == before


def test_an_account_made_without_the_control_plane_has_nothing_to_reset_to(api: httpx.Client, store: Store) -> None:
    made = make_account(store)
    before = rows_of(store, account_id(store, made.code) or 0)
    error = error_of(api.post(f"{API}/accounts/{made.code}/reset"), 404)
    assert error["code"] == "not_found" and error["path"] == "code" and "no snapshot of its creation" in error["message"]
    assert rows_of(store, account_id(store, made.code) or 0) == before
    assert listed(api, made.code) == []
    taken = snapshot(api, made.code)  # it can still be snapshotted and restored
    assert restore(api, made.code, taken["id"])["creation"] is False


def test_snapshots_go_with_their_account(api: httpx.Client, store: Store) -> None:
    code = create(api, fixture_name="demo")["code"]
    taken = snapshot(api, code)
    identifier = account_id(store, code)
    assert api.delete(f"{API}/accounts/{code}").status_code == 204
    assert rows_of(store, identifier or 0)["snapshots"] == []
    create(api, code=code)  # the code again: another account, whose snapshots are its own
    assert error_of(api.post(f"{API}/accounts/{code}/snapshots/{taken['id']}/restore"), 404)["path"] == "id"


def test_every_table_and_setting_is_either_held_or_left_out_on_purpose() -> None:
    held = {table.name for table in snapshots.HELD}
    assert held.isdisjoint(snapshots.NOT_HELD)
    assert held | set(snapshots.NOT_HELD) == {table.name for table in schema.metadata.sorted_tables}
    assert sorted((*snapshots.SETTINGS, *snapshots.ACCOUNT_NOT_HELD)) == sorted(c.name for c in schema.accounts.c)
    # Parents before children: the order rows are inserted in.
    order = [table.name for table in snapshots.HELD]
    for table in snapshots.HELD:
        for key in table.foreign_keys:
            parent = key.column.table.name
            if parent in held and parent != table.name:
                assert order.index(parent) < order.index(table.name), (parent, table.name)


def test_a_snapshot_of_an_older_schema_that_lacks_a_required_column_is_refused(
        api: httpx.Client, store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    code = create(api, fixture_name="demo")["code"]
    taken = snapshot(api, code)
    before = rows_of(store, account_id(store, code) or 0)
    original = snapshots.unpack

    def older(data: bytes) -> snapshots.Image:
        image = original(data)
        part = image.tables["clients"]
        rows = json.loads(part.rows)  # arrays on SQLite, objects on PostgreSQL
        at = part.columns.index("number")
        rows = [row[:at] + row[at + 1:] if isinstance(row, list) else {k: v for k, v in row.items() if k != "number"}
                for row in rows]
        image.tables["clients"] = snapshots.Part([n for n in part.columns if n != "number"], part.count,
                                                 json.dumps(rows))
        return image

    monkeypatch.setattr(snapshots, "unpack", older)
    error = error_of(api.post(f"{API}/accounts/{code}/snapshots/{taken['id']}/restore"), 409)
    assert error["code"] == "conflict" and error["path"] == "id"
    assert "has no number for its rows of clients" in error["message"]
    assert rows_of(store, account_id(store, code) or 0) == before

"""Fixtures over HTTP: an account created from a fixture document (JSON or YAML) holds what the
document describes, as PWS shows it; its export loads into an equal account; a fixture that breaks
the schema or a PWS rule is a 422 naming the item at fault, and leaves nothing behind."""

from __future__ import annotations

import copy
import json
import re
import secrets
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import jsonschema
import pytest
import yaml
from sqlalchemy import func, select

from openpws.contract import load_contract
from openpws.sandbox.fixtures import check, read_text, schema
from openpws.soap.client import Answer, LocalClient
from openpws.store import schema as tables
from openpws.store.transactions import Store
from tests.conftest import ADMIN_TOKEN, IN_PROCESS_URL
from tests.pws import SoapClient
from tests.sandbox.rows import API, account_id, create, password_of

ROOT = Path(__file__).resolve().parent.parent.parent
DOC = (ROOT / "docs" / "fixtures.md").read_text()


def example() -> dict[str, Any]:
    """The complete example of docs/fixtures.md."""
    found = re.search(r"## A complete example.*?```yaml\n(.*?)```", DOC, re.DOTALL)
    assert found is not None
    document: dict[str, Any] = read_text(found.group(1))
    return document


def error_of(answer: httpx.Response, status: int = 422) -> dict[str, Any]:
    assert answer.status_code == status, answer.text
    body = answer.json()
    assert set(body) == {"error"} and set(body["error"]) == {"code", "message", "path"}, body
    error: dict[str, Any] = body["error"]
    return error


def export(api: httpx.Client, code: str) -> dict[str, Any]:
    answer = api.get(f"{API}/accounts/{code}/fixture")
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"].startswith("application/json")
    document: dict[str, Any] = answer.json()
    return document


def session(soap: SoapClient, code: str, login: str, password: str) -> LocalClient:
    """A client of the PWS endpoint, over HTTP, logged in as ``login``."""

    def post(body: bytes) -> tuple[int, bytes]:
        answer = soap.post(body)
        return answer.status_code, answer.content

    return LocalClient(load_contract(), post, soap.login(code, login, password))


def ok(pws: LocalClient, operation: str, members: dict[str, Any]) -> Any:
    answer = pws.call(operation, members)
    assert answer.ok, answer.describe()
    return answer.result


def this_week() -> datetime:
    """The first day of this week (Monday) at 00:00 UTC: where +0w falls in a Monday account."""
    now = datetime.now(UTC)
    return datetime(now.year, now.month, now.day, tzinfo=UTC) - timedelta(days=now.weekday())


def fault_numbers(answer: Answer) -> list[int]:
    return [int(m["ErrorNumber"]) for m in answer.messages]


# --- the documented example ---------------------------------------------------------------------------

def test_the_documented_example_follows_the_shipped_schema() -> None:
    shipped = ROOT / "src" / "openpws" / "fixtures" / "fixture.schema.json"
    assert "src/openpws/fixtures/fixture.schema.json" in DOC
    assert json.loads(shipped.read_text()) == schema()
    jsonschema.Draft202012Validator.check_schema(schema())
    jsonschema.validate(example(), schema())
    fixture = check(example())
    assert [u.login for u in fixture.users] == ["pm@{account}", "sam@{account}", "lee@{account}"]
    # Every member the schema knows is in the example (the example is complete).
    used: set[str] = set()

    def walk(value: Any) -> None:
        if isinstance(value, dict):
            used.update(value)
            for item in value.values():
                walk(item)
        elif isinstance(value, list):
            for item in value:
                walk(item)

    walk(example())
    known = {name for definition in [schema(), *schema()["$defs"].values()]
             for name in definition.get("properties", {})}
    known |= {name for definition in schema()["$defs"].values() for option in definition.get("oneOf", [])
              for name in option.get("properties", {})}
    assert known - used <= {"uid", "code"}, known - used


def test_an_account_from_the_documented_example(api: httpx.Client, soap: SoapClient) -> None:
    code = f"fx-{secrets.token_hex(3)}"
    created = create(api, code=code, fixture=example())
    assert [(u["login"], u["display_name"]) for u in created["users"]] == [
        (f"pm@{code}", "Pat Manager"), (f"sam@{code}", "Sam Scheduler"), (f"lee@{code}", "Lee Engineer")]
    assert password_of(created, f"pm@{code}") == "pat-s3cret-for-tests"
    assert len(password_of(created, f"sam@{code}")) == 24
    assert [u["permissions"] for u in created["users"]][1:] == [
        ["hours-book", "hours-request", "projects-view", "web-services"], []]
    account = api.get(f"{API}/accounts/{code}").json()
    assert account["name"] == "Acme Consulting (sandbox)"
    # The user the tree was loaded as is gone; the deleted role is not counted; three locks in two sets.
    assert account["counts"] == {"users": 3, "clients": 3, "engagements": 3, "projects": 3, "roles": 3,
                                 "invoices": 2, "locks": 3}

    pm = session(soap, code, f"pm@{code}", "pat-s3cret-for-tests")
    assert soap.authenticate(code, f"lee@{code}", password_of(created, f"lee@{code}")).error_numbers() == [50220]
    [old, europe] = ok(pm, "PwsGetClient", {"ClientIdentities": [{"ClientNumber": "OLD"},
                                                                 {"ClientNumber": "ACME-EU"}]})["Clients"]
    assert old["ClientDetail"]["InactiveFlag"] is True and old["ClientDetail"]["ClientName"] == "Former client"
    assert europe["ClientDetail"]["ParentClientIdentity"]["ClientNumber"] == "ACME"
    assert europe["ClientDetail"]["InactiveFlag"] is False

    [build, support] = ok(pm, "PwsGetProject", {"Mode": "R", "IncludeDeletedRolesFlag": True, "ProjectIdentities": [
        {"ProjectCode": "ACME-2026-001"}, {"ProjectCode": "ACME-2026-SUP"}]})["Projects"]
    detail = build["ProjectDetail"]
    assert detail["ContractLineItemIdentity"]["ContractLineItemCode"] == "ACME-2026-CL1"
    assert detail["OpenDate"] == this_week() and detail["CloseDate"] == this_week() + timedelta(weeks=12)
    assert detail["ManagerIdentity"]["UserReferenceSystemId"] == "E100" and detail["PercentLikelihood"] == 90
    assert support["ProjectDetail"]["ContractLineItemIdentity"]["ContractLineItemCode"] == "ACME-2026-FIX"
    assert support["ProjectDetail"]["ProjectStageIdentity"]["ProjectStageName"] == "On Hold"
    roles = {r["ProjectRoleDetail"]["ExternalSystemIdentifier"]: r for r in build["Roles"]}
    assert list(roles) == ["ACME-R1", "ACME-R2", "ACME-R0"]
    assert [r["DeletedFlag"] for r in roles.values()] == [False, False, True]
    lead = roles["ACME-R1"]
    assert lead["ProjectRoleDetail"]["ResourceIdentity"]["ResourceReferenceSystemId"] == "E300"
    buckets = lead["HoursBuckets"]
    assert [(b["BucketStartDate"], b["SchedulingMode"], b["WeeklyMinutes"]) for b in buckets] == [
        (this_week(), "W", 2400), (this_week() + timedelta(weeks=1), "D", 2400)]
    assert buckets[1]["DailyMinutes"] == [480, 480, 480, 480, 480, 0, 0]
    assert lead["NotesBuckets"][0]["Notes"] == ["Kick-off", None, None, None, "Demo", None, None]
    [booked] = ok(pm, "PwsGetProjectRoles", {"Mode": "A", "ProjectIdentities": [{"ProjectCode": "ACME-2026-001"}]})[
        "ProjectProjectRoles"]
    assert [(r["ProjectRoleDetail"]["ExternalSystemIdentifier"],
             (r["ProjectRoleDetail"].get("ResourceIdentity") or {}).get("ResourceReferenceSystemId"),
             [b["WeeklyMinutes"] for b in r.get("HoursBuckets") or []]) for r in booked["ProjectRoles"]] == [
        ("ACME-R1", "E300", [1200]), ("ACME-R2", "E200", [])]
    final = ok(pm, "PwsGetInvoice", {"InvoiceIdentity": {"InvoiceNumber": "DRAFT00002"}})["Invoice"]
    assert final["Engagement"]["EngagementCode"] == "OLD-1" and final["InvoiceName"] == "Final invoice"

    # Sam holds ACME-2026: Pat's write to its project is blocked, naming Sam.
    blocked = pm.call("PwsSaveProject", {"Mode": "R", "Project": {"ProjectCode": "ACME-2026-001",
                                                                   "Description": "Changed"}})
    assert blocked.http_status == 500 and fault_numbers(blocked) == [54076]
    assert "Sam Scheduler" in blocked.describe()
    # Pat's own internal locks do not block Pat; they block Sam, who could not steal them.
    assert ok(pm, "PwsSaveProjectRole", {"Mode": "R", "ProjectRole": {"ExternalSystemIdentifier": "ACME-EU-R1",
                                                                      "Description": "Pat's"}})
    sam = session(soap, code, f"sam@{code}", password_of(created, f"sam@{code}"))
    refused = sam.call("PwsRequestOrBookRoleHours", {"Mode": "R", "ProjectRoles": [{
        "HoursBuckets": [{"BucketStartDate": this_week(), "WeeklyMinutes": 60}],
        "ProjectRoleIdentity": {"ExternalSystemIdentifier": "ACME-EU-R1"}}]})
    assert refused.http_status == 500 and fault_numbers(refused) == [50469]
    assert refused.detail is not None and refused.detail["AllowLocksToBeStolenFlag"] is False

    # The export is the example in its canonical form; the locks have the time they had left.
    exported = export(api, code)
    assert exported["settings"] == {"name": "Acme Consulting (sandbox)", "week_starts": "monday"}
    assert [lock["entities"] for lock in exported["locks"]] == [["E:ACME-2026"], ["P:ACME-EU-1-001", "R:ACME-EU-R1"]]
    assert 3500 < exported["locks"][0]["seconds"] <= 3600 and exported["locks"][1]["internal"] is True
    assert exported["users"][0] == {"login": "pm@{account}", "display_name": "Pat Manager", "reference_id": "E100",
                                    "email": "pat@{account}.example", "permissions": "all"}
    assert exported["clients"][1]["engagements"][0]["invoices"][0] == {
        "number": "DRAFT00002", "name": "Final invoice", "content": "F",
        "cost_center": {"name": "Head Office", "number": "100"}, "currency": "EUR", "culture": "en-GB"}
    # ... and loads into an account that exports the same.
    again = create(api, fixture=exported)["code"]
    assert without_lock_seconds(export(api, again)) == without_lock_seconds(exported)


def without_lock_seconds(document: dict[str, Any]) -> dict[str, Any]:
    """A document whose locks' remaining seconds are left out (time passes between two exports)."""
    copied = copy.deepcopy(document)
    for lock in copied.get("locks", []):
        lock.pop("seconds")
    return copied


def test_the_demo_account_exported_loads_into_an_equal_account(api: httpx.Client, soap: SoapClient) -> None:
    demo = create(api, fixture_name="demo")["code"]
    exported = export(api, demo)
    copied = create(api, fixture=exported)
    assert export(api, copied["code"]) == exported
    assert [u["login"] for u in copied["users"]] == [f"{name}@{copied['code']}" for name in ("admin", "viewer", "dev")]
    # The packaged fixture's relative weeks are this week's in the export.
    [platform] = [e for e in exported["clients"][0]["engagements"] if e["code"] == "P001323"]
    assert platform["projects"][0]["open_date"] == this_week().date().isoformat()
    assert [c["code"] for c in platform["contract_line_items"]] == ["P001323-CL1", "P001323-CL2"]


def test_a_yaml_body_is_the_same_request(api: httpx.Client) -> None:
    code = f"yaml-{secrets.token_hex(3)}"
    body = yaml.safe_dump({"code": code, "ttl_seconds": 600, "fixture": example()}, sort_keys=False)
    body = body.replace(": '+", ": +")  # written as a person would: relative dates unquoted
    answer = api.post(f"{API}/accounts", content=body, headers={"content-type": "application/yaml; charset=utf-8"})
    assert answer.status_code == 201, answer.text
    assert answer.json()["code"] == code
    assert without_lock_seconds(export(api, code)) == without_lock_seconds(
        export(api, create(api, fixture=example())["code"]))


@pytest.mark.parametrize(("body", "says"), [
    ("code: [unclosed", "neither YAML nor JSON"),
    ("!!python/object/apply:os.system ['true']", "neither YAML nor JSON"),
    ("fixture: !!set {a, b}", "no form"),
    ("a: &a [x, x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]\n"
     "c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]\nd: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]\n"
     "e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d, *d]\nf: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e, *e]\n"
     "g: [*f, *f, *f, *f, *f, *f, *f, *f, *f, *f]\n", "too large"),
    ("- a list", "not a JSON object"),
])
def test_a_bad_yaml_body_is_a_422_that_changes_nothing(api: httpx.Client, store: Store, body: str,
                                                       says: str) -> None:
    before = _row_counts(store)
    error = error_of(api.post(f"{API}/accounts", content=body, headers={"content-type": "application/yaml"}))
    assert error["code"] == "invalid" and says in error["message"], error
    assert _row_counts(store) == before


def test_dates_and_words_in_yaml_stay_as_written() -> None:
    document = read_text("week: 2026-05-04\nwhen: 2026-05-04T09:00:00Z\nrelative: +2w\nname: No\nstage: On\n"
                         "inactive: true\ndeleted: False\n")
    assert document == {"week": "2026-05-04", "when": "2026-05-04T09:00:00Z", "relative": "+2w", "name": "No",
                        "stage": "On", "inactive": True, "deleted": False}


def test_relative_weeks_start_on_the_account_s_first_day(api: httpx.Client) -> None:
    document = small()
    document["settings"] = {"week_starts": "sunday"}
    created = create(api, fixture=document)
    exported = export(api, created["code"])
    [bucket] = exported["clients"][0]["engagements"][0]["projects"][0]["roles"][0]["requested"]["hours"]
    sunday = this_week() - timedelta(days=1) if datetime.now(UTC).weekday() != 6 else this_week() + timedelta(days=6)
    assert bucket == {"week": sunday.date().isoformat(), "minutes": 600}
    assert exported["settings"] == {"week_starts": "sunday"}


def test_the_export_of_an_unknown_account_is_404(api: httpx.Client) -> None:
    error = error_of(api.get(f"{API}/accounts/no-such-account/fixture"), 404)
    assert error["code"] == "not_found" and error["path"] == "code"


def test_a_lock_the_format_cannot_name_is_a_409(api: httpx.Client, soap: SoapClient) -> None:
    created = create(api, fixture_name="demo")
    code = created["code"]
    pws = session(soap, code, f"admin@{code}", password_of(created, f"admin@{code}"))
    role = ok(pws, "PwsSaveProjectRole", {"Mode": "R", "ProjectIdentity": {"ProjectCode": "P001323-002"},
                                          "ProjectRole": {"RoleName": "Unnamed"}})["ProjectRoleIdentity"]
    ok(pws, "PwsAcquireProjectorLocks", {"LockDurationSeconds": 60, "Locks": [
        {"EntityIdentity": {"EntityUid": role["ProjectRoleUid"], "LockType": "R"}}]})
    error = error_of(api.get(f"{API}/accounts/{code}/fixture"), 409)
    assert error["code"] == "conflict" and "no ExternalSystemIdentifier" in error["message"]


# --- fixtures that are refused ------------------------------------------------------------------------

def small() -> dict[str, Any]:
    return {"users": [{"login": "admin@{account}", "display_name": "Admin", "permissions": "all"},
                      {"login": "other@{account}", "display_name": "Other"}],
            "clients": [{"number": "C1", "name": "One", "engagements": [
                {"code": "E1", "name": "First",
                 "contract_line_items": [{"code": "E1-CL1", "name": "First"}, {"code": "E1-X", "name": "Extra"}],
                 "projects": [{"code": "E1-001", "name": "Build", "open_date": "+0w", "roles": [
                     {"external_id": "R1", "name": "Engineer",
                      "requested": {"resource": "admin@{account}", "hours": [{"week": "+0w", "minutes": 600}]}}]}]},
                {"code": "E2", "name": "Second", "projects": [{"code": "E2-001", "name": "Other"}]}]}]}


Change = Callable[[dict[str, Any]], None]
ROLE = "clients[0].engagements[0].projects[0].roles"


def _add_client(client: dict[str, Any]) -> Change:
    return lambda d: d["clients"].append(client)


def _project(d: dict[str, Any], engagement: int = 0) -> dict[str, Any]:
    project: dict[str, Any] = d["clients"][0]["engagements"][engagement]["projects"][0]
    return project


REFUSED: list[tuple[str, Change, str, str]] = [
    ("missing name", lambda d: d["clients"][0].pop("name"), "clients[0].name", "name is required"),
    ("unknown member", lambda d: d["clients"][0]["engagements"][0].update(nmae="x"),
     "clients[0].engagements[0].nmae", "not a member here"),
    ("minutes out of range", lambda d: _project(d)["roles"][0]["requested"]["hours"][0].update(minutes=20000),
     f"{ROLE}[0].requested.hours[0].minutes", "greater than the maximum"),
    ("not a date", lambda d: _project(d).update(open_date="2026-02-30"),
     "clients[0].engagements[0].projects[0].open_date", "is not a date"),
    ("a date in words", lambda d: _project(d).update(open_date="tomorrow"),
     "clients[0].engagements[0].projects[0].open_date", '"tomorrow" is not valid here: An ISO 8601 date'),
    ("weekly and daily at once",
     lambda d: _project(d)["roles"][0]["requested"]["hours"][0].update(daily=[60] * 7),
     f"{ROLE}[0].requested.hours[0]", "is not valid here: One week of hours"),
    ("no such day", lambda d: d.update(settings={"week_starts": "mon"}), "settings.week_starts", "is not one of"),
    ("display name too long", lambda d: d["users"][0].update(display_name="x" * 91), "users[0].display_name",
     "is too long"),
    ("duplicate login", lambda d: d["users"][1].update(login="ADMIN@{account}"), "users[1].login",
     "is also users[0].login"),
    ("duplicate client number", _add_client({"number": "c1", "name": "Again"}), "clients[1].number",
     "is also clients[0].number"),
    ("duplicate project code", lambda d: _project(d, 1).update(code="E1-001"),
     "clients[0].engagements[1].projects[0].code", "is also clients[0].engagements[0].projects[0].code"),
    ("unknown manager", lambda d: d["clients"][0]["engagements"][0].update(manager="nobody@{account}"),
     "clients[0].engagements[0].manager", "no user 'nobody@{account}'"),
    ("unknown locked entity", lambda d: d.update(locks=[{"user": "admin@{account}", "entities": ["E:NOPE"]}]),
     "locks[0].entities[0]", "no engagement code 'NOPE'"),
    ("generated code taken", lambda d: d["clients"].insert(0, {"name": "Unnumbered"}) or d["clients"][1].update(
        number="C000001"), "clients[1].number", "already the code PWS gave clients[0]"),
    ("project on another engagement's contract line item",
     lambda d: _project(d, 1).update(contract_line_item="E1-X"),
     "clients[0].engagements[1].projects[0].contract_line_item", "990093 ContractLineItemOfAnotherEngagement"),
    ("unknown contract line item", lambda d: _project(d).update(contract_line_item="E1-NOPE"),
     "clients[0].engagements[0].projects[0].contract_line_item", "50024"),
    ("hours on a day that starts no week",
     lambda d: _project(d)["roles"][0]["requested"]["hours"].append({"week": "+1d", "minutes": 60}),
     f"{ROLE}[0].requested.hours[1].week", "990019 InvalidHoursBucket"),
    ("notes on a day that starts no week",
     lambda d: _project(d)["roles"][0]["booked"].update(notes=[{"week": "+2d", "notes": ["x"] * 7}])
     if "booked" in _project(d)["roles"][0] else _project(d)["roles"][0].update(
         booked={"notes": [{"week": "+2d", "notes": ["x"] * 7}]}),
     f"{ROLE}[0].booked.notes[0].week", "990080 InvalidNotesBucket"),
    ("duplicate role name", lambda d: _project(d)["roles"].append({"name": "engineer"}), f"{ROLE}[1].name",
     "990016 DuplicateRoleName"),
    ("deleted role with hours", lambda d: _project(d)["roles"][0].update(deleted=True), f"{ROLE}[0].deleted",
     "54074"),
    ("close date before open date", lambda d: _project(d).update(close_date="-1w"),
     "clients[0].engagements[0].projects[0].close_date", "990020 InvalidDateRange"),
    ("unknown stage", lambda d: d["clients"][0]["engagements"][0].update(stage="Paused"),
     "clients[0].engagements[0].stage", "PwsEngagementStageRef"),
    ("duplicate contract line item name",
     lambda d: d["clients"][0]["engagements"][0]["contract_line_items"][1].update(name="FIRST"),
     "clients[0].engagements[0].contract_line_items[1].name", "990095"),
    ("invoice of another engagement's project",
     lambda d: d["clients"][0]["engagements"][1].update(invoices=[{
         "name": "Wrong", "content": "A", "project": "E1-001", "cost_center": "HQ", "currency": "USD",
         "culture": "en-US"}]), "clients[0].engagements[1].invoices[0].project", "990022 InvoiceEntitiesMismatch"),
    ("invoice number it would not get",
     lambda d: d["clients"][0]["engagements"][1].update(invoices=[{
         "number": "DRAFT00002", "name": "Second", "content": "A", "cost_center": "HQ", "currency": "USD",
         "culture": "en-US"}]), "clients[0].engagements[1].invoices[0].number", "numbered DRAFT00001"),
    ("a lock another user's lock blocks",
     lambda d: d.update(locks=[{"user": "admin@{account}", "entities": ["E:E1"]},
                               {"user": "other@{account}", "entities": ["P:E1-001"]}]),
     "locks[1]", "54076 EngagementIsLocked"),
    ("a text too long for PWS", lambda d: d["clients"][0].update(name="x" * 51), "clients[0]", "990008 ValueTooLong"),
]


# What a refused load may leave moved without leaving anything behind: the counters, and the
# request journal (which records the requests made, the refused load's among them).
NOT_STATE = ("counters", "journal", "journal_blocks")


def _row_counts(store: Store) -> dict[str, int]:
    """Rows in every table that holds state."""
    with store.read() as tx:
        return {table.name: int(tx.execute(select(func.count()).select_from(table)).scalar() or 0)
                for table in tables.metadata.sorted_tables if table.name not in NOT_STATE}


@pytest.mark.parametrize(("change", "path", "says"), [pytest.param(c, p, s, id=name) for name, c, p, s in REFUSED])
def test_a_refused_fixture_is_a_422_naming_the_item_and_leaves_nothing(
        api: httpx.Client, store: Store, change: Change, path: str, says: str) -> None:
    document = small()
    change(document)
    code = f"bad-{secrets.token_hex(3)}"
    before = _row_counts(store)
    error = error_of(api.post(f"{API}/accounts", json={"code": code, "fixture": document, "ttl_seconds": 60}))
    assert (error["code"], error["path"]) == ("invalid", path), error
    assert says in error["message"], error
    assert account_id(store, code) is None
    assert _row_counts(store) == before
    assert error_of(api.get(f"{API}/accounts/{code}"), 404)["code"] == "not_found"


def test_the_small_fixture_itself_loads(api: httpx.Client) -> None:
    created = create(api, fixture=small())
    assert [u["login"] for u in created["users"]] == [f"admin@{created['code']}", f"other@{created['code']}"]
    # Users the fixture gives no permissions can log in and read (the command line's default).
    assert created["users"][1]["permissions"] == ["clients-view", "projects-view", "web-services"]


def test_the_yaml_example_of_the_sandbox_doc_works_as_written(api: httpx.Client) -> None:
    found = re.search(r"--data-binary @- \$PWS/_openpws/api/accounts <<'EOF'\n(.*?)\n    EOF",
                      (ROOT / "docs" / "sandbox.md").read_text(), re.DOTALL)
    assert found is not None
    body = "\n".join(line.removeprefix("    ") for line in found.group(1).splitlines())
    code = f"staging-{secrets.token_hex(3)}"
    body = body.replace("code: staging", f"code: {code}")
    answer = api.post(f"{API}/accounts", content=body, headers={"content-type": "application/yaml"})
    assert answer.status_code == 201, answer.text
    assert [u["login"] for u in answer.json()["users"]] == [f"qa@{code}"]
    assert api.get(f"{API}/accounts/{code}").json()["counts"]["engagements"] == 1


def test_an_internal_error_while_loading_is_a_logged_500_and_leaves_nothing(
        app_transport: Any, store: Store, server_errors: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    from openpws.store import clients as client_store

    def broken(*_: object) -> None:
        raise RuntimeError("a bug")

    monkeypatch.setattr(client_store, "insert_client", broken)
    code = f"broken-{secrets.token_hex(3)}"
    start = len(server_errors.records)
    before = _row_counts(store)
    with httpx.Client(base_url=IN_PROCESS_URL, transport=app_transport,
                      headers={"Authorization": f"Bearer {ADMIN_TOKEN}"}) as client:
        error = error_of(client.post(f"{API}/accounts", json={"code": code, "fixture": small()}), 500)
    assert error == {"code": "internal", "message": "internal error (logged by the server)", "path": None}
    assert account_id(store, code) is None and _row_counts(store) == before
    logged = [str(r.exc_info[1]) for r in server_errors.records[start:] if r.exc_info]
    assert "a bug" in logged and any("PwsSaveClient met an internal error" in text for text in logged)
    del server_errors.records[start:]  # (logged on purpose)

"""The control plane's account calls over HTTP: every call, bad input with its JSON error, and the
admin token."""

from __future__ import annotations

import secrets
import time
from datetime import datetime, timedelta
from typing import Any

import httpx
import pytest

from openpws.app import create_app
from openpws.config import Settings
from openpws.services.permissions import ALL, VIEW_ONLY
from openpws.store.transactions import Store
from tests.asgi import AsgiTransport
from tests.conftest import ADMIN_TOKEN, IN_PROCESS_URL, TEST_SCRYPT_COST
from tests.pws import SERVICE_PATH, SoapClient
from tests.sandbox.rows import API, account_id, create, password_of, rows_of

ENDPOINT = IN_PROCESS_URL + SERVICE_PATH


def error_of(answer: httpx.Response, status: int) -> dict[str, Any]:
    """The JSON error of an answer with ``status``: its code, message and path."""
    assert answer.status_code == status, answer.text
    assert answer.headers["content-type"].startswith("application/json")
    body = answer.json()
    assert set(body) == {"error"} and set(body["error"]) == {"code", "message", "path"}, body
    error: dict[str, Any] = body["error"]
    return error


def moment(text: str) -> datetime:
    return datetime.fromisoformat(text)


def test_an_account_from_the_demo_fixture(api: httpx.Client, soap: SoapClient) -> None:
    code = f"Demo-{secrets.token_hex(3)}"
    created = create(api, code=code, fixture_name="demo", ttl_seconds=3600)
    assert created["code"] == code
    assert created["endpoint"] == ENDPOINT and created["wsdl"] == ENDPOINT + "?wsdl"
    assert [(u["login"], u["display_name"], u["permissions"]) for u in created["users"]] == [
        (f"admin@{code}", "Demo Administrator", sorted(p.value for p in ALL)),
        (f"viewer@{code}", "Demo Viewer", sorted(p.value for p in VIEW_ONLY)),
        (f"dev@{code}", "Dana Developer", [])]
    passwords = [u["password"] for u in created["users"]]
    assert len(set(passwords)) == 3 and all(len(p) >= 20 for p in passwords)

    # The logins work (the account code matches in any case), and the demo tree is there.
    ticket = soap.login(code.lower(), f"admin@{code}", passwords[0])
    clients = soap.call("PwsGetClientList", f"<req:SessionTicket>{ticket}</req:SessionTicket>")
    assert [e.text for e in clients.root.iterfind(".//com:PwsClientSummary/com:ClientNumber",
                                                  {"com": "http://projectorpsa.com/DataContracts/Shared/Common/"})] \
        == ["C000117", "C000118", "C000121"]
    assert soap.authenticate(code, f"viewer@{code}", passwords[1]).status == "Ok"
    assert soap.authenticate(code, f"viewer@{code}", passwords[0]).status == "Fail"

    described = api.get(f"{API}/accounts/{code.upper()}")
    assert described.status_code == 200, described.text
    account = described.json()
    assert account["code"] == code and account["fixture_name"] == "demo"
    assert account["endpoint"] == ENDPOINT and account["wsdl"] == ENDPOINT + "?wsdl"
    assert account["counts"] == {"users": 3, "clients": 3, "engagements": 4, "projects": 5, "roles": 4,
                                 "invoices": 1, "locks": 0}
    created_at, expires_at = moment(account["created_at"]), moment(account["expires_at"])
    # The time to live counts from the end of the creation, the loading of the fixture included.
    assert timedelta(seconds=3600) < expires_at - created_at < timedelta(seconds=3660)
    assert account["clock"]["frozen"] is False and abs(account["clock"]["offset_seconds"]) < 1


def test_an_empty_account_has_a_generated_code_and_an_administrator(api: httpx.Client, soap: SoapClient) -> None:
    answer = api.post(f"{API}/accounts")  # no body at all
    assert answer.status_code == 201, answer.text
    created = answer.json()
    code = created["code"]
    assert code.startswith("sbx-") and len(code) <= 30
    [user] = created["users"]
    assert user["login"] == f"admin@{code}" and user["permissions"] == sorted(p.value for p in ALL)
    assert soap.authenticate(code, user["login"], user["password"]).status == "Ok"
    account = api.get(f"{API}/accounts/{code}").json()
    assert account["counts"] == {"users": 1, "clients": 0, "engagements": 0, "projects": 0, "roles": 0,
                                 "invoices": 0, "locks": 0}
    assert account["expires_at"] is None and account["fixture_name"] is None
    assert create(api)["code"] != code


def test_a_taken_code_is_409_and_changes_nothing(api: httpx.Client, store: Store) -> None:
    code = f"taken-{secrets.token_hex(3)}"
    first = create(api, code=code, fixture_name="demo")
    before = rows_of(store, account_id(store, code) or 0)
    for taken in (code, code.upper()):
        error = error_of(api.post(f"{API}/accounts", json={"code": taken}), 409)
        assert error["code"] == "conflict" and error["path"] == "code" and code in error["message"]
    assert rows_of(store, account_id(store, code) or 0) == before
    assert first["users"][0]["login"] == f"admin@{code}"


def test_accounts_are_listed_newest_first(api: httpx.Client) -> None:
    older, newer = create(api)["code"], create(api, fixture_name="demo")["code"]
    answer = api.get(f"{API}/accounts", params={"limit": 1000})
    assert answer.status_code == 200, answer.text
    items = answer.json()["items"]
    codes = [item["code"] for item in items]
    assert codes.index(newer) < codes.index(older)
    times = [moment(item["created_at"]) for item in items]
    assert times == sorted(times, reverse=True)
    listed = items[codes.index(newer)]
    assert listed == api.get(f"{API}/accounts/{newer}").json() | {"clock": listed["clock"]}
    assert len(api.get(f"{API}/accounts", params={"limit": 1}).json()["items"]) == 1


def test_delete_removes_everything_of_the_account(api: httpx.Client, soap: SoapClient, store: Store) -> None:
    created = create(api, fixture_name="demo")
    code, admin = created["code"], created["users"][0]
    ticket = soap.login(code, admin["login"], admin["password"])
    soap.call("PwsAcquireProjectorLocks", f"<req:SessionTicket>{ticket}</req:SessionTicket>"
              "<req:LockDurationSeconds>600</req:LockDurationSeconds><req:Locks><com:PwsProjectorLockRequest>"
              "<com:EntityIdentity><com:EntityCode>P001323</com:EntityCode><com:LockType>E</com:LockType>"
              "</com:EntityIdentity></com:PwsProjectorLockRequest></req:Locks>")
    assert api.get(f"{API}/accounts/{code}").json()["counts"]["locks"] == 1
    identifier = account_id(store, code)
    assert identifier is not None

    answer = api.delete(f"{API}/accounts/{code}")
    assert answer.status_code == 204 and answer.content == b""
    assert all(rows == [] for rows in rows_of(store, identifier).values())
    assert error_of(api.get(f"{API}/accounts/{code}"), 404)["code"] == "not_found"
    assert error_of(api.delete(f"{API}/accounts/{code}"), 404)["path"] == "code"
    assert soap.authenticate(code, admin["login"], admin["password"]).error_numbers() == [10002]
    gone = soap.call("PwsGetClientList", f"<req:SessionTicket>{ticket}</req:SessionTicket>")
    assert gone.status == "FailSessionInvalid" and gone.error_numbers() == [10004]
    # The code is free again.
    assert create(api, code=code)["code"] == code


@pytest.mark.parametrize(("method", "path", "body", "status", "code", "at", "says"), [
    ("GET", "/accounts/no-such-account", None, 404, "not_found", "code", "no account 'no-such-account'"),
    ("DELETE", "/accounts/no-such-account", None, 404, "not_found", "code", "no account"),
    ("GET", "/accounts/no-such-account/clock", None, 404, "not_found", "code", "no account"),
    ("PUT", "/accounts/no-such-account/clock", {"real": True}, 404, "not_found", "code", "no account"),
    ("POST", "/accounts", b"{not json", 422, "invalid", None, "not JSON"),
    ("POST", "/accounts", [1, 2], 422, "invalid", None, "not a JSON object"),
    ("POST", "/accounts", "code", 422, "invalid", None, "not a JSON object"),
    ("POST", "/accounts", {"ttl_second": 5}, 422, "invalid", "ttl_second", "Extra inputs"),
    ("POST", "/accounts", {"code": "a b"}, 422, "invalid", "code", "pattern"),
    ("POST", "/accounts", {"code": "x" * 31}, 422, "invalid", "code", "at most 30"),
    ("POST", "/accounts", {"code": ""}, 422, "invalid", "code", "at least 1"),
    ("POST", "/accounts", {"ttl_seconds": 0}, 422, "invalid", "ttl_seconds", "greater than 0"),
    ("POST", "/accounts", {"ttl_seconds": -5}, 422, "invalid", "ttl_seconds", "greater than 0"),
    ("POST", "/accounts", {"ttl_seconds": "60"}, 422, "invalid", "ttl_seconds", "valid number"),
    ("POST", "/accounts", {"ttl_seconds": True}, 422, "invalid", "ttl_seconds", "valid number"),
    ("POST", "/accounts", {"ttl_seconds": 1e12}, 422, "invalid", "ttl_seconds", "less than or equal"),
    ("POST", "/accounts", {"fixture_name": "nope"}, 422, "invalid", "fixture_name", "no packaged fixture 'nope'"),
    ("POST", "/accounts", {"fixture": {"clients": [{"name": "A", "nmuber": "C1"}]}}, 422, "invalid",
     "clients[0].nmuber", "not a member here"),
    ("POST", "/accounts", {"fixture": {}, "fixture_name": "demo"}, 422, "invalid", "fixture", "not both"),
    ("POST", "/accounts", {"fixture": [1]}, 422, "invalid", "fixture", "valid dictionary"),
    ("PUT", "/accounts/{code}/clock", {}, 422, "invalid", None, "exactly one of"),
    ("PUT", "/accounts/{code}/clock", {"real": True, "advance_seconds": 5}, 422, "invalid", None, "exactly one"),
    ("PUT", "/accounts/{code}/clock", None, 422, "invalid", None, "JSON object is required"),
    ("PUT", "/accounts/{code}/clock", {"set": "next tuesday"}, 422, "invalid", "set", "not an ISO 8601 time"),
    ("PUT", "/accounts/{code}/clock", {"frozen_at": "2026-02-30T00:00:00Z"}, 422, "invalid", "frozen_at",
     "not an ISO 8601 time"),
    ("PUT", "/accounts/{code}/clock", {"frozen_at": 1767600000}, 422, "invalid", "frozen_at", "as a string"),
    ("PUT", "/accounts/{code}/clock", {"frozen_at": "9999-12-31T00:00:00Z"}, 422, "invalid", "frozen_at",
     "from 1900 to 8999"),
    ("PUT", "/accounts/{code}/clock", {"advance_seconds": -1}, 422, "invalid", "advance_seconds",
     "greater than or equal to 0"),
    ("PUT", "/accounts/{code}/clock", {"real": False}, 422, "invalid", "real", "Input should be True"),
    ("PUT", "/accounts/{code}/clock", {"now": "2026-01-01T00:00:00Z"}, 422, "invalid", "now", "Extra inputs"),
    ("GET", "/accounts?limit=0", None, 422, "invalid", "limit", "greater than or equal to 1"),
    ("GET", "/nothing-here", None, 404, "not_found", None, "no such path"),
    ("POST", "/accounts/", {}, 404, "not_found", None, "no such path"),
    ("PATCH", "/accounts", {}, 405, "method_not_allowed", None, "does not take this method"),
])
def test_bad_input_is_a_json_error_that_changes_nothing(
        api: httpx.Client, store: Store, method: str, path: str, body: Any, status: int, code: str,
        at: str | None, says: str) -> None:
    account = create(api)["code"]
    before = rows_of(store, account_id(store, account) or 0)
    listed = [item["code"] for item in api.get(f"{API}/accounts", params={"limit": 1000}).json()["items"]]
    content = body if isinstance(body, bytes) else None
    answer = api.request(method, API + path.format(code=account), content=content,
                         json=None if content is not None or body is None else body,
                         headers={"content-type": "application/json"} if content is not None else None)
    error = error_of(answer, status)
    assert (error["code"], error["path"]) == (code, at), error
    assert says in error["message"], error
    assert rows_of(store, account_id(store, account) or 0) == before
    assert [item["code"] for item in api.get(f"{API}/accounts", params={"limit": 1000}).json()["items"]] == listed


@pytest.mark.parametrize("headers", [
    {}, {"Authorization": "Bearer wrong"}, {"Authorization": f"Basic {ADMIN_TOKEN}"},
    {"Authorization": "Bearer"}, {"Authorization": f"Bearer {ADMIN_TOKEN}x"},
])
def test_the_admin_token_is_required(app_transport: AsgiTransport, headers: dict[str, str]) -> None:
    with httpx.Client(base_url=IN_PROCESS_URL, transport=app_transport, headers=headers) as client:
        for method, path, body in (("GET", f"{API}/accounts", None), ("POST", f"{API}/accounts", b"{not json"),
                                   ("DELETE", f"{API}/accounts/demo", None), ("GET", f"{API}/anything", None),
                                   ("PUT", f"{API}/accounts/demo/clock", b"{}")):
            answer = client.request(method, path, content=body)
            error = error_of(answer, 401)
            assert error["code"] == "unauthorized" and "Authorization: Bearer" in error["message"]
            assert answer.headers["www-authenticate"] == "Bearer"
        # The OpenAPI document and the health check need none.
        assert client.get(f"{API}/openapi.json").status_code == 200
        assert client.get("/health").status_code == 200


def test_without_a_configured_token_the_control_plane_is_off(database_url: str) -> None:
    served = Store.open(database_url, threads=1)
    transport = AsgiTransport(create_app(Settings(database_url=database_url, threads=1,
                                                  scrypt_cost=TEST_SCRYPT_COST), served))
    try:
        with httpx.Client(base_url=IN_PROCESS_URL, transport=transport) as client:
            for headers in ({}, {"Authorization": "Bearer "}):
                error = error_of(client.get(f"{API}/accounts", headers=headers), 401)
                assert "no admin token is set (OPENPWS_ADMIN_TOKEN)" in error["message"]
    finally:
        transport.shutdown()
        served.dispose()


def test_the_openapi_document_lists_every_call(app_transport: AsgiTransport) -> None:
    with httpx.Client(base_url=IN_PROCESS_URL, transport=app_transport) as client:
        answer = client.get(f"{API}/openapi.json")
    assert answer.status_code == 200
    document = answer.json()
    assert document["openapi"].startswith("3.")
    assert {path: sorted(methods) for path, methods in document["paths"].items()} == {
        f"{API}/accounts": ["get", "post"],
        f"{API}/accounts/{{code}}": ["delete", "get"],
        f"{API}/accounts/{{code}}/clock": ["get", "put"],
        f"{API}/accounts/{{code}}/fixture": ["get"],
        f"{API}/accounts/{{code}}/snapshots": ["get", "post"],
        f"{API}/accounts/{{code}}/snapshots/{{id}}/restore": ["post"],
        f"{API}/accounts/{{code}}/reset": ["post"],
        f"{API}/accounts/{{code}}/faults": ["delete", "get", "post"],
        f"{API}/accounts/{{code}}/faults/{{id}}": ["delete"],
        f"{API}/accounts/{{code}}/requests": ["delete", "get"],
        f"{API}/accounts/{{code}}/requests/{{id}}": ["get"],
        f"{API}/accounts/{{code}}/requests/count": ["post"],
        f"{API}/accounts/{{code}}/rate-limits": ["get", "put"],
        f"{API}/accounts/{{code}}/rate-limits/hits": ["delete"],
        f"{API}/accounts/{{code}}/changes": ["delete", "get"],
        f"{API}/accounts/{{code}}/changes/{{id}}": ["get"],
        f"{API}/accounts/{{code}}/changes/{{id}}/undo": ["post"],
        f"{API}/accounts/{{code}}/preview": ["post"],
        f"{API}/requests": ["delete", "get"],
        f"{API}/requests/{{id}}": ["get"],
        f"{API}/requests/count": ["post"],
    }
    assert document["components"]["securitySchemes"]["adminToken"] == {
        "type": "http", "scheme": "bearer", "description": document["components"]["securitySchemes"]["adminToken"][
            "description"]}
    assert document["security"] == [{"adminToken": []}]
    for path, methods in document["paths"].items():
        for method, operation in methods.items():
            for status in ("401", "404", "422"):
                assert operation["responses"][status]["content"]["application/json"]["schema"] == {
                    "$ref": "#/components/schemas/Error"}, (path, method, status)
    created = document["paths"][f"{API}/accounts"]["post"]["responses"]
    assert "201" in created and "409" in created
    clock = document["components"]["schemas"]["ClockSetting"]["properties"]
    assert set(clock) == {"frozen_at", "set", "advance_seconds", "real"}


def test_an_expired_account_is_absent_at_once(api: httpx.Client, soap: SoapClient, store: Store) -> None:
    created = create(api, fixture_name="demo", ttl_seconds=1)
    code, admin = created["code"], created["users"][0]
    ticket = soap.login(code, admin["login"], admin["password"])
    expires = moment(api.get(f"{API}/accounts/{code}").json()["expires_at"])
    time.sleep(max(0.0, (expires - datetime.now(expires.tzinfo)).total_seconds()) + 0.1)

    # Refused as an unknown account would be; not found, not listed.
    assert soap.authenticate(code, admin["login"], admin["password"]).error_numbers() == [10002]
    late = soap.call("PwsGetClientList", f"<req:SessionTicket>{ticket}</req:SessionTicket>")
    assert late.status == "FailSessionInvalid" and late.error_numbers() == [10004]
    assert error_of(api.get(f"{API}/accounts/{code}"), 404)["code"] == "not_found"
    assert error_of(api.put(f"{API}/accounts/{code}/clock", json={"real": True}), 404)["code"] == "not_found"
    assert code not in [i["code"] for i in api.get(f"{API}/accounts", params={"limit": 1000}).json()["items"]]

    # Its code can be taken at once: the expired account's rows go with it.
    again = create(api, code=code)
    rows = rows_of(store, account_id(store, code) or 0)
    assert sorted(table for table, found in rows.items() if found) == ["accounts", "snapshots", "stages",
                                                                       "user_permissions", "users"]
    assert len(rows["users"]) == 1
    assert soap.authenticate(code, again["users"][0]["login"], password_of(again, f"admin@{code}")).status == "Ok"


def test_expired_accounts_are_swept_by_the_server(database_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    from openpws.sandbox import control

    monkeypatch.setattr(control, "SWEEP_SECONDS", 0.2)
    served = Store.open(database_url, threads=2)
    transport = AsgiTransport(create_app(Settings(database_url=database_url, threads=2, scrypt_cost=TEST_SCRYPT_COST,
                                                  admin_token=ADMIN_TOKEN), served))
    try:
        with httpx.Client(base_url=IN_PROCESS_URL, transport=transport,
                          headers={"Authorization": f"Bearer {ADMIN_TOKEN}"}) as client:
            short, kept = create(client, fixture_name="demo", ttl_seconds=0.5), create(client, ttl_seconds=3600)
        short_id, kept_id = account_id(served, short["code"]), account_id(served, kept["code"])
        assert short_id is not None and kept_id is not None
        deadline = time.monotonic() + 30
        while account_id(served, short["code"]) is not None and time.monotonic() < deadline:
            time.sleep(0.1)
        assert all(rows == [] for rows in rows_of(served, short_id).values())
        assert account_id(served, kept["code"]) == kept_id
    finally:
        transport.shutdown()
        served.dispose()


def test_two_creations_of_one_code_at_once_give_one_account(api: httpx.Client) -> None:
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(2) as pool:
        for _ in range(5):
            body = {"code": f"race-{secrets.token_hex(3)}"}
            answers = list(pool.map(lambda sent: api.post(f"{API}/accounts", json=sent), [body, body]))
            assert sorted(a.status_code for a in answers) == [201, 409], [a.text for a in answers]
            assert error_of(next(a for a in answers if a.status_code == 409), 409)["path"] == "code"


def test_an_unexpected_error_is_a_logged_500_in_the_same_shape(
        app_transport: AsgiTransport, server_errors: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    from openpws.services import sandbox

    def broken(*_: object) -> None:
        raise RuntimeError("a bug")

    monkeypatch.setattr(sandbox, "list_accounts", broken)
    start = len(server_errors.records)
    with httpx.Client(base_url=IN_PROCESS_URL, transport=app_transport,
                      headers={"Authorization": f"Bearer {ADMIN_TOKEN}"}) as client:
        error = error_of(client.get(f"{API}/accounts"), 500)
    assert error == {"code": "internal", "message": "internal error (logged by the server)", "path": None}
    [logged] = server_errors.records[start:]
    assert logged.exc_info is not None and str(logged.exc_info[1]) == "a bug"
    del server_errors.records[start:]  # (logged on purpose)

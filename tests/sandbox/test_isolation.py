"""Accounts are the unit of isolation: whatever the control plane does to one account (its clock,
its snapshots, restores and resets, its deletion), and whatever its users do on a moved clock,
another account's rows stay exactly as they were, byte for byte."""

from __future__ import annotations

import threading
import time

import httpx

from openpws.store.transactions import Store
from tests.conftest import AccountFixture
from tests.messages.test_locks import acquire, entity, set_of
from tests.pws import SoapClient
from tests.sandbox.rows import API, account_id, create, rows_of
from tests.tree import Pws


def test_what_is_done_to_one_account_leaves_another_as_it_was(api: httpx.Client, soap: SoapClient,
                                                               store: Store) -> None:
    one, other = create(api, fixture_name="demo"), create(api, fixture_name="demo", ttl_seconds=3600)
    code, admin = one["code"], one["users"][0]
    # The other account has a session and a lock of its own.
    theirs = Pws(soap.another(), AccountFixture(other["code"], other["users"][0]["login"], "", "",
                                                other["users"][0]["password"]))
    set_of(acquire(theirs, entity("E", "P001323"), seconds=3600))
    other_id = account_id(store, other["code"])
    assert other_id is not None
    # Reading its journal writes what this process answered for it (the login, the lock) first.
    assert api.get(f"{API}/accounts/{other['code']}/requests").status_code == 200
    before = rows_of(store, other_id)
    assert before["journal"] and before["sessions"] and before["locks"] and before["role_hours"] and before["user_permissions"]

    for body in ({"frozen_at": "2030-01-02T03:04:05Z"}, {"advance_seconds": 4000}, {"set": "2031-01-01T00:00:00Z"},
                 {"advance_seconds": 60}, {"real": True}, {"frozen_at": "2029-06-01T00:00:00Z"}):
        assert api.put(f"{API}/accounts/{code}/clock", json=body).status_code == 200
    mine = Pws(soap, AccountFixture(code, admin["login"], "", "", admin["password"]))
    mine.client("Written on a frozen clock")
    set_of(acquire(mine, entity("E", "P001323"), seconds=60))
    mine.ok("PwsDeleteEngagement", "<sch:EngagementIdentity><com:EngagementCode>E001400</com:EngagementCode>"
                                   "</sch:EngagementIdentity>")
    assert rows_of(store, other_id) == before

    # Snapshots, restores and resets of the one account, with rows of its own written between.
    taken = api.post(f"{API}/accounts/{code}/snapshots").json()
    mine.client("Gone with the restore")
    assert api.post(f"{API}/accounts/{code}/snapshots/{taken['id']}/restore").status_code == 200
    mine.client("Gone with the reset")
    assert api.post(f"{API}/accounts/{code}/reset").status_code == 200
    assert rows_of(store, other_id) == before

    one_id = account_id(store, code)
    assert one_id is not None
    assert api.delete(f"{API}/accounts/{code}").status_code == 204
    assert all(rows == [] for rows in rows_of(store, one_id).values())
    assert rows_of(store, other_id) == before
    assert theirs.call("PwsGetClientList").status == "Ok"


def _write_until_refused(pws: Pws, worker: int, statuses: list[str]) -> None:
    for n in range(1000):
        answer = pws.call("PwsSaveClient", f"<req:Client><com:ClientName>W{worker}-{n}</com:ClientName></req:Client>",
                          check=False)
        statuses.append(answer.status if answer.status_code == 200 else f"fault {answer.faultcode}")
        if statuses[-1] != "Ok":
            return


def test_writes_racing_the_accounts_deletion_get_a_session_error_and_leave_nothing(
        api: httpx.Client, soap: SoapClient, store: Store) -> None:
    """Writes in an account being deleted are answered as usual, or, once it is gone, with the
    session error of a ticket that names nothing any more; none is an internal error, no row of
    the account is left behind, and the deletion never fails on one written meanwhile."""
    for attempt in range(3):
        made = create(api, fixture_name="demo")
        admin = made["users"][0]
        account = AccountFixture(made["code"], admin["login"], "", "", admin["password"])
        sessions = [Pws(soap.another(), account) for _ in range(3)]
        found = account_id(store, made["code"])
        assert found is not None
        statuses: list[list[str]] = [[] for _ in sessions]
        writers = [threading.Thread(target=_write_until_refused, args=(pws, i, statuses[i]))
                   for i, pws in enumerate(sessions)]
        for writer in writers:
            writer.start()
        time.sleep(0.05 * (attempt + 1))
        deleted = api.delete(f"{API}/accounts/{made['code']}")
        for writer in writers:
            writer.join()
        assert deleted.status_code == 204, deleted.text
        for answered in statuses:
            assert answered[-1] == "FailSessionInvalid" and set(answered[:-1]) <= {"Ok"}, answered
        assert all(rows == [] for rows in rows_of(store, found).values())

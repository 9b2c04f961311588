"""Accounts are the unit of isolation: whatever the control plane does to one account (its clock,
its snapshots, restores and resets, its deletion), and whatever its users do on a moved clock,
another account's rows stay exactly as they were, byte for byte."""

from __future__ import annotations

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
    before = rows_of(store, other_id)
    assert before["sessions"] and before["locks"] and before["role_hours"] and before["user_permissions"]

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

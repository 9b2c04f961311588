"""What the change-journal tests share: the control plane's change, preview and undo calls, and
reading change trees."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

import httpx

from tests.conftest import AccountFixture
from tests.pws import Answer, SoapClient, envelope
from tests.sandbox.rows import API, create
from tests.tree import Pws, ref

FROZEN_AT = "2030-01-07T09:00:00Z"


def demo(api: httpx.Client, soap: SoapClient, *, user: int = 0) -> tuple[str, Pws]:
    """A new account from the demo fixture, its clock frozen, and a session of its administrator."""
    created = create(api, fixture_name="demo")
    code = created["code"]
    answer = api.put(f"{API}/accounts/{code}/clock", json={"frozen_at": FROZEN_AT})
    assert answer.status_code == 200, answer.text
    login = created["users"][user]
    return code, Pws(soap, AccountFixture(code, login["login"], "", "", login["password"]))


def request_id(answer: Answer) -> int:
    return int(answer.headers["x-openpws-request-id"])


def changes_of(api: httpx.Client, code: str, ident: int) -> dict[str, Any]:
    answer = api.get(f"{API}/accounts/{code}/changes/{ident}")
    assert answer.status_code == 200, answer.text
    found: dict[str, Any] = answer.json()
    return found


def tree_of(api: httpx.Client, code: str, ident: int) -> list[dict[str, Any]]:
    return list(changes_of(api, code, ident)["changes"])


def listed(api: httpx.Client, account: str, **params: Any) -> list[dict[str, Any]]:
    answer = api.get(f"{API}/accounts/{account}/changes", params=params)
    assert answer.status_code == 200, answer.text
    return list(answer.json()["items"])


def preview(api: httpx.Client, code: str, body: bytes, action: str | None = None) -> dict[str, Any]:
    headers = {"Content-Type": "text/xml; charset=utf-8"}
    if action is not None:
        headers["SOAPAction"] = action
    answer = api.post(f"{API}/accounts/{code}/preview", content=body, headers=headers)
    assert answer.status_code == 200, answer.text
    found: dict[str, Any] = answer.json()
    return found


def undo(api: httpx.Client, code: str, ident: int, *, preview: bool = False, status: int = 200) -> dict[str, Any]:
    answer = api.post(f"{API}/accounts/{code}/changes/{ident}/undo", params={"preview": "true"} if preview else None)
    assert answer.status_code == status, answer.text
    found: dict[str, Any] = answer.json()
    return found


def export(api: httpx.Client, code: str) -> dict[str, Any]:
    answer = api.get(f"{API}/accounts/{code}/fixture")
    assert answer.status_code == 200, answer.text
    found: dict[str, Any] = answer.json()
    return found


def walk(items: Sequence[dict[str, Any]], depth: int = 0) -> Iterator[tuple[int, dict[str, Any]]]:
    for item in items:
        yield depth, item
        yield from walk(item["children"], depth + 1)


def flat(items: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    return [item for _depth, item in walk(items)]


def item(items: Sequence[dict[str, Any]], kind: str, code: str | None) -> dict[str, Any]:
    found = [i for i in flat(items) if i["kind"] == kind and i["code"] == code]
    assert len(found) == 1, (kind, code, [(i["kind"], i["code"]) for i in flat(items)])
    return found[0]


def shape(items: Sequence[dict[str, Any]]) -> list[tuple[int, str, str | None, str]]:
    """The tree as (depth, kind, code, action), in order."""
    return [(depth, i["kind"], i["code"], i["action"]) for depth, i in walk(items)]


def ticket_envelope(pws: Pws, operation: str, members: str) -> bytes:
    return envelope(operation, f"<req:SessionTicket>{pws.ticket}</req:SessionTicket>{members}")


def engagement_delete(code: str, *, cascade: bool | None = None, steal: bool = False) -> tuple[str, str]:
    """A PwsDeleteEngagement's operation and members, in the contract's order."""
    members = f"<sch:EngagementIdentity>{ref('Engagement', code)}</sch:EngagementIdentity>"
    if steal:
        members += "<sch:StealLockFlag>true</sch:StealLockFlag>"
    if cascade is not None:
        members += f"<sch:CascadeDeleteFlag>{str(cascade).lower()}</sch:CascadeDeleteFlag>"
    return "PwsDeleteEngagement", members

"""load(export(a)) == a, property-tested over HTTP: small fixtures drawn in the format's canonical
form (every code given, contract line items listed, dates absolute, defaults left out) load into an
account whose export is the same document, and that export loads into another account equal to it.
"""

from __future__ import annotations

import string
from datetime import date, timedelta
from typing import Any

import httpx
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from openpws.services.permissions import Permission
from tests.sandbox.rows import create
from tests.sandbox.test_fixtures import export, without_lock_seconds

WORD = st.text(alphabet=string.ascii_letters + string.digits, min_size=1, max_size=8)
NAME = st.lists(WORD, min_size=1, max_size=3).map(" ".join)
DAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


def maybe(strategy: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.none() | strategy


class _Codes:
    def __init__(self) -> None:
        self.count = 0

    def next(self, prefix: str) -> str:
        self.count += 1
        return f"{prefix}{self.count:03d}"


def _compact(members: dict[str, Any]) -> dict[str, Any]:
    return {name: value for name, value in members.items() if value is not None and value is not False and value != []}


@st.composite
def dates(draw: st.DrawFn, first: date) -> tuple[str | None, str | None]:
    """An optional start and an optional end, the end not before the start."""
    start = draw(maybe(st.integers(0, 30)))
    end = draw(maybe(st.integers(start or 0, 40)))
    return (None if start is None else (first + timedelta(days=start)).isoformat(),
            None if end is None else (first + timedelta(days=end)).isoformat())


@st.composite
def sides(draw: st.DrawFn, logins: list[str], first: date) -> dict[str, Any] | None:
    weeks = sorted(draw(st.sets(st.integers(0, 5), max_size=2)))
    hours = []
    for week in weeks:
        start = (first + timedelta(weeks=week)).isoformat()
        if draw(st.booleans()):
            hours.append({"week": start, "minutes": draw(st.integers(1, 10080))})
        else:
            daily = draw(st.lists(st.integers(0, 1440), min_size=7, max_size=7).filter(any))
            hours.append({"week": start, "daily": daily})
    notes = [{"week": (first + timedelta(weeks=week)).isoformat(),
              "notes": draw(st.lists(maybe(WORD), min_size=7, max_size=7).filter(lambda n: any(n)))}
             for week in sorted(draw(st.sets(st.integers(0, 5), max_size=1)))]
    side = _compact({"resource": draw(maybe(st.sampled_from(logins))), "hours": hours, "notes": notes})
    return side or None


@st.composite
def fixtures(draw: st.DrawFn) -> dict[str, Any]:
    week_start = draw(st.integers(0, 6))
    first = date(2026, 1, 5) + timedelta(days=week_start)  # 2026-01-05 is a Monday
    codes = _Codes()
    users = []
    for index in range(draw(st.integers(1, 3))):
        granted = sorted(draw(st.sets(st.sampled_from([p.value for p in Permission]))))
        users.append(_compact({
            "login": f"u{index}@{{account}}" if draw(st.booleans()) else f"user-{index}",
            "display_name": draw(NAME), "reference_id": draw(maybe(st.just(f"REF{index}"))),
            "email": draw(maybe(st.just(f"u{index}@{{account}}.example")))})
            | {"permissions": "all" if len(granted) == len(Permission) else granted})
    logins = [u["login"] for u in users]
    lockable: list[tuple[str, list[str]]] = []  # per engagement: what a lock may name in its tree

    def engagement() -> dict[str, Any]:
        code = codes.next("E")
        items = [_compact({
            "code": f"{code}-CL{k + 1}" if draw(st.booleans()) else f"{code}-K{k}",
            "name": f"{draw(NAME)} {k}", "time_terms": draw(st.sampled_from([None, "F", "C", "N"])),
            "cost_terms": draw(st.sampled_from([None, "F", "C", "N"])),
            "purchase_order_number": draw(maybe(WORD)),
            "contract_type": draw(maybe(NAME | st.builds(lambda n, u: {"name": n, "uid": u}, NAME,
                                                        st.integers(1, 2**62))))})
            for k in range(draw(st.integers(1, 2)))]
        projects, names = [], [f"E:{code}"]
        for _ in range(draw(st.integers(0, 2))):
            project = codes.next(f"{code}-P")
            names.append(f"P:{project}")
            opens, closes = draw(dates(first))
            roles = []
            for r in range(draw(st.integers(0, 2))):
                external = draw(maybe(st.just(codes.next("R"))))
                deleted = draw(st.booleans())
                starts, ends = draw(dates(first))
                requested, booked = draw(sides(logins, first)), draw(sides(logins, first))
                if deleted:  # a deleted role has no hours: only its resources
                    requested, booked = ({"resource": s["resource"]} if s and "resource" in s else None
                                         for s in (requested, booked))
                elif external is not None:
                    names.append(f"R:{external}")
                roles.append(_compact({
                    "external_id": external, "name": f"{draw(NAME)} {r}", "description": draw(maybe(NAME)),
                    "start_date": starts, "end_date": ends, "scheduling_mode": draw(st.sampled_from([None, "D"])),
                    "requested": requested, "booked": booked, "deleted": deleted}))
            projects.append(_compact({
                "code": project, "name": draw(NAME), "contract_line_item": draw(st.sampled_from(items))["code"],
                "stage": draw(st.sampled_from([None, "On Hold", "Closed"])),
                "manager": draw(maybe(st.sampled_from(logins))), "open_date": opens, "close_date": closes,
                "description": draw(maybe(NAME)), "percent_likelihood": draw(maybe(st.integers(0, 100).map(float))),
                "roles": roles}))
        invoices = []
        if draw(st.booleans()):
            finance, manager = draw(st.booleans()), draw(st.booleans())
            begins, ends = draw(dates(first))
            invoices.append(_compact({
                "number": "?", "name": draw(NAME), "content": draw(st.sampled_from("BFAMSCT")),
                "project": draw(maybe(st.sampled_from([p["code"] for p in projects]))) if projects else None,
                "scope": draw(maybe(st.just("P"))), "purchase_order_number": draw(maybe(WORD)),
                "cost_center": draw(NAME | st.builds(lambda n, m: {"name": n, "number": m}, NAME, WORD)),
                "currency": draw(st.sampled_from(["USD", "EUR"]) | st.just({"code": "USD", "uid": 7})),
                "culture": draw(st.sampled_from(["en-US", "en-GB"])), "approved_by_finance": finance,
                "approved_by_project_manager": manager,
                "approved_by_management": finance and manager and draw(st.booleans()),
                "card_begin_date": begins, "card_end_date": ends}))
        lockable.append((code, names))
        return _compact({
            "code": code, "name": draw(NAME), "stage": draw(st.sampled_from([None, "On Hold", "Closed"])),
            "manager": draw(maybe(st.sampled_from(logins))), "billing_instructions": draw(maybe(NAME)),
            "purchase_order_number": draw(maybe(WORD))}) | {"contract_line_items": items} | _compact(
            {"projects": projects, "invoices": invoices})

    def client(depth: int) -> dict[str, Any]:
        number = codes.next("C")
        engagements = [engagement() for _ in range(draw(st.integers(0, 2)))]
        children = [client(depth + 1) for _ in range(draw(st.integers(0, 1 if depth == 0 else 0)))]
        return _compact({
            "number": number, "name": draw(NAME), "inactive": draw(st.booleans()),
            "billing_instructions": draw(maybe(NAME)), "purchase_order_number": draw(maybe(WORD)),
            "engagements": engagements, "children": children})

    clients = [client(0) for _ in range(draw(st.integers(1, 2)))]
    # Invoices are numbered in the order they are made: the document's.
    numbered = 0

    def number(value: Any) -> None:
        nonlocal numbered
        if isinstance(value, dict):
            for invoice in value.get("invoices", []):
                numbered += 1
                invoice["number"] = f"DRAFT{numbered:05d}"
            for key in ("engagements", "children"):
                for item in value.get(key, []):
                    number(item)

    for top in clients:
        number(top)
    locks = []
    # Each set in an engagement tree of its own: sets of different users on one tree would collide.
    for _engagement, names in draw(st.lists(st.sampled_from(lockable), max_size=2, unique_by=lambda e: e[0])
                            if lockable else st.just([])):
        entities = draw(st.lists(st.sampled_from(names), min_size=1, max_size=2, unique=True))
        locks.append({"user": draw(st.sampled_from(logins)), "entities": entities,
                      "seconds": draw(st.integers(600, 86400))} | ({"internal": True} if draw(st.booleans()) else {}))
    return _compact({"version": 1, "settings": _compact({"name": draw(maybe(NAME)), "week_starts": DAYS[week_start]}),
                     "users": users, "clients": clients, "locks": locks})


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                 HealthCheck.too_slow, HealthCheck.data_too_large])
@given(document=fixtures())
def test_an_exported_fixture_is_the_fixture_loaded(api: httpx.Client, document: dict[str, Any]) -> None:
    created = create(api, fixture=document)
    exported = export(api, created["code"])
    assert without_lock_seconds(exported) == without_lock_seconds(document)
    for lock, given_lock in zip(exported.get("locks", []), document.get("locks", []), strict=True):
        assert given_lock["seconds"] - 60 < lock["seconds"] <= given_lock["seconds"]
    again = export(api, create(api, fixture=exported)["code"])
    assert without_lock_seconds(again) == without_lock_seconds(exported)

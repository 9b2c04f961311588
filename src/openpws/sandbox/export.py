"""An account written as a fixture document (docs/fixtures.md): loading the document into another
account gives the same tree (codes, names, hierarchy, hours, invoices, locks).

The document is in the format's canonical form: every item's code given, contract line items
listed in full, dates absolute (ISO 8601 dates, or times when not at midnight UTC), members at
their defaults left out, each list in the order its items were made (which is the order a load
makes them in again). Logins and e-mail addresses at the account's own domain (``admin@CODE``,
``dana@CODE.example``) name it ``{account}``, so that the document loads into any account.
Passwords are never exported: loading generates new ones.
"""

from __future__ import annotations

import json
import math
import re
from collections import defaultdict
from datetime import date, datetime
from typing import Any

import yaml

from openpws.entities import (
    AllocationNotesRow,
    ClientRow,
    ContractLineItemRow,
    HoursRow,
    InvoiceRow,
    ProjectRow,
    RoleRow,
)
from openpws.sandbox.fixtures import ACCOUNT_PLACEHOLDER
from openpws.services.fixtures import AccountContents
from openpws.services.permissions import ALL
from openpws.services.sandbox import Conflict
from openpws.services.weeks import day_name

DEFAULT_TERMS = "T"
DEFAULT_SCHEDULING_MODE = "W"


def _date(value: date | datetime | None) -> str | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        if value.time() != datetime.min.time():
            shown = value.replace(tzinfo=None).isoformat()
            return shown + "Z"
        value = value.date()
    return value.isoformat()


def _compact(members: dict[str, Any]) -> dict[str, Any]:
    """The members that say something: no None, no false flag, no empty list."""
    return {name: value for name, value in members.items() if value is not None and value is not False and value != []}


def _kept(**keys: Any) -> Any:
    """A kept reference: its first key alone when that is all it has, else an object."""
    given = {name: value for name, value in keys.items() if value is not None}
    if not given:
        return None
    first = next(iter(keys))
    return given[first] if list(given) == [first] else given


class _Writer:
    def __init__(self, contents: AccountContents) -> None:
        self.contents = contents
        self.placeholder = re.compile(f"(?<=@){re.escape(contents.code)}(?=$|\\.)")
        self.logins = {user.id: self.portable(user.login) for user in contents.users}
        self.stages = {stage.id: stage for stage in contents.stages}
        self.default_stage = {kind: min((s for s in contents.stages if s.kind == kind), key=lambda s: s.sort_order).id
                              for kind in {s.kind for s in contents.stages}}
        self.items = {item.id: item for item in contents.contract_line_items}
        self.projects = {project.id: project for project in contents.projects}
        self.by_engagement: dict[str, dict[int, list[Any]]] = {
            "items": defaultdict(list), "projects": defaultdict(list), "invoices": defaultdict(list)}
        for item in contents.contract_line_items:
            self.by_engagement["items"][item.engagement_id].append(item)
        for project in contents.projects:
            self.by_engagement["projects"][project.engagement_id].append(project)
        for invoice in sorted(contents.invoices, key=lambda i: (len(i.draft_number), i.draft_number)):
            self.by_engagement["invoices"][invoice.engagement_id].append(invoice)
        self.roles: dict[int, list[RoleRow]] = defaultdict(list)
        for role in contents.roles:
            self.roles[role.project_id].append(role)
        self.hours: dict[tuple[int, str], list[HoursRow]] = defaultdict(list)
        for bucket in sorted(contents.hours, key=lambda h: h.bucket_start):
            self.hours[(bucket.role_id, bucket.kind)].append(bucket)
        self.notes: dict[tuple[int, str], list[AllocationNotesRow]] = defaultdict(list)
        for week in sorted(contents.notes, key=lambda n: n.bucket_start):
            self.notes[(week.role_id, week.kind)].append(week)

    def portable(self, text: str | None) -> str | None:
        return None if text is None else self.placeholder.sub(ACCOUNT_PLACEHOLDER, text)

    def login(self, user_id: int | None) -> str | None:
        return None if user_id is None else self.logins[user_id]

    def stage(self, stage_id: int, kind: str) -> str | None:
        return None if stage_id == self.default_stage.get(kind) else self.stages[stage_id].name

    # --- the document -------------------------------------------------------------------------------

    def document(self) -> dict[str, Any]:
        contents = self.contents
        settings = _compact({"name": None if contents.name == contents.code else contents.name,
                             "week_starts": day_name(contents.week_start).lower()})
        children: dict[int | None, list[ClientRow]] = defaultdict(list)
        for row in contents.clients:
            children[row.parent_id].append(row)
        engagements: dict[int, list[Any]] = defaultdict(list)
        for engagement in contents.engagements:
            engagements[engagement.client_id].append(engagement)

        def client(row: ClientRow) -> dict[str, Any]:
            return _compact({
                "number": row.number, "name": row.name, "inactive": row.inactive,
                "billing_instructions": row.billing_instructions, "purchase_order_number": row.purchase_order_number,
                "engagements": [self.engagement(e) for e in engagements[row.id]],
                "children": [client(c) for c in children[row.id]]})

        return _compact({"version": 1, "settings": settings, "users": [self.user(u) for u in contents.users],
                         "clients": [client(c) for c in children[None]], "locks": self.locks()})

    def user(self, row: Any) -> dict[str, Any]:
        granted = sorted(row.permissions)
        # Always written: a user without them is given view-only ones.
        permissions = "all" if set(granted) == {p.value for p in ALL} else granted
        return _compact({"login": self.portable(row.login), "display_name": row.display_name,
                         "reference_id": row.reference_id, "email": self.portable(row.email)}) | {
            "permissions": permissions}

    def engagement(self, row: Any) -> dict[str, Any]:
        return _compact({
            "code": row.code, "name": row.name, "stage": self.stage(row.stage_id, "E"),
            "manager": self.login(row.manager_user_id), "billing_instructions": row.billing_instructions,
            "purchase_order_number": row.purchase_order_number}) | {
            "contract_line_items": [self.contract_line_item(i) for i in self.by_engagement["items"][row.id]],
        } | _compact({"projects": [self.project(p) for p in self.by_engagement["projects"][row.id]],
                      "invoices": [self.invoice(i) for i in self.by_engagement["invoices"][row.id]]})

    def contract_line_item(self, row: ContractLineItemRow) -> dict[str, Any]:
        return _compact({
            "code": row.code, "name": row.name,
            "time_terms": None if row.time_contract_terms == DEFAULT_TERMS else row.time_contract_terms,
            "cost_terms": None if row.cost_contract_terms == DEFAULT_TERMS else row.cost_contract_terms,
            "purchase_order_number": row.purchase_order_number,
            "contract_type": _kept(name=row.contract_type_name, uid=row.contract_type_uid)})

    def project(self, row: ProjectRow) -> dict[str, Any]:
        item = self.items.get(row.contract_line_item_id) if row.contract_line_item_id is not None else None
        return _compact({
            "code": row.code, "name": row.name, "contract_line_item": None if item is None else item.code,
            "stage": self.stage(row.stage_id, "P"), "manager": self.login(row.manager_user_id),
            "open_date": _date(row.open_date), "close_date": _date(row.close_date), "description": row.description,
            "percent_likelihood": row.percent_likelihood, "roles": [self.role(r) for r in self.roles[row.id]]})

    def role(self, row: RoleRow) -> dict[str, Any]:
        return _compact({
            "external_id": row.external_id, "name": row.name, "description": row.description,
            "start_date": _date(row.start_date), "end_date": _date(row.end_date),
            "scheduling_mode": None if row.scheduling_mode == DEFAULT_SCHEDULING_MODE else row.scheduling_mode,
            "requested": self.side(row, "R", row.requested_user_id) or None,
            "booked": self.side(row, "A", row.booked_user_id) or None, "deleted": row.deleted})

    def side(self, row: RoleRow, kind: str, resource: int | None) -> dict[str, Any]:
        hours = [{"week": _date(h.bucket_start), "daily": [int(m) for m in h.daily_minutes.split(",")]}
                 if h.scheduling_mode == "D" and h.daily_minutes else {"week": _date(h.bucket_start),
                                                                        "minutes": h.weekly_minutes}
                 for h in self.hours[(row.id, kind)]]
        notes = [{"week": _date(n.bucket_start), "notes": list(n.notes)} for n in self.notes[(row.id, kind)]]
        return _compact({"resource": self.login(resource), "hours": hours, "notes": notes})

    def invoice(self, row: InvoiceRow) -> dict[str, Any]:
        project = self.projects.get(row.project_id) if row.project_id is not None else None
        return _compact({
            "number": row.draft_number, "name": row.name, "content": row.content,
            "project": None if project is None else project.code, "scope": row.scope,
            "purchase_order_number": row.purchase_order_number,
            "cost_center": _kept(name=row.cost_center_name, number=row.cost_center_number, uid=row.cost_center_uid),
            "currency": _kept(code=row.currency_code, uid=row.currency_uid),
            "culture": _kept(name=row.culture_name, uid=row.culture_uid),
            "approved_by_finance": row.approved_by_finance,
            "approved_by_project_manager": row.approved_by_project_manager,
            "approved_by_management": row.approved_by_management,
            "card_begin_date": _date(row.card_begin_date), "card_end_date": _date(row.card_end_date)})

    def locks(self) -> list[dict[str, Any]]:
        contents = self.contents
        codes: dict[str, dict[int, str | None]] = {
            "E": {e.id: e.code for e in contents.engagements}, "P": {p.id: p.code for p in contents.projects},
            "R": {r.id: r.external_id for r in contents.roles}}
        sets: dict[int, dict[str, Any]] = {}
        now = contents.now.replace(tzinfo=None)
        for held in contents.locks:
            lock = held.lock
            code = codes.get(lock.entity_type, {}).get(lock.entity_id)
            if code is None:
                raise Conflict(f"lock set {lock.lock_set_id} holds the role with Uid {lock.entity_uid}, which has no "
                               "ExternalSystemIdentifier: a fixture names a locked role by it", "code")
            if lock.lock_set_id not in sets:
                sets[lock.lock_set_id] = {
                    "user": self.portable(held.login), "entities": [],
                    "seconds": max(1, math.ceil((held.expires_at - now).total_seconds()))} | (
                    {"internal": True} if held.internal else {})
            sets[lock.lock_set_id]["entities"].append(f"{lock.entity_type}:{code}")
        return list(sets.values())


def document(contents: AccountContents) -> dict[str, Any]:
    """The account ``contents`` describe, as a fixture document."""
    return _Writer(contents).document()


def as_json(document: dict[str, Any]) -> str:
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


class _Dumper(yaml.SafeDumper):
    """YAML's safe dumper, writing a short list of plain values (daily minutes, a week's notes,
    permissions, a lock's entities) on one line."""


def _sequence(dumper: yaml.SafeDumper, values: list[Any]) -> yaml.Node:
    plain = all(value is None or isinstance(value, str | int | float) for value in values)
    flow = plain and sum(len(str(value)) + 2 for value in values) <= 100
    return dumper.represent_sequence("tag:yaml.org,2002:seq", values, flow_style=flow)


_Dumper.add_representer(list, _sequence)


def as_yaml(document: dict[str, Any]) -> str:
    return yaml.dump(document, Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=120)

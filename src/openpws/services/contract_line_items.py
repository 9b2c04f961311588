"""Contract line items (CLIs): the contract terms of an engagement, under which its projects sit.

Rules (wiki: PwsContractLineItemDetail, PwsSaveEngagement, PwsSaveContractLineItem, SPEC): an
engagement gets one CLI when it is inserted, as Projector does (unless SuppressCliCreationOnInsertFlag),
coded ``<engagement code>-CL1`` and named after the engagement; more are added with
PwsSaveContractLineItem. Every project belongs to one CLI of its own engagement: the one its save
names, else the engagement's first (made then if the engagement has none). A CLI never moves to
another engagement; codes are unique in an account (``<engagement code>-CL<n>`` when a save gives
none), names within their engagement. CLIs go with their engagement (any PwsDeleteEngagement), never
with a project. Writing a CLI is a write to its engagement graph: it takes the engagement's lock,
passes the lock guard, and gives the graph a new version (EngagementTimestamp); the CLI's own
Timestamp is its row version.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection

from openpws import errors
from openpws.entities import ContractLineItemRow, EngagementRow, ProjectRow
from openpws.services import locks, refs
from openpws.services.access import require
from openpws.services.checks import Stamp, check_length
from openpws.services.context import Context
from openpws.services.graph_write import GraphWrite
from openpws.services.permissions import Permission
from openpws.services.refs import MAX_IDENTITIES, Key
from openpws.services.sessions import Caller
from openpws.store import accounts as account_store
from openpws.store import clients as client_store
from openpws.store import contract_line_items as store
from openpws.store import engagements as engagement_store
from openpws.store import projects as project_store
from openpws.store.counters import next_uid

CODE_LENGTH = 27
LIMITS = {"ContractLineItemCode": CODE_LENGTH, "NewContractLineItemCode": CODE_LENGTH, "ContractLineItemName": 255,
          "PurchaseOrderNumber": 50, "ContractTypeName": 50}
KEYED = ("ContractLineItemCode", "NewContractLineItemCode", "ContractLineItemName")
# Contract terms: F fixed price, T time and materials, C time and materials with a cap, N non-chargeable.
TERMS = ("F", "T", "C", "N")
DEFAULT_TERMS = "T"


@dataclass(frozen=True)
class ContractLineItemKey:
    """A PwsContractLineItemRef as sent, or a PwsContractLineItemSummary standing for one, which
    may also name the CLI by its name (unique within its engagement) and its engagement."""

    key: Key
    name: str | None = None
    engagement: Key | None = None

    @property
    def given(self) -> bool:
        return self.key.given or self.name is not None

    def describe(self) -> str:
        parts = [refs.CONTRACT_LINE_ITEM.describe(self.key)] if self.key.given else []
        if self.name is not None:
            parts.append(f"ContractLineItemName={self.name}")
        if self.engagement is not None and self.engagement.given:
            parts.append(refs.ENGAGEMENT.describe(self.engagement))
        return ", ".join(parts) or "(no key)"


@dataclass(frozen=True)
class ContractTypeKey:
    """A PwsContractTypeRef as sent (contract types are not modelled: the keys are kept as sent)."""

    name: str | None
    uid: int | None


@dataclass(frozen=True)
class ContractLineItemChanges:
    """The PwsContractLineItemDetail members (and request members) openpws models, as sent."""

    key: Key
    name: str | None
    engagement: Key | None
    new_code: str | None
    time_terms: str | None
    cost_terms: str | None
    purchase_order_number: str | None
    contract_type: ContractTypeKey | None
    clear_contract_type: bool
    timestamp: Stamp | None  # the detail's Timestamp: the CLI's own version
    engagement_timestamp: Stamp | None  # deprecated on this service, still compared


@dataclass(frozen=True)
class SaveContractLineItem:
    changes: ContractLineItemChanges
    assertion: locks.Assertion


@dataclass(frozen=True)
class ContractLineItemView:
    """A CLI as PwsContractLineItemElement shows it: with its engagement and its projects (in code order)."""

    row: ContractLineItemRow
    engagement: EngagementRow
    projects: list[ProjectRow]


@dataclass(frozen=True)
class ContractLineItems:
    views: list[ContractLineItemView]
    warnings: tuple[errors.Message, ...] = ()


@dataclass(frozen=True)
class SavedContractLineItem:
    row: ContractLineItemRow
    engagement: EngagementRow  # after the save: its rowversion is the new EngagementTimestamp
    stolen: locks.Stolen


def views(tx: Connection, caller: Caller, engagements: Iterable[EngagementRow],
          projects: Iterable[ProjectRow]) -> dict[int, list[ContractLineItemView]]:
    """The CLIs of these engagements with their projects (those of ``projects`` that belong to
    them), by engagement id, each engagement's in the order they were made: one query."""
    by_id = {e.id: e for e in engagements}
    placed: dict[int, list[ProjectRow]] = {}
    for project in projects:
        if project.contract_line_item_id is not None:
            placed.setdefault(project.contract_line_item_id, []).append(project)
    found: dict[int, list[ContractLineItemView]] = {engagement_id: [] for engagement_id in by_id}
    for row in store.of_engagements(tx, caller.account_id, by_id):
        found[row.engagement_id].append(ContractLineItemView(
            row, by_id[row.engagement_id], sorted(placed.get(row.id, []), key=lambda p: p.code.upper())))
    return found


def find(tx: Connection, caller: Caller, wanted: ContractLineItemKey, scope: EngagementRow | None = None
         ) -> ContractLineItemRow | None:
    """The CLI ``wanted`` names, or None. A name is looked for in the summary's engagement, else in
    ``scope``; every key given must name the same CLI."""
    row = refs.CONTRACT_LINE_ITEM.find(tx, caller, wanted.key) if wanted.key.given else None
    if wanted.key.given and row is None:
        return None
    named_in = scope
    if wanted.engagement is not None and wanted.engagement.given:
        named_in = refs.ENGAGEMENT.find(tx, caller, wanted.engagement)
        if named_in is None or (row is not None and row.engagement_id != named_in.id):
            return None
    if wanted.name is not None:
        if named_in is None:
            return None
        by_name = store.by_name(tx, caller.account_id, named_in.id, wanted.name)
        if by_name is None or (row is not None and by_name.id != row.id):
            return None
        row = by_name
    return row


def resolve_for_project(tx: Connection, caller: Caller, wanted: ContractLineItemKey,
                        engagement: EngagementRow) -> ContractLineItemRow:
    """The CLI a project save names: it must exist (50024) and belong to the project's engagement
    (990093)."""
    if not wanted.given:
        raise errors.fail(errors.CONTRACT_LINE_ITEM_NOT_SPECIFIED)
    row = find(tx, caller, wanted, engagement)
    if row is None:
        raise errors.fail(errors.ENTITY_NOT_FOUND, wanted.describe(), entity=refs.CONTRACT_LINE_ITEM.ref_type)
    if row.engagement_id != engagement.id:
        other = engagement_store.by_ids(tx, caller.account_id, {row.engagement_id}).get(row.engagement_id)
        other_code = other.code if other is not None else "(deleted meanwhile)"
        raise errors.fail(errors.CONTRACT_LINE_ITEM_OF_ANOTHER_ENGAGEMENT, f"{row.code} of engagement {other_code}",
                          code=row.code, other=other_code, engagement=engagement.code)
    return row


def _next_code(tx: Connection, caller: Caller, engagement: EngagementRow) -> str:
    """``<engagement code>-CL<n>``: one past the highest such number among the engagement's CLIs,
    moving on past any code another CLI of the account already holds."""
    account_store.lock_numbering(tx, caller.account_id)
    suffix = re.compile(re.escape(engagement.code.upper()) + r"-CL(\d+)")
    numbers = [int(m.group(1)) for code in store.codes_of_engagement(tx, caller.account_id, engagement.id)
               if (m := suffix.fullmatch(code.upper()))]
    candidate = max(numbers, default=0) + 1
    while refs.CONTRACT_LINE_ITEM.find(tx, caller, Key(f"{engagement.code}-CL{candidate}", None)) is not None:
        candidate += 1
    code = f"{engagement.code}-CL{candidate}"
    check_length({"ContractLineItemCode": CODE_LENGTH}, {"ContractLineItemCode": code}, KEYED)
    return code


def create_default(tx: Connection, caller: Caller, engagement: EngagementRow, version: int, now: datetime) -> int:
    """The CLI Projector makes with an engagement: the next ``-CL<n>`` code, the engagement's name,
    time and materials. Returns its id."""
    return store.insert_contract_line_item(tx, caller.account_id, {
        "uid": next_uid(tx), "engagement_id": engagement.id, "code": _next_code(tx, caller, engagement),
        "name": engagement.name, "time_contract_terms": DEFAULT_TERMS, "cost_contract_terms": DEFAULT_TERMS,
        "rowversion": version, "updated_at": now.replace(tzinfo=None)})


def default_for(tx: Connection, caller: Caller, engagement: EngagementRow, version: int,
                now: datetime) -> tuple[int, bool]:
    """The CLI a new project goes to when it names none: the engagement's first, made now if the
    engagement has none (it was inserted with SuppressCliCreationOnInsertFlag). Returns its id and
    whether it was made."""
    existing = store.of_engagements(tx, caller.account_id, [engagement.id])
    if existing:
        return existing[0].id, False
    return create_default(tx, caller, engagement, version, now), True


def get_contract_line_items(ctx: Context, keys: Sequence[ContractLineItemKey]) -> ContractLineItems:
    """PwsGetContractLineItem: the CLIs found, in request order, and warning 105 for the rest."""
    tx, caller = ctx.tx, ctx.user
    require(caller, Permission.PROJECTS_VIEW)
    if not keys:
        raise errors.fail(errors.NO_CONTRACT_LINE_ITEMS_SPECIFIED)
    if len(keys) > MAX_IDENTITIES:
        raise errors.fail(errors.MAXIMUM_CONTRACT_LINE_ITEM_IDENTITIES_EXCEEDED, f"{len(keys)} were sent",
                          maximum=MAX_IDENTITIES)
    plain = [k.key for k in keys if k.name is None and k.engagement is None]
    by_plain = iter(refs.CONTRACT_LINE_ITEM.find_all(tx, caller, plain))
    rows: list[ContractLineItemRow] = []
    missing: list[str] = []
    for wanted in keys:
        row = next(by_plain) if wanted.name is None and wanted.engagement is None else find(tx, caller, wanted)
        if row is None:
            missing.append(wanted.describe())
        else:
            rows.append(row)
    warnings = (errors.message(errors.AT_LEAST_ONE_ITEM_NOT_FOUND, "; ".join(missing)),) if missing else ()
    engagements = engagement_store.by_ids(tx, caller.account_id, {r.engagement_id for r in rows})
    placed = views(tx, caller, engagements.values(),
                   project_store.of_engagements(tx, caller.account_id, engagements))
    by_id = {view.row.id: view for found in placed.values() for view in found}
    # A CLI whose engagement a delete that committed meanwhile removed is gone too.
    return ContractLineItems([by_id[r.id] for r in rows if r.id in by_id], warnings)


def _check_terms(member: str, value: str | None) -> None:
    if value is not None and value not in TERMS:
        raise errors.fail(errors.INVALID_ENUMERATION_VALUE, f"{member}={value}", field=member, valid=", ".join(TERMS))


def _values(changes: ContractLineItemChanges) -> dict[str, Any]:
    """The columns the save writes (all but code, rowversion and updated_at), validated."""
    values: dict[str, Any] = {}
    if changes.name is not None:
        if not changes.name.strip():
            raise errors.fail(errors.FIELD_NOT_SPECIFIED, "ContractLineItemName is empty", field="ContractLineItemName")
        values["name"] = changes.name
    _check_terms("TimeContractTerms", changes.time_terms)
    _check_terms("CostContractTerms", changes.cost_terms)
    if changes.time_terms is not None:
        values["time_contract_terms"] = changes.time_terms
    if changes.cost_terms is not None:
        values["cost_contract_terms"] = changes.cost_terms
    if changes.purchase_order_number is not None:
        values["purchase_order_number"] = changes.purchase_order_number
    if changes.clear_contract_type:
        values.update(contract_type_name=None, contract_type_uid=None)
    elif changes.contract_type is not None:
        values.update(contract_type_name=changes.contract_type.name, contract_type_uid=changes.contract_type.uid)
    return values


def _check_name_free(tx: Connection, caller: Caller, engagement: EngagementRow, name: str,
                     row: ContractLineItemRow | None) -> None:
    holder = store.by_name(tx, caller.account_id, engagement.id, name)
    if holder is not None and (row is None or holder.id != row.id):
        raise errors.fail(errors.DUPLICATE_CONTRACT_LINE_ITEM_NAME, f"{name} is {holder.code}", name=name)


def save_contract_line_item(ctx: Context, request: SaveContractLineItem) -> SavedContractLineItem:
    """PwsSaveContractLineItem: insert when the detail names no existing CLI, else update."""
    tx, caller, now = ctx.tx, ctx.user, ctx.now
    changes = request.changes
    require(caller, Permission.PROJECTS_UPDATE)
    key = changes.key
    row = refs.CONTRACT_LINE_ITEM.find(tx, caller, key) if key.given else None
    if row is None and key.uid is not None:
        raise errors.fail(errors.ENTITY_NOT_FOUND, refs.CONTRACT_LINE_ITEM.describe(key),
                          entity=refs.CONTRACT_LINE_ITEM.ref_type)
    contract_type = changes.contract_type
    check_length(LIMITS, {"ContractLineItemCode": key.code, "NewContractLineItemCode": changes.new_code,
                          "ContractLineItemName": changes.name, "PurchaseOrderNumber": changes.purchase_order_number,
                          "ContractTypeName": contract_type.name if contract_type else None}, KEYED)
    if row is None:
        if changes.engagement is None:
            raise errors.fail(errors.REQUIRED_FIELD_MISSING, "EngagementIdentity", field="EngagementIdentity",
                              entity="contract line item")
        engagement_id = refs.ENGAGEMENT.resolve(tx, caller, changes.engagement).id
        gone = None
    else:
        engagement_id = row.engagement_id
        if changes.engagement is not None:
            named = refs.ENGAGEMENT.resolve(tx, caller, changes.engagement)
            if named.id != row.engagement_id:
                raise errors.fail(errors.CONTRACT_LINE_ITEM_ENGAGEMENT_CANNOT_CHANGE,
                                  f"{row.code} to engagement {named.code}")
        gone = errors.fail(errors.ENTITY_NOT_FOUND, refs.CONTRACT_LINE_ITEM.describe(key) + " (deleted meanwhile)",
                           entity=refs.CONTRACT_LINE_ITEM.ref_type)
    # Writers of one engagement graph take turns; what was read before the lock is read again.
    unit = GraphWrite.open(ctx, [engagement_id], gone)
    engagement = unit.engagement
    if row is not None:
        assert gone is not None
        row = unit.reread(store.by_ids, row.id, gone)
    stolen = unit.guard([locks.scope_of_engagement(engagement.id)], request.assertion)
    if row is not None:
        unit.check("contract line item", f"contract line item {row.code}", row.rowversion, changes.timestamp)
    unit.check_engagement(changes.engagement_timestamp)
    values = _values(changes)
    if row is None:
        owner = client_store.by_ids(tx, caller.account_id, {engagement.client_id})[engagement.client_id]
        if owner.inactive:
            raise errors.fail(errors.CLIENT_INACTIVE, f"client {owner.number} of engagement {engagement.code}",
                              client=owner.number)
        if not (changes.name or "").strip():
            raise errors.fail(errors.REQUIRED_FIELD_MISSING, "ContractLineItemName", field="ContractLineItemName",
                              entity="contract line item")
    if "name" in values:
        _check_name_free(tx, caller, engagement, values["name"], row)
    code = refs.CONTRACT_LINE_ITEM.code_to_store(tx, caller, row, key, changes.new_code, "contract line item code")
    if code is not None:
        values["code"] = code
    values.update(rowversion=unit.version, updated_at=now.replace(tzinfo=None))
    if row is None:
        values.setdefault("code", _next_code(tx, caller, engagement))
        values.setdefault("time_contract_terms", DEFAULT_TERMS)
        values.setdefault("cost_contract_terms", DEFAULT_TERMS)
        saved_id = store.insert_contract_line_item(tx, caller.account_id, {
            "uid": next_uid(tx), "engagement_id": engagement.id, **values})
        unit.note("contract_line_item", "insert", saved_id)
    else:
        saved_id = row.id
        store.update_contract_line_item(tx, saved_id, values)
        unit.note("contract_line_item", "update", saved_id)
    unit.bump()
    saved = store.by_ids(tx, caller.account_id, {saved_id})[saved_id]
    return SavedContractLineItem(saved, engagement_store.by_ids(tx, caller.account_id, {engagement.id})[engagement.id],
                                 stolen)

"""Engagements: reading, listing and saving the engagements of an account.

Rules (pws-entities §4, SPEC): an engagement belongs to one client, given on insert and never
changed; no new engagement under an inactive client; codes are unique in an account, generated as
E000001… when an insert gives none, renamed with NewEngagementCode; EngagementName is required on
insert; the stage (default: the account's first engagement stage) decides open or closed; an
insert also makes the engagement's first contract line item, as Projector does, unless
SuppressCliCreationOnInsertFlag; every save gives the engagement graph its next version
(EngagementTimestamp), and a timestamp sent with an update must equal the current one.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection

from openpws import errors
from openpws.entities import ClientRow, EngagementRow, PersonRow, ProjectRow, StageRow
from openpws.services import clients, contract_line_items, locks, refs
from openpws.services.access import require
from openpws.services.checks import Stamp, check_length
from openpws.services.context import Context
from openpws.services.contract_line_items import ContractLineItemView
from openpws.services.graph_write import GraphWrite
from openpws.services.lists import ListQuery, listed
from openpws.services.permissions import Permission
from openpws.services.refs import Key, PersonKey, StageKey
from openpws.services.sessions import Caller
from openpws.store import accounts as account_store
from openpws.store import clients as client_store
from openpws.store import engagement_search
from openpws.store import engagements as store
from openpws.store import projects as project_store
from openpws.store import stages as stage_store
from openpws.store.counters import next_rowversion, next_uid

LIMITS = {"EngagementCode": 20, "NewEngagementCode": 20, "EngagementName": 255, "BillingInstructions": 1000,
          "PurchaseOrderNumber": 50}
KEYED = ("EngagementCode", "NewEngagementCode")  # kept upper-cased too, as the code's key


@dataclass(frozen=True)
class EngagementChanges:
    """The PwsEngagementDetail members openpws models, as sent (None = not sent)."""

    key: Key
    client: Key | None
    name: str | None
    new_code: str | None
    stage: StageKey | None
    manager: PersonKey | None
    billing_instructions: str | None
    purchase_order_number: str | None
    timestamps: tuple[Stamp, ...]  # EngagementTimestamp of the detail and of the request, where sent


@dataclass(frozen=True)
class SaveEngagement:
    changes: EngagementChanges
    assertion: locks.Assertion
    full_detail: bool
    suppress_contract_line_item: bool = False  # SuppressCliCreationOnInsertFlag


@dataclass(frozen=True)
class Engagements:
    """Engagements with what their summaries show (their clients), and with ``detailed`` what
    their elements show too; the warnings of the read."""

    rows: list[EngagementRow]
    clients: dict[int, ClientRow]
    warnings: tuple[errors.Message, ...] = ()
    detailed: bool = False
    parents: dict[int, ClientRow] = field(default_factory=dict)  # of the clients
    managers: dict[int, PersonRow] = field(default_factory=dict)
    stages: dict[int, StageRow] = field(default_factory=dict)
    projects: dict[int, list[ProjectRow]] = field(default_factory=dict)  # by engagement id, each in code order
    contract_line_items: dict[int, list[ContractLineItemView]] = field(default_factory=dict)  # by engagement id


@dataclass(frozen=True)
class SavedEngagement:
    row: EngagementRow  # after the save: its rowversion is the new EngagementTimestamp
    stolen: locks.Stolen
    detail: Engagements | None = None  # with FullDetailFlag


def summarised(tx: Connection, caller: Caller, rows: list[EngagementRow],
               warnings: Sequence[errors.Message] = ()) -> Engagements:
    return Engagements(rows, client_store.by_ids(tx, caller.account_id, {r.client_id for r in rows}),
                       tuple(warnings))


def detailed(tx: Connection, caller: Caller, rows: list[EngagementRow],
             warnings: Sequence[errors.Message] = ()) -> Engagements:
    """What PwsEngagementElements show, with a handful of queries however many rows there are."""
    owners = client_store.by_ids(tx, caller.account_id, {r.client_id for r in rows})
    projects: dict[int, list[ProjectRow]] = {}
    every_project = project_store.of_engagements(tx, caller.account_id, [r.id for r in rows])
    for project in every_project:
        projects.setdefault(project.engagement_id, []).append(project)
    return Engagements(
        rows, owners, tuple(warnings), detailed=True,
        parents=clients.parents_of(tx, caller, list(owners.values())),
        managers=account_store.people_by_ids(tx, caller.account_id, [r.manager_user_id for r in rows]),
        stages={s.id: s for s in stage_store.of_kind(tx, caller.account_id, "E")},
        projects=projects, contract_line_items=contract_line_items.views(tx, caller, rows, every_project))


def get_engagements(ctx: Context, keys: Sequence[Key]) -> Engagements:
    """PwsGetEngagement: the engagements found, in request order, and warning 105 for the rest."""
    tx, caller = ctx.tx, ctx.user
    require(caller, Permission.PROJECTS_VIEW)
    rows, warnings = refs.ENGAGEMENT.get_many(tx, caller, keys, none=errors.NO_ENGAGEMENTS_SPECIFIED,
                                              too_many=errors.MAXIMUM_ENGAGEMENT_IDENTITIES_EXCEEDED)
    return detailed(tx, caller, rows, warnings)


def list_engagements(ctx: Context, request: ListQuery) -> Engagements:
    """PwsGetEngagementList. QueryString matches the engagement's code or name, the number or name
    of its client or of any parent client, and the code or name of any of its contract line items or
    projects. Closed engagements are left out unless IncludeClosedFlag."""
    tx, caller, query = ctx.tx, ctx.user, request.query
    require(caller, Permission.PROJECTS_VIEW)

    def search(limit: int | None) -> list[EngagementRow]:
        client_ids = clients.matching_subtrees(tx, caller, query) if query else set()
        return engagement_search.search(
            tx, caller.account_id, query=query, client_ids=client_ids, include_closed=request.include_hidden,
            updated_since=request.updated_since, purchase_order_number=request.purchase_order_number, limit=limit)

    rows, warnings = listed(tx, caller, refs.ENGAGEMENT, request, search)
    return summarised(tx, caller, rows, warnings)


def _next_code(tx: Connection, caller: Caller) -> str:
    return refs.ENGAGEMENT.next_free_code(tx, caller, "E", store.count(tx, caller.account_id) + 1)


def save_engagement(ctx: Context, request: SaveEngagement) -> SavedEngagement:
    """PwsSaveEngagement: insert when the detail names no existing engagement, else update."""
    tx, caller, now = ctx.tx, ctx.user, ctx.now
    changes, assertion = request.changes, request.assertion
    require(caller, Permission.PROJECTS_UPDATE)
    key = changes.key
    row = refs.ENGAGEMENT.find(tx, caller, key) if key.given else None
    if row is None and key.uid is not None:
        raise errors.fail(errors.ENGAGEMENT_NOT_FOUND, refs.ENGAGEMENT.describe(key))
    stolen = locks.Stolen()
    unit = None
    if row is not None:
        # Locks are taken engagement first, account numbering second, by every writer.
        unit = GraphWrite.open(ctx, [row.id])
        row = unit.engagement
        stolen = unit.guard([locks.scope_of_engagement(row.id)], assertion)
    check_length(LIMITS, {"EngagementCode": key.code, "NewEngagementCode": changes.new_code,
                          "EngagementName": changes.name, "BillingInstructions": changes.billing_instructions,
                          "PurchaseOrderNumber": changes.purchase_order_number}, KEYED)
    values: dict[str, Any] = {}
    if changes.name is not None:
        values["name"] = changes.name
    for column in ("billing_instructions", "purchase_order_number"):
        if getattr(changes, column) is not None:
            values[column] = getattr(changes, column)
    if changes.stage is not None:
        values["stage_id"] = refs.stage(tx, caller, "E", changes.stage).id
    if changes.manager is not None:
        values["manager_user_id"] = refs.person(tx, caller, changes.manager, "PwsUserRef").id
    client = (refs.lock_client(tx, caller, refs.CLIENT.resolve(tx, caller, changes.client))
              if changes.client is not None else None)
    if (code := refs.ENGAGEMENT.code_to_store(tx, caller, row, key, changes.new_code, "engagement code")) is not None:
        values["code"] = code
    values.update(rowversion=unit.version if unit is not None else next_rowversion(tx),
                  updated_at=now.replace(tzinfo=None))
    if row is None:
        if client is None:
            raise errors.fail(errors.REQUIRED_FIELD_MISSING, "ClientIdentity", field="ClientIdentity",
                              entity="engagement")
        if client.inactive:
            raise errors.fail(errors.CLIENT_INACTIVE, client.number, client=client.number)
        if not changes.name:
            raise errors.fail(errors.REQUIRED_FIELD_MISSING, "EngagementName", field="EngagementName",
                              entity="engagement")
        values.setdefault("code", _next_code(tx, caller))
        values.setdefault("stage_id", refs.stage(tx, caller, "E", None).id)
        engagement_id = store.insert_engagement(tx, caller.account_id, {
            "uid": next_uid(tx), "client_id": client.id, "ever_invoiced": False, **values})
        if not request.suppress_contract_line_item:
            inserted = store.by_ids(tx, caller.account_id, {engagement_id})[engagement_id]
            contract_line_items.create_default(tx, caller, inserted, values["rowversion"], now)
    else:
        assert unit is not None
        unit.check_engagement(*changes.timestamps)
        if client is not None and client.id != row.client_id:
            raise errors.fail(errors.ENGAGEMENT_CLIENT_CANNOT_CHANGE,
                              f"engagement {row.code} to client {client.number}")
        engagement_id = row.id
        store.update_engagement(tx, engagement_id, values)
    saved = store.by_ids(tx, caller.account_id, {engagement_id})[engagement_id]
    return SavedEngagement(saved, stolen, detailed(tx, caller, [saved]) if request.full_detail else None)

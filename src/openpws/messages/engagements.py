"""PwsGetEngagement, PwsGetEngagementList and PwsSaveEngagement."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection

from openpws.contract.record import Record
from openpws.entities import EngagementRow
from openpws.messages.call import Call, Reply, require
from openpws.messages.clients import client_ref, client_summary
from openpws.messages.common import (
    engagement_ref,
    project_ref,
    stage_ref,
    stolen_from,
    timestamp,
    user_ref,
    user_summary,
)
from openpws.messages.locks import assertion_of
from openpws.services import clients, engagements, refs
from openpws.services.engagements import EngagementChanges
from openpws.services.sessions import Caller
from openpws.store import accounts as account_store
from openpws.store import clients as client_store
from openpws.store import projects as project_store
from openpws.store import stages as stage_store


def engagement_summaries(tx: Connection, caller: Caller, rows: Sequence[EngagementRow]) -> list[dict[str, Any]]:
    owners = client_store.by_ids(tx, caller.account_id, {r.client_id for r in rows})
    return [{**engagement_ref(r), "ClientIdentity": client_ref(owners[r.client_id]), "EngagementName": r.name}
            for r in rows]


def engagement_elements(tx: Connection, caller: Caller, rows: Sequence[EngagementRow]) -> list[dict[str, Any]]:
    """PwsEngagementElement values, with a handful of queries however many rows there are."""
    owners = client_store.by_ids(tx, caller.account_id, {r.client_id for r in rows})
    parents = clients.parents_of(tx, caller, list(owners.values()))
    people = account_store.people_by_ids(tx, caller.account_id, [r.manager_user_id for r in rows])
    stages = {s.id: s for s in stage_store.of_kind(tx, caller.account_id, "E")}
    projects: dict[int, list[dict[str, Any]]] = {}
    for project in project_store.of_engagements(tx, caller.account_id, [r.id for r in rows]):
        projects.setdefault(project.engagement_id, []).append(project_ref(project))
    elements = []
    for row in rows:
        manager = people.get(row.manager_user_id) if row.manager_user_id is not None else None
        elements.append({
            "EngagementDetail": {
                **engagement_ref(row),
                "ClientIdentity": client_ref(owners[row.client_id]),
                "EngagementName": row.name,
                "BillingInstructions": row.billing_instructions,
                "EngagementStageIdentity": stage_ref(stages[row.stage_id]),
                "EngagementTimestamp": timestamp(row.rowversion),
                "ManagerIdentity": user_ref(manager) if manager else None,
                "PurchaseOrderNumber": row.purchase_order_number,
            },
            "BillableFlag": True,
            "Client": client_summary(owners[row.client_id], parents),
            "Manager": user_summary(manager) if manager else None,
            "ProductiveFlag": True,
            "ProjectIdentities": projects.get(row.id, []),
        })
    return elements


def PwsGetEngagement(call: Call, rq: Record) -> Reply:
    """EngagementIdentities (1..100 PwsEngagementRef) → Engagements (PwsEngagementElement[]), in
    request order; 105 AtLeastOneItemNotFound lists the refs that named no engagement."""
    keys = [refs.ENGAGEMENT.key(ref) for ref in rq.get("EngagementIdentities", [])]
    rows, warnings = engagements.get_engagements(call.tx, call.user, keys)
    return Reply({"Engagements": engagement_elements(call.tx, call.user, rows)}, tuple(warnings))


def PwsGetEngagementList(call: Call, rq: Record) -> Reply:
    """EngagementIdentity (overrides the rest), QueryString, IncludeClosedFlag, PurchaseOrderNumber,
    MaxRowsToReturn (104 when it cuts rows off), LastUpdatedSinceTimestamp → PwsEngagementSummary[]."""
    identity = rq.get("EngagementIdentity")
    since = rq.get("LastUpdatedSinceTimestamp")
    rows, warnings = engagements.list_engagements(
        call.tx, call.user,
        identity=refs.ENGAGEMENT.key(identity) if identity else None,
        query=(rq.get("QueryString") or "").strip() or None,
        include_closed=bool(rq.get("IncludeClosedFlag")),
        updated_since=since.replace(tzinfo=None) if since else None,
        purchase_order_number=(rq.get("PurchaseOrderNumber") or "").strip() or None,
        max_rows=rq.get("MaxRowsToReturn"),
    )
    return Reply({"Engagements": engagement_summaries(call.tx, call.user, rows)}, tuple(warnings))


def PwsSaveEngagement(call: Call, rq: Record) -> Reply:
    """Engagement (PwsEngagementDetail) inserted or updated; FullDetailFlag adds the Engagement
    element. Modelled members: EngagementCode, EngagementUid, ClientIdentity, EngagementName,
    NewEngagementCode, EngagementStageIdentity, ManagerIdentity, BillingInstructions,
    PurchaseOrderNumber, EngagementTimestamp (of the detail and of the request)."""
    detail: Record = require(rq, "Engagement")
    changes = EngagementChanges(
        key=refs.ENGAGEMENT.key(detail),
        client=detail.get("ClientIdentity"),
        name=detail.get("EngagementName"),
        new_code=(detail.get("NewEngagementCode") or "").strip() or None,
        stage=detail.get("EngagementStageIdentity"),
        manager=detail.get("ManagerIdentity"),
        billing_instructions=detail.get("BillingInstructions"),
        purchase_order_number=detail.get("PurchaseOrderNumber"),
        timestamps=tuple(t for t in (detail.get("EngagementTimestamp"), rq.get("EngagementTimestamp")) if t),
    )
    saved = engagements.save_engagement(call.tx, call.user, changes, assertion_of(rq), call.now)
    row = saved.row
    members: dict[str, Any] = {
        "EngagementIdentity": engagement_ref(row),
        "EngagementTimestamp": timestamp(row.rowversion),
        "LockStolenFromUserIdentity": stolen_from(saved.stolen),
    }
    if rq.get("FullDetailFlag"):
        members["Engagement"] = engagement_elements(call.tx, call.user, [row])[0]
    return Reply(members)

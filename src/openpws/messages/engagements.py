"""PwsGetEngagement, PwsGetEngagementList and PwsSaveEngagement."""

from __future__ import annotations

from typing import Any

from openpws.contract.record import Record
from openpws.messages.binding import Reply, require
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
from openpws.messages.contract_line_items import contract_line_item_element
from openpws.messages.locks import assertion_of
from openpws.messages.refs import client_key, engagement_key, list_query, optional, stage_key, text, user_key
from openpws.messages.tokens import stamp
from openpws.services.engagements import (
    EngagementChanges,
    Engagements,
    SavedEngagement,
    SaveEngagement,
)
from openpws.services.lists import ListQuery
from openpws.services.refs import Key


def engagement_summaries(found: Engagements) -> list[dict[str, Any]]:
    return [{**engagement_ref(r), "ClientIdentity": client_ref(found.clients[r.client_id]), "EngagementName": r.name}
            for r in found.rows]


def engagement_elements(found: Engagements) -> list[dict[str, Any]]:
    elements = []
    for row in found.rows:
        owner = found.clients[row.client_id]
        manager = found.managers.get(row.manager_user_id) if row.manager_user_id is not None else None
        elements.append({
            "EngagementDetail": {
                **engagement_ref(row),
                "ClientIdentity": client_ref(owner),
                "EngagementName": row.name,
                "BillingInstructions": row.billing_instructions,
                "EngagementStageIdentity": stage_ref(found.stages[row.stage_id]),
                "EngagementTimestamp": timestamp(row.rowversion),
                "ManagerIdentity": user_ref(manager) if manager else None,
                "PurchaseOrderNumber": row.purchase_order_number,
            },
            "BillableFlag": True,
            "Client": client_summary(owner, found.parents),
            "Manager": user_summary(manager) if manager else None,
            "ProductiveFlag": True,
            "ProjectIdentities": [project_ref(p) for p in found.projects.get(row.id, [])],
            "ContractLineItems": [contract_line_item_element(v) for v in found.contract_line_items.get(row.id, [])],
        })
    return elements


# PwsGetEngagement: EngagementIdentities (1..100 PwsEngagementRef) → Engagements
# (PwsEngagementElement[]), in request order; 105 AtLeastOneItemNotFound lists the refs that
# named no engagement.

def decode_get(rq: Record) -> list[Key]:
    return [engagement_key(ref) for ref in rq.get("EngagementIdentities", [])]


def encode_get(found: Engagements) -> Reply:
    return Reply({"Engagements": engagement_elements(found)}, found.warnings)


# PwsGetEngagementList: EngagementIdentity (overrides the rest), QueryString, IncludeClosedFlag,
# PurchaseOrderNumber, MaxRowsToReturn (104 when it cuts rows off), LastUpdatedSinceTimestamp
# → PwsEngagementSummary[].

def decode_list(rq: Record) -> ListQuery:
    return list_query(rq, "EngagementIdentity", engagement_key, "IncludeClosedFlag")


def encode_list(found: Engagements) -> Reply:
    return Reply({"Engagements": engagement_summaries(found)}, found.warnings)


# PwsSaveEngagement: Engagement (PwsEngagementDetail) inserted or updated; FullDetailFlag adds the
# Engagement element. Modelled members: EngagementCode, EngagementUid, ClientIdentity,
# EngagementName, NewEngagementCode, EngagementStageIdentity, ManagerIdentity, BillingInstructions,
# PurchaseOrderNumber, EngagementTimestamp (of the detail and of the request), and
# SuppressCliCreationOnInsertFlag (an insert then makes no contract line item).

SAVE_NOT_MODELLED = (
    "CostBudgetMetricValueClearFlag", "ForceCostCenterChangeFlag", "ManagementTeamClearFlag", "RevalueAction",
    "TimeBudgetMetricValueClearFlag", "UseEtEngagementProjectDefaultsFlag",
    "UseEtProjectWorkspaceDefaultsFlag",
    "Engagement/BillingAdjustedRevenueTimeBudgetAmount", "Engagement/ClientAmountCostBudgetAmount",
    "Engagement/ClientMessage", "Engagement/ClientMessagePlain", "Engagement/ContractRevenueTimeBudgetAmount",
    "Engagement/CostAlertsBasisType", "Engagement/CostBudgetMetric", "Engagement/CostContractTerms",
    "Engagement/DisbursedAmountCostBudgetAmount", "Engagement/ExpenseAmountCostBudgetAmount",
    "Engagement/HoldbackAmount", "Engagement/HoldbackPercent", "Engagement/HoldbackType",
    "Engagement/InheritAddressFlag", "Engagement/InheritBillingCycleFlag", "Engagement/InheritBillingInstructionsFlag",
    "Engagement/InheritClientMessageFlag", "Engagement/InheritInvoiceContentFlag", "Engagement/InheritInvoiceScopeFlag",
    "Engagement/InheritInvoiceTemplateFlag", "Engagement/InheritPaymentTermFlag",
    "Engagement/InheritPurchaseOrderNumberFlag", "Engagement/InheritTimeBillingTypeFlag", "Engagement/InvoiceContent",
    "Engagement/InvoiceScope", "Engagement/MaxCostContractAmount", "Engagement/MaxTimeContractAmount",
    "Engagement/MinCostContractAmount", "Engagement/MinTimeContractAmount", "Engagement/TimeBillingType",
)


def decode_save(rq: Record) -> SaveEngagement:
    detail: Record = require(rq, "Engagement")
    changes = EngagementChanges(
        key=engagement_key(detail),
        client=optional(detail.get("ClientIdentity"), client_key),
        name=detail.get("EngagementName"),
        new_code=text(detail, "NewEngagementCode"),
        stage=stage_key(detail.get("EngagementStageIdentity"), "E"),
        manager=user_key(detail.get("ManagerIdentity")),
        billing_instructions=detail.get("BillingInstructions"),
        purchase_order_number=detail.get("PurchaseOrderNumber"),
        timestamps=tuple(s for s in (stamp(detail.get("EngagementTimestamp")), stamp(rq.get("EngagementTimestamp")))
                         if s is not None),
    )
    return SaveEngagement(changes, assertion_of(rq), bool(rq.get("FullDetailFlag")),
                          bool(rq.get("SuppressCliCreationOnInsertFlag")))


def encode_save(saved: SavedEngagement) -> Reply:
    row = saved.row
    members: dict[str, Any] = {
        "EngagementIdentity": engagement_ref(row),
        "EngagementTimestamp": timestamp(row.rowversion),
        "LockStolenFromUserIdentity": stolen_from(saved.stolen),
    }
    if saved.detail is not None:
        members["Engagement"] = engagement_elements(saved.detail)[0]
    return Reply(members)

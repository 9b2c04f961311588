"""PwsGetContractLineItem and PwsSaveContractLineItem, and the contract line item shapes that
engagement and project messages carry (PwsContractLineItemRef, PwsContractLineItemElement)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from openpws.contract.record import Record
from openpws.entities import ContractLineItemRow
from openpws.messages.binding import Reply, require
from openpws.messages.common import engagement_ref, project_summary, stolen_from, timestamp
from openpws.messages.locks import assertion_of
from openpws.messages.refs import engagement_key, optional, present, text
from openpws.messages.tokens import stamp
from openpws.services.contract_line_items import (
    ContractLineItemChanges,
    ContractLineItemKey,
    ContractLineItems,
    ContractLineItemView,
    ContractTypeKey,
    SaveContractLineItem,
    SavedContractLineItem,
)
from openpws.services.refs import Key


def contract_line_item_ref(row: ContractLineItemRow) -> dict[str, Any]:
    return {"ContractLineItemCode": row.code, "ContractLineItemId": None, "ContractLineItemUid": row.uid}


def contract_line_item_key(ref: Mapping[str, Any] | None) -> ContractLineItemKey:
    """A PwsContractLineItemRef, or a PwsContractLineItemSummary sent in its place (xsi:type),
    whose name and engagement name the contract line item too."""
    ref = ref or {}
    code = (ref.get("ContractLineItemCode") or "").strip() or None
    name = (ref.get("ContractLineItemName") or "").strip() or None
    return ContractLineItemKey(Key(code, ref.get("ContractLineItemUid")), name,
                               optional(ref.get("EngagementIdentity"), engagement_key))


def contract_line_item_element(view: ContractLineItemView) -> dict[str, Any]:
    row = view.row
    contract_type = ({"ContractTypeId": None, "ContractTypeName": row.contract_type_name,
                      "ContractTypeUid": row.contract_type_uid}
                     if row.contract_type_name is not None or row.contract_type_uid is not None else None)
    return {
        "ContractLineItemDetail": {
            **contract_line_item_ref(row),
            "ContractLineItemName": row.name,
            "EngagementIdentity": engagement_ref(view.engagement),
            "CostContractTerms": row.cost_contract_terms,
            "TimeContractTerms": row.time_contract_terms,
            "ContractTypeIdentity": contract_type,
            "PurchaseOrderNumber": row.purchase_order_number,
            "Timestamp": timestamp(row.rowversion),
        },
        "Projects": [project_summary(p, view.engagement) for p in view.projects],
    }


# PwsGetContractLineItem: ContractLineItemIdentities (1..100 PwsContractLineItemRef) →
# ContractLineItems (PwsContractLineItemElement[]), in request order; 105 AtLeastOneItemNotFound
# lists the refs that named none.

def decode_get(rq: Record) -> list[ContractLineItemKey]:
    return [contract_line_item_key(ref) for ref in rq.get("ContractLineItemIdentities", [])]


def encode_get(found: ContractLineItems) -> Reply:
    return Reply({"ContractLineItems": [contract_line_item_element(v) for v in found.views]}, found.warnings)


# PwsSaveContractLineItem: ContractLineItem (PwsContractLineItemDetail) inserted or updated.
# Modelled members: ContractLineItemCode, ContractLineItemUid, ContractLineItemName,
# EngagementIdentity, TimeContractTerms, CostContractTerms, PurchaseOrderNumber,
# ContractTypeIdentity (kept as sent), Timestamp; NewContractLineItemCode, ContractTypeClearFlag,
# EngagementTimestamp and the lock members of the request.

# Amounts, holdback, revenue and overages are not modelled (nor currencies): kept nowhere.
SAVE_NOT_MODELLED = (
    "ContractLineItem/DeferredRevenueOpeningBalanceEngCurrency",
    "ContractLineItem/DeferredRevenueOpeningBalanceEngGLCurrency",
    "ContractLineItem/HoldbackAmount",
    "ContractLineItem/HoldbackPercent",
    "ContractLineItem/HoldbackType",
    "ContractLineItem/InheritPurchaseOrderNumberFlag",
    "ContractLineItem/MaxCostContractAmount",
    "ContractLineItem/MaxTimeContractAmount",
    "ContractLineItem/MinCostContractAmount",
    "ContractLineItem/MinTimeContractAmount",
    "ContractLineItem/ModelContractedHoursAndOveragesFlag",
    "ContractLineItem/OverageProjectIdentity",
    "ContractLineItem/RevenueEarnedByDate",
    "ContractLineItem/RevenueRecognitionMethod",
    "EngagementCurrencyIdentity",
    "OverageProjectClearFlag",
)


def decode_save(rq: Record) -> SaveContractLineItem:
    detail: Record = require(rq, "ContractLineItem")
    contract_type = detail.get("ContractTypeIdentity")
    changes = ContractLineItemChanges(
        key=Key(text(detail, "ContractLineItemCode"), detail.get("ContractLineItemUid")),
        name=detail.get("ContractLineItemName"),
        engagement=present(detail.get("EngagementIdentity"), engagement_key),
        new_code=text(rq, "NewContractLineItemCode"),
        time_terms=text(detail, "TimeContractTerms"),
        cost_terms=text(detail, "CostContractTerms"),
        purchase_order_number=detail.get("PurchaseOrderNumber"),
        contract_type=ContractTypeKey(text(contract_type, "ContractTypeName"), contract_type.get("ContractTypeUid"))
        if contract_type else None,
        clear_contract_type=bool(rq.get("ContractTypeClearFlag")),
        timestamp=stamp(detail.get("Timestamp")),
        engagement_timestamp=stamp(rq.get("EngagementTimestamp")),
    )
    return SaveContractLineItem(changes, assertion_of(rq))


def encode_save(saved: SavedContractLineItem) -> Reply:
    return Reply({
        "ContractLineItemIdentity": contract_line_item_ref(saved.row),
        "EngagementTimestamp": timestamp(saved.engagement.rowversion),
        "LockStolenFromUserIdentity": stolen_from(saved.stolen),
    })


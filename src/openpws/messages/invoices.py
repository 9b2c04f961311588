"""PwsCreateInvoice and PwsGetInvoice."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from openpws.contract.record import Record
from openpws.entities import InvoiceRow
from openpws.messages.binding import Reply, require
from openpws.messages.clients import client_summary
from openpws.messages.common import project_ref, timestamp
from openpws.messages.engagements import engagement_summaries
from openpws.messages.refs import client_key, engagement_key, invoice_key, present, project_key
from openpws.services.invoices import CostCenterKey, CultureKey, CurrencyKey, InvoiceSpec, InvoiceView
from openpws.services.refs import Key


def invoice_ref(row: InvoiceRow) -> dict[str, Any]:
    return {"InvoiceId": None, "InvoiceNumber": row.draft_number, "InvoiceUid": row.uid}


def invoice_element(view: InvoiceView) -> dict[str, Any]:
    """The PwsInvoiceElement both operations answer with. Amounts are not modelled (no cards are
    invoiced yet), so the gross amount is 0; a draft has no issue date."""
    row = view.invoice
    return {
        "InvoiceIdentity": invoice_ref(row),
        "ApprovedByFinanceFlag": row.approved_by_finance,
        "ApprovedByManagementFlag": row.approved_by_management,
        "ApprovedByProjectManagerFlag": row.approved_by_project_manager,
        "BillingCultureIdentity": {"CultureId": None, "CultureName": row.culture_name, "CultureUid": row.culture_uid},
        "CardBeginDate": row.card_begin_date,
        "CardEndDate": row.card_end_date,
        "Client": client_summary(view.client, view.parents),
        "CostCenterIdentity": {"CostCenterId": None, "CostCenterName": row.cost_center_name,
                               "CostCenterNumber": row.cost_center_number, "CostCenterUid": row.cost_center_uid},
        "CreatedTimestamp": row.created_at,
        "DeletedFlag": row.deleted,
        "DraftInvoiceNumber": row.draft_number,
        "Engagement": engagement_summaries(view.engagement)[0],
        "GrossInvoiceAmount": 0.0,
        "InvoiceContent": row.content,
        "InvoiceCurrencyIdentity": {"CurrencyCode": row.currency_code, "CurrencyId": None,
                                    "CurrencyUid": row.currency_uid},
        "InvoiceName": row.name,
        "InvoiceScope": row.scope,
        "InvoiceStatus": row.status,
        "InvoiceTimestamp": timestamp(row.rowversion),
        "IssuedTimestamp": None,
        "ProjectIdentity": project_ref(view.project) if view.project is not None else None,
        "PurchaseOrderNumber": row.purchase_order_number,
    }


def _text(ref: Mapping[str, Any], member: str) -> str | None:
    value = ref.get(member)
    return value if isinstance(value, str) and value.strip() else None


def cost_center_key(ref: Mapping[str, Any] | None) -> CostCenterKey | None:
    """A PwsCostCenterRef; None when absent or without any key (both count as missing)."""
    ref = ref or {}
    key = CostCenterKey(_text(ref, "CostCenterName"), _text(ref, "CostCenterNumber"), ref.get("CostCenterUid"))
    return key if key != CostCenterKey(None, None, None) else None


def currency_key(ref: Mapping[str, Any] | None) -> CurrencyKey | None:
    ref = ref or {}
    key = CurrencyKey(_text(ref, "CurrencyCode"), ref.get("CurrencyUid"))
    return key if key != CurrencyKey(None, None) else None


def culture_key(ref: Mapping[str, Any] | None) -> CultureKey | None:
    ref = ref or {}
    key = CultureKey(_text(ref, "CultureName"), ref.get("CultureUid"))
    return key if key != CultureKey(None, None) else None


# PwsCreateInvoice: InvoiceSpec (PwsCandidateInvoiceSpec, required) → InvoiceIdentity and Invoice.
# Modelled members: ClientIdentity, EngagementIdentity, ProjectIdentity, CostCenterIdentity,
# EngagementCurrencyIdentity, BillingCultureIdentity, InvoiceName, InvoiceContent, InvoiceScope,
# PurchaseOrderNumber, the three approval flags, CardBeginDate, CardEndDate.
# EngagementInvoiceContent is accepted and ignored.

CREATE_NOT_MODELLED = ("InvoiceSpec/EngagementInvoiceContent",)


def decode_create(rq: Record) -> InvoiceSpec:
    detail: Record = require(rq, "InvoiceSpec")
    return InvoiceSpec(
        client=present(detail.get("ClientIdentity"), client_key),
        engagement=present(detail.get("EngagementIdentity"), engagement_key),
        project=present(detail.get("ProjectIdentity"), project_key),
        cost_center=cost_center_key(detail.get("CostCenterIdentity")),
        currency=currency_key(detail.get("EngagementCurrencyIdentity")),
        culture=culture_key(detail.get("BillingCultureIdentity")),
        name=detail.get("InvoiceName"),
        content=detail.get("InvoiceContent"),
        scope=detail.get("InvoiceScope"),
        purchase_order_number=detail.get("PurchaseOrderNumber"),
        approved_by_finance=bool(detail.get("ApprovedByFinanceFlag")),
        approved_by_project_manager=bool(detail.get("ApprovedByProjectManagerFlag")),
        approved_by_management=bool(detail.get("ApprovedByManagementFlag")),
        card_begin=detail.get("CardBeginDate"),
        card_end=detail.get("CardEndDate"),
    )


def encode_create(view: InvoiceView) -> Reply:
    return Reply({"InvoiceIdentity": invoice_ref(view.invoice), "Invoice": invoice_element(view)})


# PwsGetInvoice: InvoiceIdentity (PwsInvoiceRef, required) → Invoice. IncludeAdjustmentHistoryFlag
# and IncludeFullAdjustmentHistoryFlag are accepted and ignored (no adjustments are modelled).

GET_NOT_MODELLED = ("IncludeAdjustmentHistoryFlag", "IncludeFullAdjustmentHistoryFlag")


def decode_get(rq: Record) -> Key:
    return invoice_key(require(rq, "InvoiceIdentity"))


def encode_get(view: InvoiceView) -> Reply:
    return Reply({"Invoice": invoice_element(view)})

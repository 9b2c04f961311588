"""PwsCreateInvoice and PwsGetInvoice."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection

from openpws.contract.record import Record
from openpws.entities import InvoiceRow
from openpws.messages.call import Call, Reply, require
from openpws.messages.clients import client_summary
from openpws.messages.common import project_ref, timestamp
from openpws.messages.engagements import engagement_summaries
from openpws.services import clients, invoices
from openpws.services.invoices import CostCenterKey, CultureKey, CurrencyKey, InvoiceSpec, InvoiceView
from openpws.services.sessions import Caller


def invoice_ref(row: InvoiceRow) -> dict[str, Any]:
    return {"InvoiceId": None, "InvoiceNumber": row.draft_number, "InvoiceUid": row.uid}


def invoice_element(tx: Connection, caller: Caller, view: InvoiceView) -> dict[str, Any]:
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
        "Client": client_summary(view.client, clients.parents_of(tx, caller, [view.client])),
        "CostCenterIdentity": {"CostCenterId": None, "CostCenterName": row.cost_center_name,
                               "CostCenterNumber": row.cost_center_number, "CostCenterUid": row.cost_center_uid},
        "CreatedTimestamp": row.created_at,
        "DeletedFlag": row.deleted,
        "DraftInvoiceNumber": row.draft_number,
        "Engagement": engagement_summaries(tx, caller, [view.engagement])[0],
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


def PwsCreateInvoice(call: Call, rq: Record) -> Reply:
    """InvoiceSpec (PwsCandidateInvoiceSpec, required) → InvoiceIdentity and Invoice. Modelled members:
    ClientIdentity, EngagementIdentity, ProjectIdentity, CostCenterIdentity, EngagementCurrencyIdentity,
    BillingCultureIdentity, InvoiceName, InvoiceContent, InvoiceScope, PurchaseOrderNumber, the three
    approval flags, CardBeginDate, CardEndDate. EngagementInvoiceContent is accepted and ignored."""
    detail: Record = require(rq, "InvoiceSpec")
    spec = InvoiceSpec(
        client=detail.get("ClientIdentity"),
        engagement=detail.get("EngagementIdentity"),
        project=detail.get("ProjectIdentity"),
        cost_center=CostCenterKey.of(detail.get("CostCenterIdentity")),
        currency=CurrencyKey.of(detail.get("EngagementCurrencyIdentity")),
        culture=CultureKey.of(detail.get("BillingCultureIdentity")),
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
    view = invoices.create_invoice(call.tx, call.user, spec, call.now)
    return Reply({"InvoiceIdentity": invoice_ref(view.invoice), "Invoice": invoice_element(call.tx, call.user, view)})


def PwsGetInvoice(call: Call, rq: Record) -> Reply:
    """InvoiceIdentity (PwsInvoiceRef, required) → Invoice. IncludeAdjustmentHistoryFlag and
    IncludeFullAdjustmentHistoryFlag are accepted and ignored (no adjustments are modelled)."""
    identity: Record = require(rq, "InvoiceIdentity")
    view = invoices.get_invoice(call.tx, call.user, identity)
    return Reply({"Invoice": invoice_element(call.tx, call.user, view)})

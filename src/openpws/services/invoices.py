"""Invoices: creating draft invoices on engagements and reading them back.

Rules (pws-entities §9, SPEC "Delete semantics"): every invoice belongs to one engagement, whose
client the spec must name, and optionally to one of that engagement's projects; the cost centre,
currency and billing culture are required but not modelled as lists, so their keys are kept as
sent; management approval needs finance and project-manager approval first; a new invoice is a
Draft numbered DRAFT00001… per account. Creating one marks its engagement (and project) as
invoiced for good: that sticky flag is what the delete services refuse on, even once the invoice
itself is gone. An invoice is not part of the engagement graph, so EngagementTimestamp is untouched.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection

from openpws import errors
from openpws.entities import ClientRow, InvoiceRow, ProjectRow
from openpws.services import clients, engagements, refs
from openpws.services.access import require
from openpws.services.checks import check_date_range, check_length, naive_utc
from openpws.services.context import Context
from openpws.services.engagements import Engagements
from openpws.services.graph_write import GraphWrite
from openpws.services.permissions import Permission
from openpws.services.refs import Key
from openpws.services.sessions import Caller
from openpws.store import accounts as account_store
from openpws.store import clients as client_store
from openpws.store import engagements as engagement_store
from openpws.store import invoices as store
from openpws.store import projects as project_store
from openpws.store.counters import next_rowversion, next_uid

# The letters the invoice-spec page lists for InvoiceContent (several of their meanings are undocumented).
CONTENTS = ("B", "F", "A", "M", "S", "C", "T")
DRAFT_STATUS = "Draft"
# InvoiceName is documented as String(100); the others are the widths of the columns that keep them.
LIMITS = {"InvoiceName": 100, "PurchaseOrderNumber": 50, "InvoiceScope": 1, "CostCenterName": 50,
          "CostCenterNumber": 40, "CurrencyCode": 10, "CultureName": 15}

@dataclass(frozen=True)
class CostCenterKey:
    """A PwsCostCenterRef as sent (cost centres are not modelled: the keys are kept, not resolved)."""

    name: str | None
    number: str | None
    uid: int | None


@dataclass(frozen=True)
class CurrencyKey:
    """A PwsCurrencyRef as sent."""

    code: str | None
    uid: int | None


@dataclass(frozen=True)
class CultureKey:
    """A PwsCultureRef as sent."""

    name: str | None
    uid: int | None


@dataclass(frozen=True)
class InvoiceSpec:
    """The PwsCandidateInvoiceSpec members openpws models, as sent (None = not sent)."""

    client: Key | None
    engagement: Key | None
    project: Key | None
    cost_center: CostCenterKey | None
    currency: CurrencyKey | None
    culture: CultureKey | None
    name: str | None
    content: str | None
    scope: str | None
    purchase_order_number: str | None
    approved_by_finance: bool
    approved_by_project_manager: bool
    approved_by_management: bool
    card_begin: datetime | None
    card_end: datetime | None


@dataclass(frozen=True)
class InvoiceView:
    """An invoice with the rows its element shows."""

    invoice: InvoiceRow
    engagement: Engagements  # the one engagement, as its summary shows it
    client: ClientRow
    parents: dict[int, ClientRow]  # the client's parent, for its summary
    project: ProjectRow | None


def _check(spec: InvoiceSpec) -> None:
    """Everything that can be judged from the spec alone; one message per required member missing."""
    required = (("ClientIdentity", spec.client), ("EngagementIdentity", spec.engagement),
                ("CostCenterIdentity", spec.cost_center), ("EngagementCurrencyIdentity", spec.currency),
                ("BillingCultureIdentity", spec.culture),
                ("InvoiceName", spec.name if spec.name and spec.name.strip() else None),
                ("InvoiceContent", spec.content or None))
    missing = [member for member, value in required if value is None]
    if missing:
        raise errors.PwsError(*(errors.message(errors.REQUIRED_FIELD_MISSING, member, field=member,
                                               entity="draft invoice") for member in missing))
    cost_center, currency, culture = spec.cost_center, spec.currency, spec.culture
    assert cost_center is not None and currency is not None and culture is not None
    check_length(LIMITS, {"InvoiceName": spec.name, "PurchaseOrderNumber": spec.purchase_order_number,
                          "InvoiceScope": spec.scope, "CostCenterName": cost_center.name,
                          "CostCenterNumber": cost_center.number, "CurrencyCode": currency.code,
                          "CultureName": culture.name})
    if spec.content not in CONTENTS:
        raise errors.fail(errors.INVALID_ENUMERATION_VALUE, f"InvoiceContent={spec.content}", field="InvoiceContent",
                          valid=", ".join(CONTENTS))
    check_date_range(spec.card_begin, spec.card_end, "CardBeginDate", "CardEndDate")
    if spec.approved_by_management and not (spec.approved_by_finance and spec.approved_by_project_manager):
        lacking = [name for name, flag in (("ApprovedByFinanceFlag", spec.approved_by_finance),
                                           ("ApprovedByProjectManagerFlag", spec.approved_by_project_manager))
                   if not flag]
        raise errors.fail(errors.MANAGEMENT_APPROVAL_NEEDS_PRIOR_APPROVALS, f"{' and '.join(lacking)} not true")


def create_invoice(ctx: Context, spec: InvoiceSpec) -> InvoiceView:
    """PwsCreateInvoice: a new Draft invoice on the engagement (and project) the spec names."""
    tx, caller, now = ctx.tx, ctx.user, ctx.now
    require(caller, Permission.PROJECTS_UPDATE)
    _check(spec)
    engagement = refs.ENGAGEMENT.resolve(tx, caller, spec.engagement)
    client = refs.CLIENT.resolve(tx, caller, spec.client)
    if client.id != engagement.client_id:
        raise errors.fail(errors.INVOICE_ENTITIES_MISMATCH, f"ClientNumber={client.number}",
                          reason=f"The client {client.number} is not the client of engagement {engagement.code}.")
    project = refs.PROJECT.resolve(tx, caller, spec.project) if spec.project is not None else None
    if project is not None and project.engagement_id != engagement.id:
        raise errors.fail(errors.INVOICE_ENTITIES_MISMATCH, f"ProjectCode={project.code}",
                          reason=f"The project {project.code} does not belong to engagement {engagement.code}.")
    # The flags written below are what a concurrent delete of the engagement or project decides on:
    # take turns with it, and bill only what is still there once it has gone first.
    unit = GraphWrite.open(ctx, [engagement.id])
    engagement = unit.engagement
    if project is not None:
        project = unit.reread(project_store.by_ids, project.id, errors.fail(
            errors.ENTITY_NOT_FOUND, f"ProjectCode={project.code} (deleted meanwhile)",
            entity=refs.PROJECT.ref_type))
    # Engagement, then client, then the account's numbering: the order every writer takes them in.
    client = refs.lock_client(tx, caller, client)
    account_store.lock_numbering(tx, caller.account_id)
    assert spec.cost_center is not None and spec.currency is not None and spec.culture is not None
    invoice_id = store.insert_invoice(tx, caller.account_id, {
        "uid": next_uid(tx), "engagement_id": engagement.id, "project_id": project.id if project else None,
        "client_id": client.id, "draft_number": store.next_draft_number(tx, caller.account_id),
        "name": spec.name, "content": spec.content, "scope": spec.scope or None, "status": DRAFT_STATUS,
        "purchase_order_number": spec.purchase_order_number,
        "cost_center_name": spec.cost_center.name, "cost_center_number": spec.cost_center.number,
        "cost_center_uid": spec.cost_center.uid,
        "currency_code": spec.currency.code, "currency_uid": spec.currency.uid,
        "culture_name": spec.culture.name, "culture_uid": spec.culture.uid,
        "approved_by_finance": spec.approved_by_finance,
        "approved_by_project_manager": spec.approved_by_project_manager,
        "approved_by_management": spec.approved_by_management,
        "card_begin_date": naive_utc(spec.card_begin), "card_end_date": naive_utc(spec.card_end),
        "deleted": False, "rowversion": next_rowversion(tx), "created_at": now.replace(tzinfo=None),
    })
    # Only the sticky flag changes: neither the engagement's nor the project's row version moves,
    # so a timestamp a client holds stays valid across invoicing.
    if not engagement.ever_invoiced:
        engagement_store.update_engagement(tx, engagement.id, {"ever_invoiced": True})
    if project is not None and not project.ever_invoiced:
        project_store.update_project(tx, project.id, {"ever_invoiced": True})
    return view(tx, caller, store.by_id(tx, caller.account_id, invoice_id))


def get_invoice(ctx: Context, key: Key) -> InvoiceView:
    """PwsGetInvoice: the invoice an InvoiceRef names by draft number and/or Uid (both must agree)."""
    tx, caller = ctx.tx, ctx.user
    require(caller, Permission.PROJECTS_VIEW)
    row = refs.INVOICE.find(tx, caller, key) if key.given else None
    if row is None:
        raise errors.fail(errors.ENTITY_NOT_FOUND, refs.INVOICE.describe(key), entity=refs.INVOICE.ref_type)
    return view(tx, caller, row)


def view(tx: Connection, caller: Caller, row: InvoiceRow) -> InvoiceView:
    engagement = engagement_store.by_ids(tx, caller.account_id, {row.engagement_id})[row.engagement_id]
    client = client_store.by_ids(tx, caller.account_id, {row.client_id})[row.client_id]
    project = (project_store.by_ids(tx, caller.account_id, {row.project_id})[row.project_id]
               if row.project_id is not None else None)
    return InvoiceView(row, engagements.summarised(tx, caller, [engagement]), client,
                       clients.parents_of(tx, caller, [client]), project)

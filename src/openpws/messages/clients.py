"""PwsGetClient, PwsGetClientList and PwsSaveClient."""

from __future__ import annotations

from typing import Any

from openpws.contract.record import Record
from openpws.entities import ClientRow
from openpws.messages.binding import Reply, require
from openpws.messages.refs import client_key, list_query, text
from openpws.messages.tokens import encode_rowversion, stamp
from openpws.services.clients import ClientChanges, Clients, SaveClient, SavedClient
from openpws.services.lists import ListQuery
from openpws.services.refs import Key


def client_ref(row: ClientRow) -> dict[str, Any]:
    return {"ClientId": None, "ClientNumber": row.number, "ClientUid": row.uid}


def client_summary(row: ClientRow, parents: dict[int, ClientRow]) -> dict[str, Any]:
    parent = parents.get(row.parent_id) if row.parent_id is not None else None
    return {**client_ref(row), "ClientName": row.name, "InactiveFlag": row.inactive,
            "ParentClientIdentity": client_ref(parent) if parent else None}


def client_element(row: ClientRow, parents: dict[int, ClientRow]) -> dict[str, Any]:
    summary = client_summary(row, parents)
    return {"ClientDetail": {
        **summary,
        "BillingInstructions": row.billing_instructions,
        "PurchaseOrderNumber": row.purchase_order_number,
        "Timestamp": encode_rowversion(row.rowversion),
    }}


# PwsGetClient: ClientIdentities (1..100 PwsClientRef) → Clients (PwsClientElement[]), in request
# order; 105 AtLeastOneItemNotFound lists the refs that named no client.

def decode_get(rq: Record) -> list[Key]:
    return [client_key(ref) for ref in rq.get("ClientIdentities", [])]


def encode_get(found: Clients) -> Reply:
    return Reply({"Clients": [client_element(r, found.parents) for r in found.rows]}, found.warnings)


# PwsGetClientList: ClientIdentity (overrides the rest), QueryString, IncludeInactiveFlag,
# MaxRowsToReturn (104 RowCountExceeded when it cuts rows off), LastUpdatedSinceTimestamp
# → PwsClientSummary[].

def decode_list(rq: Record) -> ListQuery:
    return list_query(rq, "ClientIdentity", client_key, "IncludeInactiveFlag")


def encode_list(found: Clients) -> Reply:
    return Reply({"Clients": [client_summary(r, found.parents) for r in found.rows]}, found.warnings)


# PwsSaveClient: Client (PwsClientDetail) inserted or updated; ParentClientClearFlag;
# FullDetailFlag adds the Client element. Modelled members: ClientNumber, ClientUid, ClientName,
# NewClientNumber, InactiveFlag, ParentClientIdentity, BillingInstructions, PurchaseOrderNumber,
# Timestamp.

SAVE_NOT_MODELLED = (
    "Client/AutoApplyAvailableBalanceFlag", "Client/ClientMessage", "Client/ClientMessagePlain",
    "Client/InheritAddressFlag", "Client/InheritBillingCycleFlag", "Client/InheritBillingInstructionsFlag",
    "Client/InheritClientMessageFlag", "Client/InheritInvoiceContentFlag", "Client/InheritInvoiceScopeFlag",
    "Client/InheritInvoiceTemplateFlag", "Client/InheritPaymentTermFlag", "Client/InheritPurchaseOrderNumberFlag",
    "Client/InheritStandardRatesFlag", "Client/InheritTimeBillingTypeFlag", "Client/InvoiceContent",
    "Client/InvoiceScope", "Client/StandardBillingAdjustedDiscountPercent", "Client/StandardContractDiscountPercent",
    "Client/TimeBillingType",
)


def decode_save(rq: Record) -> SaveClient:
    detail: Record = require(rq, "Client")
    parent = detail.get("ParentClientIdentity")
    changes = ClientChanges(
        key=client_key(detail),
        name=detail.get("ClientName"),
        new_number=text(detail, "NewClientNumber"),
        inactive=detail.get("InactiveFlag"),
        parent=client_key(parent) if parent else None,
        billing_instructions=detail.get("BillingInstructions"),
        purchase_order_number=detail.get("PurchaseOrderNumber"),
        timestamp=stamp(detail.get("Timestamp")),
    )
    return SaveClient(changes, bool(rq.get("ParentClientClearFlag")), bool(rq.get("FullDetailFlag")))


def encode_save(saved: SavedClient) -> Reply:
    members: dict[str, Any] = {"ClientIdentity": client_ref(saved.row)}
    if saved.detail is not None:
        members["Client"] = client_element(saved.row, saved.detail.parents)
    return Reply(members)

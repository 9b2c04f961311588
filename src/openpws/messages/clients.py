"""PwsGetClient, PwsGetClientList and PwsSaveClient."""

from __future__ import annotations

from typing import Any

from openpws.contract.record import Record
from openpws.entities import ClientRow
from openpws.messages.call import Call, Reply, require
from openpws.services import clients, refs
from openpws.services.clients import ClientChanges
from openpws.store.counters import encode_rowversion


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


def PwsGetClient(call: Call, rq: Record) -> Reply:
    """ClientIdentities (1..100 PwsClientRef) → Clients (PwsClientElement[]), in request order;
    105 AtLeastOneItemNotFound lists the refs that named no client."""
    keys = [refs.CLIENT.key(ref) for ref in rq.get("ClientIdentities", [])]
    rows, warnings = clients.get_clients(call.tx, call.user, keys)
    parents = clients.parents_of(call.tx, call.user, rows)
    return Reply({"Clients": [client_element(r, parents) for r in rows]}, tuple(warnings))


def PwsGetClientList(call: Call, rq: Record) -> Reply:
    """ClientIdentity (overrides the rest), QueryString, IncludeInactiveFlag, MaxRowsToReturn
    (104 RowCountExceeded when it cuts rows off), LastUpdatedSinceTimestamp → PwsClientSummary[]."""
    identity = rq.get("ClientIdentity")
    rows, warnings = clients.list_clients(
        call.tx, call.user,
        identity=refs.CLIENT.key(identity) if identity else None,
        query=(rq.get("QueryString") or "").strip() or None,
        include_inactive=bool(rq.get("IncludeInactiveFlag")),
        updated_since=(since.replace(tzinfo=None) if (since := rq.get("LastUpdatedSinceTimestamp")) else None),
        max_rows=rq.get("MaxRowsToReturn"),
    )
    parents = clients.parents_of(call.tx, call.user, rows)
    return Reply({"Clients": [client_summary(r, parents) for r in rows]}, tuple(warnings))


def PwsSaveClient(call: Call, rq: Record) -> Reply:
    """Client (PwsClientDetail) inserted or updated; ParentClientClearFlag; FullDetailFlag adds
    the Client element. Modelled members: ClientNumber, ClientUid, ClientName, NewClientNumber,
    InactiveFlag, ParentClientIdentity, BillingInstructions, PurchaseOrderNumber, Timestamp."""
    detail: Record = require(rq, "Client")
    parent = detail.get("ParentClientIdentity")
    changes = ClientChanges(
        key=refs.CLIENT.key(detail),
        name=detail.get("ClientName"),
        new_number=(detail.get("NewClientNumber") or "").strip() or None,
        inactive=detail.get("InactiveFlag"),
        parent=refs.CLIENT.key(parent) if parent else None,
        billing_instructions=detail.get("BillingInstructions"),
        purchase_order_number=detail.get("PurchaseOrderNumber"),
        timestamp=detail.get("Timestamp"),
    )
    row = clients.save_client(call.tx, call.user, changes, bool(rq.get("ParentClientClearFlag")), call.now)
    members: dict[str, Any] = {"ClientIdentity": client_ref(row)}
    if rq.get("FullDetailFlag"):
        members["Client"] = client_element(row, clients.parents_of(call.tx, call.user, [row]))
    return Reply(members)

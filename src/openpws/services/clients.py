"""Clients: resolving references, reading, listing and saving the client tree of an account.

Rules (pws-entities §3): a ref names a client by ClientNumber and/or ClientUid, and both given
must name the same client; numbers are unique in an account and generated as C000001… when an
insert gives none; ClientName is required on insert; a parent must exist and must not make a
cycle; ParentClientClearFlag detaches; an update leaves members that were not sent unchanged;
every write takes the next row version, returned as the client's Timestamp.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection

from openpws import errors
from openpws.entities import ClientRow
from openpws.services import refs
from openpws.services.access import require
from openpws.services.checks import Stamp, check_length, check_timestamps
from openpws.services.context import Context
from openpws.services.lists import ListQuery
from openpws.services.permissions import Permission
from openpws.services.refs import Key
from openpws.services.sessions import Caller
from openpws.store import clients as store
from openpws.store.counters import next_rowversion, next_uid

LIMITS = {"ClientName": 50, "NewClientNumber": 20, "ClientNumber": 20, "BillingInstructions": 1000,
          "PurchaseOrderNumber": 50}
KEYED = ("ClientNumber", "NewClientNumber")  # kept upper-cased too, as the number's key


@dataclass(frozen=True)
class ClientChanges:
    """The PwsClientDetail members openpws models, as sent (None = not sent)."""

    key: Key
    name: str | None
    new_number: str | None
    inactive: bool | None
    parent: Key | None
    billing_instructions: str | None
    purchase_order_number: str | None
    timestamp: Stamp | None


@dataclass(frozen=True)
class SaveClient:
    changes: ClientChanges
    clear_parent: bool
    full_detail: bool


@dataclass(frozen=True)
class Clients:
    """Clients with the parents their summaries name, and the warnings of the read."""

    rows: list[ClientRow]
    parents: dict[int, ClientRow]
    warnings: tuple[errors.Message, ...] = ()


@dataclass(frozen=True)
class SavedClient:
    row: ClientRow
    detail: Clients | None  # with FullDetailFlag


def get_clients(ctx: Context, keys: Sequence[Key]) -> Clients:
    """PwsGetClient: the clients found, in request order, and warning 105 for the rest."""
    tx, caller = ctx.tx, ctx.user
    require(caller, Permission.CLIENTS_VIEW)
    rows, warnings = refs.CLIENT.get_many(tx, caller, keys, none=errors.NO_CLIENTS_SPECIFIED,
                                          too_many=errors.MAXIMUM_CLIENT_IDENTITIES_EXCEEDED)
    return Clients(rows, parents_of(tx, caller, rows), tuple(warnings))


def parents_of(tx: Connection, caller: Caller, rows: Sequence[ClientRow]) -> dict[int, ClientRow]:
    return store.by_ids(tx, caller.account_id, {r.parent_id for r in rows if r.parent_id is not None})


def with_descendants(tx: Connection, caller: Caller, ids: set[int]) -> set[int]:
    """``ids`` and every client below them: the clients whose own client tree passes through one
    of ``ids`` (what "matches the client or any parent client" selects). One query per tree level."""
    seen = set(ids)
    frontier = set(ids)
    while frontier:
        frontier = {c.id for c in store.children_of(tx, caller.account_id, frontier)} - seen
        seen |= frontier
    return seen


def matching_subtrees(tx: Connection, caller: Caller, query: str) -> set[int]:
    """Ids of the clients whose number or name contains ``query``, and of all their descendants."""
    return with_descendants(tx, caller, {row.id for row in store.search(tx, caller.account_id, query, True, None)})


def list_clients(ctx: Context, request: ListQuery) -> Clients:
    rows, warnings = _list(ctx.tx, ctx.user, request)
    return Clients(rows, parents_of(ctx.tx, ctx.user, rows), tuple(warnings))


def _list(tx: Connection, caller: Caller, request: ListQuery) -> tuple[list[ClientRow], list[errors.Message]]:
    """PwsGetClientList. A ClientIdentity overrides every other criterion. QueryString matches the
    number or name, and the descendants of every match are returned too. MaxRowsToReturn (when
    above 0) caps the rows, with warning 104 when it cut some off."""
    require(caller, Permission.CLIENTS_VIEW)
    identity, query, include_inactive = request.identity, request.query, request.include_hidden
    updated_since, max_rows = request.updated_since, request.max_rows
    if identity is not None and identity.given:
        row = refs.CLIENT.find(tx, caller, identity)
        return ([row] if row else []), []
    request.check()
    rows = store.search(tx, caller.account_id, query, include_inactive, updated_since)
    if query:
        seen = {row.id for row in rows}
        frontier = set(seen)
        while frontier:
            children = [c for c in store.children_of(tx, caller.account_id, frontier) if c.id not in seen]
            children = [c for c in children if (include_inactive or not c.inactive)
                        and (updated_since is None or c.updated_at >= updated_since)]
            seen.update(c.id for c in children)
            rows.extend(children)
            frontier = {c.id for c in children}
        rows.sort(key=lambda r: r.number.upper())
    if max_rows is not None and 0 < max_rows < len(rows):
        detail = f"{max_rows} of {len(rows)} rows returned"
        return rows[:max_rows], [errors.message(errors.ROW_COUNT_EXCEEDED, detail)]
    return rows, []


def _next_number(tx: Connection, caller: Caller) -> str:
    return refs.CLIENT.next_free_code(tx, caller, "C", store.count_clients(tx, caller.account_id) + 1)


def _locked(tx: Connection, caller: Caller, row: ClientRow | None, parent: ClientRow | None,
            key: Key) -> tuple[ClientRow | None, ClientRow | None]:
    """The client saved and its new parent, row-locked (in id order, as every writer of two
    clients takes them) and read again: a PwsDeleteClient that committed meanwhile took them
    (50024), one still running finishes first."""
    wanted = sorted({c.id for c in (row, parent) if c is not None})
    locked = {c.id: c for c in store.lock_many(tx, caller.account_id, wanted)}
    for client, described in ((row, refs.CLIENT.describe(key)), (parent, "ParentClientIdentity")):
        if client is not None and client.id not in locked:
            raise errors.fail(errors.ENTITY_NOT_FOUND, f"{described} (deleted meanwhile)", entity=refs.CLIENT.ref_type)
    return (locked[row.id] if row else None), (locked[parent.id] if parent else None)


def _check_cycle(tx: Connection, caller: Caller, row: ClientRow | None, parent: ClientRow) -> None:
    if row is not None:
        ancestor: ClientRow | None = parent
        while ancestor is not None:
            if ancestor.id == row.id:
                raise errors.fail(errors.CLIENT_HIERARCHY_CYCLE, f"{row.number} under {parent.number}")
            ancestor = (store.by_ids(tx, caller.account_id, {ancestor.parent_id}).get(ancestor.parent_id)
                        if ancestor.parent_id is not None else None)


def save_client(ctx: Context, request: SaveClient) -> SavedClient:
    """PwsSaveClient: insert when the detail names no existing client, else update."""
    tx, caller, now = ctx.tx, ctx.user, ctx.now
    changes, clear_parent = request.changes, request.clear_parent
    require(caller, Permission.CLIENTS_UPDATE)
    key = changes.key
    row = refs.CLIENT.find(tx, caller, key)
    if row is None and key.uid is not None:
        raise errors.fail(errors.ENTITY_NOT_FOUND, refs.CLIENT.describe(key), entity=refs.CLIENT.ref_type)
    parent = (refs.CLIENT.resolve(tx, caller, changes.parent)
              if changes.parent is not None and not clear_parent else None)
    # Clients are locked before the account's numbering, by every writer.
    row, parent = _locked(tx, caller, row, parent, key)
    check_length(LIMITS, {"ClientName": changes.name, "NewClientNumber": changes.new_number,
                          "ClientNumber": key.code, "BillingInstructions": changes.billing_instructions,
                          "PurchaseOrderNumber": changes.purchase_order_number}, KEYED)
    values: dict[str, Any] = {}
    if changes.name is not None:
        values["name"] = changes.name
    if changes.inactive is not None:
        values["inactive"] = changes.inactive
    if changes.billing_instructions is not None:
        values["billing_instructions"] = changes.billing_instructions
    if changes.purchase_order_number is not None:
        values["purchase_order_number"] = changes.purchase_order_number
    if clear_parent:
        values["parent_id"] = None
    elif parent is not None:
        _check_cycle(tx, caller, row, parent)
        values["parent_id"] = parent.id
    if (number := refs.CLIENT.code_to_store(tx, caller, row, key, changes.new_number, "client number")) is not None:
        values["number"] = number
    values.update(rowversion=next_rowversion(tx), updated_at=now.replace(tzinfo=None))
    if row is None:
        if not changes.name:
            raise errors.fail(errors.REQUIRED_FIELD_MISSING, "ClientName", field="ClientName", entity="client")
        values.setdefault("number", _next_number(tx, caller))
        values.setdefault("inactive", False)
        client_id = store.insert_client(tx, caller.account_id, {"uid": next_uid(tx), **values})
    else:
        check_timestamps("client", f"client {row.number}", row.rowversion, changes.timestamp)
        client_id = row.id
        store.update_client(tx, client_id, values)
    saved = store.by_ids(tx, caller.account_id, {client_id})[client_id]
    return SavedClient(saved, Clients([saved], parents_of(tx, caller, [saved])) if request.full_detail else None)

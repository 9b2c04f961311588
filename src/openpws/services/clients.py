"""Clients: resolving references, reading, listing and saving the client tree of an account.

Rules (pws-entities §3): a ref names a client by ClientNumber and/or ClientUid, and both given
must name the same client; numbers are unique in an account and generated as C000001… when an
insert gives none; ClientName is required on insert; a parent must exist and must not make a
cycle; ParentClientClearFlag detaches; an update leaves members that were not sent unchanged;
every write takes the next row version, returned as the client's Timestamp.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection

from openpws import errors
from openpws.services.access import require
from openpws.services.permissions import Permission
from openpws.services.sessions import Caller
from openpws.store import clients as store
from openpws.store.clients import ClientRow
from openpws.store.counters import decode_rowversion, next_rowversion, next_uid

MAX_IDENTITIES = 100
NUMBER_LENGTH, NAME_LENGTH = 20, 50


@dataclass(frozen=True)
class ClientKey:
    """A PwsClientRef as sent: either key may be missing."""

    number: str | None
    uid: int | None

    @classmethod
    def of(cls, ref: Mapping[str, Any] | None) -> ClientKey:
        ref = ref or {}
        number = (ref.get("ClientNumber") or "").strip() or None
        return cls(number, ref.get("ClientUid"))

    def describe(self) -> str:
        return ", ".join(f"{k}={v}" for k, v in (("ClientNumber", self.number), ("ClientUid", self.uid)) if v)


@dataclass(frozen=True)
class ClientChanges:
    """The PwsClientDetail members openpws models, as sent (None = not sent)."""

    key: ClientKey
    name: str | None
    new_number: str | None
    inactive: bool | None
    parent: ClientKey | None
    billing_instructions: str | None
    purchase_order_number: str | None
    timestamp: str | None


def find(tx: Connection, caller: Caller, key: ClientKey) -> ClientRow | None:
    """The client both keys name, or None (also when they name different clients)."""
    by_number = store.by_number(tx, caller.account_id, key.number) if key.number else None
    by_uid = store.by_uid(tx, caller.account_id, key.uid) if key.uid is not None else None
    if key.number and key.uid is not None:
        return by_number if by_number is not None and by_uid is not None and by_number.id == by_uid.id else None
    return by_number or by_uid


def resolve(tx: Connection, caller: Caller, key: ClientKey) -> ClientRow:
    if not key.number and key.uid is None:
        raise errors.fail(errors.CLIENT_NOT_SPECIFIED)
    row = find(tx, caller, key)
    if row is None:
        raise errors.fail(errors.ENTITY_NOT_FOUND, key.describe(), entity="PwsClientRef")
    return row


def get_clients(tx: Connection, caller: Caller,
                keys: Sequence[ClientKey]) -> tuple[list[ClientRow], list[errors.Message]]:
    """PwsGetClient: the clients found, in request order, and warning 105 for the rest."""
    require(caller, Permission.CLIENTS_VIEW)
    if not keys:
        raise errors.fail(errors.NO_CLIENTS_SPECIFIED)
    if len(keys) > MAX_IDENTITIES:
        raise errors.fail(errors.MAXIMUM_CLIENT_IDENTITIES_EXCEEDED, f"{len(keys)} were sent", maximum=MAX_IDENTITIES)
    found, missing = [], []
    for key in keys:
        row = find(tx, caller, key) if (key.number or key.uid is not None) else None
        if row is None:
            missing.append(key.describe() or "(no key)")
        else:
            found.append(row)
    warnings = [errors.message(errors.AT_LEAST_ONE_ITEM_NOT_FOUND, "; ".join(missing))] if missing else []
    return found, warnings


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


def list_clients(tx: Connection, caller: Caller, *, identity: ClientKey | None, query: str | None,
                 include_inactive: bool, updated_since: datetime | None,
                 max_rows: int | None) -> tuple[list[ClientRow], list[errors.Message]]:
    """PwsGetClientList. A ClientIdentity overrides every other criterion. QueryString matches the
    number or name, and the descendants of every match are returned too. MaxRowsToReturn (when
    above 0) caps the rows, with warning 104 when it cut some off."""
    require(caller, Permission.CLIENTS_VIEW)
    if identity is not None and (identity.number or identity.uid is not None):
        row = find(tx, caller, identity)
        return ([row] if row else []), []
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


def _check_length(field: str, value: str | None, maximum: int) -> None:
    if value is not None and len(value) > maximum:
        raise errors.fail(errors.VALUE_TOO_LONG, f"{len(value)} characters", field=field, maximum=maximum)


def _check_timestamp(row: ClientRow, timestamp: str | None) -> None:
    if timestamp is not None and decode_rowversion(timestamp) != row.rowversion:
        raise errors.fail(errors.TIMESTAMP_MISMATCH, f"client {row.number}: Timestamp {timestamp}", entity="client")


def _next_number(tx: Connection, caller: Caller) -> str:
    candidate = store.count_clients(tx, caller.account_id) + 1
    while store.by_number(tx, caller.account_id, f"C{candidate:06d}") is not None:
        candidate += 1
    return f"C{candidate:06d}"


def _parent_for(tx: Connection, caller: Caller, changes: ClientChanges, row: ClientRow | None) -> int | None:
    assert changes.parent is not None
    parent = resolve(tx, caller, changes.parent)
    if row is not None:
        ancestor: ClientRow | None = parent
        while ancestor is not None:
            if ancestor.id == row.id:
                raise errors.fail(errors.CLIENT_HIERARCHY_CYCLE, f"{row.number} under {parent.number}")
            ancestor = (store.by_ids(tx, caller.account_id, {ancestor.parent_id}).get(ancestor.parent_id)
                        if ancestor.parent_id is not None else None)
    return parent.id


def save_client(tx: Connection, caller: Caller, changes: ClientChanges, clear_parent: bool,
                now: datetime) -> ClientRow:
    """PwsSaveClient: insert when the detail names no existing client, else update."""
    require(caller, Permission.CLIENTS_UPDATE)
    key = changes.key
    row = find(tx, caller, key) if (key.number or key.uid is not None) else None
    if row is None and key.uid is not None:
        raise errors.fail(errors.ENTITY_NOT_FOUND, key.describe(), entity="PwsClientRef")
    for field, value, maximum in (("ClientName", changes.name, NAME_LENGTH),
                                  ("NewClientNumber", changes.new_number, NUMBER_LENGTH),
                                  ("ClientNumber", key.number, NUMBER_LENGTH),
                                  ("BillingInstructions", changes.billing_instructions, 1000),
                                  ("PurchaseOrderNumber", changes.purchase_order_number, 50)):
        _check_length(field, value, maximum)
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
    elif changes.parent is not None:
        values["parent_id"] = _parent_for(tx, caller, changes, row)
    new_number = changes.new_number or (key.number if row is None else None)
    if new_number is not None and (row is None or new_number.upper() != row.number.upper()):
        if store.by_number(tx, caller.account_id, new_number) is not None:
            raise errors.fail(errors.DUPLICATE_CODE, new_number, field="client number", value=new_number,
                              entity="client")
    if new_number is not None:
        values["number"] = new_number
    values.update(rowversion=next_rowversion(tx), updated_at=now.replace(tzinfo=None))
    if row is None:
        if not changes.name:
            raise errors.fail(errors.REQUIRED_FIELD_MISSING, "ClientName", field="ClientName", entity="client")
        values.setdefault("number", _next_number(tx, caller))
        values.setdefault("inactive", False)
        client_id = store.insert_client(tx, caller.account_id, {"uid": next_uid(tx), **values})
    else:
        _check_timestamp(row, changes.timestamp)
        client_id = row.id
        store.update_client(tx, client_id, values)
    return store.by_ids(tx, caller.account_id, {client_id})[client_id]

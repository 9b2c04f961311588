"""Deleting clients (PwsDeleteClient).

Rules (SPEC "Delete semantics", pws-core §4.1): a client is in use when it has at least one
engagement (invoices hang off engagements, so an invoiced client is in use too). A client can be
deleted when it is not in use and every client below it can be deleted.

- Without CascadeDeleteFlag a client with child clients is refused (57624), whatever
  InactivateIfInuseFlag says; a client in use is refused (990070) or, with InactivateIfInuseFlag,
  marked inactive (warning 101).
- With CascadeDeleteFlag the client's whole tree is the subject. Without InactivateIfInuseFlag one
  client that cannot be deleted fails the call (990070 for the client itself, 57625 naming the
  clients below it that are in use) and nothing changes. With it, the tree is deleted bottom-up where
  it can be and the rest is marked inactive, one warning 101 per inactivated client naming its number.

The tree's rows are locked top-down before anything is judged, so an engagement or child client
that a concurrent writer adds under one of them either waits for this delete or is seen by it.
Needs clients-update (50046).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import Connection

from openpws import errors
from openpws.entities import ClientRow
from openpws.services import refs
from openpws.services.access import require
from openpws.services.context import Context
from openpws.services.permissions import Permission
from openpws.services.refs import Key
from openpws.store import deletes as store
from openpws.store.counters import next_rowversion


@dataclass(frozen=True)
class ClientDelete:
    """A PwsDeleteClient request as sent."""

    key: Key
    cascade: bool
    inactivate_if_in_use: bool


@dataclass(frozen=True)
class ClientDeleted:
    row: ClientRow  # the client named, as it was before the call
    warnings: tuple[errors.Message, ...]  # one 101 ClientInactivated per client marked inactive


def _levels(tx: Connection, root: ClientRow) -> list[list[ClientRow]]:
    """The client's tree, locked, level by level from the client itself down (one query a level)."""
    levels = [[root]]
    seen = {root.id}
    while True:
        below = [c for c in store.children_for_update(tx, {c.id for c in levels[-1]}) if c.id not in seen]
        if not below:
            return levels
        seen.update(c.id for c in below)
        levels.append(below)


def _deletable(levels: Sequence[Sequence[ClientRow]], in_use: set[int]) -> set[int]:
    """The clients that are not in use and have only deletable clients below them (bottom-up)."""
    blocked = set(in_use)
    for level in reversed(levels):
        for client in level:
            if client.id in blocked and client.parent_id is not None:
                blocked.add(client.parent_id)
    return {c.id for level in levels for c in level} - blocked


def _numbers(rows: Sequence[ClientRow]) -> str:
    return ", ".join(sorted(r.number for r in rows))


def delete_client(ctx: Context, order: ClientDelete) -> ClientDeleted:
    """PwsDeleteClient: delete the client (with CascadeDeleteFlag, its tree), or with
    InactivateIfInuseFlag mark inactive what cannot be deleted."""
    tx, caller, now = ctx.tx, ctx.user, ctx.now
    require(caller, Permission.CLIENTS_UPDATE)
    found = refs.CLIENT.resolve(tx, caller, order.key)
    locked = store.lock_clients(tx, caller.account_id, {found.id})
    if not locked:
        raise errors.fail(errors.ENTITY_NOT_FOUND, refs.CLIENT.describe(order.key), entity=refs.CLIENT.ref_type)
    root = locked[0]
    levels = _levels(tx, root)
    if not order.cascade and len(levels) > 1:
        raise errors.fail(errors.CLIENT_HAS_CHILD_CLIENTS, f"client {root.number} has child clients "
                                                           f"{_numbers(levels[1])}; send CascadeDeleteFlag=true")
    everyone = [c for level in levels for c in level]
    in_use = store.clients_with_engagements(tx, {c.id for c in everyone})
    deletable = _deletable(levels, in_use)
    kept = [c for c in everyone if c.id not in deletable]
    if kept and not order.inactivate_if_in_use:
        problems = []
        if root.id in in_use:
            problems.append(errors.message(errors.CLIENT_IN_USE, f"client {root.number} has engagements"))
        if blockers := [c for c in everyone if c.id in in_use and c.id != root.id]:
            problems.append(errors.message(errors.CHILD_CLIENT_COULD_NOT_BE_DELETED,
                                           f"clients below {root.number} have engagements: {_numbers(blockers)}"))
        raise errors.PwsError(*problems)
    store.delete_clients(tx, deletable)
    warnings = []
    moment = now.replace(tzinfo=None)
    for client in kept:
        store.inactivate_client(tx, client.id, next_rowversion(tx), moment)
        reason = "it has engagements" if client.id in in_use else "a client below it is in use"
        warnings.append(errors.message(errors.CLIENT_INACTIVATED, f"client {client.number}: {reason}"))
    return ClientDeleted(root, tuple(warnings))

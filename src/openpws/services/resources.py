"""Resources: every user of an account is one (PwsGetResourceList, PwsGetResource).

Rules (the wiki's PwsGetResourceList and PwsResourceRef pages): a PwsResourceRef names a
resource by its display name, reference system id (employee id) and/or Uid, matched
case-insensitively; every key given must name the same single resource. A ResourceIdentity
overrides every other criterion of a list; QueryString matches the display name or the
reference system id; MaxRowsToReturn caps the rows (warning 104). openpws's users are never
inactive and never changed once created, so every resource is active and was last updated when
it was created. Reading resources needs the ``projects-view`` permission: resources are read to
staff the roles of projects.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection

from openpws import errors
from openpws.entities import ResourceRow
from openpws.services.access import require
from openpws.services.checks import check_length
from openpws.services.context import Context
from openpws.services.lists import LIMITS
from openpws.services.permissions import Permission
from openpws.services.refs import MAX_IDENTITIES, PersonKey
from openpws.services.sessions import Caller
from openpws.store import resources as store

REF_TYPE = "PwsResourceRef"


@dataclass(frozen=True)
class ResourceQuery:
    """A PwsGetResourceList request as sent."""

    identity: PersonKey | None  # overrides every other criterion
    query: str | None  # trimmed; None when absent or blank
    include_inactive: bool  # nothing to include: no resource is inactive
    updated_since: datetime | None  # naive UTC
    max_rows: int | None  # above 0 caps the rows


@dataclass(frozen=True)
class Resources:
    rows: list[ResourceRow]
    warnings: tuple[errors.Message, ...] = ()


def describe(key: PersonKey) -> str:
    parts = (("ResourceDisplayName", key.display_name), ("ResourceReferenceSystemId", key.reference_id),
             ("ResourceUid", key.uid))
    return ", ".join(f"{name}={value}" for name, value in parts if value is not None) or "(no key)"


def _names(key: PersonKey, row: ResourceRow) -> bool:
    return ((key.uid is None or row.uid == key.uid)
            and (key.display_name is None or row.display_name.lower() == key.display_name.lower())
            and (key.reference_id is None or (row.reference_id or "").lower() == key.reference_id.lower()))


def find_all(tx: Connection, caller: Caller, keys: Sequence[PersonKey]) -> list[ResourceRow | None]:
    """The resource each key names: None when it names none, or more than one (display names need
    not be unique), or its keys name different ones. One query however many keys there are."""
    candidates = store.matching(
        tx, caller.account_id, uids=[k.uid for k in keys if k.uid is not None],
        names=[k.display_name.lower() for k in keys if k.display_name is not None],
        reference_ids=[k.reference_id.lower() for k in keys if k.reference_id is not None])
    found: list[ResourceRow | None] = []
    for key in keys:
        named = [row for row in candidates if _names(key, row)] if key.given else []
        found.append(named[0] if len(named) == 1 else None)
    return found


def list_resources(ctx: Context, request: ResourceQuery) -> Resources:
    """PwsGetResourceList: the resource the identity names (or none), else the resources matching
    the criteria ordered by display name, with warning 104 when MaxRowsToReturn cut rows off."""
    tx, caller = ctx.tx, ctx.user
    require(caller, Permission.PROJECTS_VIEW)
    if request.identity is not None and request.identity.given:
        row = find_all(tx, caller, [request.identity])[0]
        return Resources([row] if row else [])
    check_length(LIMITS, {"QueryString": request.query})
    cap = request.max_rows if request.max_rows is not None and request.max_rows > 0 else None
    rows = store.search(tx, caller.account_id, request.query, request.updated_since,
                        cap + 1 if cap is not None else None)
    if cap is not None and len(rows) > cap:
        return Resources(rows[:cap], (errors.message(errors.ROW_COUNT_EXCEEDED, f"more than {cap} rows matched"),))
    return Resources(rows)


def get_resources(ctx: Context, keys: Sequence[PersonKey]) -> Resources:
    """PwsGetResource: 1 to 100 refs; the resources found in request order, and one warning 105
    AtLeastOneItemNotFound listing the refs that named none."""
    tx, caller = ctx.tx, ctx.user
    require(caller, Permission.PROJECTS_VIEW)
    if not keys:
        raise errors.fail(errors.FIELD_NOT_SPECIFIED, "no PwsResourceRef was sent", field="ResourceIdentities")
    if len(keys) > MAX_IDENTITIES:
        raise errors.fail(errors.VALUE_OUT_OF_RANGE, f"{len(keys)} were sent", field="The number of ResourceIdentities",
                          minimum=1, maximum=MAX_IDENTITIES)
    rows = find_all(tx, caller, keys)
    missing = [describe(key) for key, row in zip(keys, rows, strict=True) if row is None]
    warnings = (errors.message(errors.AT_LEAST_ONE_ITEM_NOT_FOUND, "; ".join(missing)),) if missing else ()
    return Resources([row for row in rows if row is not None], warnings)

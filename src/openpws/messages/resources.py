"""PwsGetResourceList and PwsGetResource: the account's users as resources."""

from __future__ import annotations

from datetime import UTC
from typing import Any

from openpws.contract.record import Record
from openpws.entities import ResourceRow
from openpws.messages.binding import Reply
from openpws.messages.refs import person_key, resource_key, since, text
from openpws.services.refs import PersonKey
from openpws.services.resources import ResourceQuery, Resources


def resource_summary(row: ResourceRow) -> dict[str, Any]:
    """A PwsResourceSummary. openpws keeps no first, middle or last names (only the display name),
    and no user is ever inactive."""
    return {"ResourceDisplayName": row.display_name, "ResourceId": None, "ResourceReferenceSystemId": row.reference_id,
            "ResourceUid": row.uid, "EmailAddress": row.email, "FirstName": None, "LastName": None,
            "MiddleName": None, "InactiveFlag": False}


def resource_element(row: ResourceRow) -> dict[str, Any]:
    return {"LastUpdatedTimestamp": row.created_at.replace(tzinfo=UTC),
            "ResourceDetail": {**resource_summary(row), "InactiveFlag": False}}


# PwsGetResourceList: ResourceIdentity (overrides the rest), QueryString (display name or reference
# system id), IncludeInactiveFlag, MaxRowsToReturn (104 when it cuts rows off),
# LastUpdatedSinceTimestamp → Resources (PwsResourceSummary[]) ordered by display name.

def decode_list(rq: Record) -> ResourceQuery:
    return ResourceQuery(identity=resource_key(rq.get("ResourceIdentity")), query=text(rq, "QueryString"),
                         include_inactive=bool(rq.get("IncludeInactiveFlag")), updated_since=since(rq),
                         max_rows=rq.get("MaxRowsToReturn"))


def encode_list(found: Resources) -> Reply:
    return Reply({"Resources": [resource_summary(r) for r in found.rows]}, found.warnings)


# PwsGetResource: ResourceIdentities (1..100 PwsResourceRef) → Resources (PwsResourceElement[]), in
# request order; 105 AtLeastOneItemNotFound lists the refs that named no resource.

def decode_get(rq: Record) -> list[PersonKey]:
    return [person_key(ref or {}, "Resource") for ref in rq.get("ResourceIdentities", [])]


def encode_get(found: Resources) -> Reply:
    return Reply({"Resources": [resource_element(r) for r in found.rows]}, found.warnings)

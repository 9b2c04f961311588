"""The Ref structures of requests, decoded into the typed keys services resolve, and the other
request members several operations share."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any, TypeVar

from openpws.contract.record import Record
from openpws.services.lists import ListQuery
from openpws.services.refs import Key, PersonKey, StageKey

K = TypeVar("K")


def _text(ref: Mapping[str, Any], member: str) -> str | None:
    value = ref.get(member)
    return value.strip() or None if isinstance(value, str) else None


def _key(ref: Mapping[str, Any] | None, code_member: str, uid_member: str) -> Key:
    ref = ref or {}
    return Key(_text(ref, code_member), ref.get(uid_member))


def client_key(ref: Mapping[str, Any] | None) -> Key:
    return _key(ref, "ClientNumber", "ClientUid")


def engagement_key(ref: Mapping[str, Any] | None) -> Key:
    return _key(ref, "EngagementCode", "EngagementUid")


def project_key(ref: Mapping[str, Any] | None) -> Key:
    return _key(ref, "ProjectCode", "ProjectUid")


def role_key(ref: Mapping[str, Any] | None) -> Key:
    return _key(ref, "ExternalSystemIdentifier", "ProjectRoleUid")


def invoice_key(ref: Mapping[str, Any] | None) -> Key:
    return _key(ref, "InvoiceNumber", "InvoiceUid")


def optional(ref: Mapping[str, Any] | None, decode: Callable[[Mapping[str, Any] | None], K]) -> K | None:
    """A ref member that sets something only when it holds a member: None when absent or empty."""
    return decode(ref) if ref else None


def present(ref: Mapping[str, Any] | None, decode: Callable[[Mapping[str, Any] | None], K]) -> K | None:
    """A ref member that, once sent, must name something (an empty one is not specified)."""
    return decode(ref) if ref is not None else None


def person_key(ref: Mapping[str, Any], prefix: str) -> PersonKey:
    """A PwsUserRef (prefix "User") or PwsResourceRef (prefix "Resource")."""
    return PersonKey(_text(ref, f"{prefix}DisplayName"), _text(ref, f"{prefix}ReferenceSystemId"),
                     ref.get(f"{prefix}Uid"))


def user_key(ref: Mapping[str, Any] | None) -> PersonKey | None:
    return person_key(ref, "User") if ref is not None else None


def resource_key(ref: Mapping[str, Any] | None) -> PersonKey | None:
    """None when absent or when no member was sent (an empty ref sets nothing)."""
    if ref is None or all(v is None for v in ref.values()):
        return None
    return person_key(ref, "Resource")


def stage_key(ref: Mapping[str, Any] | None, kind: str) -> StageKey | None:
    if ref is None:
        return None
    prefix = "EngagementStage" if kind == "E" else "ProjectStage"
    return StageKey(_text(ref, f"{prefix}Name"), _text(ref, f"{prefix}ShortName"), ref.get(f"{prefix}Uid"))


def text(record: Record, name: str) -> str | None:
    """A text member, trimmed; None when absent or blank."""
    return (record.get(name) or "").strip() or None


def since(record: Record) -> datetime | None:
    """LastUpdatedSinceTimestamp as the store compares it (naive UTC), or None."""
    sent: datetime | None = record.get("LastUpdatedSinceTimestamp")
    return sent.replace(tzinfo=None) if sent else None


def list_query(rq: Record, identity_member: str, decode: Callable[[Mapping[str, Any] | None], Key],
               hidden_flag: str) -> ListQuery:
    """A Pws…List request: the identity (overrides the rest), QueryString, the flag that includes
    closed or inactive rows, LastUpdatedSinceTimestamp, MaxRowsToReturn, and PurchaseOrderNumber
    where the operation has it."""
    return ListQuery(identity=optional(rq.get(identity_member), decode), query=text(rq, "QueryString"),
                     include_hidden=bool(rq.get(hidden_flag)), updated_since=since(rq),
                     max_rows=rq.get("MaxRowsToReturn"), purchase_order_number=text(rq, "PurchaseOrderNumber"))

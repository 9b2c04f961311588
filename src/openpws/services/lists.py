"""What the list services (PwsGetClientList, PwsGetEngagementList, PwsGetProjectList) share: the
request's criteria, and how an identity overrides them and MaxRowsToReturn caps the rows."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import Connection

from openpws import errors
from openpws.services.checks import check_length
from openpws.services.refs import Key, RefKind
from openpws.services.sessions import Caller

R = TypeVar("R")

# QueryString is documented as String(255); PurchaseOrderNumber is as long as the one it matches.
LIMITS = {"QueryString": 255, "PurchaseOrderNumber": 50}


@dataclass(frozen=True)
class ListQuery:
    """A list request as sent. ``identity`` overrides every other criterion."""

    identity: Key | None
    query: str | None  # trimmed; None when absent or blank
    include_hidden: bool  # IncludeClosedFlag (engagements, projects), IncludeInactiveFlag (clients)
    updated_since: datetime | None  # naive UTC
    max_rows: int | None  # above 0 caps the rows
    purchase_order_number: str | None = None  # PwsGetEngagementList only

    def check(self) -> None:
        """Each text within its documented length (990008 ValueTooLong), the same on every store."""
        check_length(LIMITS, {"QueryString": self.query, "PurchaseOrderNumber": self.purchase_order_number})

    @property
    def cap(self) -> int | None:
        return self.max_rows if self.max_rows is not None and self.max_rows > 0 else None


def listed(tx: Connection, caller: Caller, kind: RefKind[Any], request: ListQuery,
           search: Callable[[int | None], list[R]]) -> tuple[list[R], list[errors.Message]]:
    """The entity the identity names (or none), else what ``search`` finds (asked for one row past
    the cap, to know whether the cap cut rows off: then warning 104 RowCountExceeded)."""
    if request.identity is not None and request.identity.given:
        row = kind.find(tx, caller, request.identity)
        return ([row] if row else []), []
    request.check()
    cap = request.cap
    rows = search(cap + 1 if cap is not None else None)
    if cap is not None and len(rows) > cap:
        return rows[:cap], [errors.message(errors.ROW_COUNT_EXCEEDED, f"more than {cap} rows matched")]
    return rows, []

"""What a PwsProjectRoleElement shows of a role, for a Mode: R the requested resource and hours,
A the booked ones, E the booked side of booked roles and the requested side of the rest."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import Connection

from openpws.entities import HoursRow, PersonRow, RoleRow
from openpws.services.sessions import Caller
from openpws.store import accounts as account_store
from openpws.store import roles as role_store


@dataclass(frozen=True)
class RoleView:
    row: RoleRow
    resource: PersonRow | None  # of the side shown
    buckets: tuple[HoursRow, ...]  # of the side shown, by week


def _is_booked(row: RoleRow, hours: Sequence[HoursRow]) -> bool:
    return row.booked_user_id is not None or any(h.kind == "A" and h.weekly_minutes for h in hours)


def role_views(tx: Connection, caller: Caller, rows: Sequence[RoleRow], mode: str) -> list[RoleView]:
    """The views of ``rows`` in ``mode``, with two queries however many rows there are."""
    people = account_store.people_by_ids(
        tx, caller.account_id, [r.requested_user_id for r in rows] + [r.booked_user_id for r in rows])
    hours_by_role: dict[int, list[HoursRow]] = {}
    for bucket_row in role_store.hours_of(tx, [r.id for r in rows]):
        hours_by_role.setdefault(bucket_row.role_id, []).append(bucket_row)
    views = []
    for row in rows:
        hours = hours_by_role.get(row.id, [])
        side = mode if mode != "E" else ("A" if _is_booked(row, hours) else "R")
        user_id = row.booked_user_id if side == "A" else row.requested_user_id
        views.append(RoleView(row, people.get(user_id) if user_id is not None else None,
                              tuple(h for h in hours if h.kind == side)))
    return views

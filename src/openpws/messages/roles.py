"""PwsSaveProjectRole, PwsGetProjectRoles, PwsRequestOrBookRoleHours, and the PwsProjectRoleElement
shape that PwsGetProject shares."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection

from openpws import errors
from openpws.contract.record import Record
from openpws.messages.call import Call, Reply, require
from openpws.messages.common import resource_ref, role_ref, timestamp
from openpws.services.sessions import Caller
from openpws.store import accounts as account_store
from openpws.store import roles as role_store
from openpws.store.roles import HoursRow, RoleRow

MODES = ("R", "A", "E")


def read_mode(rq: Record, name: str = "Mode", allowed: Sequence[str] = MODES) -> str:
    """A required one-letter Mode member: R requested, A booked (assigned), E effective."""
    mode = str(require(rq, name)).strip().upper()
    if mode not in allowed:
        raise errors.fail(errors.INVALID_ENUMERATION_VALUE, f"{name}={rq.get(name)}", field=name,
                          valid=", ".join(allowed))
    return mode


def _is_booked(row: RoleRow, hours: Sequence[HoursRow]) -> bool:
    return row.booked_user_id is not None or any(h.kind == "A" and h.weekly_minutes for h in hours)


def bucket(hours: HoursRow) -> dict[str, Any]:
    daily = [int(m) for m in hours.daily_minutes.split(",")] if hours.daily_minutes else None
    start = datetime(hours.bucket_start.year, hours.bucket_start.month, hours.bucket_start.day, tzinfo=UTC)
    return {"BucketStartDate": start, "DailyMinutes": daily, "SchedulingMode": hours.scheduling_mode,
            "WeeklyMinutes": hours.weekly_minutes}


def role_elements(tx: Connection, caller: Caller, rows: Sequence[RoleRow], mode: str) -> list[dict[str, Any]]:
    """PwsProjectRoleElement values for ``rows``: with Mode R the requested resource and hours,
    with A the booked ones, with E the booked side of booked roles and the requested side of the rest."""
    people = account_store.people_by_ids(
        tx, caller.account_id, [r.requested_user_id for r in rows] + [r.booked_user_id for r in rows])
    hours_by_role: dict[int, list[HoursRow]] = {}
    for bucket_row in role_store.hours_of(tx, [r.id for r in rows]):
        hours_by_role.setdefault(bucket_row.role_id, []).append(bucket_row)
    elements = []
    for row in rows:
        hours = hours_by_role.get(row.id, [])
        side = mode if mode != "E" else ("A" if _is_booked(row, hours) else "R")
        user_id = row.booked_user_id if side == "A" else row.requested_user_id
        resource = people.get(user_id) if user_id is not None else None
        elements.append({
            "ProjectRoleDetail": {
                **role_ref(row),
                "CandidateIdentities": None,
                "DefaultSchedulingMode": row.scheduling_mode,
                "Description": row.description,
                "ProjectRoleTimestamp": timestamp(row.rowversion),
                "ResourceIdentity": resource_ref(resource) if resource else None,
                "RoleEndDate": row.end_date.replace(tzinfo=UTC) if row.end_date else None,
                "RoleName": row.name,
                "RoleStartDate": row.start_date.replace(tzinfo=UTC) if row.start_date else None,
            },
            "DeletedFlag": row.deleted,
            "HoursBuckets": [bucket(h) for h in hours if h.kind == side],
        })
    return elements


def PwsGetProjectRoles(call: Call, rq: Record) -> Reply:
    raise NotImplementedError("PwsGetProjectRoles")


def PwsSaveProjectRole(call: Call, rq: Record) -> Reply:
    raise NotImplementedError("PwsSaveProjectRole")


def PwsRequestOrBookRoleHours(call: Call, rq: Record) -> Reply:
    raise NotImplementedError("PwsRequestOrBookRoleHours")

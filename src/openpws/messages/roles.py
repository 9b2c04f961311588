"""PwsSaveProjectRole, PwsGetProjectRoles, PwsRequestOrBookRoleHours, and the PwsProjectRoleElement
shape that PwsGetProject shares."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection

from openpws import errors
from openpws.contract.record import Record
from openpws.entities import HoursRow, RoleRow
from openpws.messages.call import Call, Reply, require
from openpws.messages.common import project_ref, resource_ref, role_ref, stolen_from, timestamp
from openpws.messages.locks import assertion_of
from openpws.services import hours, refs, roles
from openpws.services.hours import BucketIn, HoursOrder
from openpws.services.roles import RoleChanges, RoleClears
from openpws.services.sessions import Caller
from openpws.store import accounts as account_store
from openpws.store import roles as role_store

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
    """ProjectIdentities (1..100 PwsProjectRef), Mode R/A/E, IncludeDeletedRolesFlag →
    ProjectProjectRoles, one per project found, in request order; 105 lists the refs that named
    no project."""
    mode = read_mode(rq)
    keys = [refs.PROJECT.key(ref) for ref in rq.get("ProjectIdentities", [])]
    found, warnings = roles.get_project_roles(call.tx, call.user, keys, bool(rq.get("IncludeDeletedRolesFlag")))
    rows = [role for _, project_roles in found for role in project_roles]
    elements = dict(zip((r.id for r in rows), role_elements(call.tx, call.user, rows, mode), strict=True))
    return Reply({"ProjectProjectRoles": [
        {"ProjectIdentity": project_ref(project), "ProjectRoles": [elements[r.id] for r in project_roles]}
        for project, project_roles in found
    ]}, tuple(warnings))


def PwsSaveProjectRole(call: Call, rq: Record) -> Reply:
    """ProjectRole (PwsProjectRoleDetail) inserted or updated on the side Mode names; FullDetailFlag
    adds the ProjectRole element (read as RetrievalMode, else Mode). Modelled members:
    ExternalSystemIdentifier, ProjectRoleUid, NewExternalSystemIdentifier, RoleName, Description,
    ResourceIdentity, RoleStartDate, RoleEndDate, DefaultSchedulingMode, ProjectRoleTimestamp."""
    detail: Record = require(rq, "ProjectRole")
    mode = read_mode(rq, allowed=("R", "A"))
    retrieval = read_mode(rq, "RetrievalMode") if rq.get("RetrievalMode") is not None else mode
    changes = RoleChanges(
        key=refs.ROLE.key(detail),
        project=rq.get("ProjectIdentity"),
        mode=mode,
        name=detail.get("RoleName"),
        new_external_id=detail.get("NewExternalSystemIdentifier"),
        description=detail.get("Description"),
        resource=detail.get("ResourceIdentity"),
        start_date=detail.get("RoleStartDate"),
        end_date=detail.get("RoleEndDate"),
        scheduling_mode=detail.get("DefaultSchedulingMode"),
        role_timestamp=detail.get("ProjectRoleTimestamp"),
        engagement_timestamp=rq.get("EngagementTimestamp"),
    )
    clears = RoleClears(description=bool(rq.get("DescriptionClearFlag")),
                        resource=bool(rq.get("ResourceClearFlag")),
                        start_date=bool(rq.get("RoleStartDateClearFlag")),
                        end_date=bool(rq.get("RoleEndDateClearFlag")))
    saved = roles.save_role(call.tx, call.user, changes, clears, bool(rq.get("MakeRoleNameUniqueFlag")),
                            assertion_of(rq), call.now)
    members: dict[str, Any] = {"ProjectRoleIdentity": role_ref(saved.row),
                               "EngagementTimestamp": timestamp(saved.engagement_version),
                               "LockStolenFromUserIdentity": stolen_from(saved.stolen)}
    if rq.get("FullDetailFlag"):
        members["ProjectRole"] = role_elements(call.tx, call.user, [saved.row], retrieval)[0]
    return Reply(members)


def _bucket_in(record: Record) -> BucketIn:
    daily = record.get("DailyMinutes")
    return BucketIn(start=record.get("BucketStartDate"), scheduling_mode=record.get("SchedulingMode"),
                    weekly_minutes=record.get("WeeklyMinutes"),
                    daily_minutes=tuple(daily) if daily is not None else None)


def _hours_order(record: Record) -> HoursOrder:
    return HoursOrder(
        role=refs.ROLE.key(record.get("ProjectRoleIdentity")),
        candidate=record.get("CandidateResourceIdentity"),
        clear_candidate=bool(record.get("CandidateResourceClearFlag")),
        clear_existing=bool(record.get("ClearExistingHoursFlag")),
        clear_start=record.get("ClearPeriodStartDate"),
        clear_end=record.get("ClearPeriodEndDate"),
        copy_requested=bool(record.get("CopyRequestedHoursFlag")),
        buckets=tuple(_bucket_in(b) for b in record.get("HoursBuckets", []) if b is not None),
        leave_request_open=bool(record.get("LeaveRequestOpenFlag")),
        timestamp=record.get("Timestamp"),
    )


def PwsRequestOrBookRoleHours(call: Call, rq: Record) -> Reply:
    """Mode R requests hours, A books them, on each role of ProjectRoles (PwsProjectRoleHours)
    → ProjectRoles, the roles written with the hours of that Mode. SubmitOrder and FinalizeOrder
    are not modelled."""
    mode = read_mode(rq, allowed=("R", "A"))
    orders = [_hours_order(r) for r in rq.get("ProjectRoles", []) if r is not None]
    written = hours.request_or_book(call.tx, call.user, mode, orders, call.now)
    return Reply({"ProjectRoles": role_elements(call.tx, call.user, written, mode)})

"""PwsSaveProjectRole, PwsGetProjectRoles, PwsRequestOrBookRoleHours, and the PwsProjectRoleElement
shape that PwsGetProject shares."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from openpws import errors
from openpws.contract.record import Record
from openpws.entities import HoursRow
from openpws.messages.binding import Reply, require
from openpws.messages.common import project_ref, resource_ref, role_ref, stolen_from, timestamp
from openpws.messages.locks import assertion_of
from openpws.messages.refs import present, project_key, resource_key, role_key
from openpws.messages.tokens import stamp
from openpws.services.hours import BucketIn, HoursOrder, HoursRequest
from openpws.services.role_views import RoleView
from openpws.services.roles import GetProjectRoles, ProjectRoles, RoleChanges, RoleClears, SavedRole, SaveRole

MODES = ("R", "A", "E")


def read_mode(rq: Record, name: str = "Mode", allowed: Sequence[str] = MODES) -> str:
    """A required one-letter Mode member: R requested, A booked (assigned), E effective."""
    mode = str(require(rq, name)).strip().upper()
    if mode not in allowed:
        raise errors.fail(errors.INVALID_ENUMERATION_VALUE, f"{name}={rq.get(name)}", field=name,
                          valid=", ".join(allowed))
    return mode


def bucket(hours: HoursRow) -> dict[str, Any]:
    daily = [int(m) for m in hours.daily_minutes.split(",")] if hours.daily_minutes else None
    start = datetime(hours.bucket_start.year, hours.bucket_start.month, hours.bucket_start.day, tzinfo=UTC)
    return {"BucketStartDate": start, "DailyMinutes": daily, "SchedulingMode": hours.scheduling_mode,
            "WeeklyMinutes": hours.weekly_minutes}


def role_element(view: RoleView) -> dict[str, Any]:
    """A PwsProjectRoleElement: the side of the role its view shows."""
    row, resource = view.row, view.resource
    return {
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
        "HoursBuckets": [bucket(h) for h in view.buckets],
    }


# PwsGetProjectRoles: ProjectIdentities (1..100 PwsProjectRef), Mode R/A/E,
# IncludeDeletedRolesFlag → ProjectProjectRoles, one per project found, in request order; 105
# lists the refs that named no project.

GET_NOT_MODELLED = ("ExcludeReadNotesFlag",)


def decode_get(rq: Record) -> GetProjectRoles:
    mode = read_mode(rq)
    return GetProjectRoles([project_key(ref) for ref in rq.get("ProjectIdentities", [])], mode,
                           bool(rq.get("IncludeDeletedRolesFlag")))


def encode_get(found: ProjectRoles) -> Reply:
    return Reply({"ProjectProjectRoles": [
        {"ProjectIdentity": project_ref(project), "ProjectRoles": [role_element(v) for v in views]}
        for project, views in found.projects
    ]}, found.warnings)


# PwsSaveProjectRole: ProjectRole (PwsProjectRoleDetail) inserted or updated on the side Mode
# names; FullDetailFlag adds the ProjectRole element (read as RetrievalMode, else Mode). Modelled
# members: ExternalSystemIdentifier, ProjectRoleUid, NewExternalSystemIdentifier, RoleName,
# Description, ResourceIdentity, RoleStartDate, RoleEndDate, DefaultSchedulingMode,
# ProjectRoleTimestamp.

# Candidates, criteria, rates, purchase orders, role types and the clear flags of those, the initial
# allocation, and the flags whose rules are not described.
SAVE_NOT_MODELLED = (
    "BaseRatesOnTitleClearFlag", "CandidatesClearFlag", "CostCenterClearFlag", "CostCenterCriteriaClearFlag",
    "ExcludeReadNotesFlag", "InitialAllocation", "KeywordsClearFlag", "LocationClearFlag",
    "LocationCriteriaClearFlag", "NameRoleFlag", "PurchaseOrderNumberClearFlag", "RateExceptionsClearFlag",
    "RdcExceptionsClearFlag", "RdcTransferHourlyRateClearFlag", "ReplaceAllocatedCriteriaWithRequestedFlag",
    "ResourceTypeClearFlag", "ResourceTypeCriteriaClearFlag", "RevalueAction", "RevenueTransferHourlyRateClearFlag",
    "RoleTypeClearFlag", "ShareCostCenterClearFlag", "ShareUserClearFlag", "SkillCriteriaClearFlag",
    "TitleClearFlag", "TitleCriteriaClearFlag", "WarnOnPermissionErrorFlag",
    "ProjectRole/CandidateIdentities", "ProjectRole/CostCenterAnyFlag", "ProjectRole/InheritPurchaseOrderNumberFlag",
    "ProjectRole/Keywords", "ProjectRole/LocationAnyFlag", "ProjectRole/PurchaseOrderNumber",
    "ProjectRole/RdcTransferHourlyRate", "ProjectRole/RevenueTransferHourlyRate",
)


def decode_save(rq: Record) -> SaveRole:
    detail: Record = require(rq, "ProjectRole")
    mode = read_mode(rq, allowed=("R", "A"))
    retrieval = read_mode(rq, "RetrievalMode") if rq.get("RetrievalMode") is not None else mode
    changes = RoleChanges(
        key=role_key(detail),
        project=present(rq.get("ProjectIdentity"), project_key),
        mode=mode,
        name=detail.get("RoleName"),
        new_external_id=detail.get("NewExternalSystemIdentifier"),
        description=detail.get("Description"),
        resource=resource_key(detail.get("ResourceIdentity")),
        start_date=detail.get("RoleStartDate"),
        end_date=detail.get("RoleEndDate"),
        scheduling_mode=detail.get("DefaultSchedulingMode"),
        role_timestamp=stamp(detail.get("ProjectRoleTimestamp")),
        engagement_timestamp=stamp(rq.get("EngagementTimestamp")),
    )
    clears = RoleClears(description=bool(rq.get("DescriptionClearFlag")),
                        resource=bool(rq.get("ResourceClearFlag")),
                        start_date=bool(rq.get("RoleStartDateClearFlag")),
                        end_date=bool(rq.get("RoleEndDateClearFlag")))
    return SaveRole(changes, clears, bool(rq.get("MakeRoleNameUniqueFlag")), assertion_of(rq),
                    retrieval if rq.get("FullDetailFlag") else None)


def encode_save(saved: SavedRole) -> Reply:
    members: dict[str, Any] = {"ProjectRoleIdentity": role_ref(saved.row),
                               "EngagementTimestamp": timestamp(saved.engagement_version),
                               "LockStolenFromUserIdentity": stolen_from(saved.stolen)}
    if saved.detail is not None:
        members["ProjectRole"] = role_element(saved.detail)
    return Reply(members)


# PwsRequestOrBookRoleHours: Mode R requests hours, A books them, on each role of ProjectRoles
# (PwsProjectRoleHours) → ProjectRoles, the roles written with the hours of that Mode. SubmitOrder
# and FinalizeOrder are not modelled.

def _bucket_in(record: Record) -> BucketIn:
    daily = record.get("DailyMinutes")
    return BucketIn(start=record.get("BucketStartDate"), scheduling_mode=record.get("SchedulingMode"),
                    weekly_minutes=record.get("WeeklyMinutes"),
                    daily_minutes=tuple(daily) if daily is not None else None)


def _hours_order(record: Record) -> HoursOrder:
    return HoursOrder(
        role=role_key(record.get("ProjectRoleIdentity")),
        candidate=resource_key(record.get("CandidateResourceIdentity")),
        clear_candidate=bool(record.get("CandidateResourceClearFlag")),
        clear_existing=bool(record.get("ClearExistingHoursFlag")),
        clear_start=record.get("ClearPeriodStartDate"),
        clear_end=record.get("ClearPeriodEndDate"),
        copy_requested=bool(record.get("CopyRequestedHoursFlag")),
        buckets=tuple(_bucket_in(b) for b in record.get("HoursBuckets", []) if b is not None),
        leave_request_open=bool(record.get("LeaveRequestOpenFlag")),
        timestamp=stamp(record.get("Timestamp")),
    )


def decode_hours(rq: Record) -> HoursRequest:
    mode = read_mode(rq, allowed=("R", "A"))
    return HoursRequest(mode, tuple(_hours_order(r) for r in rq.get("ProjectRoles", []) if r is not None))


def encode_hours(written: list[RoleView]) -> Reply:
    return Reply({"ProjectRoles": [role_element(v) for v in written]})

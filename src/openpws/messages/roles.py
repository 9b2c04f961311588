"""PwsSaveProjectRole, PwsGetProjectRoles, PwsRequestOrBookRoleHours, and the PwsProjectRoleElement
shape that PwsGetProject shares."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime
from typing import Any

from openpws import errors
from openpws.contract.record import Record
from openpws.entities import AllocationNotesRow, HoursRow
from openpws.messages.binding import Reply, require
from openpws.messages.common import (
    project_ref,
    resource_ref,
    role_ref,
    stolen_from,
    timestamp,
    user_ref,
    user_summary,
)
from openpws.messages.locks import assertion_of
from openpws.messages.refs import present, project_key, resource_key, role_key, user_key
from openpws.messages.tokens import stamp
from openpws.services.hours import BucketIn, HoursOrder, HoursRequest, HoursWritten, NotesBucketIn
from openpws.services.hours_workflow import FinalizeOrder, SubmitOrder
from openpws.services.role_views import NoteView, RoleView
from openpws.services.roles import GetProjectRoles, ProjectRoles, RoleChanges, RoleClears, SavedRole, SaveRole

MODES = ("R", "A", "E")


def read_mode(rq: Record, name: str = "Mode", allowed: Sequence[str] = MODES) -> str:
    """A required one-letter Mode member: R requested, A booked (assigned), E effective."""
    mode = str(require(rq, name)).strip().upper()
    if mode not in allowed:
        raise errors.fail(errors.INVALID_ENUMERATION_VALUE, f"{name}={rq.get(name)}", field=name,
                          valid=", ".join(allowed))
    return mode


def _midnight(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


def bucket(hours: HoursRow) -> dict[str, Any]:
    daily = [int(m) for m in hours.daily_minutes.split(",")] if hours.daily_minutes else None
    return {"BucketStartDate": _midnight(hours.bucket_start), "DailyMinutes": daily,
            "SchedulingMode": hours.scheduling_mode, "WeeklyMinutes": hours.weekly_minutes}


def notes_bucket(notes: AllocationNotesRow) -> dict[str, Any]:
    """A PwsProjectRoleNotesBucket: a nil string for a day without a note."""
    return {"BucketStartDate": _midnight(notes.bucket_start), "Notes": list(notes.notes)}


def project_note(view: NoteView) -> dict[str, Any]:
    """A PwsProjectNote. ReadTimestamp is a string on the wiki (UTC, milliseconds, no zone)."""
    note, author, created = view.row, view.author, view.row.created_at
    return {
        "CreatedByUserIdentity": user_ref(author) if author else None,
        "CreatedTimestamp": created.replace(tzinfo=UTC),
        "Note": note.note,
        "CreatedByUser": user_summary(author) if author else None,
        "ReadFlag": view.read,
        # Read by its author as it was written.
        "ReadTimestamp": f"{created:%Y-%m-%dT%H:%M:%S}.{created.microsecond // 1000:03d}" if view.read else None,
        "NoteId": None,
        "NoteUid": note.uid,
    }


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
        "AssignedToSchedulersFlag": row.assigned_to_schedulers,
        "Notes": [project_note(n) for n in view.notes],
        "ProjectIdentity": project_ref(view.project),
        "DeletedFlag": row.deleted,
        "TotalScheduledMinutes": view.scheduled_minutes,
        "HoursBuckets": [bucket(h) for h in view.buckets],
        "NotesBuckets": [notes_bucket(n) for n in view.allocation_notes],
    }


# PwsGetProjectRoles: ProjectIdentities (1..100 PwsProjectRef), Mode R/A/E,
# IncludeDeletedRolesFlag, ExcludeReadNotesFlag → ProjectProjectRoles, one per project found, in
# request order; 105 lists the refs that named no project.

GET_NOT_MODELLED: tuple[str, ...] = ()


def decode_get(rq: Record) -> GetProjectRoles:
    mode = read_mode(rq)
    return GetProjectRoles([project_key(ref) for ref in rq.get("ProjectIdentities", [])], mode,
                           bool(rq.get("IncludeDeletedRolesFlag")), bool(rq.get("ExcludeReadNotesFlag")))


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
    "InitialAllocation", "KeywordsClearFlag", "LocationClearFlag",
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
                    retrieval if rq.get("FullDetailFlag") else None, bool(rq.get("ExcludeReadNotesFlag")))


def encode_save(saved: SavedRole) -> Reply:
    members: dict[str, Any] = {"ProjectRoleIdentity": role_ref(saved.row),
                               "EngagementTimestamp": timestamp(saved.engagement_version),
                               "LockStolenFromUserIdentity": stolen_from(saved.stolen)}
    if saved.detail is not None:
        members["ProjectRole"] = role_element(saved.detail)
    return Reply(members)


# PwsRequestOrBookRoleHours: Mode R requests hours, A books them, on each role of ProjectRoles
# (PwsProjectRoleHours, with their allocation notes); SubmitOrder (R) submits the roles written,
# FinalizeOrder (A) approves or finalizes them → SubmittedProjectRoles or ApprovedProjectRoles, and
# ProjectRoles, the roles written with the hours and notes of that Mode.

def _bucket_in(record: Record) -> BucketIn:
    daily = record.get("DailyMinutes")
    return BucketIn(start=record.get("BucketStartDate"), scheduling_mode=record.get("SchedulingMode"),
                    weekly_minutes=record.get("WeeklyMinutes"),
                    daily_minutes=tuple(daily) if daily is not None else None)


def _notes_bucket_in(record: Record) -> NotesBucketIn:
    notes = record.get("Notes")
    return NotesBucketIn(start=record.get("BucketStartDate"), notes=tuple(notes) if notes is not None else None)


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
        notes=tuple(_notes_bucket_in(b) for b in record.get("NotesBuckets", []) if b is not None),
        leave_request_open=bool(record.get("LeaveRequestOpenFlag")),
        timestamp=stamp(record.get("Timestamp")),
    )


def _submit_order(record: Record | None) -> SubmitOrder | None:
    if record is None:
        return None
    schedulers = (user_key(ref) for ref in record.get("SchedulerIdentities", []))
    return SubmitOrder(constraint_type=record.get("ConstraintType"), effective_date=record.get("EffectiveDate"),
                       schedulers=tuple(key for key in schedulers if key is not None),
                       scheduler_notes=record.get("SchedulerNotes"))


def _finalize_order(record: Record | None) -> FinalizeOrder | None:
    if record is None:
        return None
    return FinalizeOrder(constraint_type=record.get("ConstraintType"), effective_date=record.get("EffectiveDate"),
                         project_manager_notes=record.get("ProjectManagerNotes"),
                         send_booking_email=bool(record.get("SendBookingEmailFlag")),
                         send_pm_booking_email=bool(record.get("SendPmBookingEmailFlag")))


def decode_hours(rq: Record) -> HoursRequest:
    mode = read_mode(rq, allowed=("R", "A"))
    return HoursRequest(mode, tuple(_hours_order(r) for r in rq.get("ProjectRoles", []) if r is not None),
                        _submit_order(rq.get("SubmitOrder")), _finalize_order(rq.get("FinalizeOrder")))


def encode_hours(written: HoursWritten) -> Reply:
    members: dict[str, Any] = {"ProjectRoles": [role_element(v) for v in written.roles]}
    workflow = written.workflow
    if workflow is not None and workflow.submitted is not None:
        members["SubmittedProjectRoles"] = [
            {"OverallocationFlag": o.overallocated, "ProjectRoleIdentity": role_ref(o.row)} for o in workflow.submitted]
    if workflow is not None and workflow.approved is not None:
        members["ApprovedProjectRoles"] = [
            {"OverallocationFlag": o.overallocated, "ProjectRoleIdentity": role_ref(o.row),
             "TotalApprovedOrFinalizedMinutes": o.booked_minutes} for o in workflow.approved]
    return Reply(members, written.warnings)

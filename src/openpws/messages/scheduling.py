"""PwsGetResourceSchedulingRoleData: a role's requested and booked hours, week by week."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from openpws.contract.record import Record
from openpws.entities import PersonRow
from openpws.messages.binding import Reply, require
from openpws.messages.common import project_ref, resource_ref, role_ref
from openpws.messages.refs import present, project_key, role_key
from openpws.messages.roles import bucket, read_mode
from openpws.services.scheduling import RoleSchedule, RoleSchedules, SchedulingQuery

# No time cards, tasks or resource calendars are modelled.
NOT_MODELLED = ("IncludeActualTimeDataFlag", "IncludeConcurrentRolesFlag", "IncludeTaskDataFlag")


def _midnight(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


def _candidates(schedule: RoleSchedule) -> list[dict[str, Any]]:
    """The requested resource (SelectedCandidateFlag) and the booked one (AssignedCandidateFlag),
    once when they are the same person."""
    selected, assigned = schedule.requested_resource, schedule.booked_resource
    people: dict[int, PersonRow] = {}
    for person in (selected, assigned):
        if person is not None:
            people.setdefault(person.id, person)
    return [{"AssignedCandidateFlag": assigned is not None and assigned.id == person.id,
             "ResourceIdentity": resource_ref(person),
             "SelectedCandidateFlag": selected is not None and selected.id == person.id}
            for person in people.values()]


def role_schedule(schedule: RoleSchedule, mode: str) -> dict[str, Any]:
    """A PwsProjectRoleSchedule; its ResourceIdentity is the resource of the side ``mode`` reads."""
    shown = schedule.booked_resource if mode == "A" else schedule.requested_resource
    return {
        "BookedBuckets": [bucket(h) for h in schedule.booked_hours],
        "BookedHoursFlag": schedule.has_booked_hours,
        "Candidates": _candidates(schedule),
        "ProjectIdentity": project_ref(schedule.project),
        "ProjectName": schedule.project.name,
        "ProjectRoleIdentity": role_ref(schedule.role),
        "ProjectRoleName": schedule.role.name,
        "RequestedBuckets": [bucket(h) for h in schedule.requested_hours],
        "ResourceIdentity": resource_ref(shown) if shown is not None else None,
    }


# PwsGetResourceSchedulingRoleData: RequestOrScheduleMode (R/A), StartDate (both required),
# ProjectIdentity and/or ProjectRoleIdentities, MinimumWeekCount → ProjectRoles
# (PwsProjectRoleSchedule[]), Resources (PwsResourceSchedule[]), StartDate, EndDate (the first day of
# the window's last week), WeekCount, RequestOrScheduleMode.

def decode(rq: Record) -> SchedulingQuery:
    mode = read_mode(rq, "RequestOrScheduleMode", allowed=("R", "A"))
    start: datetime = require(rq, "StartDate")
    roles = rq.get("ProjectRoleIdentities")
    return SchedulingQuery(mode=mode, project=present(rq.get("ProjectIdentity"), project_key),
                           roles=tuple(role_key(r) for r in roles) if roles is not None else None,
                           start=start, minimum_weeks=rq.get("MinimumWeekCount"))


def encode(found: RoleSchedules) -> Reply:
    return Reply({
        "EndDate": _midnight(found.last_week),
        "ProjectRoles": [role_schedule(s, found.mode) for s in found.roles],
        "RequestOrScheduleMode": found.mode,
        "Resources": [{"EmailAddress": p.email, "ProjectRoleIdentity": None, "ResourceIdentity": resource_ref(p)}
                      for p in found.people],
        "StartDate": found.start.astimezone(UTC),
        "WeekCount": found.weeks,
    }, found.warnings)

"""A role's scheduling data as a requester or scheduler reads it before writing hours
(PwsGetResourceSchedulingRoleData).

Rules (the wiki's page for the service; where it is silent, decided here): the roles are those
of ProjectIdentity (its live roles) or those ProjectRoleIdentities names (1 to 100; with both, each
must be on that project). RequestOrScheduleMode R reads as a requester and needs the
``hours-request`` permission, A as a scheduler and needs ``hours-book``, besides ``projects-view``.
The data runs from the week holding StartDate (weeks start on the account's first weekday, Monday,
as the hours buckets do) to the last week holding hours of any role read, and covers at least
MinimumWeekCount weeks, at most 520 (weeks further ahead are left out, with warning 104): every
role gets one requested and one booked bucket per week of that window, empty weeks as buckets of
0 minutes in the role's default scheduling mode.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from openpws import errors
from openpws.entities import HoursRow, PersonRow, ProjectRow, RoleRow
from openpws.services import refs
from openpws.services.context import Context
from openpws.services.permissions import Permission
from openpws.services.refs import MAX_IDENTITIES, Key
from openpws.services.sessions import Caller
from openpws.store import accounts as account_store
from openpws.store import projects as project_store
from openpws.store import roles as role_store

MAX_WEEKS = 520  # the largest MinimumWeekCount: ten years of weeks
DAYS = 7


@dataclass(frozen=True)
class SchedulingQuery:
    """A PwsGetResourceSchedulingRoleData request as sent."""

    mode: str  # R requester, A scheduler
    project: Key | None
    roles: tuple[Key, ...] | None  # None: ProjectRoleIdentities not sent
    start: datetime  # aware
    minimum_weeks: int | None


@dataclass(frozen=True)
class RoleSchedule:
    role: RoleRow
    project: ProjectRow
    requested_resource: PersonRow | None  # the selected candidate
    booked_resource: PersonRow | None  # the assigned candidate
    requested_hours: tuple[HoursRow, ...]  # one bucket per week of the window
    booked_hours: tuple[HoursRow, ...]  # one bucket per week of the window
    has_booked_hours: bool  # in any week, within the window or not


@dataclass(frozen=True)
class RoleSchedules:
    mode: str
    start: datetime  # as sent
    first_week: date
    weeks: int
    roles: list[RoleSchedule]
    people: list[PersonRow]  # every resource the roles name, by display name
    warnings: tuple[errors.Message, ...] = ()

    @property
    def last_week(self) -> date:
        return self.first_week + timedelta(weeks=self.weeks - 1)


def week_of(moment: datetime, week_start: int) -> date:
    """The first day of the week holding ``moment`` (taken in UTC), weeks starting on the account's
    ``week_start`` (0 Monday … 6 Sunday)."""
    day = moment.astimezone(UTC).date()
    return day - timedelta(days=(day.weekday() - week_start) % 7)


def _require(caller: Caller, mode: str) -> None:
    needed = (Permission.PROJECTS_VIEW, Permission.HOURS_BOOK if mode == "A" else Permission.HOURS_REQUEST)
    for permission in needed:
        if not caller.may(permission):
            # A read: refused as one, whichever permission is missing.
            raise errors.fail(errors.VIEW_PERMISSION_DENIED,
                              f"{caller.display_name} lacks the {permission.value} permission")


def _roles(ctx: Context, request: SchedulingQuery) -> tuple[list[RoleRow], list[errors.Message]]:
    tx, caller = ctx.tx, ctx.user
    project = refs.PROJECT.resolve(tx, caller, request.project) if request.project is not None else None
    if request.roles is None or (not request.roles and project is not None):
        if project is None:
            raise errors.fail(errors.FIELD_NOT_SPECIFIED, "neither was sent",
                              field="ProjectIdentity or ProjectRoleIdentities")
        return role_store.of_projects(tx, caller.account_id, [project.id]), []
    keys = request.roles
    if not keys:
        raise errors.fail(errors.FIELD_NOT_SPECIFIED, "no PwsProjectRoleRef was sent",
                          field="ProjectIdentity or ProjectRoleIdentities")
    if len(keys) > MAX_IDENTITIES:
        raise errors.fail(errors.VALUE_OUT_OF_RANGE, f"{len(keys)} were sent",
                          field="The number of ProjectRoleIdentities", minimum=1, maximum=MAX_IDENTITIES)
    found = refs.ROLE.find_all(tx, caller, keys)
    roles: dict[int, RoleRow] = {}
    missing: list[str] = []
    for key, row in zip(keys, found, strict=True):
        if row is None or row.deleted:
            missing.append(refs.ROLE.describe(key) + (" (deleted)" if row is not None else ""))
        elif project is not None and row.project_id != project.id:
            raise errors.fail(errors.PROJECT_ROLE_PROJECT_MISMATCH,
                              f"{refs.ROLE.describe(key)} is not a role of project {project.code}")
        else:
            roles.setdefault(row.id, row)
    warnings = [errors.message(errors.AT_LEAST_ONE_ITEM_NOT_FOUND, "; ".join(missing))] if missing else []
    return list(roles.values()), warnings


def _empty(role: RoleRow, kind: str, week: date) -> HoursRow:
    daily = ",".join("0" * DAYS) if role.scheduling_mode == "D" else None
    return HoursRow(role.id, kind, week, role.scheduling_mode, 0, daily)


def _grid(role: RoleRow, kind: str, stored: Sequence[HoursRow], first: date, weeks: int) -> tuple[HoursRow, ...]:
    by_week = {h.bucket_start: h for h in stored if h.kind == kind}
    return tuple(by_week.get(week) or _empty(role, kind, week)
                 for week in (first + timedelta(weeks=n) for n in range(weeks)))


def role_schedules(ctx: Context, request: SchedulingQuery) -> RoleSchedules:
    """PwsGetResourceSchedulingRoleData: the roles in request order (a project's in the order they
    were created), each with its requested and booked buckets over the window."""
    tx, caller = ctx.tx, ctx.user
    _require(caller, request.mode)
    minimum = request.minimum_weeks if request.minimum_weeks is not None else 1
    if not 0 <= minimum <= MAX_WEEKS:
        raise errors.fail(errors.VALUE_OUT_OF_RANGE, f"MinimumWeekCount={minimum}", field="MinimumWeekCount",
                          minimum=0, maximum=MAX_WEEKS)
    roles, warnings = _roles(ctx, request)
    first = week_of(request.start, account_store.week_start(tx, caller.account_id))
    hours: dict[int, list[HoursRow]] = {}
    for bucket in role_store.hours_of(tx, [r.id for r in roles]):
        hours.setdefault(bucket.role_id, []).append(bucket)
    ahead = [h.bucket_start for found in hours.values() for h in found if h.bucket_start >= first]
    weeks = max(1, minimum, ((max(ahead) - first).days // DAYS + 1) if ahead else 0)
    # A window ends after MAX_WEEKS weeks, and with the calendar: weeks further ahead (and their
    # hours) are left out, and said so.
    most = min(MAX_WEEKS, (date.max - first).days // DAYS + 1)
    if weeks > most:
        warnings.append(errors.message(
            errors.ROW_COUNT_EXCEEDED, f"the window stops at the week of {first + timedelta(weeks=most - 1)}: it holds "
            f"at most {MAX_WEEKS} weeks and ends with the calendar"))
        weeks = most
    projects = project_store.by_ids(tx, caller.account_id, {r.project_id for r in roles})
    people = account_store.people_by_ids(
        tx, caller.account_id, [r.requested_user_id for r in roles] + [r.booked_user_id for r in roles])
    schedules = []
    for role in roles:
        if role.project_id not in projects:  # its project was deleted while this read
            continue
        stored = hours.get(role.id, [])
        schedules.append(RoleSchedule(
            role=role, project=projects[role.project_id],
            requested_resource=people.get(role.requested_user_id) if role.requested_user_id is not None else None,
            booked_resource=people.get(role.booked_user_id) if role.booked_user_id is not None else None,
            requested_hours=_grid(role, "R", stored, first, weeks), booked_hours=_grid(role, "A", stored, first, weeks),
            has_booked_hours=any(h.kind == "A" and h.weekly_minutes for h in stored)))
    named = sorted(people.values(), key=lambda p: (p.display_name.lower(), p.uid))
    return RoleSchedules(request.mode, request.start, first, weeks, schedules, named, tuple(warnings))

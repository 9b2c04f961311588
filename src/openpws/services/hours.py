"""Requested and booked hours of project roles (PwsRequestOrBookRoleHours).

Rules (pws-entities §8): Mode R writes requested hours (the requester's side), Mode A booked
hours (the scheduler's). A bucket is one week starting on the account's first weekday (Monday,
00:00 UTC): W buckets hold WeeklyMinutes (0..10080), D buckets seven DailyMinutes (0..1440 each,
Monday first) whose sum is the week's total. A bucket replaces the bucket of the same week; a
bucket of 0 minutes removes it. ClearExistingHoursFlag clears the Mode's buckets (within the
clear period when one is given) before the new ones are written; CopyRequestedHoursFlag (Mode A)
copies the requested buckets into booked ones first. Requesting opens the role's request;
booking closes it unless LeaveRequestOpenFlag. Every role is checked before anything is written,
so one bad role fails the whole request.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import Connection

from openpws import errors
from openpws.entities import HoursRow, RoleRow
from openpws.services import locks, refs
from openpws.services.access import require
from openpws.services.checks import Stamp, check_date_range
from openpws.services.context import Context
from openpws.services.graph_write import GraphWrite
from openpws.services.permissions import Permission
from openpws.services.refs import Key, PersonKey
from openpws.services.role_views import RoleView, role_views
from openpws.services.roles import SCHEDULING_MODES, ensure_live, live_role
from openpws.services.sessions import Caller
from openpws.store import projects as project_store
from openpws.store import roles as role_store
from openpws.store.counters import next_rowversion

MINUTES_PER_WEEK, MINUTES_PER_DAY, DAYS = 10080, 1440, 7


@dataclass(frozen=True)
class BucketIn:
    """A PwsProjectRoleHoursBucket as sent (None = not sent)."""

    start: datetime | None
    scheduling_mode: str | None
    weekly_minutes: int | None
    daily_minutes: tuple[int | None, ...] | None


@dataclass(frozen=True)
class HoursOrder:
    """One PwsProjectRoleHours as sent."""

    role: Key
    candidate: PersonKey | None  # None also when sent without a member
    clear_candidate: bool
    clear_existing: bool
    clear_start: datetime | None
    clear_end: datetime | None
    copy_requested: bool
    buckets: tuple[BucketIn, ...]
    leave_request_open: bool
    timestamp: Stamp | None


@dataclass(frozen=True)
class HoursRequest:
    """A PwsRequestOrBookRoleHours request: R requests hours, A books them."""

    mode: str
    orders: tuple[HoursOrder, ...]


@dataclass(frozen=True)
class _Week:
    start: date
    scheduling_mode: str
    weekly_minutes: int
    daily_minutes: str | None


def _invalid(where: str, reason: str) -> errors.PwsError:
    return errors.fail(errors.INVALID_HOURS_BUCKET, where, reason=reason)


def _week(bucket: BucketIn, where: str) -> _Week:
    """A bucket checked and put in stored form."""
    start = bucket.start
    if start is None:
        raise _invalid(where, "BucketStartDate is required.")
    start = start.astimezone(UTC)
    if start.weekday() != 0 or (start.hour, start.minute, start.second, start.microsecond) != (0, 0, 0, 0):
        raise _invalid(where, f"BucketStartDate {start:%Y-%m-%dT%H:%M:%SZ} is a {start:%A}; a bucket starts "
                              "on the account's first weekday, Monday, at 00:00 UTC.")
    sent_mode = bucket.scheduling_mode.strip().upper() if bucket.scheduling_mode is not None else None
    if sent_mode is None:
        # Not sent: the minutes given say which kind of bucket it is.
        sent_mode = "D" if bucket.daily_minutes is not None and bucket.weekly_minutes is None else "W"
    if sent_mode not in SCHEDULING_MODES:
        raise errors.fail(errors.INVALID_ENUMERATION_VALUE, f"{where}: SchedulingMode={bucket.scheduling_mode}",
                          field="SchedulingMode", valid=", ".join(SCHEDULING_MODES))
    if sent_mode == "W":
        weekly = bucket.weekly_minutes
        if weekly is None:
            raise _invalid(where, "WeeklyMinutes is required in a weekly (W) bucket.")
        if not 0 <= weekly <= MINUTES_PER_WEEK:
            raise _invalid(where, f"WeeklyMinutes {weekly} is not within 0..{MINUTES_PER_WEEK}.")
        return _Week(start.date(), "W", weekly, None)
    daily = bucket.daily_minutes
    if daily is None or len(daily) != DAYS:
        raise _invalid(where, f"DailyMinutes must hold {DAYS} values (Monday first) in a daily (D) bucket; "
                              f"{0 if daily is None else len(daily)} were sent.")
    if any(m is None or not 0 <= m <= MINUTES_PER_DAY for m in daily):
        raise _invalid(where, f"each DailyMinutes value must be within 0..{MINUTES_PER_DAY}; "
                              f"{', '.join(str(m) for m in daily)} were sent.")
    minutes = [int(m or 0) for m in daily]
    if bucket.weekly_minutes is not None and bucket.weekly_minutes != sum(minutes):
        raise _invalid(where, f"WeeklyMinutes {bucket.weekly_minutes} is not the sum of DailyMinutes "
                              f"({sum(minutes)}).")
    return _Week(start.date(), "D", sum(minutes), ",".join(str(m) for m in minutes))


def _weeks(order: HoursOrder, where: str) -> list[_Week]:
    weeks: list[_Week] = []
    seen: set[date] = set()
    for index, bucket in enumerate(order.buckets):
        week = _week(bucket, f"{where} HoursBuckets[{index}]")
        if week.start in seen:
            raise _invalid(f"{where} HoursBuckets[{index}]", f"two buckets were sent for the week of {week.start}.")
        seen.add(week.start)
        weeks.append(week)
    return weeks


def _check_order(order: HoursOrder, mode: str, where: str) -> list[_Week]:
    if order.copy_requested and mode != "A":
        raise errors.fail(errors.FLAG_NOT_ALLOWED_IN_MODE, where, flag="CopyRequestedHoursFlag", mode="A")
    if order.clear_existing:
        check_date_range(order.clear_start, order.clear_end, "ClearPeriodStartDate", "ClearPeriodEndDate")
    return _weeks(order, where)


def _write(unit: GraphWrite, role: RoleRow, order: HoursOrder, weeks: Sequence[_Week], mode: str,
           candidate_id: int | None, engagement_id: int) -> None:
    tx, now = unit.tx, unit.ctx.now
    if order.clear_existing:
        role_store.clear_hours(tx, role.id, mode, order.clear_start.date() if order.clear_start else None,
                               order.clear_end.date() if order.clear_end else None)
    if order.copy_requested:
        role_store.put_hours(tx, [replace(h, kind="A") for h in role_store.hours_of(tx, [role.id], "R")])
    for week in weeks:
        if week.weekly_minutes == 0:
            role_store.clear_hours(tx, role.id, mode, week.start, week.start)
    role_store.put_hours(tx, [HoursRow(role.id, mode, w.start, w.scheduling_mode, w.weekly_minutes, w.daily_minutes)
                              for w in weeks if w.weekly_minutes])
    values: dict[str, Any] = {"rowversion": next_rowversion(tx), "updated_at": now.astimezone(UTC).replace(tzinfo=None)}
    side = "booked_user_id" if mode == "A" else "requested_user_id"
    if order.clear_candidate:
        values[side] = None
    elif candidate_id is not None:
        values[side] = candidate_id
    if mode == "R":
        values["open_request"] = True
    elif not order.leave_request_open:
        values["open_request"] = False
    role_store.update_role(tx, role.id, values)
    unit.note("hours", "update", role.id)
    unit.note("role", "update", role.id)
    # Each role written takes a version of its own; so does each bump of its graph.
    unit.bump(engagement_id, shared=False)


def _candidate(tx: Connection, caller: Caller, order: HoursOrder) -> int | None:
    if order.clear_candidate or order.candidate is None:
        return None
    return refs.person(tx, caller, order.candidate, "PwsResourceRef").id


def request_or_book(ctx: Context, request: HoursRequest) -> list[RoleView]:
    """PwsRequestOrBookRoleHours: the roles written, in request order (each once), shown in the
    request's Mode."""
    tx, caller, mode, orders = ctx.tx, ctx.user, request.mode, request.orders
    require(caller, Permission.HOURS_BOOK if mode == "A" else Permission.HOURS_REQUEST)
    if not orders:
        raise errors.fail(errors.FIELD_NOT_SPECIFIED, "no PwsProjectRoleHours was sent", field="ProjectRoles")
    weeks = [_check_order(order, mode, f"ProjectRoles[{i}]") for i, order in enumerate(orders)]
    roles = [live_role(tx, caller, order.role) for order in orders]
    projects = project_store.by_ids(tx, caller.account_id, {r.project_id for r in roles})
    for order, role in zip(orders, roles, strict=True):
        if role.project_id not in projects:  # a delete completed between the two reads
            raise errors.fail(errors.PROJECT_ROLE_NOT_FOUND, refs.ROLE.describe(order.role) + " (deleted meanwhile)")
    engagement_of = {r.id: projects[r.project_id].engagement_id for r in roles}
    # PwsRequestOrBookRoleHours has no lock members, so it never steals. A delete that completed
    # while this waited took the roles with their engagement.
    gone = errors.fail(errors.PROJECT_ROLE_NOT_FOUND,
                       ", ".join(refs.ROLE.describe(o.role) for o in orders) + " (deleted meanwhile)")
    unit = GraphWrite.open(ctx, engagement_of.values(), gone)
    unit.guard([locks.scope_of_role(engagement_of[r.id], r.project_id, r.id) for r in roles])
    # Read again under the locks: the timestamps are checked against what is there now.
    current = role_store.by_ids(tx, caller.account_id, {r.id for r in roles})
    for order, role in zip(orders, roles, strict=True):
        if role.id not in current:
            raise errors.fail(errors.PROJECT_ROLE_NOT_FOUND, refs.ROLE.describe(order.role) + " (deleted meanwhile)")
        fresh = ensure_live(current[role.id], order.role)
        unit.check("project role", f"role {refs.ROLE.describe(order.role)}", fresh.rowversion, order.timestamp)
    candidates = [_candidate(tx, caller, order) for order in orders]
    for order, role, role_weeks, candidate_id in zip(orders, roles, weeks, candidates, strict=True):
        _write(unit, role, order, role_weeks, mode, candidate_id, engagement_of[role.id])
    written = role_store.by_ids(tx, caller.account_id, {r.id for r in roles})
    return role_views(tx, caller, [written[role_id] for role_id in dict.fromkeys(r.id for r in roles)], mode)

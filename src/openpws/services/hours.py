"""Requested and booked hours of project roles (PwsRequestOrBookRoleHours).

Rules (pws-entities §8): Mode R writes the requester's side (requested hours), Mode A the
scheduler's (booked hours). A bucket is one week starting on the account's first day of the week
at 00:00 UTC: W buckets hold WeeklyMinutes (0..10080), D buckets seven DailyMinutes (0..1440 each,
from that first day) whose sum is the week's total. A bucket replaces the bucket of the same week;
a bucket of 0 minutes removes it. A notes bucket holds a week's allocation notes, one a day, and
replaces that week's notes on the Mode's side. ClearExistingHoursFlag clears the Mode's buckets and
allocation notes (within the clear period when one is given) before the new ones are written;
CopyRequestedHoursFlag (Mode A) copies the requested buckets and notes into booked ones first.
Requesting opens the role's request; booking closes it unless LeaveRequestOpenFlag. Every role is
checked before anything is written, so one bad role fails the whole request. A SubmitOrder
(Mode R) or FinalizeOrder (Mode A) then submits, or approves or finalizes, the roles written
(``hours_workflow``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import Connection

from openpws import errors
from openpws.entities import AllocationNotesRow, HoursRow, RoleRow
from openpws.services import hours_workflow, locks, refs
from openpws.services.access import require
from openpws.services.checks import Stamp, check_date_range
from openpws.services.context import Context
from openpws.services.graph_write import GraphWrite
from openpws.services.hours_workflow import NOTE_LENGTH, FinalizeOrder, SubmitOrder, WorkflowResult
from openpws.services.permissions import Permission
from openpws.services.refs import Key, PersonKey
from openpws.services.role_views import RoleView, role_views
from openpws.services.roles import SCHEDULING_MODES, ensure_live, live_role
from openpws.services.sessions import Caller
from openpws.services.weeks import day_name
from openpws.store import accounts as account_store
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
class NotesBucketIn:
    """A PwsProjectRoleNotesBucket as sent (None = not sent)."""

    start: datetime | None
    notes: tuple[str | None, ...] | None


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
    notes: tuple[NotesBucketIn, ...]
    leave_request_open: bool
    timestamp: Stamp | None


@dataclass(frozen=True)
class HoursRequest:
    """A PwsRequestOrBookRoleHours request: R requests hours, A books them; a requester may
    submit the roles afterwards, a scheduler approve or finalize them."""

    mode: str
    orders: tuple[HoursOrder, ...]
    submit: SubmitOrder | None = None
    finalize: FinalizeOrder | None = None


@dataclass(frozen=True)
class HoursWritten:
    """The roles written (each once, in request order, shown in the request's Mode), and what the
    SubmitOrder or FinalizeOrder did to them."""

    roles: list[RoleView]
    workflow: WorkflowResult | None

    @property
    def warnings(self) -> tuple[errors.Message, ...]:
        return self.workflow.warnings if self.workflow is not None else ()


@dataclass(frozen=True)
class _Week:
    start: date
    scheduling_mode: str
    weekly_minutes: int
    daily_minutes: str | None


@dataclass(frozen=True)
class _Checked:
    """One PwsProjectRoleHours once checked: its weeks of hours and of notes, in stored form."""

    weeks: list[_Week]
    notes: list[tuple[date, tuple[str | None, ...]]]


def _invalid(where: str, reason: str) -> errors.PwsError:
    return errors.fail(errors.INVALID_HOURS_BUCKET, where, reason=reason)


def _week_start(start: datetime | None, week_start: int, name: str,
                fail: Callable[[str], errors.PwsError]) -> date:
    """A bucket's start date: the account's first day of the week at 00:00 UTC."""
    if start is None:
        raise fail(f"{name} is required.")
    start = start.astimezone(UTC)
    if start.weekday() != week_start or (start.hour, start.minute, start.second, start.microsecond) != (0, 0, 0, 0):
        raise fail(f"{name} {start:%Y-%m-%dT%H:%M:%SZ} is a {day_name(start.weekday())}; a bucket starts on the "
                   f"account's first day of the week, {day_name(week_start)}, at 00:00 UTC.")
    return start.date()


def _week(bucket: BucketIn, where: str, week_start: int) -> _Week:
    """A bucket checked and put in stored form."""
    start = _week_start(bucket.start, week_start, "BucketStartDate", lambda reason: _invalid(where, reason))
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
        return _Week(start, "W", weekly, None)
    daily = bucket.daily_minutes
    if daily is None or len(daily) != DAYS:
        raise _invalid(where, f"DailyMinutes must hold {DAYS} values (from the account's first day of the week, "
                              f"{day_name(week_start)}) in a daily (D) bucket; "
                              f"{0 if daily is None else len(daily)} were sent.")
    if any(m is None or not 0 <= m <= MINUTES_PER_DAY for m in daily):
        raise _invalid(where, f"each DailyMinutes value must be within 0..{MINUTES_PER_DAY}; "
                              f"{', '.join(str(m) for m in daily)} were sent.")
    minutes = [int(m or 0) for m in daily]
    if bucket.weekly_minutes is not None and bucket.weekly_minutes != sum(minutes):
        raise _invalid(where, f"WeeklyMinutes {bucket.weekly_minutes} is not the sum of DailyMinutes "
                              f"({sum(minutes)}).")
    return _Week(start, "D", sum(minutes), ",".join(str(m) for m in minutes))


def _notes_week(bucket: NotesBucketIn, where: str, week_start: int) -> tuple[date, tuple[str | None, ...]]:
    """A notes bucket checked: its week and its seven notes (None for a day without one)."""

    def invalid(reason: str) -> errors.PwsError:
        return errors.fail(errors.INVALID_NOTES_BUCKET, where, reason=reason)

    start = _week_start(bucket.start, week_start, "BucketStartDate", invalid)
    notes = bucket.notes
    if notes is None or len(notes) != DAYS:
        raise invalid(f"Notes must hold {DAYS} values, one a day from the account's first day of the week "
                      f"({day_name(week_start)}); {0 if notes is None else len(notes)} were sent.")
    for day, note in enumerate(notes):
        if note is not None and len(note) > NOTE_LENGTH:
            raise errors.fail(errors.VALUE_TOO_LONG, f"{where} Notes[{day}]: {len(note)} characters",
                              field="Notes", maximum=NOTE_LENGTH)
    # An empty note is no note: a week whose notes are all empty loses its notes.
    return start, tuple(note if note is not None and note.strip() else None for note in notes)


def _check_order(order: HoursOrder, mode: str, where: str, week_start: int) -> _Checked:
    if order.copy_requested and mode != "A":
        raise errors.fail(errors.FLAG_NOT_ALLOWED_IN_MODE, where, flag="CopyRequestedHoursFlag", mode="A")
    if order.clear_existing:
        check_date_range(order.clear_start, order.clear_end, "ClearPeriodStartDate", "ClearPeriodEndDate")
    weeks: list[_Week] = []
    for index, bucket in enumerate(order.buckets):
        at = f"{where} HoursBuckets[{index}]"
        week = _week(bucket, at, week_start)
        if any(w.start == week.start for w in weeks):
            raise _invalid(at, f"two buckets were sent for the week of {week.start}.")
        weeks.append(week)
    notes: list[tuple[date, tuple[str | None, ...]]] = []
    for index, notes_bucket in enumerate(order.notes):
        at = f"{where} NotesBuckets[{index}]"
        start, week_notes = _notes_week(notes_bucket, at, week_start)
        if any(s == start for s, _ in notes):
            raise errors.fail(errors.INVALID_NOTES_BUCKET, at, reason=f"two buckets were sent for the week of {start}.")
        notes.append((start, week_notes))
    return _Checked(weeks, notes)


def _write(unit: GraphWrite, role: RoleRow, order: HoursOrder, checked: _Checked, mode: str,
           candidate_id: int | None, engagement_id: int) -> None:
    tx, now = unit.tx, unit.ctx.now
    if order.clear_existing:
        start = order.clear_start.date() if order.clear_start else None
        end = order.clear_end.date() if order.clear_end else None
        role_store.clear_hours(tx, role.id, mode, start, end)
        role_store.clear_allocation_notes(tx, role.id, mode, start, end)
    if order.copy_requested:
        role_store.put_hours(tx, [replace(h, kind="A") for h in role_store.hours_of(tx, [role.id], "R")])
        role_store.put_allocation_notes(
            tx, [replace(n, kind="A") for n in role_store.allocation_notes_of(tx, [role.id], "R")])
    for week in checked.weeks:
        if week.weekly_minutes == 0:
            role_store.clear_hours(tx, role.id, mode, week.start, week.start)
    role_store.put_hours(tx, [HoursRow(role.id, mode, w.start, w.scheduling_mode, w.weekly_minutes, w.daily_minutes)
                              for w in checked.weeks if w.weekly_minutes])
    role_store.put_allocation_notes(tx, [AllocationNotesRow(role.id, mode, start, notes)
                                         for start, notes in checked.notes])
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


def _check_workflow_mode(request: HoursRequest) -> None:
    """SubmitOrder is the requester's (Mode R), FinalizeOrder the scheduler's (Mode A)."""
    if request.submit is not None and request.mode != "R":
        raise errors.fail(errors.FLAG_NOT_ALLOWED_IN_MODE, f"Mode={request.mode}", flag="SubmitOrder", mode="R")
    if request.finalize is not None and request.mode != "A":
        raise errors.fail(errors.FLAG_NOT_ALLOWED_IN_MODE, f"Mode={request.mode}", flag="FinalizeOrder", mode="A")


def request_or_book(ctx: Context, request: HoursRequest) -> HoursWritten:
    """PwsRequestOrBookRoleHours: write every role's hours and notes, then submit or finalize the
    roles written when asked."""
    tx, caller, mode, orders = ctx.tx, ctx.user, request.mode, request.orders
    require(caller, Permission.HOURS_BOOK if mode == "A" else Permission.HOURS_REQUEST)
    _check_workflow_mode(request)
    if not orders:
        raise errors.fail(errors.FIELD_NOT_SPECIFIED, "no PwsProjectRoleHours was sent", field="ProjectRoles")
    week_start = account_store.week_start(tx, caller.account_id)
    checked = [_check_order(order, mode, f"ProjectRoles[{i}]", week_start) for i, order in enumerate(orders)]
    workflow = hours_workflow.prepare(tx, caller, request.submit, request.finalize)
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
    for order, role, role_checked, candidate_id in zip(orders, roles, checked, candidates, strict=True):
        _write(unit, role, order, role_checked, mode, candidate_id, engagement_of[role.id])
    written_ids = list(dict.fromkeys(r.id for r in roles))
    result = workflow.apply(unit, written_ids) if workflow is not None else None
    written = role_store.by_ids(tx, caller.account_id, written_ids)
    views = role_views(tx, caller, [written[role_id] for role_id in written_ids], mode)
    return HoursWritten(views, result)

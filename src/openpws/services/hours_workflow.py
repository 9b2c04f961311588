"""Submitting roles to schedulers, and approving or finalizing them: the SubmitOrder and
FinalizeOrder of PwsRequestOrBookRoleHours, which act on the roles the request has just written.

Rules (pws-entities §8.1 and the wiki's PwsProjectRoleSubmitOrder,
PwsProjectRoleApproveFinalizeOrder, PwsProjectRoleSubmissionResult and
PwsProjectRoleApprovalResult pages):

- A requester (Mode R) submits: each role becomes assigned to schedulers
  (``AssignedToSchedulersFlag``) with its request open, and ``SchedulerNotes`` is left on it as a
  note. ``SchedulerIdentities`` must name users of the account.
- A scheduler (Mode A) approves (books what was requested) or finalizes (books part of it, or other
  hours, or another resource): either way scheduling of the role is complete, so it is no longer
  assigned to schedulers, and ``ProjectManagerNotes`` is left on it as a note. Its request stays
  open only with LeaveRequestOpenFlag, as after any booking.
- ``ConstraintType`` must be one of N, W, H, T, A. openpws has no working calendars and sends no
  e-mail: the constraint, its ``EffectiveDate`` and the e-mail members change nothing else.
- A resource is overallocated when, in some week of the role's hours on the side written, those
  hours and the resource's booked hours on the account's other live roles add up to more than
  40 hours (2400 minutes): the role's requested resource for a submission, its booked resource for
  an approval.
- A note longer than 1024 characters is cut to 1024, with warning 165 ProjectNoteTruncated.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Connection

from openpws import errors
from openpws.entities import HoursRow, RoleRow
from openpws.services import refs
from openpws.services.graph_write import GraphWrite
from openpws.services.refs import PersonKey
from openpws.services.sessions import Caller
from openpws.store import roles as role_store
from openpws.store.counters import next_uid

CONSTRAINT_TYPES = ("N", "W", "H", "T", "A")
WEEKLY_CAPACITY_MINUTES = 2400
NOTE_LENGTH = 1024


@dataclass(frozen=True)
class SubmitOrder:
    """A PwsProjectRoleSubmitOrder as sent (None = not sent)."""

    constraint_type: str | None
    effective_date: datetime | None
    schedulers: tuple[PersonKey, ...]
    scheduler_notes: str | None


@dataclass(frozen=True)
class FinalizeOrder:
    """A PwsProjectRoleApproveFinalizeOrder as sent (None = not sent)."""

    constraint_type: str | None
    effective_date: datetime | None
    project_manager_notes: str | None
    send_booking_email: bool
    send_pm_booking_email: bool


@dataclass(frozen=True)
class RoleOutcome:
    """What submitting or approving did for one role (PwsProjectRoleSubmissionResult or
    PwsProjectRoleApprovalResult)."""

    row: RoleRow
    overallocated: bool
    booked_minutes: int  # TotalApprovedOrFinalizedMinutes: every booked minute of the role


@dataclass(frozen=True)
class WorkflowResult:
    submitted: list[RoleOutcome] | None  # after a SubmitOrder
    approved: list[RoleOutcome] | None  # after a FinalizeOrder
    warnings: tuple[errors.Message, ...]


@dataclass(frozen=True)
class Workflow:
    """A SubmitOrder or FinalizeOrder checked, ready to act on the roles once they are written."""

    submit: bool  # else approve or finalize
    note: str | None
    warnings: tuple[errors.Message, ...]

    def apply(self, unit: GraphWrite, role_ids: Sequence[int]) -> WorkflowResult:
        tx, caller = unit.tx, unit.ctx.user
        created = unit.ctx.now.astimezone(UTC).replace(tzinfo=None)
        for role_id in role_ids:
            # The role took this request's row version when its hours were written.
            role_store.update_role(tx, role_id, {"assigned_to_schedulers": self.submit})
            if self.note is not None:
                role_store.insert_note(tx, caller.account_id, uid=next_uid(tx), role_id=role_id,
                                       author_user_id=caller.user_id, note=self.note, created_at=created)
        rows = role_store.by_ids(tx, caller.account_id, role_ids)
        hours = role_store.hours_of(tx, role_ids)
        side = "R" if self.submit else "A"
        outcomes = []
        for role_id in role_ids:
            row = rows[role_id]
            resource = row.requested_user_id if self.submit else row.booked_user_id
            written = [h for h in hours if h.role_id == role_id and h.kind == side]
            outcomes.append(RoleOutcome(
                row, _overallocated(tx, caller, row, resource, written),
                sum(h.weekly_minutes for h in hours if h.role_id == role_id and h.kind == "A")))
        return WorkflowResult(outcomes if self.submit else None, None if self.submit else outcomes, self.warnings)


def _constraint(value: str | None) -> None:
    if value is not None and value.strip().upper() not in CONSTRAINT_TYPES:
        raise errors.fail(errors.INVALID_ENUMERATION_VALUE, f"ConstraintType={value}", field="ConstraintType",
                          valid=", ".join(CONSTRAINT_TYPES))


def _note(text: str | None, member: str) -> tuple[str | None, tuple[errors.Message, ...]]:
    """The note to leave (none for an empty one), cut to Projector's limit with warning 165."""
    if text is None or not text.strip():
        return None, ()
    if len(text) <= NOTE_LENGTH:
        return text, ()
    return text[:NOTE_LENGTH], (errors.message(errors.PROJECT_NOTE_TRUNCATED, f"{member}: {len(text)} characters",
                                               maximum=NOTE_LENGTH),)


def prepare(tx: Connection, caller: Caller, submit: SubmitOrder | None,
            finalize: FinalizeOrder | None) -> Workflow | None:
    """The order of the request checked (before anything is written); None without one."""
    if submit is not None:
        _constraint(submit.constraint_type)
        for key in submit.schedulers:
            refs.person(tx, caller, key, "PwsUserRef")
        note, warnings = _note(submit.scheduler_notes, "SchedulerNotes")
        return Workflow(True, note, warnings)
    if finalize is not None:
        _constraint(finalize.constraint_type)
        note, warnings = _note(finalize.project_manager_notes, "ProjectManagerNotes")
        return Workflow(False, note, warnings)
    return None


def _overallocated(tx: Connection, caller: Caller, row: RoleRow, resource_id: int | None,
                   written: Sequence[HoursRow]) -> bool:
    if resource_id is None or not written:
        return False
    weeks = {h.bucket_start: h.weekly_minutes for h in written}
    elsewhere = role_store.booked_minutes(tx, caller.account_id, resource_id, weeks, besides=row.id)
    return any(minutes + elsewhere.get(week, 0) > WEEKLY_CAPACITY_MINUTES for week, minutes in weeks.items())

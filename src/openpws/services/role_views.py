"""What a PwsProjectRoleElement shows of a role, for a Mode: R the requested resource, hours and
allocation notes, A the booked ones, E the booked side of booked roles and the requested side of
the rest; and, whatever the Mode, the role's project, whether it is assigned to schedulers, its
total booked minutes and the notes left on it."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import Connection

from openpws.entities import AllocationNotesRow, HoursRow, PersonRow, ProjectRow, RoleNoteRow, RoleRow
from openpws.services.sessions import Caller
from openpws.store import accounts as account_store
from openpws.store import projects as project_store
from openpws.store import roles as role_store


@dataclass(frozen=True)
class NoteView:
    """A note left on a role, as one caller sees it: its author has read it (Projector ticks a
    note as read by whoever writes it), nobody else has (openpws has no service that marks notes
    read)."""

    row: RoleNoteRow
    author: PersonRow | None
    read: bool


@dataclass(frozen=True)
class RoleView:
    row: RoleRow
    project: ProjectRow
    resource: PersonRow | None  # of the side shown
    buckets: tuple[HoursRow, ...]  # of the side shown, by week
    allocation_notes: tuple[AllocationNotesRow, ...]  # of the side shown, by week
    notes: tuple[NoteView, ...]  # oldest first
    scheduled_minutes: int  # booked, over every week


def _is_booked(row: RoleRow, hours: Sequence[HoursRow]) -> bool:
    return row.booked_user_id is not None or any(h.kind == "A" and h.weekly_minutes for h in hours)


def role_views(tx: Connection, caller: Caller, rows: Sequence[RoleRow], mode: str, *,
               exclude_read_notes: bool = False) -> list[RoleView]:
    """The views of ``rows`` in ``mode`` (without the notes the caller has read when
    ``exclude_read_notes``), with six queries however many rows there are."""
    role_ids = [r.id for r in rows]
    hours_by_role: dict[int, list[HoursRow]] = {}
    for bucket_row in role_store.hours_of(tx, role_ids):
        hours_by_role.setdefault(bucket_row.role_id, []).append(bucket_row)
    allocation_by_role: dict[int, list[AllocationNotesRow]] = {}
    for notes_row in role_store.allocation_notes_of(tx, role_ids):
        allocation_by_role.setdefault(notes_row.role_id, []).append(notes_row)
    notes_by_role: dict[int, list[RoleNoteRow]] = {}
    for note in role_store.notes_of(tx, caller.account_id, role_ids):
        notes_by_role.setdefault(note.role_id, []).append(note)
    people = account_store.people_by_ids(
        tx, caller.account_id, [r.requested_user_id for r in rows] + [r.booked_user_id for r in rows]
        + [n.author_user_id for notes in notes_by_role.values() for n in notes])
    projects = project_store.by_ids(tx, caller.account_id, {r.project_id for r in rows})
    views = []
    for row in rows:
        hours = hours_by_role.get(row.id, [])
        side = mode if mode != "E" else ("A" if _is_booked(row, hours) else "R")
        user_id = row.booked_user_id if side == "A" else row.requested_user_id
        notes = [NoteView(n, people.get(n.author_user_id), n.author_user_id == caller.user_id)
                 for n in notes_by_role.get(row.id, [])]
        views.append(RoleView(
            row, projects[row.project_id], people.get(user_id) if user_id is not None else None,
            tuple(h for h in hours if h.kind == side),
            tuple(n for n in allocation_by_role.get(row.id, []) if n.kind == side),
            tuple(n for n in notes if not (exclude_read_notes and n.read)),
            sum(h.weekly_minutes for h in hours if h.kind == "A"),
        ))
    return views

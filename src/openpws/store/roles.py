"""Project role rows, their requested (R) and booked (A) hours and allocation notes, and the
notes left on them. Every query is confined to one account; roles are soft-deleted
(``deleted``), never removed here."""

from __future__ import annotations

import json
from collections.abc import Collection, Iterable, Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy import Connection, Table, and_, delete, false, func, insert, or_, select

from openpws.entities import AllocationNotesRow, HoursRow, RoleNoteRow, RoleRow
from openpws.store import changes, statements
from openpws.store.rows import ById, UpdateById, fetch, fetch_one
from openpws.store.schema import project_roles, role_allocation_notes, role_hours, role_notes


def by_external_id(connection: Connection, account_id: int, external_id: str) -> RoleRow | None:
    return fetch_one(connection, project_roles, RoleRow, project_roles.c.account_id == account_id,
                     project_roles.c.external_key == external_id.upper())


_BY_IDS = ById(project_roles, RoleRow)


def by_ids(connection: Connection, account_id: int, ids: Iterable[int], *,
           for_update: bool = False) -> dict[int, RoleRow]:
    return _BY_IDS(connection, account_id, ids, for_update=for_update)


def of_projects(connection: Connection, account_id: int, project_ids: Iterable[int], *,
                include_deleted: bool = False) -> list[RoleRow]:
    """The roles of these projects (live ones only unless asked), in the order they were created."""
    wanted = set(project_ids)
    if not wanted:
        return []
    where: list[Any] = [project_roles.c.account_id == account_id, project_roles.c.project_id.in_(wanted)]
    if not include_deleted:
        where.append(project_roles.c.deleted.is_(False))
    return fetch(connection, project_roles, RoleRow, *where, order_by=project_roles.c.id)


def live_names(connection: Connection, account_id: int, project_id: int) -> dict[str, int]:
    """Lower-cased names of the project's live roles, with the role id holding each."""
    rows = fetch(connection, project_roles, RoleRow, project_roles.c.account_id == account_id,
                 project_roles.c.project_id == project_id, project_roles.c.deleted.is_(False))
    return {row.name.lower(): row.id for row in rows}


def insert_role(connection: Connection, account_id: int, values: dict[str, Any]) -> int:
    return changes.insert_row(connection, project_roles, {"account_id": account_id, **_keys(values), **values})


_UPDATE = UpdateById(project_roles)


def update_role(connection: Connection, role_id: int, values: dict[str, Any]) -> None:
    _UPDATE(connection, role_id, {**_keys(values), **values})


def _keys(values: dict[str, Any]) -> dict[str, Any]:
    keys: dict[str, Any] = {}
    if "name" in values:
        keys["name_key"] = values["name"].lower()
    if "external_id" in values:
        keys["external_key"] = values["external_id"].upper() if values["external_id"] is not None else None
    return keys


def hours_of(connection: Connection, role_ids: Iterable[int], kind: str | None = None) -> list[HoursRow]:
    """Hours buckets of these roles (of one kind, or both), ordered by role and week."""
    wanted = set(role_ids)
    if not wanted:
        return []
    where: list[Any] = [role_hours.c.role_id.in_(wanted)]
    if kind is not None:
        where.append(role_hours.c.kind == kind)
    return fetch(connection, role_hours, HoursRow, *where, order_by=(role_hours.c.role_id, role_hours.c.bucket_start))


def put_hours(connection: Connection, rows: Iterable[HoursRow]) -> None:
    """Write buckets, replacing any bucket of the same role, kind and week."""
    rows = list(rows)
    where = _weeks(role_hours, [(row.role_id, row.kind, row.bucket_start) for row in rows])
    before = changes.capture(connection, role_hours, where)
    for row in rows:
        statements.change(connection, delete(role_hours).where(
            role_hours.c.role_id == row.role_id, role_hours.c.kind == row.kind,
            role_hours.c.bucket_start == row.bucket_start))
        statements.change(connection, insert(role_hours).values(
            role_id=row.role_id, kind=row.kind, bucket_start=row.bucket_start, scheduling_mode=row.scheduling_mode,
            weekly_minutes=row.weekly_minutes, daily_minutes=row.daily_minutes))
    changes.add(connection, role_hours, before, changes.capture(connection, role_hours, where))


def _weeks(table: Table, keys: Sequence[tuple[int, str, date]]) -> Any:
    """The rows of ``table`` (hours or allocation notes) of these (role, side, week) keys."""
    return or_(false(), *(and_(table.c.role_id == role_id, table.c.kind == kind, table.c.bucket_start == start)
                          for role_id, kind, start in keys))


def clear_hours(connection: Connection, role_id: int, kind: str, start: date | None = None,
                end: date | None = None) -> int:
    """Remove a role's buckets of one kind whose week starts within [start, end] (either bound
    open when None); returns how many were removed."""
    where: list[Any] = [role_hours.c.role_id == role_id, role_hours.c.kind == kind]
    if start is not None:
        where.append(role_hours.c.bucket_start >= start)
    if end is not None:
        where.append(role_hours.c.bucket_start <= end)
    return changes.delete_rows(connection, role_hours, and_(*where))


def booked_minutes(connection: Connection, account_id: int, user_id: int, weeks: Collection[date], *,
                   besides: int) -> dict[date, int]:
    """The minutes ``user_id`` is booked for, week by week among ``weeks``, on the account's live
    roles other than ``besides``."""
    if not weeks:
        return {}
    query = (select(role_hours.c.bucket_start, func.sum(role_hours.c.weekly_minutes))
             .join(project_roles, project_roles.c.id == role_hours.c.role_id)
             .where(project_roles.c.account_id == account_id, project_roles.c.booked_user_id == user_id,
                    project_roles.c.deleted.is_(False), project_roles.c.id != besides, role_hours.c.kind == "A",
                    role_hours.c.bucket_start.in_(sorted(weeks)))
             .group_by(role_hours.c.bucket_start))
    return {start: int(total) for start, total in statements.rows(connection, query)}


# --- allocation notes -----------------------------------------------------------------------------

def allocation_notes_of(connection: Connection, role_ids: Iterable[int],
                        kind: str | None = None) -> list[AllocationNotesRow]:
    """Allocation notes of these roles (of one side, or both), ordered by role and week."""
    wanted = set(role_ids)
    if not wanted:
        return []
    table = role_allocation_notes
    where: list[Any] = [table.c.role_id.in_(wanted)]
    if kind is not None:
        where.append(table.c.kind == kind)
    query = select(table.c.role_id, table.c.kind, table.c.bucket_start, table.c.notes).where(*where).order_by(
        table.c.role_id, table.c.bucket_start)
    return [AllocationNotesRow(role_id, row_kind, start, tuple(json.loads(notes)))
            for role_id, row_kind, start, notes in statements.rows(connection, query)]


def put_allocation_notes(connection: Connection, rows: Iterable[AllocationNotesRow]) -> None:
    """Write the notes of these weeks, replacing those of the same role, side and week; a week
    whose seven notes are all None loses its notes."""
    table = role_allocation_notes
    rows = list(rows)
    where = _weeks(table, [(row.role_id, row.kind, row.bucket_start) for row in rows])
    before = changes.capture(connection, table, where)
    for row in rows:
        statements.change(connection, delete(table).where(
            table.c.role_id == row.role_id, table.c.kind == row.kind, table.c.bucket_start == row.bucket_start))
        if any(note is not None for note in row.notes):
            statements.change(connection, insert(table).values(
                role_id=row.role_id, kind=row.kind, bucket_start=row.bucket_start,
                notes=json.dumps(list(row.notes), ensure_ascii=False)))
    changes.add(connection, table, before, changes.capture(connection, table, where))


def clear_allocation_notes(connection: Connection, role_id: int, kind: str | None = None, start: date | None = None,
                           end: date | None = None) -> int:
    """Remove a role's allocation notes (of one side, or both) whose week starts within [start,
    end] (either bound open when None); returns how many weeks lost theirs."""
    table = role_allocation_notes
    where: list[Any] = [table.c.role_id == role_id]
    if kind is not None:
        where.append(table.c.kind == kind)
    if start is not None:
        where.append(table.c.bucket_start >= start)
    if end is not None:
        where.append(table.c.bucket_start <= end)
    return changes.delete_rows(connection, table, and_(*where))


# --- notes of roles -------------------------------------------------------------------------------

def insert_note(connection: Connection, account_id: int, *, uid: int, role_id: int, author_user_id: int, note: str,
                created_at: datetime) -> None:
    changes.insert_row(connection, role_notes, {
        "uid": uid, "account_id": account_id, "role_id": role_id, "author_user_id": author_user_id, "note": note,
        "created_at": created_at})


def notes_of(connection: Connection, account_id: int, role_ids: Iterable[int]) -> list[RoleNoteRow]:
    """The notes of these roles, oldest first."""
    wanted = set(role_ids)
    if not wanted:
        return []
    return fetch(connection, role_notes, RoleNoteRow, role_notes.c.account_id == account_id,
                 role_notes.c.role_id.in_(wanted), order_by=(role_notes.c.role_id, role_notes.c.id))

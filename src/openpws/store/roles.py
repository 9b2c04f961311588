"""Project role rows and their requested (R) and booked (A) hours. Every query is confined to
one account; roles are soft-deleted (``deleted``), never removed here."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from typing import Any

from sqlalchemy import Connection, delete, insert

from openpws.entities import HoursRow, RoleRow
from openpws.store import statements
from openpws.store.rows import ById, UpdateById, fetch, fetch_one
from openpws.store.schema import project_roles, role_hours


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
    return int(statements.scalar(connection, insert(project_roles).values(
        account_id=account_id, **_keys(values), **values).returning(project_roles.c.id)))


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
    for row in rows:
        statements.change(connection, delete(role_hours).where(
            role_hours.c.role_id == row.role_id, role_hours.c.kind == row.kind,
            role_hours.c.bucket_start == row.bucket_start))
        statements.change(connection, insert(role_hours).values(
            role_id=row.role_id, kind=row.kind, bucket_start=row.bucket_start, scheduling_mode=row.scheduling_mode,
            weekly_minutes=row.weekly_minutes, daily_minutes=row.daily_minutes))


def clear_hours(connection: Connection, role_id: int, kind: str, start: date | None = None,
                end: date | None = None) -> int:
    """Remove a role's buckets of one kind whose week starts within [start, end] (either bound
    open when None); returns how many were removed."""
    where: list[Any] = [role_hours.c.role_id == role_id, role_hours.c.kind == kind]
    if start is not None:
        where.append(role_hours.c.bucket_start >= start)
    if end is not None:
        where.append(role_hours.c.bucket_start <= end)
    return statements.change(connection, delete(role_hours).where(*where))

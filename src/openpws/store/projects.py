"""Project rows. Every query is confined to one account."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, insert, update

from openpws.store.rows import fetch, fetch_one
from openpws.store.schema import projects


@dataclass(frozen=True)
class ProjectRow:
    id: int
    uid: int
    engagement_id: int
    code: str
    name: str
    stage_id: int
    manager_user_id: int | None
    open_date: datetime | None
    close_date: datetime | None
    description: str | None
    percent_likelihood: float | None
    ever_invoiced: bool
    rowversion: int
    updated_at: datetime


def by_code(connection: Connection, account_id: int, code: str) -> ProjectRow | None:
    return fetch_one(connection, projects, ProjectRow, projects.c.account_id == account_id,
                     projects.c.code_key == code.upper())


def by_uid(connection: Connection, account_id: int, uid: int) -> ProjectRow | None:
    return fetch_one(connection, projects, ProjectRow, projects.c.account_id == account_id, projects.c.uid == uid)


def by_ids(connection: Connection, account_id: int, ids: Iterable[int]) -> dict[int, ProjectRow]:
    wanted = set(ids)
    if not wanted:
        return {}
    rows = fetch(connection, projects, ProjectRow, projects.c.account_id == account_id, projects.c.id.in_(wanted))
    return {row.id: row for row in rows}


def of_engagements(connection: Connection, account_id: int, engagement_ids: Iterable[int]) -> list[ProjectRow]:
    """The projects of these engagements, ordered by code."""
    wanted = set(engagement_ids)
    if not wanted:
        return []
    return fetch(connection, projects, ProjectRow, projects.c.account_id == account_id,
                 projects.c.engagement_id.in_(wanted), order_by=projects.c.code_key)


def insert_project(connection: Connection, account_id: int, values: dict[str, Any]) -> int:
    return int(connection.execute(
        insert(projects).values(account_id=account_id, code_key=values["code"].upper(), **values)
        .returning(projects.c.id)
    ).scalar_one())


def update_project(connection: Connection, project_id: int, values: dict[str, Any]) -> None:
    if "code" in values:
        values = {**values, "code_key": values["code"].upper()}
    connection.execute(update(projects).where(projects.c.id == project_id).values(**values))

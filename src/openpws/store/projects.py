"""Project rows. Every query is confined to one account."""

from __future__ import annotations

from collections.abc import Iterable, Set
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, func, or_, select

from openpws.entities import ProjectRow
from openpws.store import changes, statements
from openpws.store.rows import ById, UpdateById, columns_for, fetch, fetch_one, like_pattern
from openpws.store.schema import contract_line_items, engagements, projects, stages


def by_code(connection: Connection, account_id: int, code: str) -> ProjectRow | None:
    return fetch_one(connection, projects, ProjectRow, projects.c.account_id == account_id,
                     projects.c.code_key == code.upper())


_BY_IDS = ById(projects, ProjectRow)


def by_ids(connection: Connection, account_id: int, ids: Iterable[int]) -> dict[int, ProjectRow]:
    return _BY_IDS(connection, account_id, ids)


def codes_of_engagement(connection: Connection, account_id: int, engagement_id: int) -> list[str]:
    return statements.scalars(connection, select(projects.c.code).where(
        projects.c.account_id == account_id, projects.c.engagement_id == engagement_id))


def search(connection: Connection, account_id: int, *, query: str | None, client_ids: Set[int],
           include_closed: bool, updated_since: datetime | None, limit: int | None) -> list[ProjectRow]:
    """Projects ordered by code, in one query. With ``query``: those whose code or name contains
    it, whose contract line item's or engagement's code or name contains it, or whose engagement's
    client is one of ``client_ids``. Projects in a closed stage are left out unless ``include_closed``."""
    where: list[Any] = [projects.c.account_id == account_id]
    if query:
        pattern = like_pattern(query)
        by_contract = select(contract_line_items.c.id).where(
            contract_line_items.c.account_id == account_id,
            or_(func.lower(contract_line_items.c.code).like(pattern, escape="\\"),
                func.lower(contract_line_items.c.name).like(pattern, escape="\\")))
        by_engagement = select(engagements.c.id).where(
            engagements.c.account_id == account_id,
            or_(func.lower(engagements.c.code).like(pattern, escape="\\"),
                func.lower(engagements.c.name).like(pattern, escape="\\"),
                engagements.c.client_id.in_(client_ids)))
        where.append(or_(func.lower(projects.c.code).like(pattern, escape="\\"),
                         func.lower(projects.c.name).like(pattern, escape="\\"),
                         projects.c.contract_line_item_id.in_(by_contract),
                         projects.c.engagement_id.in_(by_engagement)))
    if not include_closed:
        where.append(projects.c.stage_id.in_(select(stages.c.id).where(
            stages.c.account_id == account_id, stages.c.closed.is_(False))))
    if updated_since is not None:
        where.append(projects.c.updated_at >= updated_since)
    statement = select(*columns_for(projects, ProjectRow)).where(*where).order_by(projects.c.code_key)
    if limit is not None:
        statement = statement.limit(limit)
    return [ProjectRow(**row._asdict()) for row in statements.rows(connection, statement)]


def of_engagements(connection: Connection, account_id: int, engagement_ids: Iterable[int]) -> list[ProjectRow]:
    """The projects of these engagements, ordered by code."""
    wanted = set(engagement_ids)
    if not wanted:
        return []
    return fetch(connection, projects, ProjectRow, projects.c.account_id == account_id,
                 projects.c.engagement_id.in_(wanted), order_by=projects.c.code_key)


def insert_project(connection: Connection, account_id: int, values: dict[str, Any]) -> int:
    return changes.insert_row(connection, projects, {
        "account_id": account_id, "code_key": values["code"].upper(), **values})


_UPDATE = UpdateById(projects)


def update_project(connection: Connection, project_id: int, values: dict[str, Any]) -> None:
    if "code" in values:
        values = {**values, "code_key": values["code"].upper()}
    _UPDATE(connection, project_id, values)

"""The set-based search behind PwsGetEngagementList."""

from __future__ import annotations

from collections.abc import Set
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, func, or_, select

from openpws.entities import EngagementRow
from openpws.store import statements
from openpws.store.rows import columns_for, like_pattern
from openpws.store.schema import contract_line_items, engagements, projects, stages


def search(connection: Connection, account_id: int, *, query: str | None, client_ids: Set[int],
           include_closed: bool, updated_since: datetime | None, purchase_order_number: str | None,
           limit: int | None) -> list[EngagementRow]:
    """Engagements ordered by code. With ``query``: those whose code or name contains it, whose
    client is one of ``client_ids``, or that have a contract line item or a project whose code or
    name contains it."""
    where: list[Any] = [engagements.c.account_id == account_id]
    if query:
        pattern = like_pattern(query)
        with_project = select(projects.c.engagement_id).where(
            projects.c.account_id == account_id,
            or_(func.lower(projects.c.code).like(pattern, escape="\\"),
                func.lower(projects.c.name).like(pattern, escape="\\")))
        with_contract = select(contract_line_items.c.engagement_id).where(
            contract_line_items.c.account_id == account_id,
            or_(func.lower(contract_line_items.c.code).like(pattern, escape="\\"),
                func.lower(contract_line_items.c.name).like(pattern, escape="\\")))
        where.append(or_(func.lower(engagements.c.code).like(pattern, escape="\\"),
                         func.lower(engagements.c.name).like(pattern, escape="\\"),
                         engagements.c.client_id.in_(client_ids),
                         engagements.c.id.in_(with_contract),
                         engagements.c.id.in_(with_project)))
    if not include_closed:
        where.append(engagements.c.stage_id.in_(select(stages.c.id).where(
            stages.c.account_id == account_id, stages.c.closed.is_(False))))
    if updated_since is not None:
        where.append(engagements.c.updated_at >= updated_since)
    if purchase_order_number is not None:
        where.append(engagements.c.purchase_order_number == purchase_order_number)
    statement = select(*columns_for(engagements, EngagementRow)).where(*where).order_by(engagements.c.code_key)
    if limit is not None:
        statement = statement.limit(limit)
    return [EngagementRow(**row._asdict()) for row in statements.rows(connection, statement)]

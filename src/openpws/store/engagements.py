"""Engagement rows. Every query is confined to one account.

``rowversion`` is the engagement graph's version (EngagementTimestamp): ``bump`` gives it the
next value whenever the engagement, one of its projects or one of their roles is written.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, bindparam, func, select, update

from openpws.entities import EngagementRow
from openpws.store import changes, statements
from openpws.store.counters import next_rowversion
from openpws.store.prebuilt import Prebuilt
from openpws.store.rows import ById, UpdateById
from openpws.store.schema import engagements

_BY_IDS = ById(engagements, EngagementRow)


def by_ids(connection: Connection, account_id: int, ids: Iterable[int]) -> dict[int, EngagementRow]:
    return _BY_IDS(connection, account_id, ids)


def lock(connection: Connection, account_id: int, engagement_id: int) -> EngagementRow | None:
    """The engagement, locked for the rest of the transaction (writers of one graph take turns),
    or None when a writer that committed meanwhile deleted it."""
    return _BY_IDS(connection, account_id, [engagement_id], for_update=True).get(engagement_id)


def insert_engagement(connection: Connection, account_id: int, values: dict[str, Any]) -> int:
    return changes.insert_row(connection, engagements, {
        "account_id": account_id, "code_key": values["code"].upper(), **values})


_UPDATE = UpdateById(engagements)


def update_engagement(connection: Connection, engagement_id: int, values: dict[str, Any]) -> None:
    if "code" in values:
        values = {**values, "code_key": values["code"].upper()}
    _UPDATE(connection, engagement_id, values)


_BUMP = Prebuilt(update(engagements).where(engagements.c.id == bindparam("engagement"))
                 .values(rowversion=bindparam("version"), updated_at=bindparam("now")))


def bump(connection: Connection, engagement_id: int, now: datetime, *, version: int | None = None) -> int:
    """Give the engagement graph a new version (and touch updated_at): ``version`` when the write
    already took one for the rows it changed, else the next. Returns the version."""
    if version is None:
        version = next_rowversion(connection)
    before = changes.before_ids(connection, engagements, [engagement_id])
    _BUMP.run(connection, engagement=engagement_id, version=version, now=now.replace(tzinfo=None))
    changes.after_ids(connection, engagements, before, [engagement_id])
    return version


def count(connection: Connection, account_id: int) -> int:
    return int(statements.scalar(connection, select(func.count()).select_from(engagements).where(
        engagements.c.account_id == account_id)))

"""The users of an account read as resources. Every query is confined to one account."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, func, or_

from openpws.entities import ResourceRow
from openpws.store.rows import fetch, like_pattern
from openpws.store.schema import users

# Resources are listed by display name; the Uid orders users who share one.
_ORDER = (func.lower(users.c.display_name), users.c.uid)


def search(connection: Connection, account_id: int, query: str | None, updated_since: datetime | None,
           limit: int | None) -> list[ResourceRow]:
    """Users whose display name or reference system id contains ``query`` (case-insensitive) and
    who were created at or after ``updated_since``, ordered by display name, at most ``limit``."""
    where: list[Any] = [users.c.account_id == account_id]
    if query:
        pattern = like_pattern(query)
        where.append(or_(func.lower(users.c.display_name).like(pattern, escape="\\"),
                         func.lower(users.c.reference_id).like(pattern, escape="\\")))
    if updated_since is not None:
        where.append(users.c.created_at >= updated_since)
    return fetch(connection, users, ResourceRow, *where, order_by=_ORDER, limit=limit)


def matching(connection: Connection, account_id: int, *, uids: Iterable[int], names: Iterable[str],
             reference_ids: Iterable[str]) -> list[ResourceRow]:
    """Users with one of these Uids, display names or reference system ids (names and ids given
    lower-cased, matched case-insensitively): the candidates a set of PwsResourceRefs can name,
    read in one query."""
    wanted_uids, wanted_names, wanted_ids = sorted(set(uids)), sorted(set(names)), sorted(set(reference_ids))
    keys: list[Any] = []
    if wanted_uids:
        keys.append(users.c.uid.in_(wanted_uids))
    if wanted_names:
        keys.append(func.lower(users.c.display_name).in_(wanted_names))
    if wanted_ids:
        keys.append(func.lower(users.c.reference_id).in_(wanted_ids))
    if not keys:
        return []
    return fetch(connection, users, ResourceRow, users.c.account_id == account_id, or_(*keys), order_by=_ORDER)

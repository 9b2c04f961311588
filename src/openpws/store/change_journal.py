"""The change journal's rows (``schema.change_journal``): one per write request that changed an
account's rows, written in that request's transaction, read through the account's window of its
newest ``size`` rows (as the request journal is: ``store.journal``), trimmed now and then; and
the look-ups that show its rows (the codes and names their ids stand for, the parents of rows
it did not change).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Connection, Table, and_, delete, insert, or_, select, true, update

from openpws.store import statements
from openpws.store.schema import (
    change_journal,
    clients,
    contract_line_items,
    engagements,
    project_roles,
    projects,
    stages,
    users,
)


@dataclass(frozen=True)
class Record:
    id: int
    account_id: int
    real_at: datetime  # naive UTC
    time: datetime  # naive UTC, the account's clock
    login: str | None
    operation: str | None
    preview: bool
    undoes: int | None
    undone_by: int | None
    kinds: tuple[str, ...]
    rows: int
    parts: str | None  # None when not asked for


@dataclass(frozen=True)
class Filter:
    since: datetime | None = None  # naive UTC, the account's clock
    kind: str | None = None  # only records that changed rows of this kind
    previews: bool = False  # previews too (they changed nothing)


def insert_record(connection: Connection, values: Mapping[str, Any]) -> None:
    statements.change(connection, insert(change_journal).values(dict(values)))


def _window(connection: Connection, account_id: int, size: int) -> ColumnElement[bool]:
    """The condition the account's newest ``size`` rows meet."""
    if size <= 0:
        return true()
    oldest = statements.rows(connection, select(change_journal.c.real_at, change_journal.c.id)
                             .where(change_journal.c.account_id == account_id)
                             .order_by(change_journal.c.real_at.desc(), change_journal.c.id.desc())
                             .offset(size - 1).limit(1))
    if not oldest:
        return true()
    at, ident = oldest[0]
    return or_(change_journal.c.real_at > at, and_(change_journal.c.real_at == at, change_journal.c.id >= ident))


def trim(connection: Connection, account_id: int, size: int) -> int:
    """Delete the account's rows older than its newest ``size``; how many went."""
    oldest = statements.rows(connection, select(change_journal.c.real_at, change_journal.c.id)
                             .where(change_journal.c.account_id == account_id)
                             .order_by(change_journal.c.real_at.desc(), change_journal.c.id.desc())
                             .offset(size).limit(1))
    if not oldest:
        return 0
    at, ident = oldest[0]
    return statements.change(connection, delete(change_journal).where(
        change_journal.c.account_id == account_id,
        or_(change_journal.c.real_at < at, and_(change_journal.c.real_at == at, change_journal.c.id <= ident))))


_SUMMARY = (change_journal.c.id, change_journal.c.account_id, change_journal.c.real_at, change_journal.c.time,
            change_journal.c.login, change_journal.c.operation, change_journal.c.preview, change_journal.c.undoes,
            change_journal.c.undone_by, change_journal.c.kinds, change_journal.c.rows)


def _record(found: Any, parts: bool) -> Record:
    ident, account_id, real_at, time, login, operation, preview, undoes, undone_by, kinds, rows = found[:11]
    return Record(int(ident), int(account_id), real_at, time, login, operation, bool(preview), undoes, undone_by,
                  tuple(k for k in kinds.split(",") if k), int(rows), found[11] if parts else None)


def read(connection: Connection, account_id: int, size: int, given: Filter, limit: int | None, *,
         after: int | None = None) -> list[Record]:
    """The account's records in its window that ``given`` lets through, newest first, with their
    parts; with ``after``, only those newer than that record."""
    conditions: list[ColumnElement[bool]] = [change_journal.c.account_id == account_id,
                                             _window(connection, account_id, size)]
    if not given.previews:
        conditions.append(change_journal.c.preview.is_(False))
    if given.since is not None:
        conditions.append(change_journal.c.time >= given.since)
    if given.kind is not None:
        conditions.append(change_journal.c.kinds.contains(f",{given.kind},", autoescape=True))
    if after is not None:
        mark = statements.rows(connection, select(change_journal.c.real_at).where(change_journal.c.id == after))
        if mark:
            conditions.append(or_(change_journal.c.real_at > mark[0][0],
                                  and_(change_journal.c.real_at == mark[0][0], change_journal.c.id > after)))
    query = (select(*_SUMMARY, change_journal.c.parts).where(*conditions)
             .order_by(change_journal.c.real_at.desc(), change_journal.c.id.desc()))
    if limit is not None:
        query = query.limit(limit)
    return [_record(found, True) for found in statements.rows(connection, query)]


def find(connection: Connection, account_id: int, size: int, ident: int, *, for_update: bool = False) -> Record | None:
    query = select(*_SUMMARY, change_journal.c.parts).where(
        change_journal.c.account_id == account_id, change_journal.c.id == ident,
        _window(connection, account_id, size))
    if for_update and connection.dialect.name == "postgresql":
        query = query.with_for_update()
    found = statements.rows(connection, query)
    return _record(found[0], True) if found else None


def mark_undone(connection: Connection, ident: int, by: int) -> None:
    statements.change(connection, update(change_journal).where(change_journal.c.id == ident).values(undone_by=by))


def clear(connection: Connection, account_id: int) -> int:
    return statements.change(connection, delete(change_journal).where(change_journal.c.account_id == account_id))


# --- what the rows' ids stand for ----------------------------------------------------------------

# The text that names a row of each table another row refers to: its code, number, name or login.
LABELS: dict[str, Any] = {"stages": stages.c.name, "users": users.c.login, "clients": clients.c.number,
                          "contract_line_items": contract_line_items.c.code, "engagements": engagements.c.code,
                          "projects": projects.c.code, "project_roles": project_roles.c.external_id}
_TABLES: dict[str, Table] = {t.name: t for t in (stages, users, clients, contract_line_items, engagements, projects,
                                                 project_roles)}


def labels(connection: Connection, account_id: int, table: str, ids: Iterable[int]) -> dict[int, str | None]:
    """The label of each of these rows of ``table`` (one of LABELS') that is there now."""
    wanted = sorted(set(ids))
    if not wanted:
        return {}
    source = _TABLES[table]
    found: dict[int, str | None] = {}
    for first in range(0, len(wanted), 500):
        chunk = wanted[first:first + 500]
        query = select(source.c.id, LABELS[table]).where(source.c.account_id == account_id, source.c.id.in_(chunk))
        found.update({int(i): label for i, label in statements.rows(connection, query)})
    return found


# Where each kind of row hangs in an account's tree: the table and column of its parent.
PARENTS: dict[str, tuple[str, str]] = {"project_roles": ("projects", "project_id"),
                                       "projects": ("engagements", "engagement_id"),
                                       "contract_line_items": ("engagements", "engagement_id"),
                                       "engagements": ("clients", "client_id"),
                                       "clients": ("clients", "parent_id")}


def parents(connection: Connection, account_id: int, table: str, ids: Iterable[int]) -> dict[int, int | None]:
    """The parent id (PARENTS) of each of these rows of ``table`` that is there now."""
    wanted = sorted(set(ids))
    if not wanted or table not in PARENTS:
        return {}
    source = _TABLES[table]
    column = source.c[PARENTS[table][1]]
    found: dict[int, int | None] = {}
    for first in range(0, len(wanted), 500):
        chunk = wanted[first:first + 500]
        query = select(source.c.id, column).where(source.c.account_id == account_id, source.c.id.in_(chunk))
        found.update({int(i): (None if p is None else int(p)) for i, p in statements.rows(connection, query)})
    return found

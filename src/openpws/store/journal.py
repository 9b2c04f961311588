"""The request journal's rows: batches of exchanges written at once, the blocks their ids come
from, the per-account window of the newest rows, reads through that window, and trimming.

Every read sees an account's journal through its window: the newest ``size`` rows by
(real_at, id), whatever more the table holds until the next trim. So the bound holds exactly
however late a trim comes, and a trim is one indexed statement now and then, not one per request.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import psycopg
from sqlalchemy import ColumnElement, Connection, and_, delete, insert, or_, select, true
from sqlalchemy.exc import IntegrityError

from openpws.store import statements
from openpws.store.schema import accounts, journal, journal_blocks

# Ids a process takes at once (see schema.journal_blocks).
JOURNAL_BLOCK = 1000


@dataclass(frozen=True)
class Filter:
    """Which rows of a journal to read; None: any."""

    operation: str | None = None
    status: str | None = None
    error: int | None = None
    since: datetime | None = None  # naive UTC, on the account's clock: rows at or after it
    # Rows newer than this (real_at, id): what a tail has not shown yet.
    after: tuple[datetime, int] | None = None
    # Rows older than this (real_at, id): the next page of a list, newest first.
    before: tuple[datetime, int] | None = None


@dataclass(frozen=True)
class Row:
    id: int
    real_at: datetime  # naive UTC
    time: datetime  # naive UTC, the account's clock
    login: str | None
    operation: str | None
    http_status: int
    status: str
    errors: tuple[int, ...]
    duration_ms: float
    not_modelled: tuple[str, ...]
    fault_rule: int | None
    request_xml: str | None  # None when not asked for
    response_xml: str | None


def _text(xml: bytes) -> str:
    """Kept bytes as text, for reading (they are kept as the bytes that went over the wire, masked:
    decoding them as each exchange is recorded cost the request more than its reading does)."""
    # A NUL (which the bytes may hold) is shown as the replacement character, as text allows.
    return xml.decode("utf-8", "replace").replace("\x00", "\ufffd")


def take_block(connection: Connection) -> int:
    """The next block's number; older rows go (the newest keeps the sequence where it is on SQLite)."""
    number = int(statements.scalar(connection, insert(journal_blocks).returning(journal_blocks.c.id)))
    statements.change(connection, delete(journal_blocks).where(journal_blocks.c.id < number))
    return number


# The columns of a row as ``insert_rows`` takes it, in order.
COLUMNS = ("id", "account_id", "real_at", "time", "login", "operation", "http_status", "status", "errors",
           "duration_ms", "not_modelled", "fault_rule", "request_xml", "response_xml")
_INSERT = f"INSERT INTO journal ({', '.join(COLUMNS)}) VALUES ({', '.join('%s' for _ in COLUMNS)})"  # noqa: S608 - constant text


def _sqlite_time(moment: datetime) -> str:
    """A naive datetime as SQLAlchemy keeps it in SQLite (so that its queries compare it right)."""
    return moment.isoformat(" ", "microseconds")


# Rows one SQLite INSERT takes at most (its bound parameters stay far below SQLite's limit of 32,766).
_SQLITE_ROWS = 500
_SQLITE_ROW = f"({', '.join('?' for _ in COLUMNS)})"


def insert_rows(connection: Connection, rows: Sequence[tuple[Any, ...]]) -> None:
    """Insert ``rows`` (values in COLUMNS' order, times naive UTC) without SQLAlchemy's per-row
    work, which cost more than the rest of recording an exchange (measured). On SQLite one
    statement of many rows (the driver's executemany steps, and lets go of the interpreter, once
    per row); on PostgreSQL the driver's executemany (one pipeline). A row whose account is gone
    fails them all, as an IntegrityError."""
    dialect = connection.dialect.name
    try:
        if dialect == "sqlite":
            for first in range(0, len(rows), _SQLITE_ROWS):
                chunk = rows[first:first + _SQLITE_ROWS]
                values = [v for r in chunk for v in (r[0], r[1], _sqlite_time(r[2]), _sqlite_time(r[3]), *r[4:])]
                sql = f"INSERT INTO journal ({', '.join(COLUMNS)}) VALUES {', '.join([_SQLITE_ROW] * len(chunk))}"  # noqa: S608 - constant text
                statements.cursor_change(connection, sql, values)
        else:
            statements.cursor_change_many(connection, _INSERT, rows)
    except (sqlite3.IntegrityError, psycopg.IntegrityError) as error:
        raise IntegrityError("INSERT INTO journal", None, error) from error


def existing_accounts(connection: Connection, ids: Iterable[int]) -> set[int]:
    wanted = sorted(set(ids))
    if not wanted:
        return set()
    return {int(i) for i in statements.scalars(connection, select(accounts.c.id).where(accounts.c.id.in_(wanted)))}


def _of(account_id: int | None) -> ColumnElement[bool]:
    return journal.c.account_id.is_(None) if account_id is None else journal.c.account_id == account_id


def _window(connection: Connection, account_id: int | None, size: int) -> ColumnElement[bool]:
    """The condition a row of the account's newest ``size`` meets (every row when size is 0)."""
    if size <= 0:
        return true()
    oldest = statements.rows(connection, select(journal.c.real_at, journal.c.id).where(_of(account_id))
                             .order_by(journal.c.real_at.desc(), journal.c.id.desc()).offset(size - 1).limit(1))
    if not oldest:
        return true()
    at, ident = oldest[0]
    return or_(journal.c.real_at > at, and_(journal.c.real_at == at, journal.c.id >= ident))


def trim(connection: Connection, account_id: int | None, size: int) -> int:
    """Delete the rows older than the account's newest ``size``; how many went."""
    oldest = statements.rows(connection, select(journal.c.real_at, journal.c.id).where(_of(account_id))
                             .order_by(journal.c.real_at.desc(), journal.c.id.desc()).offset(size).limit(1))
    if not oldest:
        return 0
    at, ident = oldest[0]
    return statements.change(connection, delete(journal).where(
        _of(account_id), or_(journal.c.real_at < at, and_(journal.c.real_at == at, journal.c.id <= ident))))


_SUMMARY = (journal.c.id, journal.c.real_at, journal.c.time, journal.c.login, journal.c.operation,
            journal.c.http_status, journal.c.status, journal.c.errors, journal.c.duration_ms,
            journal.c.not_modelled, journal.c.fault_rule)


def _numbers(text: str) -> tuple[int, ...]:
    return tuple(int(n) for n in text.strip(",").split(",") if n)


def _row(found: Sequence[Any], xml: bool) -> Row:
    ident, real_at, time, login, operation, http_status, status, errors, duration, not_modelled, rule = found[:11]
    return Row(int(ident), real_at, time, login, operation, int(http_status), status, _numbers(errors),
               float(duration), tuple(m for m in not_modelled.split(",") if m), rule,
               *((_text(bytes(found[11])), _text(bytes(found[12]))) if xml else (None, None)))


def _conditions(given: Filter) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = []
    if given.operation is not None:
        conditions.append(journal.c.operation == given.operation)
    if given.status is not None:
        conditions.append(journal.c.status == given.status)
    if given.error is not None:
        conditions.append(journal.c.errors.contains(f",{given.error},"))
    if given.since is not None:
        conditions.append(journal.c.time >= given.since)
    if given.after is not None:
        at, ident = given.after
        conditions.append(or_(journal.c.real_at > at, and_(journal.c.real_at == at, journal.c.id > ident)))
    if given.before is not None:
        at, ident = given.before
        conditions.append(or_(journal.c.real_at < at, and_(journal.c.real_at == at, journal.c.id < ident)))
    return conditions


def read(connection: Connection, account_id: int | None, size: int, given: Filter, limit: int | None, *,
         xml: bool = False, oldest_first: bool = False) -> list[Row]:
    """The account's rows (None: the server-wide journal's) in its window that ``given`` lets
    through, newest first (or oldest first), at most ``limit``; with their XML when ``xml``."""
    columns = (*_SUMMARY, journal.c.request_xml, journal.c.response_xml) if xml else _SUMMARY
    order = (journal.c.real_at.asc(), journal.c.id.asc()) if oldest_first else (
        journal.c.real_at.desc(), journal.c.id.desc())
    query = (select(*columns).where(_of(account_id), _window(connection, account_id, size), *_conditions(given))
             .order_by(*order))
    if limit is not None:
        query = query.limit(limit)
    return [_row(found, xml) for found in statements.rows(connection, query)]


def find(connection: Connection, account_id: int | None, size: int, ident: int) -> Row | None:
    query = select(*_SUMMARY, journal.c.request_xml, journal.c.response_xml).where(
        _of(account_id), journal.c.id == ident, _window(connection, account_id, size))
    found = statements.rows(connection, query)
    return _row(found[0], True) if found else None


def clear(connection: Connection, account_id: int | None) -> int:
    return statements.change(connection, delete(journal).where(_of(account_id)))

"""The request journal's rows: the exchanges of an account written at once as one chunk, the blocks
their ids come from, the per-account window of the newest exchanges, reads through that window,
and trimming.

A row of ``journal`` is a chunk: the exchanges of one account (or of none) that one process wrote
in one transaction, as two LZ4 blocks, their summaries (JSON) and their bodies (every request and
response, in turn), with the span of their real times. Writing an exchange so costs a share of
one INSERT and of compressing a run of similar SOAP envelopes; a row per exchange, with its index
entry and its later DELETE, cost more than all the rest of answering a small request (measured:
bench/app_cpu.py). Reads are rare, and read an account's chunks whole (trimming keeps them to
little more than its window), sorting and filtering them here.

Every read sees an account's journal through its window: the newest ``size`` exchanges by
(real_at, id), whatever more the table holds until the next trim. So the bound holds exactly
however late a trim comes; a trim deletes the chunks that hold only exchanges older than it.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import lz4.block
import psycopg
from sqlalchemy import ColumnElement, Connection, delete, insert, select
from sqlalchemy.exc import IntegrityError

from openpws.store import statements
from openpws.store.accounts import held
from openpws.store.schema import accounts, journal, journal_blocks

# Ids a process takes at once (see schema.journal_blocks).
JOURNAL_BLOCK = 1000
# A chunk holds at most about this many bytes of bodies (before compression; one longer exchange
# makes a chunk of its own): reading one exchange's XML decompresses its chunk's whole stream.
CHUNK_BYTES = 1_000_000

# An exchange as ``chunk`` takes it, field by field (a tuple: recording builds one per exchange):
# id, real_us, time_us (real time and the account's clock, µs since 1970-01-01 UTC), login,
# operation, http_status, status, errors (tuple of ints), duration_ms, not_modelled (tuple of
# str), fault_rule, then the request's and the response's bodies as kept (masked bytes).
ENTRY = ("id", "real_us", "time_us", "login", "operation", "http_status", "status", "errors", "duration_ms",
         "not_modelled", "fault_rule", "request", "response")
_SUMMARY = len(ENTRY) - 2  # the fields a summary holds, before the lengths of the two bodies


def _pack(data: bytes) -> bytes:
    """``data`` compressed: an LZ4 block. The envelopes of a chunk are much alike, and LZ4 shrinks
    them about as much as zlib's fastest level does (PwsGetClient: 260 exchanges, 680 kB, to 9 kB
    against 8) in a tenth of the time, 0.2 µs an exchange against 2.8; with zlib the journal cost
    each request 6 µs more in all (bench/app_cpu.py --compare-journal)."""
    packed: bytes = lz4.block.compress(data)
    return packed


def _unpack(blob: bytes) -> bytes:
    data: bytes = lz4.block.decompress(blob)
    return data


_EPOCH = datetime(1970, 1, 1)  # naive UTC, as the store keeps times
_EPOCH_UTC = _EPOCH.replace(tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)


def micros(moment: datetime) -> int:
    """``moment`` (naive UTC, or aware) in µs since 1970-01-01 UTC."""
    return (moment - (_EPOCH if moment.tzinfo is None else _EPOCH_UTC)) // _MICROSECOND


def moment(us: int) -> datetime:
    """µs since 1970-01-01 UTC as a naive UTC datetime."""
    return _EPOCH + timedelta(microseconds=us)


@dataclass(frozen=True)
class Filter:
    """Which exchanges of a journal to read; None: any."""

    operation: str | None = None
    status: str | None = None
    error: int | None = None
    since: datetime | None = None  # naive UTC, on the account's clock: exchanges at or after it
    # Exchanges newer than this (real_at, id): what a tail has not shown yet.
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


# --- writing ---------------------------------------------------------------------------------------

def chunks(account_id: int | None, entries: Sequence[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
    """The rows of ``entries`` (each as ENTRY lists its fields) of account ``account_id``, for
    ``insert_chunks``: one, or more when their bodies come to over CHUNK_BYTES."""
    found: list[tuple[Any, ...]] = []
    first = size = 0
    for at, entry in enumerate(entries):
        length = len(entry[_SUMMARY]) + len(entry[_SUMMARY + 1])
        if size and size + length > CHUNK_BYTES:
            found.append(chunk(account_id, entries[first:at]))
            first, size = at, 0
        size += length
    found.append(chunk(account_id, entries[first:]))
    return found


def chunk(account_id: int | None, entries: Sequence[tuple[Any, ...]]) -> tuple[Any, ...]:
    """The row of ``entries`` (each as ENTRY lists its fields) of account ``account_id``, for
    ``insert_chunks``: its id is the smallest of theirs (ids are unique, so chunks' are too)."""
    bodies: list[bytes] = []
    summaries = []
    for entry in entries:
        request, response = entry[_SUMMARY], entry[_SUMMARY + 1]
        bodies += (request, response)
        summaries.append((*entry[:_SUMMARY], len(request), len(response)))
    reals = [entry[1] for entry in entries]
    # One compress call per blob: each lets go of the interpreter, and taking it back from a
    # thread that is answering requests costs that thread a wake-up (a call per body cost the
    # requests more than the compressing did).
    return (min(entry[0] for entry in entries), account_id, min(reals), max(reals), len(entries),
            _pack(json.dumps(summaries, separators=(",", ":")).encode()), _pack(b"".join(bodies)))


# The columns of a row as ``insert_chunks`` takes it (``chunk``'s), in order.
COLUMNS = ("id", "account_id", "oldest", "newest", "entries", "summaries", "bodies")
_INSERT = {"sqlite": f"INSERT INTO journal ({', '.join(COLUMNS)}) VALUES ({', '.join('?' for _ in COLUMNS)})",  # noqa: S608 - constant text
           "postgresql": f"INSERT INTO journal ({', '.join(COLUMNS)}) VALUES ({', '.join('%s' for _ in COLUMNS)})"}  # noqa: S608


def insert_chunks(connection: Connection, rows: Sequence[tuple[Any, ...]]) -> None:
    """Insert ``rows`` (``chunk``'s) through the driver's executemany: a few rows a transaction, one
    per account written to. A row whose account is gone fails them all, as an IntegrityError."""
    try:
        statements.cursor_change_many(connection, _INSERT[connection.dialect.name], rows)
    except (sqlite3.IntegrityError, psycopg.IntegrityError) as error:
        raise IntegrityError("INSERT INTO journal", None, error) from error


def account_codes(connection: Connection, ids: Iterable[int]) -> dict[int, str]:
    """The lower-cased codes of the accounts of ``ids`` that are there, held against a concurrent
    deletion for the rest of the transaction (``accounts.held``)."""
    wanted = sorted(set(ids))
    if not wanted:
        return {}
    query = held(connection, select(accounts.c.id, accounts.c.code_key).where(accounts.c.id.in_(wanted)))
    return {int(ident): str(code) for ident, code in statements.rows(connection, query)}


def _of(account_id: int | None) -> ColumnElement[bool]:
    return journal.c.account_id.is_(None) if account_id is None else journal.c.account_id == account_id


def _trim_sql(mark: str, account: str) -> str:
    # The chunks from the newest back until they hold ``size`` exchanges (each whose newer ones
    # hold fewer), and the oldest real time among them.
    seen = ("SELECT oldest, SUM(entries) OVER (ORDER BY newest DESC ROWS UNBOUNDED PRECEDING) - entries AS newer "  # noqa: S608 - constant text
            f"FROM journal WHERE {account}")
    return (f"DELETE FROM journal WHERE {account} AND newest < "  # noqa: S608 - constant text
            f"(SELECT MIN(oldest) FROM ({seen}) AS seen WHERE newer < {mark})")


# By dialect, and by whether the journal is an account's (True) or the server-wide one.
_TRIM = {(dialect, named): _trim_sql(mark, f"account_id = {mark}" if named else "account_id IS NULL")
         for dialect, mark in (("sqlite", "?"), ("postgresql", "%s")) for named in (True, False)}


def trim(connection: Connection, account_id: int | None, size: int) -> int:
    """Delete the account's chunks that hold only exchanges older than its newest ``size``; how
    many went. One statement on the driver's cursor: it runs every ``size // 10`` exchanges an
    account is written, and through SQLAlchemy it cost those exchanges about 2 µs each.

    Any set of chunks that holds ``size`` exchanges shows the window's bound: all of them are at
    or after the oldest real time among those chunks, so an exchange before that time has ``size``
    newer ones, and a chunk whose newest exchange is before it holds only exchanges outside the
    window. The set taken is that of the newest chunks (by their newest exchange), the one that
    lets the most go. When the account has fewer than ``size`` exchanges, it is every chunk, and
    no chunk's newest exchange is before the oldest of all: nothing goes."""
    named = account_id is not None
    parameters = (account_id, account_id, size) if named else (size,)
    return statements.cursor_change(connection, _TRIM[connection.dialect.name, named], parameters)


# --- reading ---------------------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class _Found:
    """An exchange's summary as read, and where its bodies lie in its chunk's stream."""

    chunk: int
    at: int  # the offset of its request in the chunk's bodies
    summary: list[Any]  # a summary as ``chunk`` wrote it

    @property
    def key(self) -> tuple[int, int]:  # newest first is by (real_at, id)
        return self.summary[1], self.summary[0]


def _window(connection: Connection, account_id: int | None, size: int) -> list[_Found]:
    """The account's newest ``size`` exchanges (every one when size is 0), newest first."""
    found: list[_Found] = []
    for ident, summaries in statements.rows(connection, select(journal.c.id, journal.c.summaries)
                                            .where(_of(account_id))):
        at = 0
        for summary in json.loads(_unpack(summaries)):
            found.append(_Found(int(ident), at, summary))
            at += summary[_SUMMARY] + summary[_SUMMARY + 1]
    found.sort(key=_key, reverse=True)
    return found[:size] if size > 0 else found


def _key(found: _Found) -> tuple[int, int]:
    return found.key


def _passes(summary: list[Any], given: Filter, since: int | None, after: tuple[int, int] | None,
            before: tuple[int, int] | None) -> bool:
    """Whether ``given`` lets the exchange of ``summary`` through (``since``, ``after`` and
    ``before`` are its times in µs)."""
    return ((given.operation is None or summary[4] == given.operation)
            and (given.status is None or summary[6] == given.status)
            and (given.error is None or given.error in summary[7])
            and (since is None or summary[2] >= since)
            and (after is None or (summary[1], summary[0]) > after)
            and (before is None or (summary[1], summary[0]) < before))


def _bodies(connection: Connection, chunks: Iterable[int]) -> dict[int, bytes]:
    """The bodies streams of ``chunks``, decompressed, by chunk id."""
    wanted = sorted(set(chunks))
    if not wanted:
        return {}
    return {int(ident): _unpack(blob) for ident, blob in statements.rows(
        connection, select(journal.c.id, journal.c.bodies).where(journal.c.id.in_(wanted)))}


def _row(found: _Found, bodies: dict[int, bytes] | None) -> Row:
    ident, real_us, time_us, login, operation, http_status, status, errors, duration, not_modelled, rule, \
        request_length, response_length = found.summary
    xml: tuple[str | None, str | None] = (None, None)
    if bodies is not None:
        stream, at = bodies[found.chunk], found.at
        xml = (_text(stream[at:at + request_length]),
               _text(stream[at + request_length:at + request_length + response_length]))
    return Row(int(ident), moment(real_us), moment(time_us), login, operation, int(http_status), status,
               tuple(errors), float(duration), tuple(not_modelled), rule, *xml)


def read(connection: Connection, account_id: int | None, size: int, given: Filter, limit: int | None, *,
         xml: bool = False, oldest_first: bool = False) -> list[Row]:
    """The account's exchanges (None: the server-wide journal's) in its window that ``given`` lets
    through, newest first (or oldest first), at most ``limit``; with their XML when ``xml``."""
    since = None if given.since is None else micros(given.since)
    after = None if given.after is None else (micros(given.after[0]), given.after[1])
    before = None if given.before is None else (micros(given.before[0]), given.before[1])
    chosen = [found for found in _window(connection, account_id, size)
              if _passes(found.summary, given, since, after, before)]
    if oldest_first:
        chosen.reverse()
    if limit is not None:
        chosen = chosen[:limit]
    bodies = _bodies(connection, (found.chunk for found in chosen)) if xml else None
    return [_row(found, bodies) for found in chosen]


def find(connection: Connection, account_id: int | None, size: int, ident: int) -> Row | None:
    for found in _window(connection, account_id, size):
        if found.summary[0] == ident:
            return _row(found, _bodies(connection, [found.chunk]))
    return None


def clear(connection: Connection, account_id: int | None) -> int:
    """Delete the account's journal: how many chunks went."""
    return statements.change(connection, delete(journal).where(_of(account_id)))

"""The one path every statement of the store takes, and the one hook that sees each of them.

Statements reach the database in three ways, all of them through this module and nowhere else in
the store (a test keeps it so):

- Core statements, run by SQLAlchemy's ``Connection.execute``: ad-hoc queries, inserts, the
  set-based deletes (``rows``, ``scalar``, ``scalars``, ``change``). Each is read to its end here.
- Prebuilt statements (``prebuilt.py``), compiled once and run on the driver's own cursor
  (``cursor_rows``, ``cursor_change``): the hot ones, whose answer costs the database less than
  an execution through SQLAlchemy costs Python; and the bulk ones of a snapshot's restore, run
  once per row by the driver's executemany (``cursor_change_many``), and of an undo on
  PostgreSQL, a COPY (``copy_rows``).
- The transaction's own (``transaction``): BEGIN on SQLite, COMMIT, ROLLBACK. On PostgreSQL the
  driver sends BEGIN itself, just before a transaction's first statement, so its round trip
  counts in that statement's time.

``TRACE`` is told of each statement once it has run, failed ones included: an ``Executed`` with the
SQL and parameters as the driver received them, the time it took (reading its rows included) and
how many rows it gave or changed. SQLAlchemy's events see only the first kind, and only
while the cursor runs; this hook sees all three. With nothing subscribed, a statement costs one
attribute check more than running it directly. The hook is the process's: a subscriber that cares
about one store compares ``Executed.connection.engine`` (as ``sql_log.SqlLog`` does).

Not statements of the store, so not traced: what the pool does to a connection (SQLite's PRAGMAs
when it opens one, PostgreSQL's pre-ping when one leaves it) and Alembic's migrations.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from time import perf_counter
from typing import Any, TypeVar, TypeVarTuple, overload

from psycopg import IsolationLevel
from sqlalchemy import Connection, Row, Transaction
from sqlalchemy.exc import StatementError
from sqlalchemy.sql.base import Executable
from sqlalchemy.sql.selectable import TypedReturnsRows

T = TypeVar("T")
Ts = TypeVarTuple("Ts")
Parameters = Mapping[str, Any] | Sequence[Mapping[str, Any]] | None

# What ``Executed.rows`` holds for a statement that neither gives nor changes rows (BEGIN, COMMIT),
# or that failed.
NO_ROWS = -1


@dataclass(frozen=True, slots=True)
class Executed:
    """One statement that ran (or failed) on ``connection``."""

    connection: Connection
    sql: str
    # As the driver received them: a tuple or a mapping, a list of them for an executemany,
    # None for none.
    parameters: Any
    seconds: float
    rows: int  # given (a SELECT, a RETURNING) or changed; NO_ROWS when neither applies or it failed
    error: BaseException | None = None


Subscriber = Callable[[Executed], None]


class Trace:
    """Who is told of each statement. Subscribers run on the thread that ran the statement, right
    after it; one that raises fails the statement's caller, so they must not."""

    __slots__ = ("_lock", "subscribers")

    def __init__(self) -> None:
        # Replaced whole, never changed in place: the statement path reads it without a lock.
        self.subscribers: tuple[Subscriber, ...] = ()
        self._lock = threading.Lock()

    def subscribe(self, subscriber: Subscriber) -> Subscriber:
        with self._lock:
            self.subscribers = (*self.subscribers, subscriber)
        return subscriber

    def unsubscribe(self, subscriber: Subscriber) -> None:
        with self._lock:
            kept = list(self.subscribers)
            if subscriber in kept:
                kept.remove(subscriber)
            self.subscribers = tuple(kept)

    def emit(self, executed: Executed) -> None:
        for subscriber in self.subscribers:
            subscriber(executed)


TRACE = Trace()


# --- Core statements -------------------------------------------------------------------------------

@overload
def rows(tx: Connection, statement: TypedReturnsRows[*Ts], parameters: Parameters = None) -> Sequence[Row[*Ts]]: ...


@overload
def rows(tx: Connection, statement: Executable, parameters: Parameters = None) -> Sequence[Row[*tuple[Any, ...]]]: ...


def rows(tx: Connection, statement: Executable, parameters: Parameters = None) -> Sequence[Row[*tuple[Any, ...]]]:
    """Every row the statement gives (a SELECT, or an INSERT, UPDATE or DELETE … RETURNING)."""
    if TRACE.subscribers:
        found: Sequence[Row[*tuple[Any, ...]]] = _core_traced(
            tx, statement, parameters, lambda result: result.all(), len)
        return found
    return tx.execute(statement, parameters).all()


def scalar(tx: Connection, statement: Executable, parameters: Parameters = None) -> Any:
    """The first column of the first row, or None when there is no row."""
    found = rows(tx, statement, parameters)
    return found[0][0] if found else None


def scalars(tx: Connection, statement: Executable, parameters: Parameters = None) -> list[Any]:
    """The first column of every row."""
    return [row[0] for row in rows(tx, statement, parameters)]


def change(tx: Connection, statement: Executable, parameters: Parameters = None) -> int:
    """Run an INSERT, UPDATE or DELETE that gives no rows: how many rows it changed."""
    if TRACE.subscribers:
        changed: int = _core_traced(tx, statement, parameters, lambda result: result.rowcount, _itself)
        return changed
    return tx.execute(statement, parameters).rowcount


def _itself(count: int) -> int:
    return count


def _core_traced(tx: Connection, statement: Executable, parameters: Parameters, read: Callable[[Any], T],
                 count: Callable[[T], int]) -> T:
    started = perf_counter()
    try:
        result = tx.execute(statement, parameters)
        answer = read(result)
    except BaseException as error:
        seconds = perf_counter() - started
        if isinstance(error, StatementError) and error.statement is not None:
            sql, sent = error.statement, error.params
        else:  # failed before reaching the driver
            sql, sent = str(statement), parameters
        TRACE.emit(Executed(tx, sql, sent, seconds, NO_ROWS, error))
        raise
    seconds = perf_counter() - started
    context = result.context
    sent = context.parameters[0] if len(context.parameters) == 1 else context.parameters
    TRACE.emit(Executed(tx, context.statement, sent or None, seconds, count(answer)))
    return answer


# --- statements run on the driver's cursor ---------------------------------------------------------

def cursor_rows(tx: Connection, sql: str, parameters: Any) -> tuple[list[tuple[Any, ...]], Any]:
    """Every row the statement gives, as the driver gives them, and the cursor (for its
    description)."""
    cursor = _cursor(tx)
    if TRACE.subscribers:
        return _cursor_traced(tx, cursor, sql, parameters, True), cursor
    cursor.execute(sql, parameters)
    found: list[tuple[Any, ...]] = cursor.fetchall()
    return found, cursor


def cursor_change(tx: Connection, sql: str, parameters: Any) -> int:
    """Run a statement that gives no rows: how many rows it changed."""
    cursor = _cursor(tx)
    if TRACE.subscribers:
        changed: int = _cursor_traced(tx, cursor, sql, parameters, False)
        return changed
    cursor.execute(sql, parameters)
    return int(cursor.rowcount)


def cursor_change_many(tx: Connection, sql: str, rows: Sequence[Sequence[Any]]) -> int:
    """Run a statement that gives no rows once for each of ``rows`` (the driver's executemany,
    whose loop runs in C on SQLite): how many rows it changed."""
    cursor = _cursor(tx)
    if not TRACE.subscribers:
        cursor.executemany(sql, rows)
        return int(cursor.rowcount)
    started = perf_counter()
    try:
        cursor.executemany(sql, rows)
    except BaseException as error:
        TRACE.emit(Executed(tx, sql, list(rows), perf_counter() - started, NO_ROWS, error))
        raise
    TRACE.emit(Executed(tx, sql, list(rows), perf_counter() - started, int(cursor.rowcount)))
    return int(cursor.rowcount)


def copy_rows(tx: Connection, sql: str, rows: Iterable[Sequence[Any]]) -> int:
    """PostgreSQL: ``COPY … FROM STDIN`` of ``rows`` (the driver writes each row's values by its
    dumpers, in C): much the fastest way to put many rows in. How many went in."""
    cursor = _cursor(tx)
    started = perf_counter()
    count = 0
    try:
        with cursor.copy(sql) as copy:
            for row in rows:
                copy.write_row(row)
                count += 1
    except BaseException as error:
        if TRACE.subscribers:
            TRACE.emit(Executed(tx, sql, None, perf_counter() - started, NO_ROWS, error))
        raise
    if TRACE.subscribers:
        TRACE.emit(Executed(tx, sql, None, perf_counter() - started, count))
    return count


def _cursor_traced(tx: Connection, cursor: Any, sql: str, parameters: Any, fetch: bool) -> Any:
    started = perf_counter()
    try:
        cursor.execute(sql, parameters)
        answer = cursor.fetchall() if fetch else int(cursor.rowcount)
    except BaseException as error:
        TRACE.emit(Executed(tx, sql, parameters or None, perf_counter() - started, NO_ROWS, error))
        raise
    seconds = perf_counter() - started
    TRACE.emit(Executed(tx, sql, parameters or None, seconds, len(answer) if isinstance(answer, list) else answer))
    return answer


def _cursor(tx: Connection) -> Any:
    """The cursor kept with the driver's connection: making one per statement cost psycopg about
    9 µs (measured). It is used by one thread at a time, as its connection is."""
    record = tx.connection
    driver = record.dbapi_connection
    assert driver is not None
    kept = record.info.get(_CURSOR)
    if kept is None or kept[0] is not driver:  # none yet, or the pool replaced the connection
        kept = record.info[_CURSOR] = (driver, driver.cursor())
    return kept[1]


_CURSOR = "openpws.cursor"


# --- transactions ----------------------------------------------------------------------------------

# How long SQLite's busy handler lets a statement wait for a lock another connection holds.
SQLITE_BUSY_TIMEOUT_MS = 30_000


class WouldWait(BaseException):
    """A write asked to wait at most a moment for SQLite's write lock would wait longer (another
    process holds it); nothing was done. A BaseException, so that it passes the handlers that
    turn errors into answers on its way back to whoever asked (the runner)."""


def begin(connection: Connection, *, write: bool, wait_ms: int | None = None) -> None:
    """Start the transaction that ``connection.begin()`` will then own.

    On SQLite, BEGIN is sent here on the driver's cursor (the driver's own transaction handling is
    off), and a write transaction takes the database's write lock up front: a read-then-write
    transaction that only upgraded later could fail with SQLITE_BUSY instead of waiting.
    SQLAlchemy's own begin sends nothing to SQLite, and its commit and rollback end this
    transaction. (Sent by a "begin" event listener instead, every request paid for the engine's
    event dispatch.) On PostgreSQL the driver begins by itself, with the isolation set here.

    ``wait_ms`` bounds how long a SQLite write waits for the write lock: longer raises WouldWait."""
    if connection.dialect.name != "sqlite":
        _postgresql_isolation(connection, write)
        return
    if wait_ms is None or not write:
        cursor_change(connection, "BEGIN IMMEDIATE" if write else "BEGIN", ())
        return
    cursor_change(connection, f"PRAGMA busy_timeout={int(wait_ms)}", ())
    try:
        cursor_change(connection, "BEGIN IMMEDIATE", ())
    except sqlite3.OperationalError as error:
        if "locked" in str(error) or "busy" in str(error):
            raise WouldWait from None
        raise
    finally:
        cursor_change(connection, f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}", ())


def _postgresql_isolation(connection: Connection, write: bool) -> None:
    """A read sees one snapshot (REPEATABLE READ, READ ONLY): under READ COMMITTED each statement
    sees what committed before it, so a read of projects and then of their engagements could miss an
    engagement a delete removed in between. A write stays READ COMMITTED: it locks the rows it
    builds on (FOR UPDATE) and then re-reads them as they are now, which a snapshot would hide.
    psycopg puts the level into the BEGIN it sends, so this costs no round trip; it is set only when
    the connection's last transaction was of the other kind."""
    driver: Any = connection.connection.dbapi_connection
    if driver is None or driver.read_only is (not write):  # already set for this kind
        return
    driver.isolation_level = _READ_COMMITTED if write else _REPEATABLE_READ
    driver.read_only = not write


_READ_COMMITTED, _REPEATABLE_READ = IsolationLevel.READ_COMMITTED, IsolationLevel.REPEATABLE_READ


def holds_account(connection: Connection) -> bool:
    """Whether the transaction on ``connection`` must hold the row of the account it writes in
    (FOR KEY SHARE, ``accounts.hold``): a PostgreSQL write. Without it, a write that read the
    account just before a concurrent deletion of the account removed it would insert rows that
    refer to an account that is gone (a foreign key violation) or, committing between the
    deletion's DELETE of a table and its DELETE of the account, make the deletion fail. SQLite's
    writers take turns, and a read writes nothing."""
    if connection.dialect.name != "postgresql":
        return False
    driver: Any = connection.connection.dbapi_connection
    return driver is not None and driver.read_only is False


class transaction:  # lower case: it was a function, and is still called as one
    """One transaction on ``connection``, committed at the end of the block (rolled back by an
    exception, or in any case when not ``commit``: a preview's): ``with transaction(connection,
    write=True) as tx: …``. (A class: as a generator, the context manager cost every request over
    a µs more.)"""

    __slots__ = ("commit", "connection", "started", "wait_ms", "write")
    started: Transaction

    def __init__(self, connection: Connection, *, write: bool, wait_ms: int | None = None,
                 commit: bool = True) -> None:
        self.connection = connection
        self.write = write
        self.wait_ms = wait_ms
        self.commit = commit

    def __enter__(self) -> Connection:
        begin(self.connection, write=self.write, wait_ms=self.wait_ms)
        self.started = self.connection.begin()
        self.started.__enter__()
        return self.connection

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, traceback: Any) -> None:
        # SQLAlchemy's own block ends the transaction (and rolls back a COMMIT that failed), timed.
        started = self.started
        if kind is None and not self.commit:
            _end(self.connection, "ROLLBACK", started, None, None, None, rollback=True)
        elif kind is None:
            _end(self.connection, "COMMIT", started, None, None, None)
        elif started.is_active:
            _end(self.connection, "ROLLBACK", started, kind, error, traceback)
        else:
            started.__exit__(kind, error, traceback)


def _end(connection: Connection, sql: str, started: Transaction, kind: type[BaseException] | None,
         error: BaseException | None, traceback: Any, *, rollback: bool = False) -> None:
    # ``rollback``: a block that ended well but is not to be kept (a preview).
    def finish() -> None:
        if rollback:
            started.rollback()  # then the block ends as one whose transaction is over
        started.__exit__(kind, error, traceback)

    if not TRACE.subscribers:
        finish()
        return
    began = perf_counter()
    try:
        finish()
    except BaseException as failure:
        TRACE.emit(Executed(connection, sql, None, perf_counter() - began, NO_ROWS, failure))
        raise
    TRACE.emit(Executed(connection, sql, None, perf_counter() - began, NO_ROWS))

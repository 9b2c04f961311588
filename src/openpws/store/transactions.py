"""Transactions as explicit context managers: one per request, all or nothing.

``read()`` sees one consistent snapshot (on PostgreSQL REPEATABLE READ, READ ONLY). ``write()``
on SQLite takes the write lock at BEGIN (``BEGIN IMMEDIATE``), so writers queue for up to the busy
timeout instead of failing half-way;
on PostgreSQL writers lock the rows they change (and services lock parents with FOR UPDATE).
Leaving the block by an exception rolls everything back.

Connections come from SQLAlchemy's pool, whose pre-ping (PostgreSQL) is the one check that a
connection is still alive. Each thread keeps the connection of its last transaction for its next
one, and gives it back to the pool after ``IDLE_PING_SECONDS`` unused, so that after a pause the
thread checks one out again, and the pool pings it. Checking one out for every transaction instead
(pool without reset on return) cost PwsGetClient more server CPU than the 10% it may: in-process,
best of 5 x 10,000 requests, median of 3 interleaved runs, SQLite 133 -> 163-169 µs (+22-27%),
PostgreSQL 319 -> 384 µs with the pre-ping (+20%; 337 µs with no check at all). Kept, as here:
135 µs and 311 µs.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext

from sqlalchemy import Connection, Engine

from openpws.store import statements
from openpws.store.engine import make_engine
from openpws.store.sql_log import SqlLog

# A connection a thread has not used for this long goes back to the pool, and the next one the
# thread takes is pinged (PostgreSQL) on its way out.
IDLE_PING_SECONDS = 1.0


class Store:
    def __init__(self, engine: Engine, *, sql_log: bool = False) -> None:
        self.engine = engine
        # SQLite lets one write transaction run at a time. Writers of this process queue here, in
        # turn, instead of in SQLite's busy handler, whose growing sleeps let some starve (writes'
        # p99 fell from over a second to under 0.25 s under load, measured). Other processes on
        # the same file still wait in the busy handler.
        self._writers = threading.RLock() if engine.dialect.name == "sqlite" else None
        self._local = threading.local()
        self._kept: list[Connection] = []
        self._kept_lock = threading.Lock()
        self._sql_log = statements.TRACE.subscribe(SqlLog(engine)) if sql_log else None

    @classmethod
    def open(cls, url: str, *, threads: int = 8, sql_log: bool = False) -> Store:
        """A store for a server of ``threads`` worker threads: each thread keeps a connection, and
        the event loop's thread and transactions inside others need a few more. ``sql_log``
        logs every statement (see ``sql_log.SqlLog``)."""
        return cls(make_engine(url, pool_size=threads + 2), sql_log=sql_log)

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    def read(self) -> AbstractContextManager[Connection]:
        return self._transaction(write=False)

    def write(self, *, commit: bool = True) -> AbstractContextManager[Connection]:
        """A write transaction; rolled back at the end, whatever happens, when not ``commit`` (a
        preview: everything a write does, undone)."""
        return self._transaction(write=True, commit=commit)

    @contextmanager
    def writers_turn_if_free(self) -> Iterator[bool]:
        """On SQLite: take this process's writers' turn for the block if no other thread holds it
        (True), without waiting; ``write()`` inside the block then goes straight on. False on
        PostgreSQL, whose writers do not take turns in the process."""
        taken = self._writers is not None and self._writers.acquire(blocking=False)
        try:
            yield taken
        finally:
            if taken:
                assert self._writers is not None
                self._writers.release()

    @contextmanager
    def waiting_at_most(self, milliseconds: int) -> Iterator[None]:
        """Inside the block, this thread's SQLite writes wait at most ``milliseconds`` for the
        write lock, and raise WouldWait instead of waiting longer."""
        self._local.wait_ms = milliseconds
        try:
            yield
        finally:
            self._local.wait_ms = None

    @contextmanager
    def _transaction(self, *, write: bool, commit: bool = True) -> Iterator[Connection]:
        with self._writers if write and self._writers is not None else nullcontext():
            connection, own = self._take()
            try:
                wait_ms = getattr(self._local, "wait_ms", None) if write else None
                with statements.transaction(connection, write=write, wait_ms=wait_ms, commit=commit):
                    yield connection
            finally:
                if own:
                    connection.close()

    def _take(self) -> tuple[Connection, bool]:
        """The thread's connection, or (True) one of its own for a transaction inside another."""
        local = self._local
        kept: Connection | None = getattr(local, "connection", None)
        now = time.monotonic()
        if kept is not None:
            if kept.in_transaction():
                return self.engine.connect(), True
            if now - local.used <= IDLE_PING_SECONDS and not kept.invalidated and not kept.closed:
                local.used = now
                return kept, False
            self._forget(kept)  # idle, or lost by the driver: back to the pool
        kept = local.connection = self.engine.connect()
        local.used = now
        with self._kept_lock:
            self._kept.append(kept)
        return kept, False

    def _forget(self, connection: Connection) -> None:
        if getattr(self._local, "connection", None) is connection:
            del self._local.connection
        with self._kept_lock:
            if connection in self._kept:
                self._kept.remove(connection)
        connection.close()

    def dispose(self) -> None:
        if self._sql_log is not None:
            statements.TRACE.unsubscribe(self._sql_log)
            self._sql_log = None
        with self._kept_lock:
            kept, self._kept = self._kept, []
        for connection in kept:
            connection.close()
        self.engine.dispose()


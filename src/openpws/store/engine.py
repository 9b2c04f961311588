"""Engines for ``sqlite:///…`` and ``postgresql://…`` URLs, with the settings each store needs."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.pool import QueuePool

SQLITE_BUSY_TIMEOUT_MS = 30_000


class DatabaseUrlError(ValueError):
    """The database URL names a store openpws does not support."""


def normalise_url(url: str) -> str:
    """Accept the URL forms users write and pick the driver: psycopg 3 for PostgreSQL."""
    parsed = make_url(url)
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        if parsed.database in (None, "", ":memory:"):
            raise DatabaseUrlError(
                "an in-memory SQLite database cannot be shared by the server's connections; "
                "give a file, e.g. sqlite:///./openpws.db"
            )
        return parsed.set(drivername="sqlite+pysqlite").render_as_string(hide_password=False)
    if backend in ("postgresql", "postgres"):
        return parsed.set(drivername="postgresql+psycopg").render_as_string(hide_password=False)
    raise DatabaseUrlError(f"unsupported database URL {url!r}: use sqlite:///FILE or postgresql://…")


def make_engine(url: str, *, pool_size: int = 8) -> Engine:
    url = normalise_url(url)
    if make_url(url).get_backend_name() == "sqlite":
        # Pooled: a new SQLite connection and its PRAGMAs cost more than the rest of a small
        # request. The pool hands each connection to one thread at a time (hence
        # check_same_thread=False). The driver's own transaction handling is switched off
        # (isolation_level=None) so that openpws issues BEGIN / BEGIN IMMEDIATE itself.
        # No reset on return: every use of a connection ends its own transaction (commit or
        # rollback), so the pool's extra ROLLBACK would only cost time.
        engine = create_engine(url, poolclass=QueuePool, pool_size=pool_size, max_overflow=pool_size,
                               pool_reset_on_return=None, connect_args={"check_same_thread": False})
        event.listen(engine, "connect", _sqlite_on_connect)
        return engine
    return create_engine(url, pool_size=pool_size, max_overflow=pool_size, pool_pre_ping=True)


def _sqlite_on_connect(dbapi_connection: sqlite3.Connection, _record: Any) -> None:
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def begin(connection: Connection, *, write: bool) -> None:
    """Start the transaction that ``connection.begin()`` will then own.

    On SQLite, BEGIN is sent here with the driver itself (its own transaction handling is off), and
    a write transaction takes the database's write lock up front: a read-then-write transaction
    that only upgraded later could fail with SQLITE_BUSY instead of waiting. SQLAlchemy's own
    begin sends nothing to SQLite, and its commit and rollback end this transaction. (Sent by a
    "begin" event listener instead, every request paid for the engine's event dispatch.) On
    PostgreSQL the driver begins by itself."""
    if connection.dialect.name == "sqlite":
        driver = connection.connection.driver_connection
        assert driver is not None
        driver.execute("BEGIN IMMEDIATE" if write else "BEGIN")


@contextmanager
def transaction(connection: Connection, *, write: bool) -> Iterator[Connection]:
    """One transaction on ``connection``, committed at the end of the block (rolled back by an
    exception)."""
    begin(connection, write=write)
    with connection.begin():
        yield connection

"""Engines for ``sqlite:///…`` and ``postgresql://…`` URLs, with the settings each store needs."""

from __future__ import annotations

import sqlite3
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.pool import QueuePool

# The transaction helpers live with the other statements; importers of this module keep them.
from openpws.store.statements import SQLITE_BUSY_TIMEOUT_MS, begin, transaction

__all__ = ["DatabaseUrlError", "begin", "make_engine", "normalise_url", "transaction"]



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
    # Pre-ping: the one check that a PostgreSQL connection is still alive (the server may have
    # restarted or dropped it), made whenever one leaves the pool (see transactions.Store).
    # No reset on return, as for SQLite; nor does a connection the server dropped then fail a
    # ROLLBACK, logged as an error, on its way back.
    return create_engine(url, pool_size=pool_size, max_overflow=pool_size, pool_pre_ping=True,
                         pool_reset_on_return=None)


def _sqlite_on_connect(dbapi_connection: sqlite3.Connection, _record: Any) -> None:
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()

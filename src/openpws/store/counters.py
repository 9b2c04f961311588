"""Uids and row versions.

Uids are ``2**60 + n`` with ``n`` from a per-database sequence, never reused. Row versions come
from one database-wide counter (how they travel on the wire is ``openpws.messages.tokens``).
PostgreSQL uses real sequences (no hot row shared by all writers); SQLite, which has none, keeps
the counters in a table and increments them inside the caller's write transaction.
"""

from __future__ import annotations

from sqlalchemy import Connection, bindparam, text, update

from openpws.store.changes import peek, recorder_of
from openpws.store.prebuilt import Prebuilt
from openpws.store.schema import counters

UID_BASE = 2**60
UID_SEQUENCE = "openpws_uid_seq"
ROWVERSION_SEQUENCE = "openpws_rowversion_seq"

# One statement each, prebuilt: every write takes one or more values.
_NEXTVAL = Prebuilt(text("SELECT nextval(CAST(:sequence AS regclass))"))
_INCREMENT = Prebuilt(update(counters).where(counters.c.name == bindparam("counter"))
                      .values(value=counters.c.value + 1).returning(counters.c.value))


def _next(connection: Connection, name: str) -> int:
    if connection.dialect.name == "postgresql":
        recorder = recorder_of(connection)
        if recorder is not None and recorder.preview:
            return peek(connection, recorder, name)
        return int(_NEXTVAL.scalar(connection, sequence=name))
    return int(_INCREMENT.scalar(connection, counter=name))


def next_uid(connection: Connection) -> int:
    return UID_BASE + _next(connection, UID_SEQUENCE)


def next_rowversion(connection: Connection) -> int:
    return _next(connection, ROWVERSION_SEQUENCE)


"""journal chunks: the request journal keeps the exchanges one process wrote at once in one row

A row per exchange (its summary in columns, its bodies as two blobs, an index entry, and a
DELETE of its own later) cost more than the rest of answering a small request; a row of the
journal is now a chunk, the exchanges of one account written in one transaction, their summaries
(JSON) and their bodies, each an LZ4 block. The rows there are become chunks (of up to
CHUNK_ENTRIES consecutive exchanges of an account), and back on downgrade.

Revision ID: 0013_journal_chunks
Revises: 0012_change_journal
"""

import json
from collections.abc import Iterator, Sequence
from datetime import datetime, timedelta
from typing import Any

import lz4.block
import sqlalchemy as sa
from alembic import op

revision = "0013_journal_chunks"
down_revision = "0012_change_journal"
branch_labels = None
depends_on = None

# The format as it was when this migration was written (store.journal writes the same), kept
# here so that the migration does not change with the code.
CHUNK_ENTRIES = 200
EPOCH = datetime(1970, 1, 1)
MICROSECOND = timedelta(microseconds=1)

ID = sa.BigInteger().with_variant(sa.Integer, "sqlite")
rows_table = sa.table(
    "journal_rows", sa.column("id", ID), sa.column("account_id", sa.Integer), sa.column("real_at", sa.DateTime),
    sa.column("time", sa.DateTime), sa.column("login", sa.String), sa.column("operation", sa.String),
    sa.column("http_status", sa.SmallInteger), sa.column("status", sa.String), sa.column("errors", sa.String),
    sa.column("duration_ms", sa.Float), sa.column("not_modelled", sa.Text), sa.column("fault_rule", sa.BigInteger),
    sa.column("request_xml", sa.LargeBinary), sa.column("response_xml", sa.LargeBinary))
chunks_table = sa.table(
    "journal", sa.column("id", ID), sa.column("account_id", sa.Integer), sa.column("oldest", sa.BigInteger),
    sa.column("newest", sa.BigInteger), sa.column("entries", sa.Integer), sa.column("summaries", sa.LargeBinary),
    sa.column("bodies", sa.LargeBinary))


def _micros(moment: datetime) -> int:
    return (moment - EPOCH) // MICROSECOND


def _moment(us: int) -> datetime:
    return EPOCH + timedelta(microseconds=us)


def _row_columns() -> list[sa.Column[Any]]:
    return [
        sa.Column("id", ID, primary_key=True, autoincrement=False),
        sa.Column("account_id", sa.Integer, sa.ForeignKey("accounts.id", ondelete="CASCADE"), nullable=True),
        sa.Column("real_at", sa.DateTime, nullable=False),
        sa.Column("time", sa.DateTime, nullable=False),
        sa.Column("login", sa.String(100), nullable=True),
        sa.Column("operation", sa.String(100), nullable=True),
        sa.Column("http_status", sa.SmallInteger, nullable=False),
        sa.Column("status", sa.String(30), nullable=False),
        sa.Column("errors", sa.String(500), nullable=False),
        sa.Column("duration_ms", sa.Float, nullable=False),
        sa.Column("not_modelled", sa.Text, nullable=False),
        sa.Column("fault_rule", sa.BigInteger, nullable=True),
        sa.Column("request_xml", sa.LargeBinary, nullable=False),
        sa.Column("response_xml", sa.LargeBinary, nullable=False),
    ]


def _chunk_columns() -> list[sa.Column[Any]]:
    return [
        sa.Column("id", ID, primary_key=True, autoincrement=False),
        sa.Column("account_id", sa.Integer, sa.ForeignKey("accounts.id", ondelete="CASCADE"), nullable=True),
        sa.Column("oldest", sa.BigInteger, nullable=False),
        sa.Column("newest", sa.BigInteger, nullable=False),
        sa.Column("entries", sa.Integer, nullable=False),
        sa.Column("summaries", sa.LargeBinary, nullable=False),
        sa.Column("bodies", sa.LargeBinary, nullable=False),
    ]


def _accounts(connection: sa.Connection, table: Any) -> list[int | None]:
    return [row[0] for row in connection.execute(sa.select(table.c.account_id).distinct())]


def _of(table: Any, account_id: int | None) -> Any:
    return table.c.account_id.is_(None) if account_id is None else table.c.account_id == account_id


def _pack(account_id: int | None, rows: Sequence[Any]) -> dict[str, Any]:
    bodies: list[bytes] = []
    summaries = []
    for row in rows:
        request, response = bytes(row.request_xml), bytes(row.response_xml)
        bodies += (request, response)
        summaries.append((row.id, _micros(row.real_at), _micros(row.time), row.login, row.operation, row.http_status,
                          row.status, [int(n) for n in row.errors.strip(",").split(",") if n], row.duration_ms,
                          [m for m in row.not_modelled.split(",") if m], row.fault_rule, len(request), len(response)))
    reals = [summary[1] for summary in summaries]
    return {"id": min(row.id for row in rows), "account_id": account_id, "oldest": min(reals), "newest": max(reals),
            "entries": len(rows), "bodies": lz4.block.compress(b"".join(bodies)),
            "summaries": lz4.block.compress(json.dumps(summaries, separators=(",", ":")).encode())}


def _unpack(chunk: Any) -> Iterator[dict[str, Any]]:
    stream = lz4.block.decompress(chunk.bodies)
    at = 0
    for (ident, real_us, time_us, login, operation, http_status, status, errors, duration, not_modelled, rule,
         request_length, response_length) in json.loads(lz4.block.decompress(chunk.summaries)):
        yield {"id": ident, "account_id": chunk.account_id, "real_at": _moment(real_us), "time": _moment(time_us),
               "login": login, "operation": operation, "http_status": http_status, "status": status,
               "errors": ("".join(f",{n}" for n in errors) + "," if errors else "")[:500], "duration_ms": duration,
               "not_modelled": ",".join(not_modelled), "fault_rule": rule,
               "request_xml": stream[at:at + request_length],
               "response_xml": stream[at + request_length:at + request_length + response_length]}
        at += request_length + response_length


def _rename(old: str, new: str) -> None:
    """Rename table ``old`` to ``new``, and on PostgreSQL its primary key's index, whose name the
    new table of the old name takes."""
    op.rename_table(old, new)
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"ALTER INDEX {old}_pkey RENAME TO {new}_pkey")


def upgrade() -> None:
    op.drop_index("ix_journal_account_newest", "journal")
    _rename("journal", "journal_rows")
    op.create_table("journal", *_chunk_columns())
    op.create_index("ix_journal_account_newest", "journal", ["account_id", "newest"])
    connection = op.get_bind()
    for account_id in _accounts(connection, rows_table):
        rows = connection.execute(sa.select(rows_table).where(_of(rows_table, account_id))
                                  .order_by(rows_table.c.real_at, rows_table.c.id)).all()
        for first in range(0, len(rows), CHUNK_ENTRIES):
            connection.execute(sa.insert(chunks_table), [_pack(account_id, rows[first:first + CHUNK_ENTRIES])])
    op.drop_table("journal_rows")


def downgrade() -> None:
    op.drop_index("ix_journal_account_newest", "journal")
    _rename("journal", "journal_chunks")
    op.create_table("journal", *_row_columns())
    op.create_index("ix_journal_account_newest", "journal", ["account_id", "real_at", "id"])
    connection = op.get_bind()
    old = sa.table("journal_chunks", *(sa.column(c.name, c.type) for c in _chunk_columns()))
    news = sa.table("journal", *(sa.column(c.name, c.type) for c in _row_columns()))
    for account_id in _accounts(connection, old):
        for chunk in connection.execute(sa.select(old).where(_of(old, account_id))).all():
            connection.execute(sa.insert(news), list(_unpack(chunk)))
    op.drop_table("journal_chunks")

"""journal: the request journal and the blocks its ids are taken in

Revision ID: 0009_journal
Revises: 0008_snapshots
"""

import sqlalchemy as sa
from alembic import op

revision = "0009_journal"
down_revision = "0008_snapshots"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "journal",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True, autoincrement=False),
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
    )
    op.create_index("ix_journal_account_newest", "journal", ["account_id", "real_at", "id"])
    op.create_table(
        "journal_blocks",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True, autoincrement=True),
        sqlite_autoincrement=True,
    )


def downgrade() -> None:
    op.drop_table("journal_blocks")
    op.drop_index("ix_journal_account_newest", "journal")
    op.drop_table("journal")

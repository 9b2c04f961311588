"""snapshots: an account's rows at one moment, kept to be restored

Revision ID: 0008_snapshots
Revises: 0007_sandbox
"""

import sqlalchemy as sa
from alembic import op

revision = "0008_snapshots"
down_revision = "0007_sandbox"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "snapshots",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("account_id", sa.Integer, sa.ForeignKey("accounts.id", ondelete="CASCADE"), nullable=False),
        sa.Column("name", sa.String(100), nullable=True),
        sa.Column("creation", sa.Boolean, nullable=False),
        sa.Column("taken_at", sa.DateTime, nullable=False),
        sa.Column("rows", sa.Integer, nullable=False),
        sa.Column("counts", sa.Text, nullable=False),
        sa.Column("image", sa.LargeBinary, nullable=False),
    )
    op.create_index("ix_snapshots_account", "snapshots", ["account_id", "id"])


def downgrade() -> None:
    op.drop_index("ix_snapshots_account", "snapshots")
    op.drop_table("snapshots")

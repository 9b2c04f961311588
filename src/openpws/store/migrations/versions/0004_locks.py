"""locks: lock sets and their locks on engagements, projects and roles

Revision ID: 0004_locks
Revises: 0003_engagements
"""

import sqlalchemy as sa
from alembic import op

revision = "0004_locks"
down_revision = "0003_engagements"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "lock_sets",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("account_id", sa.Integer, sa.ForeignKey("accounts.id", ondelete="CASCADE"), nullable=False),
        sa.Column("user_id", sa.Integer, sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
        sa.Column("internal", sa.Boolean, nullable=False),
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.Column("expires_at", sa.DateTime, nullable=False),
        sa.Column("released_at", sa.DateTime, nullable=True),
        sa.Column("stolen_by_user_id", sa.Integer, sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=True),
        sa.Column("stolen_at", sa.DateTime, nullable=True),
    )
    op.create_table(
        "locks",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("lock_set_id", sa.Integer, sa.ForeignKey("lock_sets.id", ondelete="CASCADE"), nullable=False),
        sa.Column("account_id", sa.Integer, sa.ForeignKey("accounts.id", ondelete="CASCADE"), nullable=False),
        sa.Column("entity_type", sa.String(2), nullable=False),
        sa.Column("entity_id", sa.Integer, nullable=False),
        sa.Column("entity_uid", sa.BigInteger, nullable=False),
        sa.Column("entity_code", sa.String(50), nullable=True),
        sa.Column("engagement_id", sa.Integer, nullable=False),
        sa.Column("project_id", sa.Integer, nullable=True),
        sa.Column("acquired_at", sa.DateTime, nullable=False),
    )
    op.create_index("ix_locks_lock_set_id", "locks", ["lock_set_id"])
    op.create_index("ix_locks_graph", "locks", ["account_id", "engagement_id"])


def downgrade() -> None:
    op.drop_table("locks")
    op.drop_table("lock_sets")

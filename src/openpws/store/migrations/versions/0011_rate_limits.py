"""rate limits: an account's rate-limiting mode, limits and weights, and the hits counted against them

Revision ID: 0011_rate_limits
Revises: 0010_fault_rules
"""

import sqlalchemy as sa
from alembic import op

revision = "0011_rate_limits"
down_revision = "0010_fault_rules"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "rate_limits",
        sa.Column("account_id", sa.Integer, sa.ForeignKey("accounts.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("mode", sa.String(10), nullable=False),
        sa.Column("installation_limit", sa.Integer, nullable=False),
        sa.Column("user_limit", sa.Integer, nullable=False),
        sa.Column("session_limit", sa.Integer, nullable=False),
        sa.Column("weights", sa.Text, nullable=False),
    )
    op.create_table(
        "rate_limit_hits",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("account_id", sa.Integer, sa.ForeignKey("accounts.id", ondelete="CASCADE"), nullable=False),
        sa.Column("at", sa.DateTime, nullable=False),
        sa.Column("user_key", sa.String(200), nullable=True),
        sa.Column("session_id", sa.Integer, nullable=True),
        sa.Column("installation", sa.Integer, nullable=False),
        sa.Column("user", sa.Integer, nullable=False),
        sa.Column("session", sa.Integer, nullable=False),
    )
    op.create_index("ix_rate_limit_hits_account", "rate_limit_hits", ["account_id", "at"])


def downgrade() -> None:
    op.drop_index("ix_rate_limit_hits_account", "rate_limit_hits")
    op.drop_table("rate_limit_hits")
    op.drop_table("rate_limits")

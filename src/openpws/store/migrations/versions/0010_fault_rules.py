"""fault rules: requests of an account answered by a rule instead of by their operation

Revision ID: 0010_fault_rules
Revises: 0009_journal
"""

import sqlalchemy as sa
from alembic import op

revision = "0010_fault_rules"
down_revision = "0009_journal"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "fault_rules",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("account_id", sa.Integer, sa.ForeignKey("accounts.id", ondelete="CASCADE"), nullable=False),
        sa.Column("operation", sa.String(100), nullable=False),
        sa.Column("user_key", sa.String(200), nullable=True),
        sa.Column("remaining", sa.Integer, nullable=True),
        sa.Column("probability", sa.Float, nullable=True),
        sa.Column("then", sa.Text, nullable=False),
        sa.Column("answered", sa.Integer, nullable=False, server_default="0"),
        sa.Column("created_at", sa.DateTime, nullable=False),
    )
    op.create_index("ix_fault_rules_account", "fault_rules", ["account_id", "id"])


def downgrade() -> None:
    op.drop_index("ix_fault_rules_account", "fault_rules")
    op.drop_table("fault_rules")

"""clients: the client tree of each account

Revision ID: 0002_clients
Revises: 0001_foundation
"""

import sqlalchemy as sa
from alembic import op

revision = "0002_clients"
down_revision = "0001_foundation"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "clients",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("uid", sa.BigInteger, nullable=False, unique=True),
        sa.Column("account_id", sa.Integer, sa.ForeignKey("accounts.id", ondelete="CASCADE"), nullable=False),
        sa.Column("number", sa.String(20), nullable=False),
        sa.Column("number_key", sa.String(20), nullable=False),
        sa.Column("name", sa.String(50), nullable=False),
        sa.Column("inactive", sa.Boolean, nullable=False),
        sa.Column("parent_id", sa.Integer, sa.ForeignKey("clients.id"), nullable=True),
        sa.Column("billing_instructions", sa.String(1000), nullable=True),
        sa.Column("purchase_order_number", sa.String(50), nullable=True),
        sa.Column("rowversion", sa.BigInteger, nullable=False),
        sa.Column("updated_at", sa.DateTime, nullable=False),
        sa.UniqueConstraint("account_id", "number_key", name="uq_clients_account_number"),
    )
    op.create_index("ix_clients_parent_id", "clients", ["parent_id"])


def downgrade() -> None:
    op.drop_index("ix_clients_parent_id", "clients")
    op.drop_table("clients")

"""sandbox: each account's clock, expiry and creation fixture; indexes for removing an account

Revision ID: 0007_sandbox
Revises: 0006_contract_line_items
"""

import sqlalchemy as sa
from alembic import op

revision = "0007_sandbox"
down_revision = "0006_contract_line_items"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Accounts that exist already keep real time and never expire.
    op.add_column("accounts", sa.Column("clock_frozen_at", sa.DateTime, nullable=True))
    op.add_column("accounts", sa.Column("clock_offset_us", sa.BigInteger, nullable=False, server_default="0"))
    op.add_column("accounts", sa.Column("expires_at", sa.DateTime, nullable=True))
    op.add_column("accounts", sa.Column("fixture_name", sa.String(100), nullable=True))
    op.create_index("ix_accounts_expires_at", "accounts", ["expires_at"])
    op.create_index("ix_sessions_account", "sessions", ["account_id"])
    op.create_index("ix_lock_sets_account", "lock_sets", ["account_id"])


def downgrade() -> None:
    op.drop_index("ix_lock_sets_account", "lock_sets")
    op.drop_index("ix_sessions_account", "sessions")
    op.drop_index("ix_accounts_expires_at", "accounts")
    with op.batch_alter_table("accounts") as batch:
        for column in ("fixture_name", "expires_at", "clock_offset_us", "clock_frozen_at"):
            batch.drop_column(column)

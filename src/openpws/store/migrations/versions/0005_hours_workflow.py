"""hours workflow: the account's first day of the week, roles submitted to schedulers, allocation
notes by week, and the notes of roles

Revision ID: 0005_hours_workflow
Revises: 0004_locks
"""

import sqlalchemy as sa
from alembic import op

revision = "0005_hours_workflow"
down_revision = "0004_locks"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Accounts and roles that exist already: weeks start on Monday (as they always did), and no role
    # has been submitted.
    op.add_column("accounts", sa.Column("week_start", sa.SmallInteger, nullable=False, server_default="0"))
    op.add_column("project_roles", sa.Column("assigned_to_schedulers", sa.Boolean, nullable=False,
                                             server_default=sa.false()))
    op.create_index("ix_project_roles_booked_user", "project_roles", ["booked_user_id"])
    op.create_table(
        "role_allocation_notes",
        sa.Column("role_id", sa.Integer, sa.ForeignKey("project_roles.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("kind", sa.String(1), primary_key=True),
        sa.Column("bucket_start", sa.Date, primary_key=True),
        sa.Column("notes", sa.Text, nullable=False),
    )
    op.create_table(
        "role_notes",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("uid", sa.BigInteger, nullable=False, unique=True),
        sa.Column("account_id", sa.Integer, sa.ForeignKey("accounts.id", ondelete="CASCADE"), nullable=False),
        sa.Column("role_id", sa.Integer, sa.ForeignKey("project_roles.id", ondelete="CASCADE"), nullable=False),
        sa.Column("author_user_id", sa.Integer, sa.ForeignKey("users.id"), nullable=False),
        sa.Column("note", sa.String(1024), nullable=False),
        sa.Column("created_at", sa.DateTime, nullable=False),
    )
    op.create_index("ix_role_notes_role_id", "role_notes", ["role_id"])


def downgrade() -> None:
    op.drop_table("role_notes")
    op.drop_table("role_allocation_notes")
    op.drop_index("ix_project_roles_booked_user", "project_roles")
    op.drop_column("project_roles", "assigned_to_schedulers")
    op.drop_column("accounts", "week_start")

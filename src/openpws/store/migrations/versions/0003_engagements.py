"""engagements, projects, roles, hours, invoices, and the stages of every account

Revision ID: 0003_engagements
Revises: 0002_clients
"""

import sqlalchemy as sa
from alembic import op

revision = "0003_engagements"
down_revision = "0002_clients"
branch_labels = None
depends_on = None

# The stages every account starts with (kind, name, short name, closed); kept here as they were
# when this migration was written, so that it seeds accounts that existed before it.
STAGES = (
    ("E", "Open", "OP", False), ("E", "On Hold", "OH", False), ("E", "Closed", "CL", True),
    ("P", "Open", "OP", False), ("P", "On Hold", "OH", False), ("P", "Closed", "CL", True),
)


def _id() -> sa.Column:  # type: ignore[type-arg]
    return sa.Column("id", sa.Integer, primary_key=True, autoincrement=True)


def _account() -> sa.Column:  # type: ignore[type-arg]
    return sa.Column("account_id", sa.Integer, sa.ForeignKey("accounts.id", ondelete="CASCADE"), nullable=False)


def upgrade() -> None:
    op.create_table(
        "stages", _id(),
        sa.Column("uid", sa.BigInteger, nullable=False, unique=True), _account(),
        sa.Column("kind", sa.String(1), nullable=False),
        sa.Column("name", sa.String(50), nullable=False),
        sa.Column("name_key", sa.String(50), nullable=False),
        sa.Column("short_name", sa.String(15), nullable=False),
        sa.Column("closed", sa.Boolean, nullable=False),
        sa.Column("sort_order", sa.Integer, nullable=False),
        sa.UniqueConstraint("account_id", "kind", "name_key", name="uq_stages_account_kind_name"),
    )
    op.create_table(
        "engagements", _id(),
        sa.Column("uid", sa.BigInteger, nullable=False, unique=True), _account(),
        sa.Column("client_id", sa.Integer, sa.ForeignKey("clients.id"), nullable=False),
        sa.Column("code", sa.String(20), nullable=False),
        sa.Column("code_key", sa.String(20), nullable=False),
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("stage_id", sa.Integer, sa.ForeignKey("stages.id"), nullable=False),
        sa.Column("manager_user_id", sa.Integer, sa.ForeignKey("users.id"), nullable=True),
        sa.Column("billing_instructions", sa.String(1000), nullable=True),
        sa.Column("purchase_order_number", sa.String(50), nullable=True),
        sa.Column("ever_invoiced", sa.Boolean, nullable=False),
        sa.Column("rowversion", sa.BigInteger, nullable=False),
        sa.Column("updated_at", sa.DateTime, nullable=False),
        sa.UniqueConstraint("account_id", "code_key", name="uq_engagements_account_code"),
    )
    op.create_index("ix_engagements_client_id", "engagements", ["client_id"])
    op.create_index("ix_engagements_account_updated", "engagements", ["account_id", "updated_at"])
    op.create_table(
        "projects", _id(),
        sa.Column("uid", sa.BigInteger, nullable=False, unique=True), _account(),
        sa.Column("engagement_id", sa.Integer, sa.ForeignKey("engagements.id"), nullable=False),
        sa.Column("code", sa.String(24), nullable=False),
        sa.Column("code_key", sa.String(24), nullable=False),
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("stage_id", sa.Integer, sa.ForeignKey("stages.id"), nullable=False),
        sa.Column("manager_user_id", sa.Integer, sa.ForeignKey("users.id"), nullable=True),
        sa.Column("open_date", sa.DateTime, nullable=True),
        sa.Column("close_date", sa.DateTime, nullable=True),
        sa.Column("description", sa.String(4000), nullable=True),
        sa.Column("percent_likelihood", sa.Float, nullable=True),
        sa.Column("ever_invoiced", sa.Boolean, nullable=False),
        sa.Column("rowversion", sa.BigInteger, nullable=False),
        sa.Column("updated_at", sa.DateTime, nullable=False),
        sa.UniqueConstraint("account_id", "code_key", name="uq_projects_account_code"),
    )
    op.create_index("ix_projects_engagement_id", "projects", ["engagement_id"])
    op.create_index("ix_projects_account_updated", "projects", ["account_id", "updated_at"])
    op.create_table(
        "project_roles", _id(),
        sa.Column("uid", sa.BigInteger, nullable=False, unique=True), _account(),
        sa.Column("project_id", sa.Integer, sa.ForeignKey("projects.id"), nullable=False),
        sa.Column("external_id", sa.String(50), nullable=True),
        sa.Column("external_key", sa.String(50), nullable=True),
        sa.Column("name", sa.String(50), nullable=False),
        sa.Column("name_key", sa.String(50), nullable=False),
        sa.Column("description", sa.String(255), nullable=True),
        sa.Column("requested_user_id", sa.Integer, sa.ForeignKey("users.id"), nullable=True),
        sa.Column("booked_user_id", sa.Integer, sa.ForeignKey("users.id"), nullable=True),
        sa.Column("start_date", sa.DateTime, nullable=True),
        sa.Column("end_date", sa.DateTime, nullable=True),
        sa.Column("scheduling_mode", sa.String(1), nullable=False),
        sa.Column("open_request", sa.Boolean, nullable=False),
        sa.Column("deleted", sa.Boolean, nullable=False),
        sa.Column("rowversion", sa.BigInteger, nullable=False),
        sa.Column("updated_at", sa.DateTime, nullable=False),
        sa.UniqueConstraint("account_id", "external_key", name="uq_project_roles_account_external"),
    )
    op.create_index("ix_project_roles_project_id", "project_roles", ["project_id"])
    op.create_table(
        "role_hours",
        sa.Column("role_id", sa.Integer, sa.ForeignKey("project_roles.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("kind", sa.String(1), primary_key=True),
        sa.Column("bucket_start", sa.Date, primary_key=True),
        sa.Column("scheduling_mode", sa.String(1), nullable=False),
        sa.Column("weekly_minutes", sa.Integer, nullable=False),
        sa.Column("daily_minutes", sa.String(64), nullable=True),
    )
    op.create_table(
        "invoices", _id(),
        sa.Column("uid", sa.BigInteger, nullable=False, unique=True), _account(),
        sa.Column("engagement_id", sa.Integer, sa.ForeignKey("engagements.id"), nullable=False),
        sa.Column("project_id", sa.Integer, sa.ForeignKey("projects.id"), nullable=True),
        sa.Column("client_id", sa.Integer, sa.ForeignKey("clients.id"), nullable=False),
        sa.Column("draft_number", sa.String(20), nullable=False),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("content", sa.String(1), nullable=False),
        sa.Column("scope", sa.String(1), nullable=True),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("purchase_order_number", sa.String(50), nullable=True),
        sa.Column("cost_center_name", sa.String(50), nullable=True),
        sa.Column("cost_center_number", sa.String(40), nullable=True),
        sa.Column("cost_center_uid", sa.BigInteger, nullable=True),
        sa.Column("currency_code", sa.String(10), nullable=True),
        sa.Column("currency_uid", sa.BigInteger, nullable=True),
        sa.Column("culture_name", sa.String(15), nullable=True),
        sa.Column("culture_uid", sa.BigInteger, nullable=True),
        sa.Column("approved_by_finance", sa.Boolean, nullable=False),
        sa.Column("approved_by_project_manager", sa.Boolean, nullable=False),
        sa.Column("approved_by_management", sa.Boolean, nullable=False),
        sa.Column("card_begin_date", sa.DateTime, nullable=True),
        sa.Column("card_end_date", sa.DateTime, nullable=True),
        sa.Column("deleted", sa.Boolean, nullable=False),
        sa.Column("rowversion", sa.BigInteger, nullable=False),
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.UniqueConstraint("account_id", "draft_number", name="uq_invoices_account_draft"),
    )
    op.create_index("ix_invoices_engagement_id", "invoices", ["engagement_id"])
    op.create_index("ix_invoices_project_id", "invoices", ["project_id"])
    _seed_stages()


def _seed_stages() -> None:
    connection = op.get_bind()
    account_ids = [row[0] for row in connection.execute(sa.text("SELECT id FROM accounts ORDER BY id"))]
    for account_id in account_ids:
        for order, (kind, name, short, closed) in enumerate(STAGES):
            if connection.dialect.name == "postgresql":
                uid = connection.execute(sa.text("SELECT nextval('openpws_uid_seq')")).scalar_one()
            else:
                connection.execute(sa.text("UPDATE counters SET value = value + 1 WHERE name = 'openpws_uid_seq'"))
                uid = connection.execute(
                    sa.text("SELECT value FROM counters WHERE name = 'openpws_uid_seq'")).scalar_one()
            connection.execute(
                sa.text("INSERT INTO stages (uid, account_id, kind, name, name_key, short_name, closed, sort_order) "
                        "VALUES (:uid, :account_id, :kind, :name, :key, :short, :closed, :sort)"),
                {"uid": 2**60 + int(uid), "account_id": account_id, "kind": kind, "name": name, "key": name.lower(),
                 "short": short, "closed": closed, "sort": order},
            )


def downgrade() -> None:
    for table in ("invoices", "role_hours", "project_roles", "projects", "engagements", "stages"):
        op.drop_table(table)

"""contract line items: every engagement's, and the one each project belongs to

Revision ID: 0006_contract_line_items
Revises: 0005_hours_workflow

Engagements that exist already get the contract line item Projector creates with an engagement
(code ``<engagement code>-CL1``, the engagement's name, time and materials), and their projects
are placed on it, so that every project belongs to one from the start.
"""

import sqlalchemy as sa
from alembic import op

revision = "0006_contract_line_items"
down_revision = "0005_hours_workflow"
branch_labels = None
depends_on = None

UID_BASE = 2**60


def _next(connection: sa.Connection, counter: str) -> int:
    """The next value of an openpws counter (a sequence on PostgreSQL, a row on SQLite)."""
    name = {"name": counter}
    if connection.dialect.name == "postgresql":
        return int(connection.execute(sa.text("SELECT nextval(CAST(:name AS regclass))"), name).scalar_one())
    connection.execute(sa.text("UPDATE counters SET value = value + 1 WHERE name = :name"), name)
    return int(connection.execute(sa.text("SELECT value FROM counters WHERE name = :name"), name).scalar_one())


def upgrade() -> None:
    op.create_table(
        "contract_line_items",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("uid", sa.BigInteger, nullable=False, unique=True),
        sa.Column("account_id", sa.Integer, sa.ForeignKey("accounts.id", ondelete="CASCADE"), nullable=False),
        sa.Column("engagement_id", sa.Integer, sa.ForeignKey("engagements.id"), nullable=False),
        sa.Column("code", sa.String(27), nullable=False),
        sa.Column("code_key", sa.String(27), nullable=False),
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("name_key", sa.String(255), nullable=False),
        sa.Column("time_contract_terms", sa.String(1), nullable=False),
        sa.Column("cost_contract_terms", sa.String(1), nullable=False),
        sa.Column("purchase_order_number", sa.String(50), nullable=True),
        sa.Column("contract_type_name", sa.String(50), nullable=True),
        sa.Column("contract_type_uid", sa.BigInteger, nullable=True),
        sa.Column("rowversion", sa.BigInteger, nullable=False),
        sa.Column("updated_at", sa.DateTime, nullable=False),
        sa.UniqueConstraint("account_id", "code_key", name="uq_contract_line_items_account_code"),
        sa.UniqueConstraint("engagement_id", "name_key", name="uq_contract_line_items_engagement_name"),
    )
    op.create_index("ix_contract_line_items_engagement_id", "contract_line_items", ["engagement_id"])
    if op.get_bind().dialect.name == "sqlite":
        # SQLite adds a column's foreign key only inline (Alembic would add it as a constraint).
        op.execute("ALTER TABLE projects ADD COLUMN contract_line_item_id INTEGER REFERENCES contract_line_items (id)")
    else:
        op.add_column("projects", sa.Column("contract_line_item_id", sa.Integer,
                                            sa.ForeignKey("contract_line_items.id"), nullable=True))
    op.create_index("ix_projects_contract_line_item_id", "projects", ["contract_line_item_id"])

    connection = op.get_bind()
    existing = connection.execute(sa.text(
        "SELECT id, account_id, code, name, rowversion, updated_at FROM engagements ORDER BY id")).all()
    for engagement in existing:
        code = f"{engagement.code}-CL1"  # unique, as engagement codes are
        connection.execute(sa.text(
            "INSERT INTO contract_line_items (uid, account_id, engagement_id, code, code_key, name, name_key, "
            "time_contract_terms, cost_contract_terms, rowversion, updated_at) VALUES (:uid, :account, :engagement, "
            ":code, :code_key, :name, :name_key, 'T', 'T', :rowversion, :updated_at)"),
            {"uid": UID_BASE + _next(connection, "openpws_uid_seq"), "account": engagement.account_id,
             "engagement": engagement.id, "code": code, "code_key": code.upper(), "name": engagement.name,
             "name_key": engagement.name.lower()[:255], "rowversion": engagement.rowversion,
             "updated_at": engagement.updated_at})
    connection.execute(sa.text(
        "UPDATE projects SET contract_line_item_id = (SELECT min(c.id) FROM contract_line_items c "
        "WHERE c.engagement_id = projects.engagement_id)"))


def downgrade() -> None:
    op.drop_index("ix_projects_contract_line_item_id", "projects")
    op.drop_column("projects", "contract_line_item_id")
    op.drop_table("contract_line_items")

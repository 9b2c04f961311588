"""The tables, as SQLAlchemy Core. Alembic migrations create them; a test checks the two agree."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    DateTime,
    ForeignKey,
    Integer,
    MetaData,
    String,
    Table,
    UniqueConstraint,
)

metadata = MetaData()

# SQLite has no sequences: the Uid and row-version counters live in this table there, and every
# increment happens inside the caller's write transaction (writers are serialised on SQLite).
counters = Table(
    "counters",
    metadata,
    Column("name", String(40), primary_key=True),
    Column("value", BigInteger, nullable=False),
)

accounts = Table(
    "accounts",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("uid", BigInteger, nullable=False, unique=True),
    Column("code", String(30), nullable=False),
    Column("code_key", String(30), nullable=False, unique=True),  # lower-cased code
    Column("name", String(100), nullable=False),
    Column("created_at", DateTime, nullable=False),
)

users = Table(
    "users",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("uid", BigInteger, nullable=False, unique=True),
    Column("account_id", Integer, ForeignKey("accounts.id", ondelete="CASCADE"), nullable=False),
    Column("login", String(100), nullable=False),
    Column("login_key", String(100), nullable=False),  # lower-cased login
    Column("display_name", String(90), nullable=False),
    Column("reference_id", String(20), nullable=True),
    Column("email", String(100), nullable=True),
    Column("password_hash", String(255), nullable=False),
    Column("created_at", DateTime, nullable=False),
    UniqueConstraint("account_id", "login_key", name="uq_users_account_login"),
)

user_permissions = Table(
    "user_permissions",
    metadata,
    Column("user_id", Integer, ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    Column("permission", String(40), primary_key=True),
)

sessions = Table(
    "sessions",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("ticket_hash", String(64), nullable=False, unique=True),  # SHA-256 hex of the ticket
    Column("account_id", Integer, ForeignKey("accounts.id", ondelete="CASCADE"), nullable=False),
    Column("user_id", Integer, ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("created_at", DateTime, nullable=False),
    Column("last_seen_at", DateTime, nullable=False),
    Column("ended_at", DateTime, nullable=True),
)

clients = Table(
    "clients",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("uid", BigInteger, nullable=False, unique=True),
    Column("account_id", Integer, ForeignKey("accounts.id", ondelete="CASCADE"), nullable=False),
    Column("number", String(20), nullable=False),
    Column("number_key", String(20), nullable=False),  # upper-cased number: numbers match case-insensitively
    Column("name", String(50), nullable=False),
    Column("inactive", Boolean, nullable=False),
    Column("parent_id", Integer, ForeignKey("clients.id"), nullable=True, index=True),
    Column("billing_instructions", String(1000), nullable=True),
    Column("purchase_order_number", String(50), nullable=True),
    Column("rowversion", BigInteger, nullable=False),
    Column("updated_at", DateTime, nullable=False),
    UniqueConstraint("account_id", "number_key", name="uq_clients_account_number"),
)

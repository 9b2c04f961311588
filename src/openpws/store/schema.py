"""The tables, as SQLAlchemy Core. Alembic migrations create them; a test checks the two agree."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    SmallInteger,
    String,
    Table,
    Text,
    UniqueConstraint,
    false,
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
    # The first day of the account's weeks, as Python's weekday() numbers it (0 Monday … 6
    # Sunday): every hours bucket starts on it.
    Column("week_start", SmallInteger, nullable=False, server_default="0"),
    # The account's clock (openpws.clock.Clock): frozen at clock_frozen_at, or else running
    # clock_offset_us microseconds ahead of real time.
    Column("clock_frozen_at", DateTime, nullable=True),
    Column("clock_offset_us", BigInteger, nullable=False, server_default="0"),
    # A throwaway account's end, in real time: from then on it is treated as absent, and a sweep removes it.
    Column("expires_at", DateTime, nullable=True, index=True),
    Column("fixture_name", String(100), nullable=True),  # the packaged fixture it was created from
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

# Engagement and project stages of an account (created with the account): each is open or closed.
stages = Table(
    "stages",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("uid", BigInteger, nullable=False, unique=True),
    Column("account_id", Integer, ForeignKey("accounts.id", ondelete="CASCADE"), nullable=False),
    Column("kind", String(1), nullable=False),  # E engagement stage, P project stage
    Column("name", String(50), nullable=False),
    Column("name_key", String(50), nullable=False),  # lower-cased name
    Column("short_name", String(15), nullable=False),
    Column("closed", Boolean, nullable=False),
    Column("sort_order", Integer, nullable=False),
    UniqueConstraint("account_id", "kind", "name_key", name="uq_stages_account_kind_name"),
)

# rowversion is the version of the engagement graph (EngagementTimestamp): every write to the
# engagement, one of its projects or one of their roles takes the next value.
engagements = Table(
    "engagements",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("uid", BigInteger, nullable=False, unique=True),
    Column("account_id", Integer, ForeignKey("accounts.id", ondelete="CASCADE"), nullable=False),
    Column("client_id", Integer, ForeignKey("clients.id"), nullable=False, index=True),
    Column("code", String(20), nullable=False),
    Column("code_key", String(20), nullable=False),  # upper-cased code
    Column("name", String(255), nullable=False),
    Column("stage_id", Integer, ForeignKey("stages.id"), nullable=False),
    Column("manager_user_id", Integer, ForeignKey("users.id"), nullable=True),
    Column("billing_instructions", String(1000), nullable=True),
    Column("purchase_order_number", String(50), nullable=True),
    Column("ever_invoiced", Boolean, nullable=False),  # sticky: stays true when an invoice is removed
    Column("rowversion", BigInteger, nullable=False),
    Column("updated_at", DateTime, nullable=False),
    UniqueConstraint("account_id", "code_key", name="uq_engagements_account_code"),
)

# Contract line items of an engagement: every project belongs to one of its engagement's. Codes are
# unique in an account, names within their engagement. They go with their engagement, never with a
# project. The contract type is kept as the caller named it: openpws does not model that list.
contract_line_items = Table(
    "contract_line_items",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("uid", BigInteger, nullable=False, unique=True),
    Column("account_id", Integer, ForeignKey("accounts.id", ondelete="CASCADE"), nullable=False),
    Column("engagement_id", Integer, ForeignKey("engagements.id"), nullable=False, index=True),
    Column("code", String(27), nullable=False),
    Column("code_key", String(27), nullable=False),  # upper-cased code
    Column("name", String(255), nullable=False),
    Column("name_key", String(255), nullable=False),  # lower-cased name
    Column("time_contract_terms", String(1), nullable=False),
    Column("cost_contract_terms", String(1), nullable=False),
    Column("purchase_order_number", String(50), nullable=True),
    Column("contract_type_name", String(50), nullable=True),
    Column("contract_type_uid", BigInteger, nullable=True),
    Column("rowversion", BigInteger, nullable=False),  # the Timestamp of PwsContractLineItemDetail
    Column("updated_at", DateTime, nullable=False),
    UniqueConstraint("account_id", "code_key", name="uq_contract_line_items_account_code"),
    UniqueConstraint("engagement_id", "name_key", name="uq_contract_line_items_engagement_name"),
)

projects = Table(
    "projects",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("uid", BigInteger, nullable=False, unique=True),
    Column("account_id", Integer, ForeignKey("accounts.id", ondelete="CASCADE"), nullable=False),
    Column("engagement_id", Integer, ForeignKey("engagements.id"), nullable=False, index=True),
    # Never NULL once written: the services give every project a contract line item (the column was
    # added to a table with rows, which SQLite cannot make NOT NULL in place).
    Column("contract_line_item_id", Integer, ForeignKey("contract_line_items.id"), nullable=True, index=True),
    Column("code", String(24), nullable=False),
    Column("code_key", String(24), nullable=False),  # upper-cased code
    Column("name", String(255), nullable=False),
    Column("stage_id", Integer, ForeignKey("stages.id"), nullable=False),
    Column("manager_user_id", Integer, ForeignKey("users.id"), nullable=True),
    Column("open_date", DateTime, nullable=True),
    Column("close_date", DateTime, nullable=True),
    Column("description", String(4000), nullable=True),
    Column("percent_likelihood", Float, nullable=True),
    Column("ever_invoiced", Boolean, nullable=False),  # sticky, like the engagement's
    Column("rowversion", BigInteger, nullable=False),  # ProjectTimestamp
    Column("updated_at", DateTime, nullable=False),
    UniqueConstraint("account_id", "code_key", name="uq_projects_account_code"),
)

# Roles are soft-deleted (deleted=True keeps the row). Names are unique among a project's live
# roles; the services check that under the engagement's lock, since deleted roles may share a name.
project_roles = Table(
    "project_roles",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("uid", BigInteger, nullable=False, unique=True),
    Column("account_id", Integer, ForeignKey("accounts.id", ondelete="CASCADE"), nullable=False),
    Column("project_id", Integer, ForeignKey("projects.id"), nullable=False, index=True),
    Column("external_id", String(50), nullable=True),
    Column("external_key", String(50), nullable=True),  # upper-cased ExternalSystemIdentifier
    Column("name", String(50), nullable=False),
    Column("name_key", String(50), nullable=False),  # lower-cased name
    Column("description", String(255), nullable=True),
    Column("requested_user_id", Integer, ForeignKey("users.id"), nullable=True),  # requested resource
    Column("booked_user_id", Integer, ForeignKey("users.id"), nullable=True),  # booked (assigned) resource
    Column("start_date", DateTime, nullable=True),
    Column("end_date", DateTime, nullable=True),
    Column("scheduling_mode", String(1), nullable=False),  # D daily, W weekly
    Column("open_request", Boolean, nullable=False),
    # Submitted by a requester and not yet approved or finalized by a scheduler (AssignedToSchedulersFlag).
    Column("assigned_to_schedulers", Boolean, nullable=False, server_default=false()),
    Column("deleted", Boolean, nullable=False),
    Column("rowversion", BigInteger, nullable=False),  # ProjectRoleTimestamp
    Column("updated_at", DateTime, nullable=False),
    UniqueConstraint("account_id", "external_key", name="uq_project_roles_account_external"),
)

Index("ix_project_roles_booked_user", project_roles.c.booked_user_id)

# One week of requested (kind R) or booked (kind A) minutes of a role: weekly_minutes for a W
# bucket; daily_minutes "m0,m1,...,m6" (from the account's first day of the week) for a D bucket,
# whose weekly_minutes is their sum.
role_hours = Table(
    "role_hours",
    metadata,
    Column("role_id", Integer, ForeignKey("project_roles.id", ondelete="CASCADE"), primary_key=True),
    Column("kind", String(1), primary_key=True),
    Column("bucket_start", Date, primary_key=True),
    Column("scheduling_mode", String(1), nullable=False),
    Column("weekly_minutes", Integer, nullable=False),
    Column("daily_minutes", String(64), nullable=True),
)

# The allocation notes of one week of a role, on the requested (R) or booked (A) side, kept by
# the week like the hours but apart from them (a week may have notes and no hours): notes is a
# JSON array of seven strings or nulls, from the account's first day of the week.
role_allocation_notes = Table(
    "role_allocation_notes",
    metadata,
    Column("role_id", Integer, ForeignKey("project_roles.id", ondelete="CASCADE"), primary_key=True),
    Column("kind", String(1), primary_key=True),
    Column("bucket_start", Date, primary_key=True),
    Column("notes", Text, nullable=False),
)

# Notes left on a role (PwsProjectNote): a requester's SchedulerNotes when submitting, a
# scheduler's ProjectManagerNotes when approving or finalizing. Never edited or removed.
role_notes = Table(
    "role_notes",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("uid", BigInteger, nullable=False, unique=True),
    Column("account_id", Integer, ForeignKey("accounts.id", ondelete="CASCADE"), nullable=False),
    Column("role_id", Integer, ForeignKey("project_roles.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("author_user_id", Integer, ForeignKey("users.id"), nullable=False),
    Column("note", String(1024), nullable=False),
    Column("created_at", DateTime, nullable=False),
)

# Invoices belong to one engagement (and optionally one of its projects). The cost centre,
# currency and culture are kept as the caller named them: openpws does not model those lists.
invoices = Table(
    "invoices",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("uid", BigInteger, nullable=False, unique=True),
    Column("account_id", Integer, ForeignKey("accounts.id", ondelete="CASCADE"), nullable=False),
    Column("engagement_id", Integer, ForeignKey("engagements.id"), nullable=False, index=True),
    Column("project_id", Integer, ForeignKey("projects.id"), nullable=True, index=True),
    Column("client_id", Integer, ForeignKey("clients.id"), nullable=False),
    Column("draft_number", String(20), nullable=False),
    Column("name", String(100), nullable=False),
    Column("content", String(1), nullable=False),
    Column("scope", String(1), nullable=True),
    Column("status", String(20), nullable=False),
    Column("purchase_order_number", String(50), nullable=True),
    Column("cost_center_name", String(50), nullable=True),
    Column("cost_center_number", String(40), nullable=True),
    Column("cost_center_uid", BigInteger, nullable=True),
    Column("currency_code", String(10), nullable=True),
    Column("currency_uid", BigInteger, nullable=True),
    Column("culture_name", String(15), nullable=True),
    Column("culture_uid", BigInteger, nullable=True),
    Column("approved_by_finance", Boolean, nullable=False),
    Column("approved_by_project_manager", Boolean, nullable=False),
    Column("approved_by_management", Boolean, nullable=False),
    Column("card_begin_date", DateTime, nullable=True),
    Column("card_end_date", DateTime, nullable=True),
    Column("deleted", Boolean, nullable=False),
    Column("rowversion", BigInteger, nullable=False),  # InvoiceTimestamp
    Column("created_at", DateTime, nullable=False),
    UniqueConstraint("account_id", "draft_number", name="uq_invoices_account_draft"),
)

Index("ix_engagements_account_updated", engagements.c.account_id, engagements.c.updated_at)
Index("ix_projects_account_updated", projects.c.account_id, projects.c.updated_at)

# Lock sets (ProjectorLockSetId is their id) of one user; a set lives until it expires, is
# released, or is stolen (one of its locks taken by another user), and then all its locks go.
lock_sets = Table(
    "lock_sets",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("account_id", Integer, ForeignKey("accounts.id", ondelete="CASCADE"), nullable=False),
    Column("user_id", Integer, ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("internal", Boolean, nullable=False),  # held by a back-office process: never stealable
    Column("created_at", DateTime, nullable=False),
    Column("expires_at", DateTime, nullable=False),
    Column("released_at", DateTime, nullable=True),
    Column("stolen_by_user_id", Integer, ForeignKey("users.id", ondelete="CASCADE"), nullable=True),
    Column("stolen_at", DateTime, nullable=True),
)

# One lock of a set on an engagement (E), project (P) or role (R). engagement_id and project_id
# place it in its engagement graph, so that the locks a write must respect are one indexed lookup.
locks = Table(
    "locks",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("lock_set_id", Integer, ForeignKey("lock_sets.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("account_id", Integer, ForeignKey("accounts.id", ondelete="CASCADE"), nullable=False),
    Column("entity_type", String(2), nullable=False),
    Column("entity_id", Integer, nullable=False),
    Column("entity_uid", BigInteger, nullable=False),
    Column("entity_code", String(50), nullable=True),
    Column("engagement_id", Integer, nullable=False),
    Column("project_id", Integer, nullable=True),
    Column("acquired_at", DateTime, nullable=False),
)
Index("ix_locks_graph", locks.c.account_id, locks.c.engagement_id)

# Removing an account deletes its rows table by table (store.sandbox): these are its only tables
# whose account_id led no index.
Index("ix_sessions_account", sessions.c.account_id)
Index("ix_lock_sets_account", lock_sets.c.account_id)

# Snapshots of an account (store.snapshots): every row of its data, locks and settings at one
# moment, as one compressed image, which a restore puts back exactly. They go with their account.
snapshots = Table(
    "snapshots",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("account_id", Integer, ForeignKey("accounts.id", ondelete="CASCADE"), nullable=False),
    Column("name", String(100), nullable=True),
    Column("creation", Boolean, nullable=False),  # taken as the account was created: what a reset restores
    Column("taken_at", DateTime, nullable=False),  # on the account's clock
    Column("rows", Integer, nullable=False),  # rows the image holds
    Column("counts", Text, nullable=False),  # JSON: the account's counts then, as its summary shows them
    Column("image", LargeBinary, nullable=False),
)
Index("ix_snapshots_account", snapshots.c.account_id, snapshots.c.id)
# The request journal (services.journal, store.journal): a row is a chunk, the PWS exchanges of an
# account, or of none (account_id NULL: a bad ticket, a bad envelope), that one process wrote in one
# transaction. Newest first is by (real time, id); each account keeps its newest
# OPENPWS_JOURNAL_SIZE exchanges (reads show no more; chunks of older ones are trimmed now and then).
journal = Table(
    "journal",
    metadata,
    # The smallest id (X-Openpws-Request-Id) of its exchanges; on SQLite the rowid itself
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=False),
    Column("account_id", Integer, ForeignKey("accounts.id", ondelete="CASCADE"), nullable=True),
    # The real times of its oldest and newest exchanges, in µs since 1970-01-01 UTC
    Column("oldest", BigInteger, nullable=False),
    Column("newest", BigInteger, nullable=False),
    Column("entries", Integer, nullable=False),  # how many exchanges it holds
    # LZ4 blocks: JSON, a summary of each exchange; and every request and response in turn, masked
    Column("summaries", LargeBinary, nullable=False),
    Column("bodies", LargeBinary, nullable=False),
)
Index("ix_journal_account_newest", journal.c.account_id, journal.c.newest)

# Blocks of journal ids: a server process takes the next row's id k and numbers its exchanges
# k * JOURNAL_BLOCK + 1 … (k + 1) * JOURNAL_BLOCK, so that an exchange's id is known before it
# is answered, without a statement per request. Only the newest row is kept.
journal_blocks = Table(
    "journal_blocks",
    metadata,
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True),
    sqlite_autoincrement=True,
)

# Fault rules of an account (services.faults): requests matching one are answered by it instead
# of by their operation. Not part of the account's data: snapshots do not hold them.
fault_rules = Table(
    "fault_rules",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("account_id", Integer, ForeignKey("accounts.id", ondelete="CASCADE"), nullable=False),
    Column("operation", String(100), nullable=False),
    Column("user_key", String(200), nullable=True),  # the lower-cased login it is limited to
    Column("remaining", Integer, nullable=True),  # calls it still answers; null: no limit
    Column("probability", Float, nullable=True),  # null: every matching call
    Column("then", Text, nullable=False),  # JSON: the answer, as the control plane took it
    Column("answered", Integer, nullable=False, server_default="0"),
    Column("created_at", DateTime, nullable=False),  # real time
)
Index("ix_fault_rules_account", fault_rules.c.account_id, fault_rules.c.id)

# Rate limiting of an account (services.rate_limits): its mode, limits and operation weights, as
# the control plane set them (no row: off, the defaults). Like fault rules, it says how requests
# are answered, not what the account holds: snapshots do not hold it.
rate_limits = Table(
    "rate_limits",
    metadata,
    Column("account_id", Integer, ForeignKey("accounts.id", ondelete="CASCADE"), primary_key=True),
    Column("mode", String(10), nullable=False),  # off, warning or error
    Column("installation_limit", Integer, nullable=False),
    Column("user_limit", Integer, nullable=False),
    Column("session_limit", Integer, nullable=False),
    Column("weights", Text, nullable=False),  # JSON: operation → hits
)

# The hits counted against an account's rate limits: one row per counted request (or simulated
# hits of PwsTestRateLimiter), at its instant on the account's clock. Rows older than the window
# are removed as new ones come in.
rate_limit_hits = Table(
    "rate_limit_hits",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("account_id", Integer, ForeignKey("accounts.id", ondelete="CASCADE"), nullable=False),
    Column("at", DateTime, nullable=False),
    Column("user_key", String(200), nullable=True),  # the lower-cased login
    Column("session_id", Integer, nullable=True),
    Column("installation", Integer, nullable=False),
    Column("user", Integer, nullable=False),
    Column("session", Integer, nullable=False),
)
Index("ix_rate_limit_hits_account", rate_limit_hits.c.account_id, rate_limit_hits.c.at)

# The change journal (services.changes): one row per write request that changed an account's
# rows, under the request's id (X-Openpws-Request-Id), holding every row it inserted, updated or
# deleted, before and after (store.changes). Each account keeps its newest OPENPWS_JOURNAL_SIZE
# rows, as the request journal does. Not part of the account's data: snapshots do not hold it.
change_journal = Table(
    "change_journal",
    metadata,
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=False),
    Column("account_id", Integer, ForeignKey("accounts.id", ondelete="CASCADE"), nullable=False),
    Column("real_at", DateTime, nullable=False),  # real time
    Column("time", DateTime, nullable=False),  # the account's clock
    Column("login", String(100), nullable=True),
    Column("operation", String(100), nullable=True),  # the PWS operation, or "Undo"
    Column("preview", Boolean, nullable=False, server_default=false()),  # rolled back: nothing changed
    Column("undoes", BigInteger, nullable=True),  # an undo: the request whose delete it put back
    Column("undone_by", BigInteger, nullable=True),  # a delete: the undo that put it back
    Column("kinds", String(200), nullable=False),  # ",project,role," : the kinds of rows it changed
    Column("rows", Integer, nullable=False),  # rows it changed
    Column("parts", Text, nullable=False),  # the rows, as store.changes writes them
)
Index("ix_change_journal_account_newest", change_journal.c.account_id, change_journal.c.real_at,
      change_journal.c.id)

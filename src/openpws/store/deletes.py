"""The rows the delete services read and remove.

The entity a delete starts from is looked up within the caller's account; everything below it is
reached through its id alone (a project's roles by project_id, an engagement's projects by
engagement_id), never with an account filter too: that filter would let the planner walk the
account's rows instead of the tree's, and the work must grow with the tree, not with the account.

Removal is set-based: a handful of statements whatever the size of the tree (hours, then roles,
then locks, then projects, then contract line items, then the engagement), each one
``DELETE … WHERE … IN (subquery)``, so that deleting an engagement of a thousand projects costs
about what the same raw SQL would.
Children go before their parents, so no foreign key is ever left dangling, even for a moment.
Invoices are never removed: whatever was ever invoiced is never deleted.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Select, bindparam, delete, exists, select

from openpws.entities import ClientRow, ProjectRow
from openpws.store import changes, statements
from openpws.store.rows import fetch
from openpws.store.schema import (
    clients,
    contract_line_items,
    engagements,
    locks,
    project_roles,
    projects,
    role_allocation_notes,
    role_hours,
    role_notes,
)


def invoiced_projects(connection: Connection, engagement_id: int) -> list[ProjectRow]:
    """The engagement's projects that were ever invoiced (any of them blocks a cascade)."""
    return fetch(connection, projects, ProjectRow, projects.c.engagement_id == engagement_id,
                 projects.c.ever_invoiced.is_(True), order_by=projects.c.code_key)


def project_codes(connection: Connection, engagement_id: int, *, limit: int) -> list[str]:
    """Up to ``limit`` codes of the engagement's projects (enough to name them in a message)."""
    return statements.scalars(connection, select(projects.c.code).where(projects.c.engagement_id == engagement_id)
                              .order_by(projects.c.code_key).limit(limit))


def other_projects_exist(connection: Connection, engagement_id: int, project_id: int) -> bool:
    return bool(statements.scalar(connection, select(exists().where(
        projects.c.engagement_id == engagement_id, projects.c.id != project_id))))


def live_roles_exist(connection: Connection, project_id: int) -> bool:
    return bool(statements.scalar(connection, select(exists().where(
        project_roles.c.project_id == project_id, project_roles.c.deleted.is_(False)))))


# The statements of a role delete, built once: it is the write a benchmark runs by the thousand.
_ROLE_HAS_HOURS = select(exists().where(role_hours.c.role_id == bindparam("role"), role_hours.c.weekly_minutes > 0))
_DELETE_ROLE_HOURS = delete(role_hours).where(role_hours.c.role_id == bindparam("role"))
_DELETE_ROLE_ALLOCATION_NOTES = delete(role_allocation_notes).where(
    role_allocation_notes.c.role_id == bindparam("role"))
_DELETE_ROLE_LOCKS = delete(locks).where(
    locks.c.account_id == bindparam("account"), locks.c.engagement_id == bindparam("engagement"),
    locks.c.entity_type == "R", locks.c.entity_id == bindparam("role"))


def role_has_hours(connection: Connection, role_id: int) -> bool:
    """Whether the role has requested or booked minutes (buckets of 0 minutes are never kept)."""
    return bool(statements.scalar(connection, _ROLE_HAS_HOURS, {"role": role_id}))


def _delete_under_projects(connection: Connection, project_ids: Select[Any] | list[int]) -> None:
    """The hours, notes and roles (live and deleted) of these projects."""
    role_ids = select(project_roles.c.id).where(project_roles.c.project_id.in_(project_ids))
    changes.delete_rows(connection, role_hours, role_hours.c.role_id.in_(role_ids))
    changes.delete_rows(connection, role_allocation_notes, role_allocation_notes.c.role_id.in_(role_ids))
    changes.delete_rows(connection, role_notes, role_notes.c.role_id.in_(role_ids))
    changes.delete_rows(connection, project_roles, project_roles.c.project_id.in_(project_ids))


def _graph_locks(account_id: int, engagement_id: int) -> Any:
    """The locks of one engagement graph (what the locks' graph index finds directly)."""
    return (locks.c.account_id == account_id) & (locks.c.engagement_id == engagement_id)


def delete_project(connection: Connection, account_id: int, engagement_id: int, project_id: int) -> None:
    """The project with its roles, their hours, and every lock on the project or its roles."""
    _delete_under_projects(connection, [project_id])
    changes.delete_rows(connection, locks, _graph_locks(account_id, engagement_id) & (locks.c.project_id == project_id))
    changes.delete_rows(connection, projects, projects.c.id == project_id)


def delete_engagement(connection: Connection, account_id: int, engagement_id: int) -> None:
    """The engagement with all its projects, their roles and hours, its contract line items, and
    every lock in its graph."""
    _delete_under_projects(connection, select(projects.c.id).where(projects.c.engagement_id == engagement_id))
    changes.delete_rows(connection, locks, _graph_locks(account_id, engagement_id))
    changes.delete_rows(connection, projects, projects.c.engagement_id == engagement_id)
    changes.delete_rows(connection, contract_line_items, contract_line_items.c.engagement_id == engagement_id)
    changes.delete_rows(connection, engagements, engagements.c.id == engagement_id)


def delete_role_hours(connection: Connection, role_id: int) -> None:
    """Every requested and booked bucket of the role, with their allocation notes (ZeroOutHoursFlag)."""
    hours = changes.capture(connection, role_hours, role_hours.c.role_id == role_id)
    notes = changes.capture(connection, role_allocation_notes, role_allocation_notes.c.role_id == role_id)
    statements.change(connection, _DELETE_ROLE_HOURS, {"role": role_id})
    statements.change(connection, _DELETE_ROLE_ALLOCATION_NOTES, {"role": role_id})
    changes.add(connection, role_hours, hours, None)
    changes.add(connection, role_allocation_notes, notes, None)


def delete_role_locks(connection: Connection, account_id: int, engagement_id: int, role_id: int) -> None:
    held = changes.capture(connection, locks, _graph_locks(account_id, engagement_id) & (locks.c.entity_type == "R")
                           & (locks.c.entity_id == role_id))
    statements.change(connection, _DELETE_ROLE_LOCKS,
                      {"account": account_id, "engagement": engagement_id, "role": role_id})
    changes.add(connection, locks, held, None)


# --- clients ---------------------------------------------------------------------------------------

def lock_clients(connection: Connection, account_id: int, ids: Iterable[int]) -> list[ClientRow]:
    """These clients, locked for the rest of the transaction: an engagement or child client that
    a concurrent writer adds under one of them waits for this transaction, or is seen by it."""
    wanted = set(ids)
    if not wanted:
        return []
    return fetch(connection, clients, ClientRow, clients.c.account_id == account_id, clients.c.id.in_(wanted),
                 order_by=clients.c.id, for_update=True)


def children_for_update(connection: Connection, parent_ids: Iterable[int]) -> list[ClientRow]:
    wanted = set(parent_ids)
    if not wanted:
        return []
    return fetch(connection, clients, ClientRow, clients.c.parent_id.in_(wanted), order_by=clients.c.id,
                 for_update=True)


def clients_with_engagements(connection: Connection, client_ids: Iterable[int]) -> set[int]:
    """Which of these clients have at least one engagement (are in use)."""
    wanted = set(client_ids)
    if not wanted:
        return set()
    return set(statements.scalars(connection, select(engagements.c.client_id).distinct().where(
        engagements.c.client_id.in_(wanted))))


def delete_clients(connection: Connection, client_ids: Iterable[int]) -> None:
    """These clients in one statement: a parent and its children may go together, since foreign
    keys are checked when the statement ends."""
    wanted = set(client_ids)
    if wanted:
        changes.delete_rows(connection, clients, clients.c.id.in_(wanted))


def inactivate_client(connection: Connection, client_id: int, rowversion: int, now: datetime) -> None:
    changes.update_rows(connection, clients, clients.c.id == client_id,
                        {"inactive": True, "rowversion": rowversion, "updated_at": now})

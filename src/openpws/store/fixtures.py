"""What fixtures need of the store beside the services' own statements: every row of an account's
tree at once (an export reads them all), its users' Uids by login, and the removal of the user a
fixture was loaded as."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TypeVar

from sqlalchemy import Connection, Table, delete, select

from openpws.entities import (
    ClientRow,
    ContractLineItemRow,
    EngagementRow,
    InvoiceRow,
    ProjectRow,
    RoleRow,
    StageRow,
)
from openpws.store import statements
from openpws.store.rows import fetch
from openpws.store.schema import (
    clients,
    contract_line_items,
    engagements,
    invoices,
    project_roles,
    projects,
    sessions,
    stages,
    user_permissions,
    users,
)

R = TypeVar("R")


@dataclass(frozen=True)
class Tree:
    """An account's rows of each kind, in the order they were made (by id)."""

    stages: list[StageRow]
    clients: list[ClientRow]
    engagements: list[EngagementRow]
    contract_line_items: list[ContractLineItemRow]
    projects: list[ProjectRow]
    roles: list[RoleRow]
    invoices: list[InvoiceRow]


def _of_account(connection: Connection, account_id: int, table: Table, row_type: type[R]) -> list[R]:
    return fetch(connection, table, row_type, table.c.account_id == account_id, order_by=table.c.id)


def tree(connection: Connection, account_id: int) -> Tree:
    def rows(table: Table, row_type: type[R]) -> list[R]:
        return _of_account(connection, account_id, table, row_type)

    return Tree(rows(stages, StageRow), rows(clients, ClientRow), rows(engagements, EngagementRow),
                rows(contract_line_items, ContractLineItemRow), rows(projects, ProjectRow),
                rows(project_roles, RoleRow), rows(invoices, InvoiceRow))


def user_uids(connection: Connection, account_id: int) -> dict[str, int]:
    """The account's users' Uids by lower-cased login."""
    query = select(users.c.login_key, users.c.uid).where(users.c.account_id == account_id)
    return {login: int(uid) for login, uid in statements.rows(connection, query)}


def remove_user(connection: Connection, account_id: int, user_id: int) -> None:
    """Remove a user who holds nothing but sessions (the user a fixture was loaded as)."""
    statements.change(connection, delete(sessions).where(sessions.c.user_id == user_id))
    statements.change(connection, delete(user_permissions).where(user_permissions.c.user_id == user_id))
    statements.change(connection, delete(users).where(users.c.id == user_id, users.c.account_id == account_id))

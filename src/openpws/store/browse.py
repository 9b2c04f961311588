"""Reading an account's tree a page at a time, for the admin pages (``services.browse``): one
client, engagement, project, contract line item, role or invoice by its code, the rows under it in
pages ordered by code, and a search over codes and names. Every list is bounded by a ``limit`` and
goes on after the last key shown (keyset paging), so a page costs the same in an account of ten rows
and of ten thousand."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, TypeVar

from sqlalchemy import Connection, Table, func, or_, select

from openpws.entities import (
    ClientRow,
    ContractLineItemRow,
    EngagementRow,
    InvoiceRow,
    PersonRow,
    ProjectRow,
    RoleRow,
    StageRow,
)
from openpws.store import statements
from openpws.store.rows import fetch, fetch_one, like_pattern
from openpws.store.schema import (
    clients,
    contract_line_items,
    engagements,
    invoices,
    project_roles,
    projects,
    stages,
    users,
)

R = TypeVar("R")


def _after(column: Any, after: str | None) -> list[Any]:
    return [] if after is None else [column > after]


def top_clients(connection: Connection, account_id: int, after: str | None, limit: int) -> list[ClientRow]:
    """Clients without a parent, by number (upper-cased), after ``after``."""
    return fetch(connection, clients, ClientRow, clients.c.account_id == account_id, clients.c.parent_id.is_(None),
                 *_after(clients.c.number_key, after), order_by=clients.c.number_key, limit=limit)


def children_of(connection: Connection, account_id: int, parent_ids: Iterable[int]) -> list[ClientRow]:
    wanted = sorted(set(parent_ids))
    if not wanted:
        return []
    return fetch(connection, clients, ClientRow, clients.c.account_id == account_id, clients.c.parent_id.in_(wanted),
                 order_by=clients.c.number_key)


def client_by_number(connection: Connection, account_id: int, number: str) -> ClientRow | None:
    return fetch_one(connection, clients, ClientRow, clients.c.account_id == account_id,
                     clients.c.number_key == number.upper())


def clients_by_ids(connection: Connection, account_id: int, ids: Iterable[int | None]) -> dict[int, ClientRow]:
    wanted = sorted({i for i in ids if i is not None})
    if not wanted:
        return {}
    return {row.id: row for row in fetch(connection, clients, ClientRow, clients.c.account_id == account_id,
                                         clients.c.id.in_(wanted))}


def engagement_counts(connection: Connection, client_ids: Iterable[int]) -> dict[int, int]:
    wanted = sorted(set(client_ids))
    if not wanted:
        return {}
    query = (select(engagements.c.client_id, func.count()).where(engagements.c.client_id.in_(wanted))
             .group_by(engagements.c.client_id))
    return {int(client): int(count) for client, count in statements.rows(connection, query)}


def engagements_of(connection: Connection, client_id: int, after: str | None, limit: int) -> list[EngagementRow]:
    return fetch(connection, engagements, EngagementRow, engagements.c.client_id == client_id,
                 *_after(engagements.c.code_key, after), order_by=engagements.c.code_key, limit=limit)


def engagement_by_code(connection: Connection, account_id: int, code: str) -> EngagementRow | None:
    return fetch_one(connection, engagements, EngagementRow, engagements.c.account_id == account_id,
                     engagements.c.code_key == code.upper())


def engagements_by_ids(connection: Connection, account_id: int, ids: Iterable[int]) -> dict[int, EngagementRow]:
    wanted = sorted(set(ids))
    if not wanted:
        return {}
    return {row.id: row for row in fetch(connection, engagements, EngagementRow,
                                         engagements.c.account_id == account_id, engagements.c.id.in_(wanted))}


def line_items_of(connection: Connection, engagement_id: int, limit: int) -> list[ContractLineItemRow]:
    return fetch(connection, contract_line_items, ContractLineItemRow,
                 contract_line_items.c.engagement_id == engagement_id, order_by=contract_line_items.c.code_key,
                 limit=limit)


def line_item_by_code(connection: Connection, account_id: int, code: str) -> ContractLineItemRow | None:
    return fetch_one(connection, contract_line_items, ContractLineItemRow,
                     contract_line_items.c.account_id == account_id, contract_line_items.c.code_key == code.upper())


def line_items_by_ids(connection: Connection, account_id: int,
                      ids: Iterable[int | None]) -> dict[int, ContractLineItemRow]:
    wanted = sorted({i for i in ids if i is not None})
    if not wanted:
        return {}
    return {row.id: row for row in fetch(connection, contract_line_items, ContractLineItemRow,
                                         contract_line_items.c.account_id == account_id,
                                         contract_line_items.c.id.in_(wanted))}


def projects_of(connection: Connection, *, engagement_id: int | None = None, line_item_id: int | None = None,
                after: str | None, limit: int) -> list[ProjectRow]:
    """An engagement's projects (or a contract line item's), by code, after ``after``."""
    where = (projects.c.engagement_id == engagement_id if line_item_id is None
             else projects.c.contract_line_item_id == line_item_id)
    return fetch(connection, projects, ProjectRow, where, *_after(projects.c.code_key, after),
                 order_by=projects.c.code_key, limit=limit)


def project_by_code(connection: Connection, account_id: int, code: str) -> ProjectRow | None:
    return fetch_one(connection, projects, ProjectRow, projects.c.account_id == account_id,
                     projects.c.code_key == code.upper())


def projects_by_ids(connection: Connection, account_id: int, ids: Iterable[int | None]) -> dict[int, ProjectRow]:
    wanted = sorted({i for i in ids if i is not None})
    if not wanted:
        return {}
    return {row.id: row for row in fetch(connection, projects, ProjectRow, projects.c.account_id == account_id,
                                         projects.c.id.in_(wanted))}


def roles_of(connection: Connection, project_id: int, *, deleted: bool, after: int | None,
             limit: int) -> list[RoleRow]:
    """A project's live (or deleted) roles in the order they were made, after the role id ``after``."""
    where = [project_roles.c.project_id == project_id, project_roles.c.deleted.is_(deleted)]
    if after is not None:
        where.append(project_roles.c.id > after)
    return fetch(connection, project_roles, RoleRow, *where, order_by=project_roles.c.id, limit=limit)


def role_by_uid(connection: Connection, account_id: int, uid: int) -> RoleRow | None:
    return fetch_one(connection, project_roles, RoleRow, project_roles.c.account_id == account_id,
                     project_roles.c.uid == uid)


def invoices_of(connection: Connection, *, engagement_id: int | None = None, project_id: int | None = None,
                limit: int) -> list[InvoiceRow]:
    where = invoices.c.engagement_id == engagement_id if project_id is None else invoices.c.project_id == project_id
    return fetch(connection, invoices, InvoiceRow, where, order_by=invoices.c.draft_number, limit=limit)


def invoice_by_number(connection: Connection, account_id: int, number: str) -> InvoiceRow | None:
    return fetch_one(connection, invoices, InvoiceRow, invoices.c.account_id == account_id,
                     invoices.c.draft_number == number)


def stages_by_ids(connection: Connection, account_id: int, ids: Iterable[int]) -> dict[int, StageRow]:
    wanted = sorted(set(ids))
    if not wanted:
        return {}
    return {row.id: row for row in fetch(connection, stages, StageRow, stages.c.account_id == account_id,
                                         stages.c.id.in_(wanted))}


def people(connection: Connection, account_id: int, ids: Iterable[int | None]) -> dict[int, PersonRow]:
    wanted = sorted({i for i in ids if i is not None})
    if not wanted:
        return {}
    return {row.id: row for row in fetch(connection, users, PersonRow, users.c.account_id == account_id,
                                         users.c.id.in_(wanted))}


# --- search ---------------------------------------------------------------------------------------

def _search(connection: Connection, table: Table, row_type: type[R], account_id: int, code_key: Any, name: Any,
            text: str, order: Any, limit: int) -> list[R]:
    """Rows of the account whose code or name holds ``text`` (any case), or whose Uid it is;
    exact codes first."""
    pattern = like_pattern(text)
    matches = [code_key.like(pattern.upper(), escape="\\"), func.lower(name).like(pattern, escape="\\")]
    if text.isdigit() and len(text) < 20:
        matches.append(table.c.uid == int(text))
    exact = code_key == text.upper()
    found = fetch(connection, table, row_type, table.c.account_id == account_id, exact, limit=1)
    rest = fetch(connection, table, row_type, table.c.account_id == account_id, or_(*matches), ~exact,
                 order_by=order, limit=limit - len(found))
    return found + rest


def search_clients(connection: Connection, account_id: int, text: str, limit: int) -> list[ClientRow]:
    return _search(connection, clients, ClientRow, account_id, clients.c.number_key, clients.c.name, text,
                   clients.c.number_key, limit)


def search_engagements(connection: Connection, account_id: int, text: str, limit: int) -> list[EngagementRow]:
    return _search(connection, engagements, EngagementRow, account_id, engagements.c.code_key, engagements.c.name,
                   text, engagements.c.code_key, limit)


def search_line_items(connection: Connection, account_id: int, text: str, limit: int) -> list[ContractLineItemRow]:
    return _search(connection, contract_line_items, ContractLineItemRow, account_id, contract_line_items.c.code_key,
                   contract_line_items.c.name, text, contract_line_items.c.code_key, limit)


def search_projects(connection: Connection, account_id: int, text: str, limit: int) -> list[ProjectRow]:
    return _search(connection, projects, ProjectRow, account_id, projects.c.code_key, projects.c.name, text,
                   projects.c.code_key, limit)


def search_roles(connection: Connection, account_id: int, text: str, limit: int) -> list[RoleRow]:
    return _search(connection, project_roles, RoleRow, account_id, func.coalesce(project_roles.c.external_key, ""),
                   project_roles.c.name, text, project_roles.c.id, limit)


def search_invoices(connection: Connection, account_id: int, text: str, limit: int) -> list[InvoiceRow]:
    return _search(connection, invoices, InvoiceRow, account_id, func.upper(invoices.c.draft_number),
                   invoices.c.name, text, invoices.c.draft_number, limit)

"""Contract line item rows. Every query is confined to one account, or reaches the rows through
an engagement of the caller's account."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import Connection, select

from openpws.entities import ContractLineItemRow
from openpws.store import changes, statements
from openpws.store.rows import ById, UpdateById, fetch, fetch_one
from openpws.store.schema import contract_line_items

NAME_KEY_LENGTH = 255


def name_key(name: str) -> str:
    """The key a name is found by: lower-cased, cut to its column (a name whose folded form grows
    past it is refused before it is stored, unless it is an engagement's name taken over)."""
    return name.lower()[:NAME_KEY_LENGTH]


_BY_IDS = ById(contract_line_items, ContractLineItemRow)


def by_ids(connection: Connection, account_id: int, ids: Iterable[int | None]) -> dict[int, ContractLineItemRow]:
    return _BY_IDS(connection, account_id, ids)


def by_name(connection: Connection, account_id: int, engagement_id: int, name: str) -> ContractLineItemRow | None:
    """The engagement's contract line item of this name (names are unique within an engagement,
    compared case-insensitively)."""
    return fetch_one(connection, contract_line_items, ContractLineItemRow,
                     contract_line_items.c.account_id == account_id,
                     contract_line_items.c.engagement_id == engagement_id,
                     contract_line_items.c.name_key == name_key(name))


def of_engagements(connection: Connection, account_id: int,
                   engagement_ids: Iterable[int]) -> list[ContractLineItemRow]:
    """The contract line items of these engagements, each engagement's in the order they were made
    (the first is the one a new project goes to when it names none)."""
    wanted = set(engagement_ids)
    if not wanted:
        return []
    return fetch(connection, contract_line_items, ContractLineItemRow,
                 contract_line_items.c.account_id == account_id,
                 contract_line_items.c.engagement_id.in_(wanted), order_by=contract_line_items.c.id)


def codes_of_engagement(connection: Connection, account_id: int, engagement_id: int) -> list[str]:
    return statements.scalars(connection, select(contract_line_items.c.code).where(
        contract_line_items.c.account_id == account_id, contract_line_items.c.engagement_id == engagement_id))


def insert_contract_line_item(connection: Connection, account_id: int, values: dict[str, Any]) -> int:
    return changes.insert_row(connection, contract_line_items, {
        "account_id": account_id, "code_key": values["code"].upper(), "name_key": name_key(values["name"]), **values})


_UPDATE = UpdateById(contract_line_items)


def update_contract_line_item(connection: Connection, contract_line_item_id: int, values: dict[str, Any]) -> None:
    if "code" in values:
        values = {**values, "code_key": values["code"].upper()}
    if "name" in values:
        values = {**values, "name_key": name_key(values["name"])}
    _UPDATE(connection, contract_line_item_id, values)


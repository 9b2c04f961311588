"""Invoice rows. Every query is confined to one account.

Draft numbers are stored upper-case (``DRAFT00001``), so a lookup by number is case-insensitive
and the account's unique (account_id, draft_number) index serves both lookups and numbering.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, func, select

from openpws.entities import InvoiceRow
from openpws.store import changes, statements
from openpws.store.rows import fetch_one
from openpws.store.schema import invoices

DRAFT_PREFIX = "DRAFT"



def by_number(connection: Connection, account_id: int, number: str) -> InvoiceRow | None:
    return fetch_one(connection, invoices, InvoiceRow, invoices.c.account_id == account_id,
                     invoices.c.draft_number == number.upper())


def next_draft_number(connection: Connection, account_id: int) -> str:
    """The next free DRAFTnnnnn number of the account: one above the highest taken (read from the
    unique index, so it costs the same however many invoices the account has)."""
    highest = statements.scalar(connection, select(func.max(invoices.c.draft_number)).where(
        invoices.c.account_id == account_id, invoices.c.draft_number.like(DRAFT_PREFIX + "%")))
    digits = str(highest)[len(DRAFT_PREFIX):] if highest else ""
    candidate = int(digits) + 1 if digits.isdigit() else 1
    # Past DRAFT99999 the numbers grow a digit and no longer sort last as text: step over taken ones.
    while by_number(connection, account_id, f"{DRAFT_PREFIX}{candidate:05d}") is not None:
        candidate += 1
    return f"{DRAFT_PREFIX}{candidate:05d}"


def insert_invoice(connection: Connection, account_id: int, values: dict[str, Any]) -> int:
    return changes.insert_row(connection, invoices, {"account_id": account_id, **values})


def by_id(connection: Connection, account_id: int, invoice_id: int) -> InvoiceRow:
    found = fetch_one(connection, invoices, InvoiceRow, invoices.c.account_id == account_id,
                      invoices.c.id == invoice_id)
    assert found is not None
    return found

"""Engagement (E) and project (P) stages of an account; each is open or closed."""

from __future__ import annotations

from sqlalchemy import Connection, insert

from openpws.entities import StageRow
from openpws.store import statements
from openpws.store.counters import next_uid
from openpws.store.rows import fetch, fetch_one
from openpws.store.schema import stages

# The stages every new account starts with: (kind, name, short name, closed).
DEFAULT_STAGES = (
    ("E", "Open", "OP", False), ("E", "On Hold", "OH", False), ("E", "Closed", "CL", True),
    ("P", "Open", "OP", False), ("P", "On Hold", "OH", False), ("P", "Closed", "CL", True),
)



def seed_stages(connection: Connection, account_id: int) -> None:
    for order, (kind, name, short, closed) in enumerate(DEFAULT_STAGES):
        statements.change(connection, insert(stages).values(
            uid=next_uid(connection), account_id=account_id, kind=kind, name=name, name_key=name.lower(),
            short_name=short, closed=closed, sort_order=order))


def of_kind(connection: Connection, account_id: int, kind: str) -> list[StageRow]:
    """The account's stages of one kind in sort order; the first is the default for new entities."""
    return fetch(connection, stages, StageRow, stages.c.account_id == account_id, stages.c.kind == kind,
                 order_by=stages.c.sort_order)


def by_id(connection: Connection, stage_id: int) -> StageRow:
    found = fetch_one(connection, stages, StageRow, stages.c.id == stage_id)
    assert found is not None
    return found

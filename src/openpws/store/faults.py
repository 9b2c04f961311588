"""Fault rule rows (``services.faults`` says what they mean)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, and_, delete, insert, or_, select, update

from openpws.store import statements
from openpws.store.schema import accounts, fault_rules


@dataclass(frozen=True)
class RuleRow:
    id: int
    account_id: int
    account_key: str  # the account's lower-cased code
    operation: str
    user_key: str | None
    remaining: int | None
    probability: float | None
    then: str  # JSON
    answered: int
    created_at: datetime  # naive UTC, real time


_COLUMNS = (fault_rules.c.id, fault_rules.c.account_id, accounts.c.code_key, fault_rules.c.operation,
            fault_rules.c.user_key, fault_rules.c.remaining, fault_rules.c.probability, fault_rules.c.then,
            fault_rules.c.answered, fault_rules.c.created_at)
_RULES = select(*_COLUMNS).join(accounts, accounts.c.id == fault_rules.c.account_id)


def _rules(rows: Sequence[Any]) -> list[RuleRow]:
    return [RuleRow(*row) for row in rows]


def insert_rule(connection: Connection, account_id: int, *, operation: str, user_key: str | None,
                remaining: int | None, probability: float | None, then: str, created_at: datetime) -> RuleRow:
    rule_id = statements.scalar(connection, insert(fault_rules).values(
        account_id=account_id, operation=operation, user_key=user_key, remaining=remaining,
        probability=probability, then=then, created_at=created_at).returning(fault_rules.c.id))
    return _rules(statements.rows(connection, _RULES.where(fault_rules.c.id == rule_id)))[0]


def account_rules(connection: Connection, account_id: int) -> list[RuleRow]:
    """The account's rules, newest first."""
    return _rules(statements.rows(connection, _RULES.where(fault_rules.c.account_id == account_id)
                                  .order_by(fault_rules.c.id.desc())))


def all_rules(connection: Connection) -> list[RuleRow]:
    """Every account's rules, newest first (what a process caches)."""
    return _rules(statements.rows(connection, _RULES.order_by(fault_rules.c.id.desc())))


def delete_rule(connection: Connection, account_id: int, rule_id: int) -> bool:
    return statements.change(connection, delete(fault_rules).where(
        fault_rules.c.account_id == account_id, fault_rules.c.id == rule_id)) > 0


def clear(connection: Connection, account_id: int) -> None:
    statements.change(connection, delete(fault_rules).where(fault_rules.c.account_id == account_id))


def consume(connection: Connection, rule_id: int) -> bool:
    """Count one call the rule answers, if it still exists and has calls left: one statement, so
    that processes answering at once never let it answer more calls than it was given. A rule
    with no calls left goes."""
    taken = statements.change(connection, update(fault_rules).where(
        fault_rules.c.id == rule_id, or_(fault_rules.c.remaining.is_(None), fault_rules.c.remaining > 0))
        .values(answered=fault_rules.c.answered + 1, remaining=fault_rules.c.remaining - 1)) > 0
    statements.change(connection, delete(fault_rules).where(
        and_(fault_rules.c.id == rule_id, fault_rules.c.remaining <= 0)))
    return taken

"""Migration 0005 on a database that already holds engagements and projects: each engagement gets
the contract line item it would have been made with, and its projects are placed on it."""

from __future__ import annotations

from datetime import datetime

from alembic import command
from sqlalchemy import Connection, Engine, column, insert, table, text

from openpws.store import migrate
from openpws.store.counters import UID_BASE, next_uid


def _insert(connection: Connection, table_name: str, /, **values: object) -> int:
    """A row as the schema of that time had it (the tables are not the current ones)."""
    target = table(table_name, column("id"), *(column(c) for c in values))
    return int(connection.execute(insert(target).values(values).returning(target.c.id)).scalar_one())


def test_existing_engagements_get_their_first_contract_line_item(fresh_engine: Engine) -> None:
    config = migrate._config()
    now = datetime(2026, 1, 5, 9, 30)
    with fresh_engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "0004_locks")
        account = _insert(connection, "accounts", uid=UID_BASE + 900001, code="old", code_key="old", name="Old",
                          created_at=now)
        client = _insert(connection, "clients", uid=UID_BASE + 900002, account_id=account, number="C1",
                         number_key="C1", name="Client", inactive=False, rowversion=1, updated_at=now)
        stage = _insert(connection, "stages", uid=UID_BASE + 900003, account_id=account, kind="E", name="Open",
                        name_key="open", short_name="OP", closed=False, sort_order=0)
        engagements = [
            _insert(connection, "engagements", uid=UID_BASE + 900010 + n, account_id=account, client_id=client,
                    code=code, code_key=code, name=name, stage_id=stage, ever_invoiced=False, rowversion=7 + n,
                    updated_at=now)
            for n, (code, name) in enumerate((("E1", "First"), ("E2", "Second")))]
        for n, (engagement, code) in enumerate(((engagements[0], "E1-001"), (engagements[0], "E1-002"),
                                                (engagements[1], "E2-001"))):
            _insert(connection, "projects", uid=UID_BASE + 900020 + n, account_id=account, engagement_id=engagement,
                    code=code, code_key=code, name=code, stage_id=stage, ever_invoiced=False, rowversion=9,
                    updated_at=now)
    migrate.upgrade(fresh_engine)
    with fresh_engine.connect() as connection:
        lines = connection.execute(text(
            "SELECT id, uid, engagement_id, code, name, time_contract_terms, rowversion FROM contract_line_items "
            "ORDER BY id")).all()
        assert [(line.engagement_id, line.code, line.name, line.time_contract_terms, line.rowversion)
                for line in lines] == [(engagements[0], "E1-CL1", "First", "T", 7),
                                       (engagements[1], "E2-CL1", "Second", "T", 8)]
        assert all(line.uid > UID_BASE for line in lines) and len({line.uid for line in lines}) == 2
        placed = connection.execute(text(
            "SELECT p.code, c.code FROM projects p JOIN contract_line_items c ON c.id = p.contract_line_item_id "
            "ORDER BY p.code")).all()
        assert [tuple(row) for row in placed] == [("E1-001", "E1-CL1"), ("E1-002", "E1-CL1"), ("E2-001", "E2-CL1")]
    # Uids made after the migration never repeat the ones it took.
    with fresh_engine.begin() as connection:
        assert next_uid(connection) > max(line.uid for line in lines)

"""Statements run on the driver's cursor read exactly what SQLAlchemy would: same rows, same types."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy import bindparam, select

from openpws.store.accounts import find_account
from openpws.store.prebuilt import Prebuilt, PrebuiltRows
from openpws.store.projects import ProjectRow
from openpws.store.rows import columns_for
from openpws.store.schema import projects, sessions
from openpws.store.transactions import Store
from tests.conftest import AccountFixture
from tests.pws import SoapClient
from tests.tree import Pws

PROJECTS = PrebuiltRows(
    select(*columns_for(projects, ProjectRow)).where(
        projects.c.account_id == bindparam("account"), projects.c.id.in_(bindparam("ids", expanding=True))
    ).order_by(projects.c.id),
    ProjectRow, expanding=["ids"],
)
SESSIONS_SINCE = Prebuilt(
    select(sessions.c.id, sessions.c.created_at, sessions.c.ended_at)
    .where(sessions.c.account_id == bindparam("account"), sessions.c.created_at >= bindparam("since"))
    .order_by(sessions.c.id)
)


@pytest.fixture
def tree(soap: SoapClient, account: AccountFixture) -> Pws:
    pws = Pws(soap, account)
    engagement = pws.engagement(pws.client("Prebuilt"), "E")
    pws.project(engagement, "With every value", "<com:OpenDate>2026-03-04T05:06:07.123456Z</com:OpenDate>"
                "<com:Description>R&amp;D</com:Description><com:PercentLikelihood>62.5</com:PercentLikelihood>")
    pws.project(engagement, "With none")
    pws.project(engagement, "Third")
    return pws


def test_rows_match_what_sqlalchemy_reads_for_every_list_length(store: Store, tree: Pws) -> None:
    with store.read() as tx:
        account = find_account(tx, tree.account.code)
        assert account is not None
        ids = list(tx.execute(select(projects.c.id).where(projects.c.account_id == account.id)).scalars())
        assert len(ids) == 3
        for wanted in ([ids[0]], ids[:2], ids, [*ids, *range(-100, -3)]):  # lengths 1, 2, 3 and 100
            fast = PROJECTS.rows(tx, account=account.id, ids=wanted)
            slow = [ProjectRow(**row._asdict())
                    for row in tx.execute(PROJECTS.statement, {"account": account.id, "ids": wanted})]
            assert fast == slow and len(fast) == min(len(wanted), 3)
            for got, expected in zip(fast, slow, strict=True):
                assert [type(v) for v in vars(got).values()] == [type(v) for v in vars(expected).values()]
    every = next(row for row in fast if row.name == "With every value")
    assert every.percent_likelihood == 62.5 and every.description == "R&D"
    assert every.open_date is not None and every.open_date.year == 2026 and isinstance(every.ever_invoiced, bool)


def test_parameters_are_converted_as_sqlalchemy_converts_them(store: Store, tree: Pws) -> None:
    with store.read() as tx:
        account = find_account(tx, tree.account.code)
        assert account is not None
        started = tx.execute(select(sessions.c.created_at).where(sessions.c.account_id == account.id)).scalar_one()
        for since in (started - timedelta(seconds=1), started, started + timedelta(seconds=1), datetime(1900, 1, 1)):
            fast = SESSIONS_SINCE.all(tx, account=account.id, since=since)
            slow = [tuple(row) for row in tx.execute(SESSIONS_SINCE.statement, {"account": account.id, "since": since})]
            assert fast == slow
        assert SESSIONS_SINCE.all(tx, account=account.id, since=started)[0][1] == started
        assert SESSIONS_SINCE.all(tx, account=account.id, since=started + timedelta(seconds=1)) == []


def test_an_empty_list_is_refused_rather_than_run(store: Store) -> None:
    with store.read() as tx, pytest.raises(ValueError, match="empty"):
        PROJECTS.rows(tx, account=1, ids=[])

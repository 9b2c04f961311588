"""The unit of work of graph writes: engagements locked and read again, rows a concurrent delete
removed answered as gone, one version shared by a write and its graph."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime

import pytest
from sqlalchemy import Connection

from openpws import errors
from openpws.config import Settings
from openpws.entities import EngagementRow
from openpws.services import admin, refs
from openpws.services.context import Context
from openpws.services.graph_write import Change, GraphWrite
from openpws.store import engagements as engagement_store
from openpws.store import projects as project_store
from openpws.store.transactions import Store
from tests.conftest import AccountFixture
from tests.pws import SoapClient
from tests.tree import Pws


def context(tx: Connection, account: AccountFixture) -> Context:
    return Context(tx, admin.caller_for(tx, account.code, account.admin), datetime.now(UTC), Settings())


@pytest.fixture
def engagement(soap: SoapClient, account: AccountFixture, store: Store) -> EngagementRow:
    pws = Pws(soap, account)
    code = pws.engagement(pws.client("Acme"), "Build")
    pws.project(code, "Phase 1")
    with store.read() as tx:
        return refs.ENGAGEMENT.resolve(tx, context(tx, account).user, refs.Key(code, None))


def test_a_second_writer_of_the_graph_waits_and_then_sees_the_first_ones_write(
        store: Store, account: AccountFixture, engagement: EngagementRow) -> None:
    opened = threading.Event()
    seen: list[str] = []

    def first() -> None:
        with store.write() as tx:
            unit = GraphWrite.open(context(tx, account), [engagement.id])
            opened.set()
            time.sleep(0.4)
            engagement_store.update_engagement(tx, unit.engagement.id, {"name": "Renamed"})

    def second() -> None:
        opened.wait(10)
        with store.write() as tx:
            seen.append(GraphWrite.open(context(tx, account), [engagement.id]).engagement.name)

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    started = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert seen == ["Renamed"] and time.monotonic() - started >= 0.4


def test_a_graph_or_row_that_is_gone_answers_what_the_write_says(
        store: Store, account: AccountFixture, engagement: EngagementRow) -> None:
    gone = errors.fail(errors.ENTITY_NOT_FOUND, "ProjectCode=X (deleted meanwhile)", entity="PwsProjectRef")
    with store.write() as tx:
        ctx = context(tx, account)
        with pytest.raises(errors.PwsError) as default:
            GraphWrite.open(ctx, [engagement.id + 10_000_000])
        assert [m.entry for m in default.value.messages] == [errors.ENGAGEMENT_NOT_FOUND]
        with pytest.raises(errors.PwsError) as named:
            GraphWrite.open(ctx, [engagement.id + 10_000_000], gone)
        assert named.value is gone
        unit = GraphWrite.open(ctx, [engagement.id], gone)
        with pytest.raises(errors.PwsError) as reread:
            unit.reread(project_store.by_ids, 10_000_000, gone)
        assert reread.value is gone


def test_a_write_and_its_graph_share_one_new_version(
        store: Store, account: AccountFixture, engagement: EngagementRow) -> None:
    with store.write() as tx:
        unit = GraphWrite.open(context(tx, account), [engagement.id])
        version = unit.version
        assert unit.version == version > engagement.rowversion  # taken once
        assert unit.bump() == version
        own = unit.bump(shared=False)
        assert own > version
        assert unit.changes == [Change("engagement", "update", engagement.id)] * 2
    with store.read() as tx:
        assert engagement_store.by_ids(tx, context(tx, account).user.account_id, [engagement.id])[
            engagement.id].rowversion == own


def test_several_graphs_are_locked_in_one_order(store: Store, soap: SoapClient, account: AccountFixture,
                                                engagement: EngagementRow) -> None:
    pws = Pws(soap, account)
    other_code = pws.engagement(pws.client("Beta"), "Other")
    with store.write() as tx:
        ctx = context(tx, account)
        other = refs.ENGAGEMENT.resolve(tx, ctx.user, refs.Key(other_code, None))
        unit = GraphWrite.open(ctx, [other.id, engagement.id, other.id])
        assert list(unit.engagements) == sorted({engagement.id, other.id})
        with pytest.raises(AssertionError):
            _ = unit.engagement  # a write to several graphs names the one it bumps

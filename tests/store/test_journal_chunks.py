"""The request journal as it is stored: chunks of exchanges from several processes whose real
times overlap still show exactly the newest ``size``, trimming never takes one of those, big
bodies come back whole; and migration 0013 turns the journal's old rows into chunks and back."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime, timedelta
from typing import Any

from alembic import command
from sqlalchemy import (
    BigInteger,
    Connection,
    DateTime,
    Engine,
    Float,
    Integer,
    LargeBinary,
    String,
    Text,
    column,
    func,
    insert,
    select,
    table,
    text,
)

from openpws.config import Settings
from openpws.exchange import Exchange
from openpws.services.journal import MAX_XML_BYTES, Filter, Journals, Recorder
from openpws.store import migrate
from openpws.store.counters import UID_BASE
from openpws.store.schema import journal
from openpws.store.transactions import Store
from tests.conftest import AccountFixture

START = datetime(2030, 1, 7, 9, 0, tzinfo=UTC)


def exchange(recorder: Recorder, account: tuple[int, str] | None, at: datetime, body: bytes = b"<x/>") -> Exchange:
    """An exchange of ``account`` (its id and code; None: the server-wide journal's)."""
    made = Exchange(recorder.next_id())
    made.account_id, made.account = (None, None) if account is None else account
    made.real, made.account_time = at, at + timedelta(days=3)
    made.operation, made.status, made.http_status, made.user = "PwsGetClientList", "Ok", 200, "u@x"
    made.request, made.response = b"<req:SessionTicket>T0ps3cret</req:SessionTicket>" + body, b"<r>" + body + b"</r>"
    return made


def account_id(store: Store, code: str) -> int:
    with store.read() as tx:
        return int(tx.execute(text("SELECT id FROM accounts WHERE code = :c"), {"c": code}).scalar_one())


def held(store: Store, ident: int) -> int:
    with store.read() as tx:
        return int(tx.execute(select(func.coalesce(func.sum(journal.c.entries), 0))
                              .where(journal.c.account_id == ident)).scalar_one())


def test_overlapping_chunks_of_two_processes_keep_exactly_the_newest(store: Store, database_url: str,
                                                                      account: AccountFixture) -> None:
    size = 20
    settings = Settings(database_url=database_url, journal_size=size)
    first, second = Recorder(store, settings), Recorder(store, settings)
    ident = account_id(store, account.code)
    made = []
    for batch in range(12):
        # Each process writes 7 exchanges a batch; their real times interleave with the other's.
        for recorder, offset in ((first, 0), (second, 1)):
            for n in range(7):
                at = START + timedelta(milliseconds=batch * 100 + n * 10 + offset * 5)
                made.append(exchange(recorder, (ident, account.code), at))
                recorder.record(made[-1])
            recorder.flush()
    journals = Journals(store, settings)
    shown = journals.entries(account.code, Filter(), None, datetime.now(UTC))
    newest = sorted(made, key=lambda e: (e.real, e.request_id), reverse=True)[:size]
    assert [entry.id for entry in shown] == [e.request_id for e in newest]
    # Trimmed on the way: little more than the bound is kept (the chunks that straddle it).
    assert size <= held(store, ident) <= size + 2 * 7 + 2 * (size // 10)
    oldest_first = journals.entries(account.code, Filter(), None, datetime.now(UTC), oldest_first=True)
    assert [entry.id for entry in oldest_first] == [e.request_id for e in newest][::-1]
    entry = journals.entry(account.code, newest[5].request_id, datetime.now(UTC))
    assert entry.request_xml == "<req:SessionTicket>***</req:SessionTicket><x/>"
    assert (entry.real_at, entry.time) == (newest[5].real.replace(tzinfo=None),
                                           newest[5].real.replace(tzinfo=None) + timedelta(days=3))
    first.close()
    second.close()


def test_big_bodies_split_chunks_and_come_back_whole(store: Store, database_url: str,
                                                     account: AccountFixture) -> None:
    settings = Settings(database_url=database_url)
    recorder = Recorder(store, settings)
    ident = account_id(store, account.code)
    bodies = [secrets.token_hex(n).encode() for n in (300_000, 10, 400_000, 5, 700_000)]
    made = [exchange(recorder, (ident, account.code), START + timedelta(seconds=n), body)
            for n, body in enumerate(bodies)]
    for each in made:
        recorder.record(each)
    recorder.flush()
    with store.read() as tx:
        chunks = tx.execute(select(func.count()).select_from(journal).where(journal.c.account_id == ident)).scalar_one()
    assert chunks > 1  # over a million bytes of bodies: not one chunk
    journals = Journals(store, settings)
    for each, body in zip(made, bodies, strict=True):
        entry = journals.entry(account.code, each.request_id, datetime.now(UTC))
        response = b"<r>" + body + b"</r>"
        expected = response if len(response) <= MAX_XML_BYTES else (
            response[:MAX_XML_BYTES] + f"…[cut: {len(response) - MAX_XML_BYTES} more bytes]".encode())
        assert entry.response_xml == expected.decode()
    recorder.close()


# --- migration 0013 ----------------------------------------------------------------------------------

# The journal's table as migration 0009 made it (a row per exchange).
OLD = table("journal", *(column(name, kind) for name, kind in (
    ("id", BigInteger()), ("account_id", Integer()), ("real_at", DateTime()), ("time", DateTime()),
    ("login", String()), ("operation", String()), ("http_status", Integer()), ("status", String()),
    ("errors", String()), ("duration_ms", Float()), ("not_modelled", Text()), ("fault_rule", BigInteger()),
    ("request_xml", LargeBinary()), ("response_xml", LargeBinary()))))
OLD_ROWS = [
    # id, in the account (else server-wide), real_at, time, login, operation, http_status, status,
    # errors, duration_ms, not_modelled, fault_rule
    (1001, True, datetime(2030, 1, 5, 9, 0, 1, 250), datetime(2031, 1, 5, 9, 0, 1), "a@old", "PwsGetClient", 200,
     "Fail", ",54001,10002,", 2.5, "MaxRowsToReturn,Other", 7),
    (1002, True, datetime(2030, 1, 5, 9, 0, 2), datetime(2031, 1, 5, 9, 0, 2), "a@old", "PwsSaveClient", 200, "Ok",
     "", 1.25, "", None),
    (1003, False, datetime(2030, 1, 5, 9, 0, 3), datetime(2030, 1, 5, 9, 0, 3), None, None, 500, "s:Client",
     "", 0.5, "", None),
]


def _old_rows(connection: Connection) -> list[tuple[Any, ...]]:
    return [tuple(row) for row in connection.execute(select(OLD).order_by(OLD.c.id)).all()]


def test_migration_0013_turns_the_journal_rows_into_chunks_and_back(fresh_engine: Engine) -> None:
    config = migrate._config()
    now = datetime(2030, 1, 5, 9, 0)
    with fresh_engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "0010_fault_rules")
        accounts = table("accounts", column("id"), column("uid"), column("code"), column("code_key"),
                         column("name"), column("created_at", DateTime()))
        account = int(connection.execute(insert(accounts).values(
            uid=UID_BASE + 1, code="old", code_key="old", name="Old", created_at=now).returning(accounts.c.id))
            .scalar_one())
        for ident, named, *rest in OLD_ROWS:
            values = dict(zip([c.name for c in OLD.columns][2:12], rest, strict=True))
            connection.execute(insert(OLD).values(id=ident, account_id=account if named else None, **values,
                                                  request_xml=f"<q>{ident}</q>".encode(),
                                                  response_xml=f"<a>{ident}: é</a>".encode()))
        before = _old_rows(connection)
    migrate.upgrade(fresh_engine)
    store = Store.open(fresh_engine.url.render_as_string(hide_password=False), threads=1)
    journals = Journals(store, Settings(database_url="unused"))
    moment = datetime(2030, 1, 5, 10, tzinfo=UTC)
    mine = journals.entries("old", Filter(), None, moment, xml=True)
    assert [(e.id, e.login, e.operation, e.status, e.errors, e.duration_ms, e.not_modelled, e.fault_rule, e.real_at,
             e.time, e.request_xml, e.response_xml) for e in mine] == [
        (1002, "a@old", "PwsSaveClient", "Ok", (), 1.25, (), None, OLD_ROWS[1][2], OLD_ROWS[1][3], "<q>1002</q>",
         "<a>1002: é</a>"),
        (1001, "a@old", "PwsGetClient", "Fail", (54001, 10002), 2.5, ("MaxRowsToReturn", "Other"), 7, OLD_ROWS[0][2],
         OLD_ROWS[0][3], "<q>1001</q>", "<a>1001: é</a>")]
    [server_wide] = journals.entries(None, Filter(), None, moment)
    assert (server_wide.id, server_wide.status, server_wide.operation, server_wide.http_status) == (
        1003, "s:Client", None, 500)
    store.dispose()
    with fresh_engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, "0010_fault_rules")
        assert _old_rows(connection) == before

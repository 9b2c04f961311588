"""The store's one statement path: its hook sees every statement a request runs, driver-level and
Core alike, and the SQL log, when switched on, logs each one with its duration."""

from __future__ import annotations

import ast
import logging
import re
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
from lxml import etree
from sqlalchemy import bindparam, event, select, text
from sqlalchemy.exc import IntegrityError

from openpws.app import create_app, open_store
from openpws.config import SettingError, Settings, load_settings
from openpws.contract import ns
from openpws.soap.dispatch import Dispatcher
from openpws.store import statements
from openpws.store.accounts import find_account
from openpws.store.prebuilt import Prebuilt
from openpws.store.rows import fetch
from openpws.store.schema import accounts
from openpws.store.statements import NO_ROWS, TRACE, Executed
from openpws.store.transactions import Store
from tests.conftest import TEST_SCRYPT_COST, make_account

STORE = Path(__file__).resolve().parents[2] / "src" / "openpws" / "store"
LOGGED = re.compile(r"^\d+\.\d{3} ms  ")
ACCOUNT_BY_CODE = Prebuilt(select(accounts.c.id, accounts.c.code).where(accounts.c.code_key == bindparam("key")))


# --- in-process requests -------------------------------------------------------------------------

def call(dispatcher: Dispatcher[Any], operation: str, members: str) -> etree._Element:
    body = (f'<s:Envelope xmlns:s="{ns.SOAP_ENV}" xmlns:pws="{ns.PWS}" xmlns:req="{ns.REQUESTS}" '
            f'xmlns:sch="{ns.SCHEDULING}" xmlns:com="{ns.COMMON}"><s:Body><pws:{operation}><pws:serviceRequest>'
            f"{members}</pws:serviceRequest></pws:{operation}></s:Body></s:Envelope>").encode()
    status, answer = dispatcher.handle(body, None)
    assert status == 200, answer.decode()
    result = etree.fromstring(answer)[0][0][0]
    assert result.findtext(f"{{{ns.COMMON_SERVICES}}}Status") == "Ok", answer.decode()
    return result


def found(result: etree._Element, name: str) -> str:
    value = result.findtext(f".//{{{ns.COMMON}}}{name}")
    assert value, etree.tostring(result)
    return value


class Tree:
    """A client, engagement and project with two roles that have requested hours, built by requests."""

    def __init__(self, dispatcher: Dispatcher[Any], account: str, login: str, password: str) -> None:
        self.dispatcher = dispatcher
        answer = call(dispatcher, "PwsAuthenticate", f"<req:AccountCode>{account}</req:AccountCode>"
                      f"<req:Password>{password}</req:Password><req:UserName>{login}</req:UserName>")
        self.ticket = answer.findtext(f"{{{ns.RESPONSES}}}SessionTicket")
        client = found(self.call("PwsSaveClient", "<req:Client><com:ClientName>Traced</com:ClientName></req:Client>"),
                       "ClientNumber")
        engagement = found(self.call("PwsSaveEngagement", "<sch:Engagement><com:ClientIdentity><com:ClientNumber>"
                                     f"{client}</com:ClientNumber></com:ClientIdentity>"
                                     "<com:EngagementName>E</com:EngagementName></sch:Engagement>"), "EngagementCode")
        self.project = found(self.call("PwsSaveProject", "<sch:Mode>R</sch:Mode><sch:Project><com:EngagementIdentity>"
                                       f"<com:EngagementCode>{engagement}</com:EngagementCode></com:EngagementIdentity>"
                                       "<com:ProjectName>P</com:ProjectName></sch:Project>"), "ProjectCode")
        for name in ("Lead", "Analyst"):
            role = found(self.call("PwsSaveProjectRole", "<sch:Mode>R</sch:Mode><sch:ProjectIdentity><com:ProjectCode>"
                                   f"{self.project}</com:ProjectCode></sch:ProjectIdentity><sch:ProjectRole>"
                                   f"<com:RoleName>{name}</com:RoleName></sch:ProjectRole>"), "ProjectRoleUid")
            self.call("PwsRequestOrBookRoleHours", "<sch:Mode>R</sch:Mode><sch:ProjectRoles><com:PwsProjectRoleHours>"
                      "<com:HoursBuckets><com:PwsProjectRoleHoursBucket>"
                      "<com:BucketStartDate>2025-01-06T00:00:00Z</com:BucketStartDate>"
                      "<com:SchedulingMode>W</com:SchedulingMode><com:WeeklyMinutes>600</com:WeeklyMinutes>"
                      "</com:PwsProjectRoleHoursBucket></com:HoursBuckets>"
                      f"<com:ProjectRoleIdentity><com:ProjectRoleUid>{role}</com:ProjectRoleUid></com:ProjectRoleIdentity>"
                      "</com:PwsProjectRoleHours></sch:ProjectRoles>")

    def call(self, operation: str, members: str = "") -> etree._Element:
        return call(self.dispatcher, operation, f"<req:SessionTicket>{self.ticket}</req:SessionTicket>{members}")

    def delete_project(self) -> None:
        self.call("PwsDeleteProject", "<sch:CascadeDeleteFlag>true</sch:CascadeDeleteFlag><sch:ProjectIdentity>"
                  f"<com:ProjectCode>{self.project}</com:ProjectCode></sch:ProjectIdentity>")


# --- witnesses ------------------------------------------------------------------------------------

class Driver:
    """What the driver itself was asked to run by this thread, seen below the store: SQLite's own
    trace of every statement (BEGIN and COMMIT included), or every execute on a psycopg cursor
    (psycopg sends BEGIN and COMMIT without one)."""

    def __init__(self) -> None:
        self.statements: list[str] = []
        self.recording = False

    def saw(self, sql: str) -> None:
        if self.recording and threading.get_ident() == self.thread:
            self.statements.append(sql)

    def sqlite_saw(self, sql: str) -> None:
        # SQLite calls its trace again as a statement starts each foreign-key action of its own
        # (a DELETE of roles, with the same text): one statement, told several times. (No two
        # statements in a row of the request traced are the same.)
        if not (self.recording and self.statements and self.statements[-1] == sql):
            self.saw(sql)

    def start(self) -> None:
        self.statements, self.recording, self.thread = [], True, threading.get_ident()

    def watch(self, opened: Store) -> None:
        def on_connect(dbapi_connection: Any, _record: Any) -> None:
            if opened.dialect == "sqlite":
                dbapi_connection.set_trace_callback(self.sqlite_saw)
            else:
                dbapi_connection.cursor_factory = _recording_cursor(self)

        event.listen(opened.engine, "connect", on_connect)


def _recording_cursor(driver: Driver) -> type[psycopg.Cursor[Any]]:
    class Recording(psycopg.Cursor[Any]):
        def execute(self, query: Any, params: Any = None, **kwargs: Any) -> Any:
            driver.saw(query if isinstance(query, str) else query.decode())
            return super().execute(query, params, **kwargs)

        def executemany(self, query: Any, params_seq: Any, **kwargs: Any) -> None:
            for _params in params_seq:
                driver.saw(query if isinstance(query, str) else query.decode())
            super().executemany(query, params_seq, **kwargs)

    return Recording


@pytest.fixture
def trace() -> Iterator[list[Executed]]:
    seen: list[Executed] = []

    def record(executed: Executed) -> None:
        if threading.get_ident() == thread:
            seen.append(executed)

    thread = threading.get_ident()
    TRACE.subscribe(record)
    try:
        yield seen
    finally:
        TRACE.unsubscribe(record)


def _same(ours: str, driver: str, dialect: str) -> bool:
    if dialect == "postgresql":
        return ours == driver
    # SQLite's trace shows the statement with its values in place of its "?" markers.
    return driver.startswith(ours.split("?")[0])


# --- tests ----------------------------------------------------------------------------------------

def test_with_the_sql_log_on_a_cascade_project_delete_logs_every_statement_it_runs(
        store: Store, database_url: str, caplog: pytest.LogCaptureFixture, trace: list[Executed]) -> None:
    account = make_account(store, "sqllog")
    logged = Store.open(database_url, threads=2, sql_log=True)
    driver = Driver()
    driver.watch(logged)
    try:
        dispatcher = create_app(Settings(database_url=database_url, threads=2, scrypt_cost=TEST_SCRYPT_COST),
                                logged).dispatcher
        tree = Tree(dispatcher, account.code, account.admin, account.password)
        caplog.set_level(logging.INFO, logger="openpws.sql")
        caplog.clear()
        trace.clear()
        driver.start()
        tree.delete_project()
        driver.recording = False
    finally:
        logged.dispose()
    ours = [executed.sql for executed in trace]
    if logged.dialect == "postgresql":  # psycopg ends its transactions without a cursor
        ours = [sql for sql in ours if sql not in ("COMMIT", "ROLLBACK")]
    assert len(ours) == len(driver.statements) > 10
    assert all(_same(sql, seen, logged.dialect) for sql, seen in zip(ours, driver.statements, strict=True)), (
        ours, driver.statements)
    # Driver-level (the session check, the ref lookup) and Core statements (the set-based deletes) alike:
    assert any("FROM sessions JOIN users" in sql for sql in ours)
    assert any(sql.startswith("DELETE FROM role_hours WHERE role_hours.role_id IN (SELECT") for sql in ours)
    assert trace[-1].sql == "COMMIT"
    if logged.dialect == "sqlite":
        assert trace[0].sql == "BEGIN IMMEDIATE"
    records = [record for record in caplog.records if record.name == "openpws.sql"]
    assert len(records) == len(trace)
    for record, executed in zip(records, trace, strict=True):
        message = record.getMessage()
        assert LOGGED.match(message), message
        assert " ".join(executed.sql.split()) in message
        assert executed.seconds > 0 and executed.error is None


def test_the_hook_sees_driver_level_and_core_statements_alike(store: Store, trace: list[Executed]) -> None:
    code = make_account(store, "hook").code
    with store.read() as tx:
        account = find_account(tx, code)  # Core
        assert account is not None
        assert ACCOUNT_BY_CODE.all(tx, key=code.lower()) == [(account.id, code)]  # on the driver's cursor
        fetch(tx, accounts, type(account), accounts.c.id == -1)
    core, driver, nothing, commit = trace[-4:]
    for executed in (core, driver, nothing, commit):
        assert executed.connection is tx and executed.seconds > 0 and executed.error is None
    assert core.sql.startswith("SELECT accounts.id, accounts.uid") and core.rows == 1
    assert driver.sql.startswith("SELECT accounts.id, accounts.code") and driver.rows == 1
    assert code.lower() in repr(core.parameters) and code.lower() in repr(driver.parameters)
    assert nothing.rows == 0
    assert commit.sql == "COMMIT" and commit.rows == NO_ROWS and commit.parameters is None


def test_the_transaction_s_own_statements_are_seen_and_a_failed_one_with_its_error(
        store: Store, trace: list[Executed]) -> None:
    with store.write() as tx:
        changed = statements.change(tx, text("UPDATE accounts SET name = name WHERE id = -1"))
    assert changed == 0
    sqls = [executed.sql for executed in trace]
    assert sqls[-2:] == ["UPDATE accounts SET name = name WHERE id = -1", "COMMIT"]
    assert trace[-2].rows == 0 and trace[-1].rows == NO_ROWS
    if store.dialect == "sqlite":
        assert sqls[-3] == "BEGIN IMMEDIATE"
    trace.clear()
    with pytest.raises(Exception, match="no_such_table"), store.read() as tx:
        statements.rows(tx, text("SELECT * FROM no_such_table"))
    failed, rollback = trace[-2:]
    assert failed.sql == "SELECT * FROM no_such_table" and failed.error is not None and failed.rows == NO_ROWS
    assert rollback.sql == "ROLLBACK"


def test_with_the_log_off_nothing_is_logged(database_url: str, store: Store, caplog: pytest.LogCaptureFixture,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    caplog.set_level(logging.INFO, logger="openpws.sql")
    monkeypatch.delenv("OPENPWS_SQL_LOG", raising=False)
    for quiet in (Store.open(database_url, threads=1), Store.open(database_url, threads=1, sql_log=False)):
        try:
            with quiet.write() as tx:
                find_account(tx, "nobody")
                ACCOUNT_BY_CODE.all(tx, key="nobody")
        finally:
            quiet.dispose()
    assert [record for record in caplog.records if record.name == "openpws.sql"] == []
    assert TRACE.subscribers == ()  # nothing left subscribed: the path costs one attribute check


def test_the_setting_switches_the_log_on_when_the_store_is_opened(
        database_url: str, store: Store, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="openpws.sql")
    logged = open_store(load_settings({"OPENPWS_DATABASE_URL": database_url, "OPENPWS_SQL_LOG": "true"}))
    try:
        with logged.read() as tx:
            find_account(tx, "nobody")
        with store.read() as tx:  # another store's statements are not this log's
            find_account(tx, "nobody")
    finally:
        logged.dispose()
    messages = [record.getMessage() for record in caplog.records if record.name == "openpws.sql"]
    assert len(messages) == (3 if logged.dialect == "sqlite" else 2)  # (BEGIN,) the SELECT, COMMIT
    assert all(LOGGED.match(message) for message in messages)
    assert any("0 rows  SELECT accounts.id" in message for message in messages)
    assert TRACE.subscribers == ()


def test_every_statement_of_the_store_goes_through_the_statements_module() -> None:
    """Nothing else in the store runs SQL: no execute, exec_driver_sql or cursor of its own (the
    migrations, run by Alembic, and SQLite's PRAGMAs when the pool opens a connection aside)."""
    running = {"execute", "executemany", "exec_driver_sql", "cursor", "driver_connection", "dbapi_connection"}
    offenders = []
    for path in sorted(STORE.glob("*.py")):
        if path.name == "statements.py":
            continue
        tree = ast.parse(path.read_text())
        setup = {line for node in ast.walk(tree) if isinstance(node, ast.FunctionDef) and node.name == "_sqlite_on_connect"
                 for line in range(node.lineno, (node.end_lineno or node.lineno) + 1)}
        offenders += [f"{path.name}:{node.lineno} .{node.attr}" for node in ast.walk(tree)
                      if isinstance(node, ast.Attribute) and node.attr in running and node.lineno not in setup]
    assert offenders == []


def test_the_sql_log_setting_reads_yes_and_no_words() -> None:
    assert load_settings({}).sql_log is False
    for word, value in (("true", True), ("ON", True), ("1", True), ("yes", True), ("False", False), ("off", False),
                        ("0", False), ("no", False)):
        assert load_settings({"OPENPWS_SQL_LOG": word}).sql_log is value
    switched_on = load_settings({"OPENPWS_SQL_LOG": "yes"})
    assert load_settings(switched_on.environment()) == switched_on
    with pytest.raises(SettingError, match="OPENPWS_SQL_LOG='maybe' is not a valid boolean"):
        load_settings({"OPENPWS_SQL_LOG": "maybe"})


def test_a_commit_that_fails_is_traced_and_rolled_back(store: Store, trace: list[Executed]) -> None:
    with store.engine.connect() as connection:
        with pytest.raises(IntegrityError), statements.transaction(connection, write=True):
            # A foreign key checked only at COMMIT, left unsatisfied.
            statements.change(connection, text(
                "CREATE TEMPORARY TABLE commit_check (id INTEGER PRIMARY KEY, parent INTEGER "
                "REFERENCES commit_check (id) DEFERRABLE INITIALLY DEFERRED)"))
            statements.change(connection, text("INSERT INTO commit_check (id, parent) VALUES (1, 2)"))
        assert not connection.in_transaction()
        assert statements.scalar(connection, text("SELECT 1")) == 1  # usable again
        connection.rollback()
    failed = next(executed for executed in reversed(trace) if executed.sql == "COMMIT")
    assert failed.error is not None and failed.rows == NO_ROWS

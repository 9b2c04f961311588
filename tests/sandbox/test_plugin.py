"""The pytest plugin (openpws.testing), tested with pytest's own pytester: test files that use its
fixtures run in a pytest of their own, as an integrator's suite would, against a real server (the
module's, on this session's database, through --openpws-url; or, without it, servers the plugin
starts itself). What the outer test checks afterwards, it checks over HTTP."""

from __future__ import annotations

import json
import re
import secrets
import shutil
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from openpws.store.transactions import Store
from openpws.testing import ControlPlaneError, OpenpwsError, Server
from openpws.testing.client import yaml_body
from tests import conftest

TOKEN = "plugin-test-admin-token"
DEMO_CLIENTS = ["C000117", "C000118", "C000121"]
serve = pytest.mark.serve

# Helpers the inner test files share (an inner conftest.py).
INNER_CONFTEST = '''
import pathlib


def client_numbers(client, ticket):
    """The numbers PwsGetClientList answers (zeep), asserting it answered Ok."""
    answer = client.service.PwsGetClientList(serviceRequest={"SessionTicket": ticket})
    assert answer.Status == "Ok", answer
    return [summary.ClientNumber for summary in answer.Clients.PwsClientSummary]


def seen(name, text):
    """Leave a line for the outer test to read."""
    with pathlib.Path(name).open("a") as out:
        out.write(text + "\\n")
'''


@pytest.fixture(scope="module")
def running(store: Store, database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[conftest.Server]:
    started = conftest.start_server(database_url, tmp_path_factory.mktemp("plugin"),
                                    env={"OPENPWS_ADMIN_TOKEN": TOKEN})
    yield started
    conftest.stop_server(started)


@pytest.fixture
def inner(pytester: pytest.Pytester) -> pytest.Pytester:
    pytester.makeconftest(INNER_CONFTEST)
    return pytester


def run(pytester: pytest.Pytester, running: conftest.Server, *args: str) -> pytest.RunResult:
    """Run the inner test files against the module's server."""
    return pytester.runpytest("--openpws-url", running.base_url, "--openpws-token", TOKEN, *args)


def lines(pytester: pytest.Pytester, name: str) -> list[str]:
    return (pytester.path / name).read_text().split()


def account_status(running: conftest.Server, code: str) -> int:
    return httpx.get(f"{running.base_url}/_openpws/api/accounts/{code}", timeout=30,
                     headers={"Authorization": f"Bearer {TOKEN}"}).status_code


@serve
def test_a_test_gets_an_account_of_its_own_logs_in_and_calls_through_zeep(
        inner: pytest.Pytester, running: conftest.Server) -> None:
    inner.makepyfile(test_accounts='''
        import pytest
        from conftest import client_numbers, seen
        from openpws.testing import LoginFailed, OpenpwsError

        EVERY = {"web-services", "clients-view", "clients-update", "projects-view", "projects-update",
                 "projects-delete", "hours-request", "hours-book"}


        def test_the_demo_account(openpws_account):
            account = openpws_account
            seen("codes", account.code)
            assert account.endpoint.endswith("/OpsProjectorWcfSvc/PwsProjectorServices.svc")
            assert account.wsdl == account.endpoint + "?wsdl"
            admin, viewer = account.users[f"admin@{account.code}"], account.users[f"viewer@{account.code}"]
            assert admin.login == f"admin@{account.code}" and admin.display_name == "Demo Administrator"
            assert set(admin.permissions) == EVERY and len(admin.password) >= 20
            assert set(viewer.permissions) == {"web-services", "clients-view", "projects-view"}
            assert account.details()["counts"]["clients"] == 3

            ticket = account.login()  # the first user with every permission: admin@
            assert len(ticket) == 24
            client = account.zeep()
            assert client_numbers(client, ticket) == ["C000117", "C000118", "C000121"]
            refused = client.service.PwsDeleteClient(serviceRequest={
                "SessionTicket": account.login(viewer.login), "ClientIdentity": {"ClientNumber": "C000121"}})
            assert refused.Status == "Fail" and refused.Messages.PwsMessage[0].ErrorNumber == 50046
            with pytest.raises(OpenpwsError, match="has no user 'nobody'"):
                account.login("nobody")


        def test_two_tests_never_share_an_account(openpws_account):
            seen("codes", openpws_account.code)
            client = openpws_account.zeep()
            ticket = openpws_account.login()
            deleted = client.service.PwsDeleteClient(serviceRequest={
                "SessionTicket": ticket, "ClientIdentity": {"ClientNumber": "C000121"}})
            assert deleted.Status == "Ok"
            assert client_numbers(client, ticket) == ["C000117", "C000118"]


        def test_a_failing_test_loses_its_account_too(openpws_account):
            seen("codes", openpws_account.code)
            assert False, "this test fails on purpose"


        def test_an_account_the_test_deleted(openpws_account):
            seen("codes", openpws_account.code)
            openpws_account.delete()
            with pytest.raises(LoginFailed) as refused:
                openpws_account.login()
            assert refused.value.status == "Fail" and refused.value.errors[0][0] == 10002
    ''')
    result = run(inner, running)
    result.assert_outcomes(passed=3, failed=1)
    result.stdout.fnmatch_lines(["*this test fails on purpose*"])
    codes = lines(inner, "codes")
    assert len(set(codes)) == 4
    # Every account is gone after its test, the failed test's too.
    assert [account_status(running, code) for code in codes] == [404] * 4


@serve
def test_the_clock_moves_and_a_session_expires_after_61_idle_minutes(
        inner: pytest.Pytester, running: conftest.Server) -> None:
    inner.makepyfile(test_clock='''
        from datetime import datetime, timedelta, timezone

        from conftest import client_numbers

        UTC = timezone.utc
        FROZEN = datetime(2030, 1, 7, 9, 0, tzinfo=UTC)


        def test_a_session_expires(openpws_account):
            clock = openpws_account.clock
            fresh = clock.state()
            assert fresh.frozen is False and fresh.offset == timedelta(0)
            assert abs(clock.now() - datetime.now(UTC)) < timedelta(seconds=5)
            frozen = clock.freeze(FROZEN)
            assert frozen.now == FROZEN and frozen.frozen is True
            ticket = openpws_account.login()  # the session starts on the frozen clock
            client = openpws_account.zeep()
            assert clock.advance(59 * 60).now == FROZEN + timedelta(minutes=59)
            assert client_numbers(client, ticket) == ["C000117", "C000118", "C000121"]
            assert clock.advance(timedelta(minutes=61)).now == FROZEN + timedelta(minutes=120)
            expired = client.service.PwsGetClientList(serviceRequest={"SessionTicket": ticket})
            assert expired.Status == "FailSessionInvalid"
            assert [m.ErrorNumber for m in expired.Messages.PwsMessage] == [-101]
            assert expired.ServerTimestampUtc == FROZEN + timedelta(minutes=120)


        def test_freeze_here_set_and_real(openpws_account):
            clock = openpws_account.clock
            here = clock.freeze()
            assert here.frozen and abs(here.now - datetime.now(UTC)) < timedelta(seconds=5)
            assert clock.now() == here.now
            assert clock.freeze(datetime(2031, 2, 3, 4, 5, 6)).now == datetime(2031, 2, 3, 4, 5, 6, tzinfo=UTC)
            running = clock.set("2032-01-01T00:00:00+01:00")
            assert running.frozen is False
            assert timedelta(0) <= running.now - datetime(2031, 12, 31, 23, tzinfo=UTC) < timedelta(seconds=5)
            back = clock.real()
            assert back.frozen is False and back.offset == timedelta(0)
    ''')
    run(inner, running).assert_outcomes(passed=2)


@serve
def test_faults_over_a_real_server(inner: pytest.Pytester, running: conftest.Server) -> None:
    inner.makepyfile(test_faults='''
        import pytest
        import requests
        import zeep.exceptions


        def test_each_kind_reaches_zeep(openpws_account):
            faults = openpws_account.faults
            ticket = openpws_account.login()
            client = openpws_account.zeep()
            rq = {"SessionTicket": ticket}
            failing = faults.add("PwsGetClientList", times=1, error=50045)
            assert [r["id"] for r in faults.list()] == [failing]
            refused = client.service.PwsGetClientList(serviceRequest=rq)
            assert refused.Status == "Fail" and refused.Messages.PwsMessage[0].ErrorNumber == 50045
            assert faults.list() == []  # spent
            faults.add("PwsGetClientList", times=1, http_status=503)
            with pytest.raises(zeep.exceptions.TransportError):
                client.service.PwsGetClientList(serviceRequest=rq)
            faults.add("PwsGetClientList", times=1, drop_connection=True)
            with pytest.raises(requests.exceptions.ChunkedEncodingError):
                client.service.PwsGetClientList(serviceRequest=rq)
            faults.add("PwsGetClientList", soap_fault="Server")
            with pytest.raises(zeep.exceptions.Fault):
                client.service.PwsGetClientList(serviceRequest=rq)
            faults.clear()
            assert client.service.PwsGetClientList(serviceRequest=rq).Status == "Ok"
    ''')
    run(inner, running).assert_outcomes(passed=1)


@serve
def test_the_request_journal_over_a_real_server(inner: pytest.Pytester, running: conftest.Server) -> None:
    inner.makepyfile(test_requests='''
        def test_what_the_code_sent(openpws_account):
            ticket = openpws_account.login()
            client = openpws_account.zeep()
            for _ in range(2):
                client.service.PwsGetClientList(serviceRequest={"SessionTicket": ticket})
            requests = openpws_account.requests
            assert requests.count(operation="PwsGetClientList") == 2
            assert requests.count(operation="PwsGetClientList", status="Fail") == 0
            newest = requests.list(limit=3)
            assert [e["operation"] for e in newest] == ["PwsGetClientList", "PwsGetClientList", "PwsAuthenticate"]
            detail = requests.get(newest[0]["id"])
            assert ticket not in detail["request_xml"] and "PwsGetClientList" in detail["request_xml"]
            assert requests.count(body_contains="SessionTicket") == 2
            requests.clear()
            assert requests.list() == []
    ''')
    run(inner, running).assert_outcomes(passed=1)


@serve
def test_rate_limits_over_a_real_server(inner: pytest.Pytester, running: conftest.Server) -> None:
    inner.makepyfile(test_rate_limits='''
        import pytest
        import zeep.exceptions


        def test_the_code_under_test_meets_a_rate_limit(openpws_account):
            limits = openpws_account.rate_limits
            assert limits.get()["mode"] == "off"
            client = openpws_account.zeep()
            rq = {"SessionTicket": openpws_account.login()}
            shown = limits.set("error", user=3, weights={"PwsGetClientList": 2})
            assert shown["limits"] == {"installation": 2400, "user": 3, "session": 1200}
            assert client.service.PwsGetClientList(serviceRequest=rq).Status == "Ok"  # 1 + 2 hits
            with pytest.raises(zeep.exceptions.Fault):
                client.service.PwsGetClientList(serviceRequest=rq)
            assert openpws_account.requests.count(error=10016) == 1
            limits.clear_hits()
            assert client.service.PwsGetClientList(serviceRequest=rq).Status == "Ok"
    ''')
    run(inner, running).assert_outcomes(passed=1)


@serve
def test_preview_changes_and_undo_over_a_real_server(inner: pytest.Pytester, running: conftest.Server) -> None:
    inner.makepyfile(test_changes='''
        import pytest
        from openpws.testing import UndoRefused

        DELETE = ('<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/" '
                  'xmlns:pws="http://projectorpsa.com/PwsProjectorServices/" '
                  'xmlns:req="http://projectorpsa.com/DataContracts/Requests/" '
                  'xmlns:sch="http://projectorpsa.com/DataContracts/Shared/Scheduling/" '
                  'xmlns:com="http://projectorpsa.com/DataContracts/Shared/Common/"><s:Body><pws:PwsDeleteEngagement>'
                  '<pws:serviceRequest><req:SessionTicket>{ticket}</req:SessionTicket><sch:EngagementIdentity>'
                  '<com:EngagementCode>P001323</com:EngagementCode></sch:EngagementIdentity>{flag}'
                  '</pws:serviceRequest></pws:PwsDeleteEngagement></s:Body></s:Envelope>')

        def test_preview_delete_and_undo(openpws_account):
            ticket = openpws_account.login()
            refused = openpws_account.preview(DELETE.format(ticket=ticket, flag=""))
            assert ">Fail<" in refused["response"] and refused["changes"] == []
            assert {b["cleared_by"] for b in refused["blockers"]} == {"CascadeDeleteFlag"}
            cascade = "<sch:CascadeDeleteFlag>true</sch:CascadeDeleteFlag>"
            shown = openpws_account.preview(DELETE.format(ticket=ticket, flag=cascade))
            assert shown["changes"][0]["code"] == "P001323" and shown["blockers"] == []
            # zeep with the preview header changes nothing either
            previewing = openpws_account.zeep(preview=True)
            answer = previewing.service.PwsDeleteEngagement(serviceRequest={
                "SessionTicket": ticket, "EngagementIdentity": {"EngagementCode": "P001323"},
                "CascadeDeleteFlag": True})
            assert answer.Status == "Ok"
            client = openpws_account.zeep()
            answer = client.service.PwsDeleteEngagement(serviceRequest={
                "SessionTicket": ticket, "EngagementIdentity": {"EngagementCode": "P001323"},
                "CascadeDeleteFlag": True})
            assert answer.Status == "Ok"
            [deleted] = openpws_account.changes(entity="engagement", code="P001323")
            assert deleted["operation"] == "PwsDeleteEngagement"
            assert deleted["changes"] == shown["changes"]
            assert openpws_account.undo(deleted["id"], preview=True)["conflicts"] == []
            done = openpws_account.undo(deleted["id"])
            assert done["undoes"] == deleted["id"] and done["counts"]["project"] == 2
            assert openpws_account.changes.get(done["id"])["operation"] == "Undo"
            with pytest.raises(UndoRefused) as refused_again:
                openpws_account.undo(deleted["id"])
            assert refused_again.value.status == 409 and "undone already" in refused_again.value.message
            openpws_account.changes.clear()
            assert openpws_account.changes() == []
    ''')
    run(inner, running).assert_outcomes(passed=1)


@serve
def test_the_marker_and_the_options_refuse_what_they_do_not_know(
        inner: pytest.Pytester, running: conftest.Server, monkeypatch: pytest.MonkeyPatch) -> None:
    inner.makepyfile(test_misuse='''
        import pytest


        @pytest.mark.openpws(fixtures="demo.yaml")
        def test_misspelt(openpws_account):
            pass


        @pytest.mark.openpws(fixture="demo.yaml", fixture_name="demo")
        def test_both(openpws_account):
            pass


        @pytest.mark.openpws(fixture="demo.txt")
        def test_suffix(openpws_account):
            pass


        @pytest.mark.openpws(fixture="missing.json")
        def test_missing_file(openpws_account):
            pass


        @pytest.mark.openpws(fixture_name="no-such")
        def test_unknown_packaged_fixture(openpws_account):
            pass


        @pytest.mark.openpws(fixture_name=None)
        def test_an_empty_account(openpws_account):
            [admin] = openpws_account.users.values()
            assert admin.login == f"admin@{openpws_account.code}" and len(admin.permissions) == 8
            assert openpws_account.details()["counts"]["clients"] == 0
            assert openpws_account.login()
    ''')
    result = run(inner, running, "-rE")
    result.assert_outcomes(passed=1, errors=5)
    result.stdout.fnmatch_lines_random([
        "*takes fixture=, fixture_name= and ttl_seconds= (by name); got fixtures*",
        "*give fixture= or fixture_name=, not both*",
        "*a fixture file is .yaml, .yml or .json*demo.txt*",
        "*there is no fixture file */missing.json*",
        "*answered 422 invalid: there is no packaged fixture 'no-such'*(at fixture_name)*",
    ])

    refused = inner.runpytest("--openpws-url", "http://127.0.0.1:1", "--openpws-token", TOKEN, "-k", "empty")
    refused.assert_outcomes(errors=1)
    refused.stdout.fnmatch_lines(["*no openpws server answers at http://127.0.0.1:1*"])
    wrong = inner.runpytest("--openpws-url", running.base_url, "--openpws-token", "wrong", "-k", "empty")
    wrong.assert_outcomes(errors=1)
    wrong.stdout.fnmatch_lines(["*refuses the admin token given (--openpws-token, or OPENPWS_ADMIN_TOKEN)*"])
    # The token may come from the environment, as the server's own does; without one, --openpws-url is refused.
    monkeypatch.setenv("OPENPWS_ADMIN_TOKEN", TOKEN)
    inner.runpytest("--openpws-url", running.base_url, "-k", "empty").assert_outcomes(passed=1)
    monkeypatch.delenv("OPENPWS_ADMIN_TOKEN")
    usage = inner.runpytest("--openpws-url", running.base_url)
    assert usage.ret == pytest.ExitCode.USAGE_ERROR
    usage.stderr.fnmatch_lines(["*--openpws-url needs the server's admin token*"])


@serve
def test_without_a_url_each_test_process_starts_a_server_of_its_own(inner: pytest.Pytester) -> None:
    inner.makepyfile(test_own='''
        import os

        import pytest
        from conftest import client_numbers, seen


        @pytest.mark.parametrize("n", range(4))
        def test_own_server(openpws_server, openpws_account, n):
            seen("servers", f"{os.environ.get('PYTEST_XDIST_WORKER', 'main')},{openpws_server.url}")
            assert client_numbers(openpws_account.zeep(), openpws_account.login())[0] == "C000117"
    ''')
    inner.runpytest("-n", "2").assert_outcomes(passed=4)
    workers = dict(line.split(",") for line in lines(inner, "servers"))
    every = [line.split(",")[1] for line in lines(inner, "servers")]
    assert set(every) == set(workers.values())  # one server per worker, for all its tests
    assert len(set(workers.values())) == len(workers)
    for url in workers.values():
        assert url.startswith("http://127.0.0.1:")
        with pytest.raises(httpx.TransportError):  # stopped at the end of the run
            httpx.get(url + "/health", timeout=5)


@serve
def test_the_client_answers_control_plane_errors_with_their_code(running: conftest.Server) -> None:
    server = Server(running.base_url, TOKEN)
    server.check()
    code = f"plugin-{secrets.token_hex(4)}"
    account = server.create_account(code=code, ttl_seconds=600)
    assert account.code == code and list(account.users) == [f"admin@{code}"]
    with pytest.raises(ControlPlaneError) as taken:
        server.create_account(code=code)
    assert (taken.value.status, taken.value.code, taken.value.path) == (409, "conflict", "code")
    assert account.details()["expires_at"] is not None
    account.delete()
    account.delete()  # gone already: fine
    with pytest.raises(ControlPlaneError) as gone:
        account.clock.now()
    assert (gone.value.status, gone.value.code) == (404, "not_found")
    with pytest.raises(OpenpwsError, match="refuses the admin token"):
        Server(running.base_url, "wrong").check()


@serve
def test_zeep_is_asked_for_only_by_zeep(running: conftest.Server, monkeypatch: pytest.MonkeyPatch) -> None:
    account = Server(running.base_url, TOKEN).create_account(fixture_name=None)
    try:
        monkeypatch.setitem(sys.modules, "zeep", None)  # as if it were not installed
        assert account.login()
        with pytest.raises(OpenpwsError, match=r"needs zeep, which is not installed: pip install zeep"):
            account.zeep()
    finally:
        account.delete()


# --- with the sandbox's fixtures and snapshots --------------------------------------------------

@serve
def test_the_marker_makes_the_account_from_a_fixture_file_or_document(
        inner: pytest.Pytester, running: conftest.Server) -> None:
    import yaml  # PyYAML: the fixture format's own dependency

    server = Server(running.base_url, TOKEN)
    demo = server.create_account(fixture_name="demo")
    document = server.call("GET", f"/accounts/{demo.code}/fixture")
    demo.delete()
    sub = inner.mkdir("sub")
    (sub / "demo.json").write_text(json.dumps(document))
    (sub / "demo.yaml").write_text("%YAML 1.2\n---\n# the demo, exported\n" + yaml.safe_dump(document))
    (sub / "test_marked.py").write_text(textwrap.dedent('''
        import json
        import pathlib

        import pytest
        from conftest import client_numbers

        DOCUMENT = json.loads(pathlib.Path(__file__).with_name("demo.json").read_text())


        @pytest.mark.openpws(fixture="demo.yaml")
        def test_yaml(openpws_account):
            assert client_numbers(openpws_account.zeep(), openpws_account.login()) == ["C000117", "C000118", "C000121"]


        @pytest.mark.openpws(fixture="demo.json")
        def test_json(openpws_account):
            assert client_numbers(openpws_account.zeep(), openpws_account.login()) == ["C000117", "C000118", "C000121"]


        @pytest.mark.openpws(fixture=DOCUMENT)
        def test_document(openpws_account):
            assert openpws_account.details()["counts"]["projects"] == 5
    '''))
    # Run from above the test's directory: the fixture's path is the test file's.
    run(inner, running, "sub").assert_outcomes(passed=3)


@serve
def test_snapshot_restore_and_reset(inner: pytest.Pytester, running: conftest.Server) -> None:
    inner.makepyfile(test_snapshots='''
        import pytest
        from conftest import client_numbers
        from openpws.testing import ControlPlaneError


        def test_snapshot_restore_reset(openpws_account):
            account = openpws_account
            ticket = account.login()
            client = account.zeep()

            def delete(number):
                deleted = client.service.PwsDeleteClient(serviceRequest={
                    "SessionTicket": ticket, "ClientIdentity": {"ClientNumber": number}})
                assert deleted.Status == "Ok"

            whole = account.snapshot()
            delete("C000121")
            smaller = account.snapshot()
            assert client_numbers(client, ticket) == ["C000117", "C000118"]
            account.restore(whole)  # and the session lives on
            assert client_numbers(client, ticket) == ["C000117", "C000118", "C000121"]
            account.restore(smaller)
            assert client_numbers(client, ticket) == ["C000117", "C000118"]
            account.reset()
            assert client_numbers(client, ticket) == ["C000117", "C000118", "C000121"]
            with pytest.raises(ControlPlaneError) as unknown:
                account.restore(987654321)
            assert unknown.value.status == 404
    ''')
    run(inner, running).assert_outcomes(passed=1)


@pytest.mark.parametrize("document", [
    "clients:\n  - number: C1\n    name: One\n",
    "---\nclients: [{number: C1}]\n...\n",
    "%YAML 1.2\n---\n# a comment first\nname: Acme\nnotes: |\n  two\n\n  lines\n",
    "# only a comment, then\n--- {name: Acme, users: [{login: a}]}\n",
])
def test_a_yaml_fixture_is_sent_under_the_fixture_member(document: str) -> None:
    import yaml

    members: dict[str, Any] = {"ttl_seconds": 600.5, "code": "x-1"}
    assert yaml.safe_load(yaml_body(document, members)) == {**members, "fixture": yaml.safe_load(document)}


def test_a_yaml_fixture_file_holds_one_document() -> None:
    with pytest.raises(OpenpwsError, match="holds more"):
        yaml_body("---\nname: One\n---\nname: Two\n", {})


def test_a_fixture_path_is_the_test_files(tmp_path: Path) -> None:
    from openpws.testing.plugin import account_options

    marker = pytest.mark.openpws(fixture="fixtures/small.yaml", ttl_seconds=5).mark
    assert account_options(marker, tmp_path) == {
        "fixture": tmp_path / "fixtures" / "small.yaml", "fixture_name": None, "ttl_seconds": 5}
    assert account_options(None, tmp_path) == {"fixture_name": "demo", "ttl_seconds": 86400.0}


# --- docs/testing.md ------------------------------------------------------------------------------

ROOT = Path(__file__).resolve().parents[2]
TESTING_DOC = (ROOT / "docs" / "testing.md").read_text()


def block(language: str, text: str = TESTING_DOC) -> str:
    found = re.search(rf"```{language}\n(.*?)```", text, re.DOTALL)
    assert found is not None, language
    return found.group(1)


@serve
def test_the_complete_test_in_the_docs_runs_as_written(inner: pytest.Pytester, running: conftest.Server) -> None:
    example = block("python")
    assert len(example.strip().splitlines()) < 20
    # The README shows a test with the plugin too (after its zeep example).
    readme = (ROOT / "README.md").read_text()
    shown = readme[readme.index("In Python, the pytest plugin"):]
    inner.makepyfile(test_example=example, test_readme=block("python", shown))
    run(inner, running).assert_outcomes(passed=3)


@serve
def test_the_curl_flow_in_the_docs_runs_as_written(running: conftest.Server) -> None:
    missing = [tool for tool in ("bash", "curl", "jq") if shutil.which(tool) is None]
    if missing:
        pytest.skip(f"the flow needs {', '.join(missing)}")
    script = block("bash").replace("PWS=http://127.0.0.1:8080 TOKEN=...", f"PWS={running.base_url} TOKEN={TOKEN}")
    done = subprocess.run(["bash", "-euo", "pipefail", "-c", script], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    printed = TESTING_DOC.split("It prints:\n\n```\n", 1)[1].split("```", 1)[0].splitlines()
    got = done.stdout.splitlines()
    assert len(got) == len(printed)
    for line, shown in zip(got, printed, strict=True):
        if shown.startswith("{"):  # the clock: its offset from real time differs from run to run
            assert {**json.loads(line), "offset_seconds": 0} == {**json.loads(shown), "offset_seconds": 0}
        else:
            assert line == shown

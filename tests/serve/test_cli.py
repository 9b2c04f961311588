"""The openpws command as a user runs it: real processes, real databases."""

from __future__ import annotations

import re
import secrets
import subprocess
import sys
from datetime import datetime
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner

from openpws.cli import main
from tests.conftest import PASSWORD, AccountFixture, start_server, stop_server
from tests.messages.test_locks import acquire, entity, fault_numbers, holders_as_locks_to_steal
from tests.pws import SoapClient
from tests.tree import Pws

pytestmark = pytest.mark.serve


def openpws(database_url: str, *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "openpws", *args, "--database", database_url],
        input=stdin, capture_output=True, text=True, timeout=120,
        env={"OPENPWS_SCRYPT_COST": "1024", "PATH": "/usr/bin:/bin"},
    )


@pytest.mark.slow
def test_accounts_and_users_from_the_command_line(database_url: str, soap: SoapClient) -> None:
    created = openpws(database_url, "account", "create", "cli-acct", "--name", "CLI Account")
    assert created.returncode == 0, created.stderr
    assert "Created account cli-acct" in created.stdout
    again = openpws(database_url, "account", "create", "cli-acct")
    assert again.returncode != 0 and "already exists" in again.stderr

    user = openpws(database_url, "user", "create", "--account", "cli-acct", "--login", "pm@cli",
                   "--display-name", "Pat Manager", "--reference-id", "E123", "--permission", "all",
                   stdin="from-stdin-pw\n")
    assert user.returncode == 0, user.stderr
    listed = openpws(database_url, "user", "list", "--account", "cli-acct")
    assert listed.returncode == 0
    assert "pm@cli\tPat Manager\tE123\t" in listed.stdout and "hours-book" in listed.stdout

    # The password came from stdin and works over HTTP; nothing else does.
    assert soap.authenticate("cli-acct", "pm@cli", "from-stdin-pw").status == "Ok"
    assert soap.authenticate("cli-acct", "pm@cli", PASSWORD).status == "Fail"

    viewer = openpws(database_url, "user", "create", "--account", "cli-acct", "--login", "v@cli",
                     "--display-name", "Viewer", stdin="pw2\n")
    assert viewer.returncode == 0
    listed = openpws(database_url, "user", "list", "--account", "cli-acct")
    assert "v@cli\tViewer\t-\t" in listed.stdout and "clients-view,projects-view,web-services" in listed.stdout

    missing = openpws(database_url, "user", "list", "--account", "no-such")
    assert missing.returncode != 0 and "no account" in missing.stderr


def test_password_is_not_an_option(database_url: str) -> None:
    done = openpws(database_url, "user", "create", "--account", "x", "--login", "y", "--display-name", "z",
                   "--password", "secret")
    assert done.returncode != 0 and "No such option" in done.stderr


def test_unsupported_database_url_is_a_usage_error(tmp_path: Path) -> None:
    done = openpws("mysql://root@localhost/x", "user", "list", "--account", "demo")
    assert done.returncode == 2 and "unsupported database URL" in done.stderr


@pytest.mark.slow
@pytest.mark.parametrize("workers", [1, 2])
def test_serve_demo(tmp_path: Path, database_url: str, workers: int) -> None:
    """serve --demo prints where it listens and the demo logins, which work (also with 2 workers)."""
    server = start_server(database_url, tmp_path, "--demo", "--workers", str(workers))
    try:
        output = server.output.read_text()
        assert f"Endpoint: {server.base_url}/OpsProjectorWcfSvc/PwsProjectorServices.svc" in output
        assert "?wsdl" in output and "?singleWsdl" in output
        assert "admin@demo / password demo" in output and "viewer@demo / password demo" in output
        if workers > 1 and database_url.startswith("sqlite"):
            assert "writes take turns" in output
        # The control plane's token was generated and printed; every worker takes it.
        [token] = re.findall(r"^Admin: +http://127\.0\.0\.1:\d+/_openpws/api/ +\(Authorization: Bearer (\S+)\)$",
                             output, re.MULTILINE)
        for _ in range(6):
            listed = httpx.get(f"{server.base_url}/_openpws/api/accounts", headers={"Authorization": f"Bearer {token}"})
            assert listed.status_code == 200 and "demo" in [item["code"] for item in listed.json()["items"]]
        assert httpx.get(f"{server.base_url}/_openpws/api/accounts").status_code == 401
        client = SoapClient(server.base_url)
        tickets = {client.login("demo", "admin@demo", "demo") for _ in range(6)}
        assert len(tickets) == 6
        assert client.login("demo", "viewer@demo", "demo")
        assert httpx.get(server.base_url + "/health").text == "ok\n"
        client.close()
    finally:
        stop_server(server)


def test_a_configured_admin_token_is_not_printed(tmp_path: Path, database_url: str) -> None:
    server = start_server(database_url, tmp_path, env={"OPENPWS_ADMIN_TOKEN": "configured-token"})
    try:
        output = server.output.read_text()
        assert "Bearer <OPENPWS_ADMIN_TOKEN>" in output and "configured-token" not in output
        answer = httpx.get(f"{server.base_url}/_openpws/api/accounts", headers={"Authorization": "Bearer configured-token"})
        assert answer.status_code == 200
    finally:
        stop_server(server)


@pytest.mark.slow
def test_sandbox_accounts_and_clocks_from_the_command_line(database_url: str, soap: SoapClient) -> None:
    code = f"cli-{secrets.token_hex(3)}"
    created = openpws(database_url, "account", "create", code, "--fixture-name", "demo", "--ttl-seconds", "3600")
    assert created.returncode == 0, created.stderr
    assert f"Created account {code} (AccountUid " in created.stdout and "removed in 3600 s" in created.stdout
    passwords = dict(re.findall(r"^  user (\S+) / password (\S+)  \(", created.stdout, re.MULTILINE))
    assert sorted(passwords) == [f"admin@{code}", f"dev@{code}", f"viewer@{code}"]
    ticket = soap.login(code, f"admin@{code}", passwords[f"admin@{code}"])
    taken = openpws(database_url, "account", "create", code.upper())
    assert taken.returncode == 1 and "already exists" in taken.stderr

    listed = openpws(database_url, "account", "list")
    assert listed.returncode == 0, listed.stderr
    [line] = [line for line in listed.stdout.splitlines() if line.startswith(code + "\t")]
    fields = line.split("\t")
    assert fields[2] != "-" and fields[3].endswith("real time")
    assert fields[4] == "users=3 clients=3 engagements=4 projects=5 roles=4 invoices=1 locks=0"

    def clock(*args: str) -> str:
        done = openpws(database_url, "clock", *args, "--account", code)
        assert done.returncode == 0, done.stderr
        return done.stdout.strip()

    assert clock("freeze", "--at", "2030-01-02T03:04:05Z") == f"{code}: 2030-01-02T03:04:05.000Z frozen"
    answer = soap.call("PwsGetClientList", f"<req:SessionTicket>{ticket}</req:SessionTicket>")
    assert answer.text(".//cs:ServerTimestampUtc") == "2030-01-02T03:04:05.0000000Z"
    ticket = soap.login(code, f"admin@{code}", passwords[f"admin@{code}"])  # a session on the frozen clock
    # Locks taken from the command line are taken on the account's clock too.
    taken = openpws(database_url, "lock", "take", "--account", code, "--user", f"viewer@{code}", "--entity",
                    "E:P001323", "--seconds", "60")
    assert taken.returncode == 0, taken.stderr
    held = openpws(database_url, "lock", "list", "--account", code).stdout.split("\t")
    assert held[4:6] == ["2030-01-02T03:04:05.000Z", "2030-01-02T03:05:05.000Z"]
    assert clock("advance", "61m") == f"{code}: 2030-01-02T04:05:05.000Z frozen"
    assert clock("show") == f"{code}: 2030-01-02T04:05:05.000Z frozen"
    assert openpws(database_url, "lock", "list", "--account", code).stdout == ""  # expired on the clock
    assert soap.call("PwsGetClientList", f"<req:SessionTicket>{ticket}</req:SessionTicket>").error_numbers() == [-101]
    assert clock("set", "2031-01-01T00:00:00+01:00").startswith(f"{code}: 2030-12-31T23:00:0")
    assert "running, offset +" in clock("show")
    assert clock("real").endswith("real time")
    frozen_here = clock("freeze")
    assert frozen_here.endswith("frozen") and clock("show") == frozen_here

    bad = openpws(database_url, "clock", "advance", "soon", "--account", code)
    assert bad.returncode == 2 and "is not a duration" in bad.stderr
    unknown = openpws(database_url, "clock", "show", "--account", "no-such-account")
    assert unknown.returncode == 1 and "there is no account 'no-such-account'" in unknown.stderr

    deleted = openpws(database_url, "account", "delete", code)
    assert deleted.returncode == 0 and f"Deleted account {code}." in deleted.stdout
    assert soap.authenticate(code, f"admin@{code}", passwords[f"admin@{code}"]).error_numbers() == [10002]
    again = openpws(database_url, "account", "delete", code)
    assert again.returncode == 1 and "there is no account" in again.stderr
    assert code not in openpws(database_url, "account", "list").stdout


def test_lock_commands_have_help_with_an_example() -> None:
    runner = CliRunner()
    for command in (["lock", "list"], ["lock", "take"], ["lock", "release"]):
        result = runner.invoke(main, [*command, "--help"])
        assert result.exit_code == 0, result.output
        assert "Example:" in result.output and f"openpws {' '.join(command)} --account" in result.output, command


@pytest.mark.slow
def test_lock_take_puts_the_sandbox_into_somebody_else_is_editing(database_url: str, soap: SoapClient,
                                                                 account: AccountFixture) -> None:
    pws = Pws(soap, account)
    engagement = pws.engagement(pws.client("Acme"), "Edited elsewhere")
    project = pws.project(engagement, "Build")
    pws.role(project, "Engineer", external_id="CLI-ROLE")
    # A view-only user can be made the holder: the command acts for them.
    taken = openpws(database_url, "lock", "take", "--account", account.code, "--user", account.viewer,
                    "--entity", f"E:{engagement}")
    assert taken.returncode == 0, taken.stderr
    set_id = int(taken.stdout.strip())
    assert f"ProjectorLockSetId {set_id}" in taken.stderr

    blocked = acquire(pws, entity("P", project))
    assert fault_numbers(blocked) == [54076]
    assert f"locked by User {account.viewer}" in blocked.faultstring
    listed = openpws(database_url, "lock", "list", "--account", account.code)
    assert listed.returncode == 0, listed.stderr
    [line] = listed.stdout.splitlines()
    fields = line.split("\t")
    assert fields[:4] == [str(set_id), account.viewer, f"User {account.viewer}", f"E:{engagement}"]
    acquired, expires = (datetime.fromisoformat(f.removesuffix("Z")) for f in fields[4:6])
    assert 3590 <= (expires - acquired).total_seconds() <= 3600 and fields[6] == "-"

    released = openpws(database_url, "lock", "release", "--account", account.code, "--set", str(set_id))
    assert released.returncode == 0 and f"Released lock set {set_id}." in released.stdout
    again = openpws(database_url, "lock", "release", "--account", account.code, "--set", str(set_id))
    assert again.returncode == 0 and "had already ended" in again.stdout
    assert openpws(database_url, "lock", "list", "--account", account.code).stdout == ""
    mine = acquire(pws, entity("P", project))
    assert mine.status == "Ok"
    pws.ok("PwsReleaseProjectorLocks", f"<req:ProjectorLockSetId>{mine.text('.//rs:ProjectorLockSetId')}"
           "</req:ProjectorLockSetId>")

    # An internal lock: listed as such, and not stealable over the API.
    internal = openpws(database_url, "lock", "take", "--account", account.code, "--user", account.viewer,
                       "--entity", "R:CLI-ROLE", "--seconds", "600", "--internal")
    assert internal.returncode == 0, internal.stderr
    [line] = openpws(database_url, "lock", "list", "--account", account.code).stdout.splitlines()
    fields = line.split("\t")
    assert (fields[0], fields[3], fields[6]) == (internal.stdout.strip(), "R:CLI-ROLE", "internal")
    refused = acquire(pws, entity("R", "CLI-ROLE"))
    assert refused.text("s:Body/s:Fault/detail/com:PwsFault/com:AllowLocksToBeStolenFlag") == "false"
    steal = acquire(pws, entity("R", "CLI-ROLE"), extra=holders_as_locks_to_steal(refused))
    assert fault_numbers(steal) == [50469]


@pytest.mark.parametrize(("args", "expected"), [
    (["--user", "nobody@x", "--entity", "E:E000001"], "no user"),
    (["--entity", "E000001"], "is not TYPE:CODE"),
    (["--entity", "E:NOPE-1"], "Entity PwsEngagementRef was not found"),
    (["--entity", "C:CLI-1"], "Error 10126"),
    (["--entity", "E:E000001", "--seconds", "0"], "LockDurationSeconds must be a number from 1 to 86400"),
])
def test_lock_take_says_what_is_wrong(database_url: str, soap: SoapClient, account: AccountFixture,
                                      args: list[str], expected: str) -> None:
    pws = Pws(soap, account)
    assert pws.engagement(pws.client("Acme"), "Target") == "E000001"
    user = [] if "--user" in args else ["--user", account.admin]
    done = openpws(database_url, "lock", "take", "--account", account.code, *user, *args)
    assert done.returncode == 1 and expected in done.stderr, done.stderr
    assert done.stdout == ""


def test_lock_take_of_a_locked_entity_names_the_holder(database_url: str, soap: SoapClient,
                                                       account: AccountFixture) -> None:
    pws = Pws(soap, account)
    engagement = pws.engagement(pws.client("Acme"), "Held")
    assert acquire(pws, entity("E", engagement)).status == "Ok"
    done = openpws(database_url, "lock", "take", "--account", account.code, "--user", account.viewer,
                   "--entity", f"E:{engagement}")
    assert done.returncode == 1 and f"locked by User {account.admin}" in done.stderr
    missing = openpws(database_url, "lock", "release", "--account", account.code, "--set", "999999")
    assert missing.returncode == 1 and "no lock set 999999" in missing.stderr

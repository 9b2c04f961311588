"""The openpws command as a user runs it: real processes, real databases."""

from __future__ import annotations

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
        client = SoapClient(server.base_url)
        tickets = {client.login("demo", "admin@demo", "demo") for _ in range(6)}
        assert len(tickets) == 6
        assert client.login("demo", "viewer@demo", "demo")
        assert httpx.get(server.base_url + "/health").text == "ok\n"
        client.close()
    finally:
        stop_server(server)


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

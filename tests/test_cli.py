"""The openpws command as a user runs it: real processes, real databases."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from tests.conftest import PASSWORD, start_server, stop_server
from tests.pws import SoapClient


def openpws(database_url: str, *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "openpws", *args, "--database", database_url],
        input=stdin, capture_output=True, text=True, timeout=120,
        env={"OPENPWS_SCRYPT_COST": "1024", "PATH": "/usr/bin:/bin"},
    )


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

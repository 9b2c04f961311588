"""The snapshot commands as a user runs them: ``openpws snapshot create|list|restore`` and
``openpws account reset``, real processes on the session's database."""

from __future__ import annotations

import re
import secrets
from pathlib import Path

import pytest
from click.testing import CliRunner

from openpws.cli import main
from tests.conftest import start_server, stop_server
from tests.pws import SoapClient
from tests.serve.test_cli import openpws

pytestmark = pytest.mark.serve


def clients_of(soap: SoapClient, ticket: str) -> list[str]:
    answer = soap.call("PwsGetClientList", f"<req:SessionTicket>{ticket}</req:SessionTicket>")
    assert answer.status == "Ok", answer.content
    return [e.text or "" for e in answer.root.iterfind(".//{*}PwsClientSummary/{*}ClientNumber")]


@pytest.mark.slow
def test_snapshot_restore_and_reset_from_the_command_line(database_url: str, soap: SoapClient) -> None:
    code = f"snap-{secrets.token_hex(3)}"
    created = openpws(database_url, "account", "create", code, "--fixture-name", "demo")
    assert created.returncode == 0, created.stderr
    password = dict(re.findall(r"^  user (\S+) / password (\S+)  \(", created.stdout, re.MULTILINE))[f"admin@{code}"]
    ticket = soap.login(code, f"admin@{code}", password)
    demo_clients = clients_of(soap, ticket)

    listed = openpws(database_url, "snapshot", "list", "--account", code)
    assert listed.returncode == 0, listed.stderr
    [creation] = listed.stdout.splitlines()
    creation_id, taken, name, kind, rows, counts = creation.split("\t")
    assert (name, kind) == ("-", "creation") and int(rows) > 0 and taken.endswith("Z")
    assert counts == "users=3 clients=3 engagements=4 projects=5 roles=4 invoices=1 locks=0"

    made = openpws(database_url, "snapshot", "create", "--account", code, "--name", "before the import")
    assert made.returncode == 0, made.stderr
    found = re.fullmatch(rf"Snapshot (\d+) of {code}: {rows} rows \(users=3 clients=3 .*\)\.\n", made.stdout)
    assert found is not None, made.stdout
    snapshot_id = found.group(1)
    soap.call("PwsSaveClient", f"<req:SessionTicket>{ticket}</req:SessionTicket>"
                               "<req:Client><com:ClientName>Imported</com:ClientName></req:Client>")
    assert len(clients_of(soap, ticket)) == len(demo_clients) + 1
    lines = openpws(database_url, "snapshot", "list", "--account", code).stdout.splitlines()
    assert [line.split("\t")[0] for line in lines] == [snapshot_id, creation_id]
    assert lines[0].split("\t")[2:4] == ["before the import", "-"]

    restored = openpws(database_url, "snapshot", "restore", "--account", code.upper(), snapshot_id)
    assert restored.returncode == 0, restored.stderr
    assert re.fullmatch(rf"Restored {code} to snapshot {snapshot_id} \(taken \S+Z\)\.\n", restored.stdout)
    assert clients_of(soap, ticket) == demo_clients  # the session lives on

    soap.call("PwsSaveClient", f"<req:SessionTicket>{ticket}</req:SessionTicket>"
                               "<req:Client><com:ClientName>Imported again</com:ClientName></req:Client>")
    reset = openpws(database_url, "account", "reset", code)
    assert reset.returncode == 0, reset.stderr
    assert reset.stdout.startswith(f"Reset {code} to its creation (snapshot {creation_id}, taken ")
    assert clients_of(soap, ticket) == demo_clients

    for args, says in (
            (("snapshot", "restore", "--account", code, "2147483647"), f"account '{code}' has no snapshot 2147483647"),
            (("snapshot", "list", "--account", "no-such-account"), "there is no account 'no-such-account'"),
            (("snapshot", "create", "--account", code, "--name", "x" * 101), "a snapshot's name has 1 to 100"),
            (("account", "reset", "no-such-account"), "there is no account 'no-such-account'")):
        refused = openpws(database_url, *args)
        assert refused.returncode == 1 and says in refused.stderr, (args, refused.stderr)
    for bad in ("0", "first", "2147483648"):
        refused = openpws(database_url, "snapshot", "restore", "--account", code, bad)
        assert refused.returncode == 2 and "Invalid value for 'ID'" in refused.stderr
    assert len(openpws(database_url, "snapshot", "list", "--account", code).stdout.splitlines()) == 2


def test_serve_demo_keeps_what_reset_goes_back_to(tmp_path: Path) -> None:
    database = f"sqlite:///{tmp_path / 'demo.db'}"
    server = start_server(database, tmp_path, "--demo")
    try:
        with SoapClient(server.base_url) as client:
            ticket = client.login("demo", "admin@demo", "demo")
            demo_clients = clients_of(client, ticket)
            client.call("PwsSaveClient", f"<req:SessionTicket>{ticket}</req:SessionTicket>"
                                         "<req:Client><com:ClientName>Scratch</com:ClientName></req:Client>")
            reset = openpws(database, "account", "reset", "demo")
            assert reset.returncode == 0, reset.stderr
            assert clients_of(client, ticket) == demo_clients
    finally:
        stop_server(server)


def test_the_snapshot_commands_have_help_with_an_example() -> None:
    runner = CliRunner()
    for command in (["snapshot", "create"], ["snapshot", "list"], ["snapshot", "restore"], ["account", "reset"]):
        result = runner.invoke(main, [*command, "--help"])
        assert result.exit_code == 0, result.output
        assert "Example:" in result.output and f"openpws {command[0]} {command[1]}" in result.output, command

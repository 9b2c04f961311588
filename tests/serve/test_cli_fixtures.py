"""Fixtures from the command line, as a user runs it: account create --fixture FILE (YAML, JSON or
standard input) and account export CODE (YAML, or JSON with --format json)."""

from __future__ import annotations

import json
import re
import secrets
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from openpws.cli import main
from tests.pws import SoapClient
from tests.sandbox.test_fixtures import example, small, without_lock_seconds
from tests.serve.test_cli import openpws

pytestmark = pytest.mark.serve


@pytest.mark.slow
def test_an_account_from_a_fixture_file_and_its_export(database_url: str, soap: SoapClient, tmp_path: Path) -> None:
    code = f"cli-fx-{secrets.token_hex(3)}"
    written = tmp_path / "acme.yaml"
    written.write_text(yaml.safe_dump(example(), sort_keys=False))
    created = openpws(database_url, "account", "create", code, "--fixture", str(written))
    assert created.returncode == 0, created.stderr
    assert f"Created account {code} (AccountUid " in created.stdout and "weeks start on Monday" in created.stdout
    assert re.search(r"^Loaded its fixture with \d+ PWS requests\.$", created.stdout, re.MULTILINE)
    passwords = dict(re.findall(r"^  user (\S+) / password (\S+)  \(", created.stdout, re.MULTILINE))
    assert passwords[f"pm@{code}"] == "pat-s3cret-for-tests" and len(passwords[f"sam@{code}"]) == 24
    assert soap.authenticate(code, f"sam@{code}", passwords[f"sam@{code}"]).status == "Ok"

    exported = openpws(database_url, "account", "export", code)
    assert exported.returncode == 0, exported.stderr
    as_yaml = yaml.safe_load(exported.stdout)
    as_json = json.loads(openpws(database_url, "account", "export", code, "--format", "json").stdout)
    assert without_lock_seconds(as_yaml) == without_lock_seconds(as_json)
    assert as_json["settings"]["name"] == "Acme Consulting (sandbox)"
    assert "pat-s3cret" not in exported.stdout  # passwords are never exported

    # The export, read from standard input, makes an account that exports the same.
    copy = f"{code}-copy"
    again = openpws(database_url, "account", "create", copy, "--fixture", "-", stdin=exported.stdout)
    assert again.returncode == 0, again.stderr
    copied = json.loads(openpws(database_url, "account", "export", copy, "--format", "json").stdout)
    assert without_lock_seconds(copied) == without_lock_seconds(as_json)


def test_a_refused_fixture_says_where_and_makes_no_account(database_url: str, tmp_path: Path) -> None:
    code = f"cli-bad-{secrets.token_hex(3)}"
    document = small()
    document["clients"][0]["engagements"][1]["projects"][0]["contract_line_item"] = "E1-X"
    written = tmp_path / "bad.json"
    written.write_text(json.dumps(document))
    refused = openpws(database_url, "account", "create", code, "--fixture", str(written))
    assert refused.returncode == 1
    assert "990093 ContractLineItemOfAnotherEngagement" in refused.stderr
    assert "(at clients[0].engagements[1].projects[0].contract_line_item in the fixture)" in refused.stderr
    assert code not in openpws(database_url, "account", "list").stdout

    unreadable = tmp_path / "unreadable.yaml"
    unreadable.write_text("clients: [unclosed")
    done = openpws(database_url, "account", "create", code, "--fixture", str(unreadable))
    assert done.returncode == 1 and "the fixture cannot be read" in done.stderr
    # The fixture says its weeks start on Monday; the command line may not say otherwise.
    sunday = openpws(database_url, "account", "create", code, "--fixture-name", "demo", "--week-starts", "sunday")
    assert sunday.returncode == 1 and "the fixture's weeks start on Monday" in sunday.stderr
    missing = openpws(database_url, "account", "export", "no-such-account")
    assert missing.returncode == 1 and "there is no account 'no-such-account'" in missing.stderr


def test_export_has_help_with_an_example() -> None:
    result = CliRunner().invoke(main, ["account", "export", "--help"])
    assert result.exit_code == 0, result.output
    assert "Example:" in result.output and "openpws account export scratch" in result.output
    assert "--fixture FILE" in CliRunner().invoke(main, ["account", "create", "--help"]).output

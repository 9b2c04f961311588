"""The documentation says what the code does."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from openpws.cli import main
from openpws.config import SETTINGS, Settings, load_settings
from openpws.contract import load_contract
from openpws.docs import errors_markdown
from tests.conftest import AccountFixture
from tests.pws import SoapClient

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text()


def test_errors_doc_is_the_catalogue() -> None:
    assert (ROOT / "docs" / "errors.md").read_text() == errors_markdown()


def test_operations_doc_has_a_section_per_operation() -> None:
    sections = re.findall(r"^## (\w+)$", (ROOT / "docs" / "operations.md").read_text(), re.MULTILINE)
    assert sections == list(load_contract().operations)


def test_every_setting_is_documented_with_its_default() -> None:
    settings_doc = (ROOT / "docs" / "settings.md").read_text()
    defaults = Settings()
    for setting in SETTINGS:
        default = getattr(defaults, setting.name)
        if default == "":
            assert f"## {setting.env}\nUnset by default." in settings_doc, setting.env
            assert f"| `{setting.env}` | unset |" in README, setting.env
            continue
        shown = f"{default:g}" if isinstance(default, float) else str(default)
        assert f"## {setting.env}\nDefault `{shown}`." in settings_doc, setting.env
        assert f"| `{setting.env}` | `{shown}` |" in README, setting.env
        assert setting.default == default


def test_settings_are_read_from_the_environment() -> None:
    settings = load_settings({"OPENPWS_PORT": "9001", "OPENPWS_SESSION_IDLE_MINUTES": "1.5"})
    assert settings.port == 9001 and settings.session_idle_minutes == 1.5
    assert load_settings(settings.environment()) == settings


def test_readme_names_the_two_commands_and_ci_runs_the_second() -> None:
    assert "\n    scripts/demo\n" in README
    assert "\n    scripts/test\n" in README
    assert "exec scripts/test" in (ROOT / ".ci" / "run").read_text()


def test_every_command_has_help_with_an_example() -> None:
    runner = CliRunner()
    for command in (["serve"], ["account", "create"], ["account", "delete"], ["account", "list"], ["user", "create"],
                    ["user", "list"], ["clock", "show"], ["clock", "freeze"], ["clock", "set"], ["clock", "advance"],
                    ["clock", "real"], ["operations"], ["faults", "add"], ["faults", "list"], ["faults", "remove"],
                    ["faults", "clear"], ["preview"], ["undo"], ["changes", "list"], ["changes", "show"]):
        result = runner.invoke(main, [*command, "--help"])
        assert result.exit_code == 0, result.output
        assert "Example:" in result.output, command
        assert "openpws " + command[0] in result.output


@pytest.mark.serve  # the example runs as a script of its own, against a real server
def test_readme_zeep_example_works_as_written(soap: SoapClient, account: AccountFixture, tmp_path: Path) -> None:
    code = re.search(r"```python\n(.*?)```", README, re.DOTALL)
    assert code is not None
    example = code.group(1)
    assert len(example.strip().splitlines()) <= 12
    # Point it at the test server and its account instead of the demo on port 8080.
    example = (example.replace("http://127.0.0.1:8080", soap.base_url)
               .replace('"demo"', f'"{account.code}"', 1).replace("admin@demo", account.admin)
               .replace('"Password": "demo"', f'"Password": "{account.password}"'))
    script = tmp_path / "example.py"
    script.write_text(example)
    done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    first, second = done.stdout.splitlines()
    assert first.startswith("Ok User ") and int(first.split()[-1]) > 2**60
    assert second == "Ok"


def test_readme_names_every_operation_of_the_contract() -> None:
    listed = re.search(r"Operations: (.*?)\. What each", README, re.DOTALL)
    assert listed is not None
    named = re.findall(r"Pws\w+", listed.group(1))
    assert named == list(load_contract().operations)

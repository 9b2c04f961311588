"""The change journal's commands as a user runs them: ``openpws preview``, ``openpws undo`` and
``openpws changes list|show``, real processes on the session's database."""

from __future__ import annotations

import re
import secrets
from pathlib import Path

import pytest

from tests.pws import SoapClient, envelope
from tests.serve.test_cli import openpws

pytestmark = pytest.mark.serve


def engagement_delete(ticket: str, cascade: bool) -> bytes:
    flag = "<sch:CascadeDeleteFlag>true</sch:CascadeDeleteFlag>" if cascade else ""
    return envelope("PwsDeleteEngagement", f"<req:SessionTicket>{ticket}</req:SessionTicket><sch:EngagementIdentity>"
                    f"<com:EngagementCode>P001323</com:EngagementCode></sch:EngagementIdentity>{flag}")


@pytest.mark.slow
def test_preview_changes_and_undo_from_the_command_line(database_url: str, soap: SoapClient, tmp_path: Path) -> None:
    code = f"chg-{secrets.token_hex(3)}"
    created = openpws(database_url, "account", "create", code, "--fixture-name", "demo")
    assert created.returncode == 0, created.stderr
    password = dict(re.findall(r"^  user (\S+) / password (\S+)  \(", created.stdout, re.MULTILINE))[f"admin@{code}"]
    ticket = soap.login(code, f"admin@{code}", password)

    refused = tmp_path / "refused.xml"
    refused.write_bytes(engagement_delete(ticket, cascade=False))
    shown = openpws(database_url, "preview", "--account", code, str(refused))
    assert shown.returncode == 0, shown.stderr
    lines = shown.stdout.splitlines()
    assert lines[0] == "HTTP 200, Status Fail (54537); nothing was changed."
    assert lines[1] == "Changes: none."
    assert lines[2] == "Blockers (2):"
    assert re.fullmatch(r"  project P001323-001 \(Uid \d+\): 54537 EngagementHasProjects, cleared by "
                        r"CascadeDeleteFlag", lines[3])

    cascade = tmp_path / "cascade.xml"
    cascade.write_bytes(engagement_delete(ticket, cascade=True))
    shown = openpws(database_url, "preview", "--account", code, str(cascade), "--response")
    assert shown.returncode == 0, shown.stderr
    lines = shown.stdout.splitlines()
    assert lines[:2] == ["HTTP 200, Status Ok; nothing was changed.", "Changes (15 rows):"]
    assert re.fullmatch(r"  delete engagement P001323 \(Uid \d+\) 'Revcorp platform': .*stage 'Open'.*", lines[2])
    assert any(re.fullmatch(r"      delete role Role-301 \(Uid \d+\) 'Project Manager': .*", line) for line in lines)
    assert any(line.startswith("        delete hours requested ") for line in lines)
    assert "--- response" in lines and "PwsDeleteEngagementResponse" in shown.stdout

    deleted = soap.post(cascade.read_bytes())
    assert deleted.status == "Ok"
    request_id = deleted.headers["x-openpws-request-id"]
    listed = openpws(database_url, "changes", "list", "--account", code, "--entity", "project")
    assert listed.returncode == 0, listed.stderr
    [line] = listed.stdout.splitlines()
    assert line.split("\t")[0] == request_id and line.split("\t")[3:] == ["PwsDeleteEngagement", "15 rows"]
    shown = openpws(database_url, "changes", "show", "--account", code, request_id)
    assert shown.returncode == 0, shown.stderr
    assert shown.stdout.splitlines()[1].startswith("  delete engagement P001323 ")

    preview = openpws(database_url, "undo", "--account", code, request_id, "--preview")
    assert preview.returncode == 0, preview.stderr
    assert preview.stdout.splitlines()[0] == (f"Undoing request {request_id} would change 15 rows (1 engagement, "
                                              "2 contract_line_item, 2 project, 3 role, 7 hours); nothing was changed.")
    undone = openpws(database_url, "undo", "--account", code, request_id)
    assert undone.returncode == 0, undone.stderr
    found = re.fullmatch(rf"Undid request {request_id}: 15 rows \(1 engagement, 2 contract_line_item, 2 project, "
                         r"3 role, 7 hours\); the undo is request (\d+) in the change journal\.\n", undone.stdout)
    assert found is not None, undone.stdout
    again = openpws(database_url, "undo", "--account", code, request_id)
    assert again.returncode == 1 and f"undone already, by {found.group(1)}" in again.stderr
    missing = openpws(database_url, "changes", "show", "--account", code, "999999")
    assert missing.returncode == 1 and "no changes of request 999999" in missing.stderr

"""What the fuzzer (tests/messages/test_fuzz.py) found: each an internal error once, each now the
documented answer, the same on every store, with nothing changed."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from openpws.store.transactions import Store
from tests.conftest import AccountFixture
from tests.inprocess import InProcess, captured_log
from tests.pws import Answer
from tests.tree import ref, tag


@pytest.fixture
def app(store: Store, account: AccountFixture) -> Iterator[InProcess]:
    made = InProcess(store, account)
    with captured_log() as log:
        yield made
        assert log.take() == []
    made.close()


def client(app: InProcess, number: str | None = None) -> str:
    members = (tag("com:ClientNumber", number) if number else "") + tag("com:ClientName", "Acme")
    return app.ok("PwsSaveClient", f"<req:Client>{members}</req:Client>").text(".//{*}ClientIdentity/com:ClientNumber") or ""


def engagement(app: InProcess, client_number: str) -> str:
    return app.ok("PwsSaveEngagement", f"<sch:Engagement><com:ClientIdentity>{ref('Client', client_number)}"
                                       "</com:ClientIdentity><com:EngagementName>Build</com:EngagementName>"
                                       "</sch:Engagement>").text(".//sch:EngagementIdentity/com:EngagementCode") or ""


def project(app: InProcess, engagement_code: str) -> str:
    return app.ok("PwsSaveProject", f"<sch:Mode>R</sch:Mode><sch:Project><com:EngagementIdentity>"
                                    f"{ref('Engagement', engagement_code)}</com:EngagementIdentity>"
                                    "<com:ProjectName>Phase</com:ProjectName></sch:Project>"
                  ).text(".//sch:ProjectIdentity/com:ProjectCode") or ""


def save_role(app: InProcess, project_code: str, detail: str, extra: str = "") -> Answer:
    return app.call("PwsSaveProjectRole", f"<sch:Mode>R</sch:Mode><sch:ProjectIdentity>{ref('Project', project_code)}"
                                          f"</sch:ProjectIdentity><sch:ProjectRole>{detail}</sch:ProjectRole>{extra}")


def assert_too_long(answer: Answer, field: str, maximum: int) -> None:
    assert answer.status_code == 200 and answer.status == "Fail", answer.content
    assert answer.error_numbers() == [990008]
    assert answer.messages()[0]["ErrorText"] == f"{field} is longer than {maximum} characters.", answer.content
    assert "with its case changed" in (answer.messages()[0]["AdditionalErrorText"] or "")


# ß upper-cases to SS and İ lower-cases to i + a combining dot: a code or name that fits its column
# as sent may not fit the key column that holds it case-folded (on PostgreSQL, "value too long for
# type character varying" was an internal error; SQLite kept the over-long key).

def test_a_client_number_longer_than_its_column_once_upper_cased_is_value_too_long(app: InProcess) -> None:
    before = app.fingerprint()
    too_long = app.call("PwsSaveClient", f"<req:Client>{tag('com:ClientNumber', 'ß' * 11)}"
                                         f"{tag('com:ClientName', 'Acme')}</req:Client>")
    assert_too_long(too_long, "ClientNumber", 20)
    existing = client(app)
    renamed = app.call("PwsSaveClient", f"<req:Client>{tag('com:ClientNumber', existing)}"
                                        f"{tag('com:NewClientNumber', 'ß' * 20)}</req:Client>")
    assert_too_long(renamed, "NewClientNumber", 20)
    assert client(app, "ß" * 10) == "ß" * 10  # twenty characters upper-cased: fits
    assert app.fingerprint()["clients"][0] == before["clients"][0] + 2


def test_an_engagement_code_longer_than_its_column_once_upper_cased_is_value_too_long(app: InProcess) -> None:
    owner = client(app)
    before = app.fingerprint()
    answer = app.call("PwsSaveEngagement", f"<sch:Engagement>{tag('com:EngagementCode', 'ﬃ' * 7)}"
                                           f"<com:ClientIdentity>{ref('Client', owner)}</com:ClientIdentity>"
                                           "<com:EngagementName>Build</com:EngagementName></sch:Engagement>")
    assert_too_long(answer, "EngagementCode", 20)
    assert app.fingerprint() == before


def test_a_project_code_longer_than_its_column_once_upper_cased_is_value_too_long(app: InProcess) -> None:
    code = project(app, engagement(app, client(app)))
    before = app.fingerprint()
    answer = app.call("PwsSaveProject", f"<sch:Mode>R</sch:Mode><sch:Project>{ref('Project', code)}"
                                        f"{tag('com:NewProjectCode', 'ß' * 13)}</sch:Project>")
    assert_too_long(answer, "NewProjectCode", 24)
    assert app.fingerprint() == before


@pytest.mark.parametrize(("member", "value", "maximum"), [("RoleName", "İ" * 26, 50),
                                                         ("ExternalSystemIdentifier", "ß" * 26, 50)],
                         ids=["RoleName", "ExternalSystemIdentifier"])
def test_a_role_name_or_identifier_longer_than_its_column_once_case_folded_is_value_too_long(
        app: InProcess, member: str, value: str, maximum: int) -> None:
    code = project(app, engagement(app, client(app)))
    before = app.fingerprint()
    detail = tag(f"com:{member}", value) + ("" if member == "RoleName" else tag("com:RoleName", "Dev"))
    assert_too_long(save_role(app, code, detail), member, maximum)
    assert app.fingerprint() == before


def test_a_name_made_unique_is_shortened_until_it_fits_lower_cased(app: InProcess) -> None:
    code = project(app, engagement(app, client(app)))
    name = "İ" * 25  # fifty characters lower-cased: fits exactly
    assert save_role(app, code, tag("com:RoleName", name)).status == "Ok"
    answer = save_role(app, code, tag("com:ExternalSystemIdentifier", "R2") + tag("com:RoleName", name),
                       tag("FullDetailFlag", True) + tag("MakeRoleNameUniqueFlag", True))
    assert answer.status == "Ok", answer.content
    made = answer.text(".//{*}ProjectRoleDetail/com:RoleName") or ""
    assert made == "İ" * 24 + " 2" and len(made.lower()) <= 50

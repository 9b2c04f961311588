"""Values the contract admits but no store or clock can hold, and texts longer than their limit:
each gets the answer the documentation names, the same on every store, and nothing changes."""

from __future__ import annotations

import pytest
from lxml import etree

from tests.conftest import AccountFixture
from tests.pws import SoapClient
from tests.tree import Pws, ref, tag


@pytest.fixture
def pws(soap: SoapClient, account: AccountFixture) -> Pws:
    return Pws(soap, account)


def project_state(pws: Pws, code: str) -> bytes:
    answer = pws.ok("PwsGetProject", tag("Mode", "R") + f"<sch:ProjectIdentities><com:PwsProjectRef>"
                                     f"{ref('Project', code)}</com:PwsProjectRef></sch:ProjectIdentities>")
    project = answer.find(".//{*}Projects")
    assert project is not None
    return etree.tostring(project)


@pytest.mark.parametrize("moment", ["9999-12-31T23:59:59-14:00", "0001-01-01T00:00:00+14:00",
                                    "2024-01-01T00:00:00+25:00"])
def test_a_date_past_the_ends_of_time_in_utc_is_a_client_fault_naming_it(pws: Pws, moment: str) -> None:
    code = pws.project(pws.engagement(pws.client("Acme"), "Build"), "Phase 1")
    before = project_state(pws, code)
    answer = pws.call("PwsSaveProject", tag("Mode", "R") + f"<sch:Project>{ref('Project', code)}"
                      f"<com:CloseDate>{moment}</com:CloseDate></sch:Project>")
    assert answer.status_code == 500 and answer.faultcode == "s:Client"
    assert "CloseDate" in answer.faultstring and "0001-01-01T00:00:00Z to 9999-12-31T23:59:59Z" in answer.faultstring
    assert project_state(pws, code) == before


def test_an_hours_bucket_before_year_one_in_utc_is_a_client_fault(pws: Pws) -> None:
    code = pws.project(pws.engagement(pws.client("Acme"), "Build"), "Phase 1")
    uid = pws.role(code, "Dev")
    answer = pws.call("PwsRequestOrBookRoleHours", tag("Mode", "R") + (
        "<sch:ProjectRoles><com:PwsProjectRoleHours><com:HoursBuckets><com:PwsProjectRoleHoursBucket>"
        "<com:BucketStartDate>0001-01-01T00:00:00+14:00</com:BucketStartDate><com:WeeklyMinutes>60"
        "</com:WeeklyMinutes></com:PwsProjectRoleHoursBucket></com:HoursBuckets>"
        f"<com:ProjectRoleIdentity><com:ProjectRoleUid>{uid}</com:ProjectRoleUid></com:ProjectRoleIdentity>"
        "</com:PwsProjectRoleHours></sch:ProjectRoles>"))
    assert answer.status_code == 500 and answer.faultcode == "s:Client" and "BucketStartDate" in answer.faultstring


@pytest.mark.parametrize(("operation", "namespace"), [("PwsGetClientList", "req"), ("PwsGetEngagementList", "sch"),
                                                      ("PwsGetProjectList", "sch")])
@pytest.mark.parametrize("length", [256, 60_000])
def test_a_search_text_past_its_documented_length_is_value_too_long_on_every_store(
        pws: Pws, operation: str, namespace: str, length: int) -> None:
    pws.project(pws.engagement(pws.client("Acme"), "Build"), "Phase 1")
    answer = pws.call(operation, tag(f"{namespace}:QueryString", "a" * length))
    assert answer.status_code == 200 and answer.status == "Fail" and answer.error_numbers() == [990008]
    assert "QueryString is longer than 255 characters" in (answer.messages()[0]["ErrorText"] or "")
    at_limit = pws.call(operation, tag(f"{namespace}:QueryString", "a" * 255))
    assert at_limit.status == "Ok"


def test_a_purchase_order_number_past_its_length_is_value_too_long(pws: Pws) -> None:
    answer = pws.call("PwsGetEngagementList", tag("PurchaseOrderNumber", "P" * 51))
    assert answer.status == "Fail" and answer.error_numbers() == [990008]

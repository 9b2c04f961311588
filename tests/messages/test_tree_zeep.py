"""An independent SOAP client (zeep, from the served WSDL) builds a whole tree and reads it back."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from tests.conftest import AccountFixture
from tests.pws import SoapClient
from tests.zeep_session import ZeepSession


def test_zeep_builds_and_reads_a_whole_tree(soap: SoapClient, account: AccountFixture) -> None:
    ok = ZeepSession(soap, account).ok

    parent = ok("PwsSaveClient", Client={"ClientName": "Zeep Holdings"}).ClientIdentity
    child = ok("PwsSaveClient", Client={"ClientName": "Zeep Unit", "ParentClientIdentity": {"ClientUid": parent.ClientUid}}
               ).ClientIdentity
    engagement = ok("PwsSaveEngagement", Engagement={"ClientIdentity": {"ClientNumber": child.ClientNumber},
                                                    "EngagementName": "Zeep rollout"})
    project = ok("PwsSaveProject", Mode="R", Project={
        "EngagementIdentity": {"EngagementUid": engagement.EngagementIdentity.EngagementUid},
        "ProjectName": "Zeep phase 1", "OpenDate": datetime(2026, 1, 5, tzinfo=UTC)})
    assert project.ProjectIdentity.ProjectCode == engagement.EngagementIdentity.EngagementCode + "-001"
    assert project.EngagementTimestamp != engagement.EngagementTimestamp
    role = ok("PwsSaveProjectRole", Mode="R", ProjectIdentity={"ProjectUid": project.ProjectIdentity.ProjectUid},
              ProjectRole={"ExternalSystemIdentifier": "ZT-1", "RoleName": "Architect"})
    today = datetime.now(UTC)
    monday = datetime(today.year, today.month, today.day, tzinfo=UTC) - timedelta(days=today.weekday())
    ok("PwsRequestOrBookRoleHours", Mode="R", ProjectRoles={"PwsProjectRoleHours": [{
        "ProjectRoleIdentity": {"ProjectRoleUid": role.ProjectRoleIdentity.ProjectRoleUid},
        "HoursBuckets": {"PwsProjectRoleHoursBucket": [
            {"BucketStartDate": monday + timedelta(weeks=w), "SchedulingMode": "W", "WeeklyMinutes": 1200}
            for w in range(3)]}}]})
    ok("PwsRequestOrBookRoleHours", Mode="A", ProjectRoles={"PwsProjectRoleHours": [{
        "ProjectRoleIdentity": {"ExternalSystemIdentifier": "ZT-1"}, "CopyRequestedHoursFlag": True,
        "CandidateResourceIdentity": {"ResourceReferenceSystemId": "E1"}}]})

    found = ok("PwsGetEngagementList", QueryString="zeep holdings").Engagements.PwsEngagementSummary
    assert [e.EngagementCode for e in found] == [engagement.EngagementIdentity.EngagementCode]
    [element] = ok("PwsGetEngagement", EngagementIdentities={"PwsEngagementRef": [
        {"EngagementCode": engagement.EngagementIdentity.EngagementCode}]}).Engagements.PwsEngagementElement
    assert element.Client.ParentClientIdentity.ClientUid == parent.ClientUid
    assert [p.ProjectCode for p in element.ProjectIdentities.PwsProjectRef] == [project.ProjectIdentity.ProjectCode]
    [read] = ok("PwsGetProject", Mode="A", ProjectIdentities={"PwsProjectRef": [
        {"ProjectCode": project.ProjectIdentity.ProjectCode}]}).Projects.PwsProjectElement
    assert read.ProjectDetail.EngagementTimestamp == element.EngagementDetail.EngagementTimestamp
    [booked] = read.Roles.PwsProjectRoleElement
    assert booked.ProjectRoleDetail.RoleName == "Architect"
    assert booked.ProjectRoleDetail.ResourceIdentity.ResourceReferenceSystemId == "E1"
    assert [b.WeeklyMinutes for b in booked.HoursBuckets.PwsProjectRoleHoursBucket] == [1200, 1200, 1200]
    invoice = ok("PwsCreateInvoice", InvoiceSpec={
        "ClientIdentity": {"ClientNumber": child.ClientNumber},
        "EngagementIdentity": {"EngagementCode": engagement.EngagementIdentity.EngagementCode},
        "ProjectIdentity": {"ProjectCode": project.ProjectIdentity.ProjectCode},
        "CostCenterIdentity": {"CostCenterName": "Head Office"}, "EngagementCurrencyIdentity": {"CurrencyCode": "USD"},
        "BillingCultureIdentity": {"CultureName": "en-US"}, "InvoiceName": "First", "InvoiceContent": "A"})
    got = ok("PwsGetInvoice", InvoiceIdentity={"InvoiceUid": invoice.InvoiceIdentity.InvoiceUid}).Invoice
    assert got.DraftInvoiceNumber == "DRAFT00001" and got.Engagement.EngagementName == "Zeep rollout"

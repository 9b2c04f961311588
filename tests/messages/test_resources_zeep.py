"""zeep, from the served WSDL, finds a resource, staffs a role with it, books hours and reads the
role's scheduling data back: the path a real client takes before it books an existing role."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from tests.conftest import AccountFixture
from tests.pws import SoapClient
from tests.zeep_session import ZeepSession


def test_zeep_finds_a_resource_and_reads_a_roles_schedule(soap: SoapClient, account: AccountFixture) -> None:
    ok = ZeepSession(soap, account, "?wsdl").ok

    found = ok("PwsGetResourceList", IncludeInactiveFlag=False, QueryString="viewer").Resources.PwsResourceSummary
    [viewer] = found
    assert viewer.ResourceReferenceSystemId == "E2" and viewer.InactiveFlag is False
    assert isinstance(viewer.ResourceUid, int) and viewer.ResourceUid > 2**60
    [element] = ok("PwsGetResource", ResourceIdentities={"PwsResourceRef": [
        {"ResourceUid": viewer.ResourceUid}]}).Resources.PwsResourceElement
    assert element.ResourceDetail.ResourceUid == viewer.ResourceUid  # every bit of the Int64 survives
    assert element.ResourceDetail.ResourceDisplayName == viewer.ResourceDisplayName

    client = ok("PwsSaveClient", Client={"ClientName": "Zeep Staffing"}).ClientIdentity
    engagement = ok("PwsSaveEngagement", Engagement={"ClientIdentity": {"ClientUid": client.ClientUid},
                                                    "EngagementName": "Staffing"}).EngagementIdentity
    project = ok("PwsSaveProject", Mode="R", Project={"EngagementIdentity": {"EngagementUid": engagement.EngagementUid},
                                                     "ProjectName": "Staffing 1"}).ProjectIdentity
    role = ok("PwsSaveProjectRole", Mode="A", ProjectIdentity={"ProjectUid": project.ProjectUid}, ProjectRole={
        "RoleName": "Analyst", "ResourceIdentity": {"ResourceUid": viewer.ResourceUid}}).ProjectRoleIdentity
    today = datetime.now(UTC)
    monday = datetime(today.year, today.month, today.day, tzinfo=UTC) - timedelta(days=today.weekday())
    ok("PwsRequestOrBookRoleHours", Mode="A", ProjectRoles={"PwsProjectRoleHours": [{
        "ProjectRoleIdentity": {"ProjectRoleUid": role.ProjectRoleUid},
        "HoursBuckets": {"PwsProjectRoleHoursBucket": [
            {"BucketStartDate": monday + timedelta(weeks=1), "SchedulingMode": "W", "WeeklyMinutes": 1800}]}}]})

    data = ok("PwsGetResourceSchedulingRoleData", MinimumWeekCount=3, ProjectRoleIdentities={
        "PwsProjectRoleRef": [{"ProjectRoleUid": role.ProjectRoleUid}]}, RequestOrScheduleMode="A", StartDate=monday)
    assert data.WeekCount == 3 and data.EndDate == monday + timedelta(weeks=2)
    [schedule] = data.ProjectRoles.PwsProjectRoleSchedule
    assert schedule.ProjectRoleIdentity.ProjectRoleUid == role.ProjectRoleUid
    assert schedule.ProjectIdentity.ProjectUid == project.ProjectUid
    assert [b.WeeklyMinutes for b in schedule.BookedBuckets.PwsProjectRoleHoursBucket] == [0, 1800, 0]
    assert [b.WeeklyMinutes for b in schedule.RequestedBuckets.PwsProjectRoleHoursBucket] == [0, 0, 0]
    assert schedule.BookedHoursFlag is True
    assert schedule.ResourceIdentity.ResourceUid == viewer.ResourceUid
    [candidate] = schedule.Candidates.PwsProjectRoleCandidate
    assert candidate.AssignedCandidateFlag is True and candidate.SelectedCandidateFlag is False
    [person] = data.Resources.PwsResourceSchedule
    assert person.ResourceIdentity.ResourceUid == viewer.ResourceUid

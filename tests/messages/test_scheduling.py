"""PwsGetResourceSchedulingRoleData over real HTTP: what a requester or scheduler reads of roles
before writing hours on them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import pytest
from lxml import etree

from openpws.services.permissions import Permission
from openpws.services.weeks import SUNDAY
from openpws.store.transactions import Store
from tests.conftest import AccountFixture, make_account, make_user
from tests.pws import NAMESPACES, Answer, SoapClient
from tests.tree import Pws, ref, tag

ARRAYS = "http://schemas.microsoft.com/2003/10/Serialization/Arrays"
MONDAY = date(2024, 1, 1)  # a Monday
ROLE = ".//sch:ProjectRoles/com:PwsProjectRoleSchedule"


def week(offset: int = 0) -> date:
    return MONDAY + timedelta(weeks=offset)


def weekly(start: date, minutes: int) -> str:
    return (f"<com:PwsProjectRoleHoursBucket><com:BucketStartDate>{start}T00:00:00Z</com:BucketStartDate>"
            f"<com:SchedulingMode>W</com:SchedulingMode><com:WeeklyMinutes>{minutes}</com:WeeklyMinutes>"
            "</com:PwsProjectRoleHoursBucket>")


def daily(start: date, minutes: list[int]) -> str:
    values = "".join(f"<arr:short>{m}</arr:short>" for m in minutes)
    return (f"<com:PwsProjectRoleHoursBucket><com:BucketStartDate>{start}T00:00:00Z</com:BucketStartDate>"
            f'<com:DailyMinutes xmlns:arr="{ARRAYS}">{values}</com:DailyMinutes>'
            "<com:SchedulingMode>D</com:SchedulingMode></com:PwsProjectRoleHoursBucket>")


def write_hours(pws: Pws, mode: str, role: str, *buckets: str, resource: str | None = None) -> None:
    """PwsProjectRoleHours in the wiki's member order (ProjectRoleIdentity after the buckets)."""
    candidate = (f"<com:CandidateResourceIdentity>{tag('com:ResourceReferenceSystemId', resource)}"
                 "</com:CandidateResourceIdentity>") if resource else ""
    pws.ok("PwsRequestOrBookRoleHours", tag("Mode", mode) + "<sch:ProjectRoles><com:PwsProjectRoleHours>"
           f"{candidate}<com:HoursBuckets>{''.join(buckets)}</com:HoursBuckets>"
           f"<com:ProjectRoleIdentity>{ref('ProjectRole', role)}</com:ProjectRoleIdentity>"
           "</com:PwsProjectRoleHours></sch:ProjectRoles>")


def read(pws: Pws, mode: str = "A", *, project: str | None = None, roles: tuple[str, ...] | None = None,
         start: str = f"{MONDAY}T00:00:00.000Z", minimum: int | None = None, extra: str = "") -> Answer:
    """A request in the wiki's member order."""
    members = extra
    if minimum is not None:
        members += tag("MinimumWeekCount", minimum)
    if project is not None:
        members += f"<sch:ProjectIdentity>{ref('Project', project)}</sch:ProjectIdentity>"
    if roles is not None:
        members += ("<sch:ProjectRoleIdentities>" + "".join(
            f"<com:PwsProjectRoleRef>{ref('ProjectRole', r)}</com:PwsProjectRoleRef>" for r in roles)
            + "</sch:ProjectRoleIdentities>")
    members += tag("RequestOrScheduleMode", mode) + tag("StartDate", start)
    return pws.call("PwsGetResourceSchedulingRoleData", members)


Bucket = tuple[str, str, int]  # week, SchedulingMode, minutes of the week


def buckets(role: etree._Element, side: str) -> list[Bucket]:
    found = []
    for item in role.iterfind(f"com:{side}Buckets/com:PwsProjectRoleHoursBucket", NAMESPACES):
        days = [int(d.text or 0) for d in item.iterfind(f"com:DailyMinutes/{{{ARRAYS}}}short", NAMESPACES)]
        mode = item.findtext("com:SchedulingMode", namespaces=NAMESPACES) or ""
        minutes = sum(days) if mode == "D" else int(item.findtext("com:WeeklyMinutes", namespaces=NAMESPACES) or 0)
        assert len(days) == (7 if mode == "D" else 0)
        found.append(((item.findtext("com:BucketStartDate", namespaces=NAMESPACES) or "")[:10], mode, minutes))
    return found


def roles_read(answer: Answer) -> dict[str, etree._Element]:
    return {e.findtext("com:ProjectRoleIdentity/com:ExternalSystemIdentifier", namespaces=NAMESPACES) or "": e
            for e in answer.root.iterfind(ROLE, NAMESPACES)}


@dataclass
class Tree:
    pws: Pws
    engagement: str
    project: str


@pytest.fixture
def tree(soap: SoapClient, account: AccountFixture) -> Tree:
    pws = Pws(soap, account)
    engagement = pws.engagement(pws.client("Acme"), "Rollout")
    return Tree(pws, engagement, pws.project(engagement, "Phase 1"))


def test_a_scheduler_reads_requested_and_booked_hours_week_by_week(tree: Tree, account: AccountFixture) -> None:
    pws = tree.pws
    pws.role(tree.project, "Architect", external_id="R-1")
    write_hours(pws, "R", "R-1", *(weekly(week(n), 2400) for n in range(4)), resource="E2")
    write_hours(pws, "A", "R-1", weekly(week(0), 1200), weekly(week(1), 2400), resource="E1")
    answer = read(pws, project=tree.project, minimum=2)
    assert answer.status == "Ok", answer.content
    role = roles_read(answer)["R-1"]
    # The window runs to the last week holding hours (week 3), past the two weeks asked for.
    assert buckets(role, "Requested") == [(str(week(n)), "W", 2400) for n in range(4)]
    assert buckets(role, "Booked") == [(str(week(0)), "W", 1200), (str(week(1)), "W", 2400),
                                       (str(week(2)), "W", 0), (str(week(3)), "W", 0)]
    assert answer.text(".//sch:WeekCount") == "4"
    assert answer.text(".//sch:StartDate") == f"{MONDAY}T00:00:00.0000000Z"
    assert answer.text(".//sch:EndDate") == f"{week(3)}T00:00:00.0000000Z"
    assert answer.text(".//sch:RequestOrScheduleMode") == "A"
    assert role.findtext("com:BookedHoursFlag", namespaces=NAMESPACES) == "true"
    assert role.findtext("com:ProjectRoleName", namespaces=NAMESPACES) == "Architect"
    assert role.findtext("com:ProjectIdentity/com:ProjectCode", namespaces=NAMESPACES) == tree.project
    assert role.findtext("com:ProjectName", namespaces=NAMESPACES) == "Phase 1"
    uid = role.findtext("com:ProjectRoleIdentity/com:ProjectRoleUid", namespaces=NAMESPACES) or ""
    assert int(uid) > 2**60
    # Mode A shows the booked resource; both resources are candidates and are listed once each.
    assert role.findtext("com:ResourceIdentity/com:ResourceReferenceSystemId", namespaces=NAMESPACES) == "E1"
    candidates = [(c.findtext("com:ResourceIdentity/com:ResourceReferenceSystemId", namespaces=NAMESPACES),
                   c.findtext("com:SelectedCandidateFlag", namespaces=NAMESPACES),
                   c.findtext("com:AssignedCandidateFlag", namespaces=NAMESPACES))
                  for c in role.iterfind("com:Candidates/com:PwsProjectRoleCandidate", NAMESPACES)]
    assert candidates == [("E2", "true", "false"), ("E1", "false", "true")]
    resources = [e.findtext("com:ResourceIdentity/com:ResourceDisplayName", namespaces=NAMESPACES)
                 for e in answer.root.iterfind(".//sch:Resources/com:PwsResourceSchedule", NAMESPACES)]
    assert resources == [f"User {account.admin}", f"User {account.viewer}"]
    requested = read(pws, "R", project=tree.project)
    assert roles_read(requested)["R-1"].findtext("com:ResourceIdentity/com:ResourceReferenceSystemId",
                                                 namespaces=NAMESPACES) == "E2"


def test_the_window_starts_in_the_week_of_start_date_and_covers_the_minimum(tree: Tree) -> None:
    pws = tree.pws
    pws.ok("PwsSaveProjectRole", tag("Mode", "R") + f"<sch:ProjectIdentity>{ref('Project', tree.project)}"
           "</sch:ProjectIdentity><sch:ProjectRole>" + tag("com:ExternalSystemIdentifier", "D-1")
           + tag("com:DefaultSchedulingMode", "D") + tag("com:RoleName", "Developer") + "</sch:ProjectRole>")
    pws.role(tree.project, "Tester", external_id="T-1")
    write_hours(pws, "A", "D-1", daily(week(-1), [60] * 5 + [0, 0]), daily(week(1), [480, 480, 0, 0, 0, 0, 0]))
    # A Wednesday: the window opens on that week's Monday; the week before it is left out.
    answer = read(pws, project=tree.project, start=f"{week(0) + timedelta(days=2)}T15:30:00Z", minimum=3)
    assert answer.status == "Ok", answer.content
    assert answer.text(".//sch:WeekCount") == "3"
    read_roles = roles_read(answer)
    assert list(read_roles) == ["D-1", "T-1"]
    assert buckets(read_roles["D-1"], "Booked") == [(str(week(0)), "D", 0), (str(week(1)), "D", 960),
                                                    (str(week(2)), "D", 0)]
    assert buckets(read_roles["T-1"], "Booked") == [(str(week(n)), "W", 0) for n in range(3)]
    assert read_roles["T-1"].findtext("com:BookedHoursFlag", namespaces=NAMESPACES) == "false"
    assert read_roles["T-1"].find("com:Candidates", NAMESPACES) is not None
    assert read_roles["T-1"].findall("com:Candidates/com:PwsProjectRoleCandidate", NAMESPACES) == []
    assert read_roles["T-1"].find("com:ResourceIdentity", NAMESPACES).get(f"{{{NAMESPACES['i']}}}nil") == "true"
    # Without MinimumWeekCount the window is at least the week of StartDate.
    one = read(pws, roles=("T-1",))
    assert one.text(".//sch:WeekCount") == "1" and one.text(".//sch:EndDate") == f"{MONDAY}T00:00:00.0000000Z"


def test_roles_by_identity(tree: Tree) -> None:
    pws = tree.pws
    other_project = pws.project(tree.engagement, "Phase 2")
    for esi, project in (("A-1", tree.project), ("A-2", tree.project), ("B-1", other_project)):
        pws.role(project, esi, external_id=esi)
    gone = pws.role(tree.project, "Gone", external_id="G-1")
    pws.ok("PwsDeleteProjectRole", f"<sch:ProjectRoleIdentity>{ref('ProjectRole', uid=gone)}</sch:ProjectRoleIdentity>")
    answer = read(pws, roles=("B-1", "NOPE", "A-1", "G-1", "B-1"))
    assert answer.status == "OkWithWarnings" and answer.error_numbers() == [105]
    detail = answer.messages()[0]["AdditionalErrorText"] or ""
    assert "ExternalSystemIdentifier=NOPE" in detail and "ExternalSystemIdentifier=G-1 (deleted)" in detail
    assert list(roles_read(answer)) == ["B-1", "A-1"]
    assert list(roles_read(read(pws, project=tree.project))) == ["A-1", "A-2"]
    both = read(pws, project=tree.project, roles=("A-2",))
    assert list(roles_read(both)) == ["A-2"]
    assert read(pws, project=tree.project, roles=("B-1",)).error_numbers() == [990018]
    assert read(pws).error_numbers() == [990021]
    assert read(pws, roles=()).error_numbers() == [990021]
    assert read(pws, roles=("A-1",) * 101).error_numbers() == [990030]
    assert read(pws, project="NOPE").error_numbers() == [50024]
    empty = read(pws, project=pws.project(tree.engagement, "Phase 3"), minimum=2)
    assert empty.status == "Ok" and roles_read(empty) == {} and empty.text(".//sch:WeekCount") == "2"


def test_mode_start_date_and_week_count_are_checked(tree: Tree) -> None:
    pws = tree.pws
    pws.role(tree.project, "Architect", external_id="R-1")
    missing_mode = pws.call("PwsGetResourceSchedulingRoleData",
                            f"<sch:ProjectIdentity>{ref('Project', tree.project)}</sch:ProjectIdentity>"
                            + tag("StartDate", f"{MONDAY}T00:00:00Z"))
    assert missing_mode.faultcode == "s:Client" and "RequestOrScheduleMode" in missing_mode.faultstring
    missing_start = pws.call("PwsGetResourceSchedulingRoleData",
                             f"<sch:ProjectIdentity>{ref('Project', tree.project)}</sch:ProjectIdentity>"
                             + tag("RequestOrScheduleMode", "A"))
    assert missing_start.faultcode == "s:Client" and "StartDate" in missing_start.faultstring
    assert read(pws, "E", project=tree.project).error_numbers() == [10126]
    assert read(pws, "a", project=tree.project).status == "Ok"
    assert read(pws, project=tree.project, minimum=-1).error_numbers() == [990030]
    assert read(pws, project=tree.project, minimum=521).error_numbers() == [990030]
    assert read(pws, project=tree.project, minimum=520).text(".//sch:WeekCount") == "520"
    assert read(pws, project=tree.project, minimum=0).text(".//sch:WeekCount") == "1"


def test_the_window_holds_at_most_520_weeks_and_ends_with_the_calendar(tree: Tree) -> None:
    pws = tree.pws
    pws.role(tree.project, "Architect", external_id="R-1")
    write_hours(pws, "A", "R-1", weekly(week(2), 600), weekly(week(600), 600))
    answer = read(pws, roles=("R-1",))
    assert answer.status == "OkWithWarnings" and answer.error_numbers() == [104]
    assert f"week of {week(519)}" in (answer.messages()[0]["AdditionalErrorText"] or "")
    assert answer.text(".//sch:WeekCount") == "520"
    booked = buckets(roles_read(answer)["R-1"], "Booked")
    assert len(booked) == 520 and booked[2] == (str(week(2)), "W", 600) and booked[-1][2] == 0
    # 9999-12-27 is a Monday: its week is the calendar's last.
    last = read(pws, roles=("R-1",), start="9999-12-29T00:00:00Z", minimum=2)
    assert last.error_numbers() == [104] and last.text(".//sch:WeekCount") == "1"
    assert last.text(".//sch:EndDate") == "9999-12-27T00:00:00.0000000Z"


def test_reading_as_requester_or_scheduler_needs_that_permission(soap: SoapClient, account: AccountFixture,
                                                                 store: Store, tree: Tree) -> None:
    tree.pws.role(tree.project, "Architect", external_id="R-1")
    requester = f"requester@{account.code}"
    make_user(store, account.code, requester,
              frozenset({Permission.WEB_SERVICES, Permission.PROJECTS_VIEW, Permission.HOURS_REQUEST}))
    as_requester = Pws(soap, account, requester)
    assert read(as_requester, "R", project=tree.project).status == "Ok"
    assert read(as_requester, "A", project=tree.project).error_numbers() == [50045]
    viewer = Pws(soap, account, account.viewer)
    assert read(viewer, "R", project=tree.project).error_numbers() == [50045]


def test_a_client_reads_the_booked_week_then_books_it(tree: Tree) -> None:
    """What a booking client does: read the role's current booked week, add to it, write it back."""
    pws = tree.pws
    pws.role(tree.project, "Architect", external_id="R-1")
    write_hours(pws, "A", "R-1", weekly(week(0), 600))
    current = buckets(roles_read(read(pws, roles=("R-1",)))["R-1"], "Booked")
    assert current == [(str(week(0)), "W", 600)]
    write_hours(pws, "A", "R-1", weekly(week(0), current[0][2] + 480))
    again = read(pws, roles=("R-1",), start=f"{week(0)}T00:00:00Z", minimum=1)
    assert buckets(roles_read(again)["R-1"], "Booked") == [(str(week(0)), "W", 1080)]
    assert buckets(roles_read(again)["R-1"], "Requested") == [(str(week(0)), "W", 0)]


def test_the_wikis_request_example_works_verbatim(soap: SoapClient, tree: Tree) -> None:
    tree.pws.role(tree.project, "Architect", external_id="R-1")
    answer = soap.call("PwsGetResourceSchedulingRoleData", "<req:RequestId>1</req:RequestId>"
                       f"<req:SessionTicket>{tree.pws.ticket}</req:SessionTicket>"
                       "<sch:IncludeActualTimeDataFlag>true</sch:IncludeActualTimeDataFlag>"
                       "<sch:IncludeConcurrentRolesFlag>true</sch:IncludeConcurrentRolesFlag>"
                       "<sch:IncludeTaskDataFlag>true</sch:IncludeTaskDataFlag>"
                       "<sch:MinimumWeekCount>10</sch:MinimumWeekCount>"
                       f"<sch:ProjectIdentity><com:ProjectCode>{tree.project}</com:ProjectCode></sch:ProjectIdentity>"
                       "<sch:RequestOrScheduleMode>A</sch:RequestOrScheduleMode>"
                       "<sch:StartDate>2020-01-06T00:00:00.000Z</sch:StartDate>")
    assert answer.status == "Ok", answer.content
    assert answer.text(".//sch:WeekCount") == "10"
    assert answer.not_modelled == ["IncludeActualTimeDataFlag", "IncludeConcurrentRolesFlag", "IncludeTaskDataFlag"]


def test_the_window_starts_on_the_accounts_first_day_of_the_week(soap: SoapClient, store: Store) -> None:
    """On an account whose weeks start on Sunday, the window and its buckets start on Sundays."""
    pws = Pws(soap, make_account(store, "sunday", week_start=SUNDAY))
    project = pws.project(pws.engagement(pws.client("Acme"), "Work"), "Build")
    pws.role(project, "Tester", external_id="S-1")
    sunday = MONDAY - timedelta(days=1)
    write_hours(pws, "A", "S-1", weekly(sunday + timedelta(weeks=1), 120))
    answer = read(pws, roles=("S-1",), start=f"{sunday + timedelta(days=3)}T12:00:00Z")  # a Wednesday
    assert answer.status == "Ok", answer.content
    assert buckets(roles_read(answer)["S-1"], "Booked") == [(str(sunday), "W", 0),
                                                            (str(sunday + timedelta(weeks=1)), "W", 120)]

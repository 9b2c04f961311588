"""PwsSaveProjectRole, PwsGetProjectRoles and PwsRequestOrBookRoleHours over real HTTP."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import pytest
import zeep
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lxml import etree
from sqlalchemy import select, update

from openpws.services.permissions import Permission
from openpws.store.schema import project_roles
from openpws.store.transactions import Store
from tests.conftest import AccountFixture, make_account, make_user
from tests.pws import NAMESPACES, Answer, SoapClient
from tests.tree import Pws, in_order, ref, tag

ARRAYS = "http://schemas.microsoft.com/2003/10/Serialization/Arrays"
SAVED = ".//sch:ProjectRoleIdentity/com:"
MONDAY = date(2024, 1, 1)  # a Monday


@dataclass
class Tree:
    pws: Pws
    client: str
    engagement: str
    project: str


@pytest.fixture
def tree(soap: SoapClient, account: AccountFixture) -> Tree:
    pws = Pws(soap, account)
    client = pws.client("Acme")
    engagement = pws.engagement(client, "Rollout")
    return Tree(pws, client, engagement, pws.project(engagement, "Phase 1"))


def week(offset: int = 0) -> date:
    return MONDAY + timedelta(weeks=offset)


def role_by_uid(uid: int | str) -> str:
    return ref("ProjectRole", uid=uid)


def save(pws: Pws, detail: str, *, mode: str = "R", project: str | None = None, extra: str = "",
         full: bool = True) -> Answer:
    """PwsSaveProjectRole of ``detail`` (PwsProjectRoleDetail members) with ``extra`` (more request
    members), each put in the contract's order."""
    members = tag("Mode", mode) + (tag("FullDetailFlag", True) if full else "")
    if project is not None:
        members += f"<sch:ProjectIdentity>{ref('Project', project)}</sch:ProjectIdentity>"
    members += f"<sch:ProjectRole>{in_order('PwsProjectRoleDetail', detail)}</sch:ProjectRole>{extra}"
    return pws.call("PwsSaveProjectRole", in_order("PwsSaveProjectRoleRq", members))


def insert(tree: Tree, name: str, extra: str = "", external_id: str | None = None) -> int:
    return tree.pws.role(tree.project, name, extra, external_id)


def get_roles(pws: Pws, *projects: str, mode: str = "R", extra: str = "") -> Answer:
    body = "".join(f"<com:PwsProjectRef>{ref('Project', p)}</com:PwsProjectRef>" for p in projects)
    return pws.call("PwsGetProjectRoles", in_order("PwsGetProjectRolesRq", f"{tag('Mode', mode)}<sch:ProjectIdentities>"
                                                   f"{body}</sch:ProjectIdentities>{extra}"))


def text(element: etree._Element, path: str) -> str | None:
    """The text of the element at ``path``: None when it is missing, nil or empty."""
    found = element.find(path, NAMESPACES)
    return None if found is None else found.text


Bucket = tuple[str, str | None, int, list[int] | None]  # week, SchedulingMode, WeeklyMinutes, DailyMinutes


@dataclass(frozen=True)
class Role:
    """A PwsProjectRoleElement as plain values."""

    name: str | None
    esi: str | None
    uid: int
    description: str | None
    resource: str | None
    start: str | None
    end: str | None
    mode: str | None
    timestamp: str | None
    deleted: bool
    buckets: list[Bucket]


def roles_of(answer: Answer) -> list[Role]:
    """Every PwsProjectRoleElement of a response, in order."""
    found = []
    detail = "com:ProjectRoleDetail/com:"
    for element in answer.root.iterfind(".//com:PwsProjectRoleElement", NAMESPACES):
        buckets: list[Bucket] = []
        for item in element.iterfind("com:HoursBuckets/com:PwsProjectRoleHoursBucket", NAMESPACES):
            daily = [int(d.text or 0) for d in item.iterfind(f"com:DailyMinutes/{{{ARRAYS}}}short", NAMESPACES)]
            buckets.append(((text(item, "com:BucketStartDate") or "")[:10], text(item, "com:SchedulingMode"),
                            int(text(item, "com:WeeklyMinutes") or 0), daily or None))
        found.append(Role(
            name=text(element, detail + "RoleName"),
            esi=text(element, detail + "ExternalSystemIdentifier"),
            uid=int(text(element, detail + "ProjectRoleUid") or 0),
            description=text(element, detail + "Description"),
            resource=text(element, detail + "ResourceIdentity/com:ResourceDisplayName"),
            start=text(element, detail + "RoleStartDate"),
            end=text(element, detail + "RoleEndDate"),
            mode=text(element, detail + "DefaultSchedulingMode"),
            timestamp=text(element, detail + "ProjectRoleTimestamp"),
            deleted=text(element, "com:DeletedFlag") == "true",
            buckets=buckets,
        ))
    return found


def the_role(pws: Pws, project: str, uid: int, mode: str = "R") -> Role:
    answer = get_roles(pws, project, mode=mode, extra=tag("IncludeDeletedRolesFlag", True))
    assert answer.status == "Ok", answer.content
    matching = [r for r in roles_of(answer) if r.uid == uid]
    assert len(matching) == 1
    return matching[0]


def bucket(start: date, weekly: int | None = None, daily: list[int] | None = None, mode: str | None = None,
           at: str = "T00:00:00Z") -> str:
    body = f"<com:BucketStartDate>{start.isoformat()}{at}</com:BucketStartDate>"
    if daily is not None:
        body += (f'<com:DailyMinutes xmlns:arr="{ARRAYS}">' + "".join(f"<arr:short>{m}</arr:short>" for m in daily)
                 + "</com:DailyMinutes>")
    mode = mode or ("D" if daily is not None else "W")
    body += f"<com:SchedulingMode>{mode}</com:SchedulingMode>"
    if weekly is not None:
        body += f"<com:WeeklyMinutes>{weekly}</com:WeeklyMinutes>"
    return f"<com:PwsProjectRoleHoursBucket>{body}</com:PwsProjectRoleHoursBucket>"


def role_hours(uid: int, *buckets: str, extra: str = "") -> str:
    """A PwsProjectRoleHours: the role, its buckets and ``extra`` members, in the contract's order."""
    members = (f"<com:ProjectRoleIdentity>{role_by_uid(uid)}</com:ProjectRoleIdentity>{extra}"
               f"<com:HoursBuckets>{''.join(buckets)}</com:HoursBuckets>")
    return f"<com:PwsProjectRoleHours>{in_order('PwsProjectRoleHours', members)}</com:PwsProjectRoleHours>"


def hours(pws: Pws, mode: str, *entries: str) -> Answer:
    return pws.call("PwsRequestOrBookRoleHours", f"{tag('Mode', mode)}<sch:ProjectRoles>{''.join(entries)}"
                    "</sch:ProjectRoles>")


def com(name: str, value: object) -> str:
    return tag(f"com:{name}", value)


def resource(**keys: object) -> str:
    return "<com:ResourceIdentity>" + "".join(com(f"Resource{k}", v) for k, v in keys.items()) + "</com:ResourceIdentity>"


def engagement_timestamp(pws: Pws, engagement: str) -> str | None:
    answer = pws.ok("PwsGetEngagement", f"<sch:EngagementIdentities><com:PwsEngagementRef>{ref('Engagement', engagement)}"
                    "</com:PwsEngagementRef></sch:EngagementIdentities>")
    return answer.text(".//com:EngagementDetail/com:EngagementTimestamp")


# --- PwsSaveProjectRole ---------------------------------------------------------------------------

def test_insert_with_and_without_external_system_identifier(tree: Tree) -> None:
    plain = save(tree.pws, com("RoleName", "Developer"), project=tree.project)
    assert plain.status == "Ok", plain.content
    assert int(plain.text(SAVED + "ProjectRoleUid") or 0) > 2**60
    assert plain.find(SAVED + "ExternalSystemIdentifier").get(f"{{{NAMESPACES['i']}}}nil") == "true"  # type: ignore[union-attr]
    keyed = save(tree.pws, com("ExternalSystemIdentifier", "Role-301") + com("RoleName", "Tester"), project=tree.project)
    assert keyed.status == "Ok" and keyed.text(SAVED + "ExternalSystemIdentifier") == "Role-301"
    assert keyed.text(".//sch:ProjectRole/com:ProjectRoleDetail/com:RoleName") == "Tester"
    assert keyed.text(".//sch:ProjectRole/com:ProjectRoleDetail/com:DefaultSchedulingMode") == "W"
    listed = roles_of(get_roles(tree.pws, tree.project))
    assert [(r.name, r.esi) for r in listed] == [("Developer", None), ("Tester", "Role-301")]
    # The ESI now names the role: the same detail updates it instead of inserting another.
    again = save(tree.pws, com("ExternalSystemIdentifier", "role-301") + com("Description", "QA"))
    assert again.status == "Ok" and int(again.text(SAVED + "ProjectRoleUid") or 0) == listed[1].uid
    assert [r.description for r in roles_of(get_roles(tree.pws, tree.project))] == [None, "QA"]


def test_insert_needs_project_and_name(tree: Tree) -> None:
    assert save(tree.pws, com("RoleName", "Orphan")).error_numbers() == [990009]
    missing = save(tree.pws, com("RoleName", "Orphan"), project="NO-SUCH")
    assert missing.error_numbers() == [50024]
    assert save(tree.pws, com("Description", "no name"), project=tree.project).error_numbers() == [990004]
    assert save(tree.pws, com("RoleName", "   "), project=tree.project).error_numbers() == [990004]
    assert save(tree.pws, com("RoleName", "x" * 51), project=tree.project).error_numbers() == [990008]
    assert save(tree.pws, com("RoleName", "x" * 50) + com("Description", "d" * 256),
                project=tree.project).error_numbers() == [990008]
    assert save(tree.pws, com("RoleName", "x" * 50), project=tree.project).status == "Ok"
    nothing = save(tree.pws, com("ProjectRoleUid", 2**60 + 987654321) + com("RoleName", "Ghost"), project=tree.project)
    assert nothing.error_numbers() == [54080]
    assert [r.name for r in roles_of(get_roles(tree.pws, tree.project))] == ["x" * 50]


def test_update_keeps_what_is_not_sent(tree: Tree) -> None:
    uid = insert(tree, "Analyst", com("Description", "Keeps") + com("RoleStartDate", "2024-02-01T00:00:00Z"))
    renamed = save(tree.pws, role_by_uid(uid) + com("RoleName", "Senior Analyst"))
    assert renamed.status == "Ok", renamed.content
    role = the_role(tree.pws, tree.project, uid)
    assert (role.name, role.description, role.start) == ("Senior Analyst", "Keeps",
                                                                  "2024-02-01T00:00:00.0000000Z")
    assert save(tree.pws, role_by_uid(uid) + com("RoleName", "")).error_numbers() == [990021]
    cleared = save(tree.pws, role_by_uid(uid), extra=tag("DescriptionClearFlag", True) +
                   tag("RoleStartDateClearFlag", True))
    assert cleared.status == "Ok"
    role = the_role(tree.pws, tree.project, uid)
    assert (role.name, role.description, role.start) == ("Senior Analyst", None, None)


def test_role_dates_must_be_in_order(tree: Tree) -> None:
    uid = insert(tree, "Dated", com("RoleStartDate", "2024-03-01T00:00:00Z") + com("RoleEndDate", "2024-06-30T00:00:00Z"))
    early = save(tree.pws, role_by_uid(uid) + com("RoleEndDate", "2024-02-01T00:00:00Z"))
    assert early.error_numbers() == [990020]
    assert save(tree.pws, role_by_uid(uid) + com("RoleStartDate", "2024-07-01T00:00:00Z")).error_numbers() == [990020]
    assert save(tree.pws, com("RoleName", "Backwards") + com("RoleStartDate", "2024-03-01T00:00:00Z") +
                com("RoleEndDate", "2024-01-01T00:00:00Z"), project=tree.project).error_numbers() == [990020]
    # Clearing the start lifts the constraint.
    assert save(tree.pws, role_by_uid(uid) + com("RoleEndDate", "2024-02-01T00:00:00Z"),
                extra=tag("RoleStartDateClearFlag", True)).status == "Ok"
    role = the_role(tree.pws, tree.project, uid)
    assert (role.start, role.end) == (None, "2024-02-01T00:00:00.0000000Z")
    assert save(tree.pws, role_by_uid(uid), extra=tag("RoleEndDateClearFlag", True)).status == "Ok"
    assert the_role(tree.pws, tree.project, uid).end is None


def test_role_names_are_unique_among_live_roles(tree: Tree) -> None:
    insert(tree, "Project Manager")
    for name in ("Project Manager", "PROJECT manager"):
        clash = save(tree.pws, com("RoleName", name), project=tree.project)
        assert clash.status == "Fail" and clash.error_numbers() == [990016]
    unique = tag("MakeRoleNameUniqueFlag", True)
    second = save(tree.pws, com("RoleName", "Project Manager"), project=tree.project, extra=unique)
    third = save(tree.pws, com("RoleName", "Project Manager"), project=tree.project, extra=unique)
    assert second.text(".//sch:ProjectRole/com:ProjectRoleDetail/com:RoleName") == "Project Manager 2"
    assert third.text(".//sch:ProjectRole/com:ProjectRoleDetail/com:RoleName") == "Project Manager 3"
    # Renaming a role onto another's name clashes too; renaming onto its own (another case) does not.
    uid = int(third.text(SAVED + "ProjectRoleUid") or 0)
    assert save(tree.pws, role_by_uid(uid) + com("RoleName", "project manager 2")).error_numbers() == [990016]
    assert save(tree.pws, role_by_uid(uid) + com("RoleName", "PROJECT MANAGER 3")).status == "Ok"
    long_name = "L" * 50
    insert(tree, long_name)
    made = save(tree.pws, com("RoleName", long_name), project=tree.project, extra=unique)
    assert made.text(".//sch:ProjectRole/com:ProjectRoleDetail/com:RoleName") == "L" * 48 + " 2"
    # Another project of the engagement has names of its own.
    other = tree.pws.project(tree.engagement, "Phase 2")
    assert save(tree.pws, com("RoleName", "Project Manager"), project=other).status == "Ok"


def test_a_deleted_roles_name_is_free_again(tree: Tree, store: Store) -> None:
    uid = insert(tree, "Designer")
    with store.write() as tx:
        tx.execute(update(project_roles).where(project_roles.c.uid == uid).values(deleted=True))
    again = save(tree.pws, com("RoleName", "Designer"), project=tree.project)
    assert again.status == "Ok", again.content
    assert int(again.text(SAVED + "ProjectRoleUid") or 0) != uid
    live = roles_of(get_roles(tree.pws, tree.project))
    assert [(r.name, r.deleted) for r in live] == [("Designer", False)]
    everything = roles_of(get_roles(tree.pws, tree.project, extra=tag("IncludeDeletedRolesFlag", True)))
    assert [(r.uid == uid, r.deleted) for r in everything] == [(True, True), (False, False)]
    # A deleted role cannot be saved or given hours here.
    assert save(tree.pws, role_by_uid(uid) + com("Description", "x")).error_numbers() == [54080]
    assert hours(tree.pws, "R", role_hours(uid, bucket(week(), 60))).error_numbers() == [54080]


def test_external_system_identifier_rules(tree: Tree) -> None:
    first = insert(tree, "First", external_id="EXT-A")
    second = insert(tree, "Second", external_id="EXT-B")
    taken = save(tree.pws, role_by_uid(second) + com("NewExternalSystemIdentifier", "ext-a"))
    assert taken.error_numbers() == [990005]
    other_project = tree.pws.project(tree.engagement, "Phase 2")
    # The ESI is unique in the account: an ESI in use names that role, whose project is then checked.
    assert save(tree.pws, com("ExternalSystemIdentifier", "EXT-A") + com("RoleName", "Third"),
                project=other_project).error_numbers() == [990018]
    assert save(tree.pws, com("RoleName", "Fourth") + com("NewExternalSystemIdentifier", "EXT-B"),
                project=other_project).error_numbers() == [990005]
    cleared = save(tree.pws, role_by_uid(first) + com("NewExternalSystemIdentifier", ""))
    assert cleared.status == "Fail" and cleared.error_numbers() == [990017]
    renamed = save(tree.pws, ref("ProjectRole", "EXT-A") + com("NewExternalSystemIdentifier", "EXT-C"))
    assert renamed.status == "Ok" and renamed.text(SAVED + "ExternalSystemIdentifier") == "EXT-C"
    assert int(renamed.text(SAVED + "ProjectRoleUid") or 0) == first
    # The old ESI names nothing any more; both keys must agree.
    assert hours(tree.pws, "R", role_hours(first, bucket(week(), 60)).replace(
        role_by_uid(first), ref("ProjectRole", "EXT-A"))).error_numbers() == [54080]
    assert save(tree.pws, ref("ProjectRole", "EXT-B", first) + com("RoleName", "Mixed")).error_numbers() == [54080]
    # A role without an ESI may be sent an empty one: there is nothing to clear.
    plain = insert(tree, "Plain")
    assert save(tree.pws, role_by_uid(plain) + com("NewExternalSystemIdentifier", "")).status == "Ok"
    assert save(tree.pws, role_by_uid(plain) + com("NewExternalSystemIdentifier", "E" * 51)).error_numbers() == [990008]


def test_project_identity_on_update_must_be_the_roles_project(tree: Tree) -> None:
    uid = insert(tree, "Lead")
    other = tree.pws.project(tree.engagement, "Phase 2")
    mismatch = save(tree.pws, role_by_uid(uid) + com("Description", "moved?"), project=other)
    assert mismatch.error_numbers() == [990018]
    assert save(tree.pws, role_by_uid(uid) + com("Description", "stays"), project=tree.project).status == "Ok"
    assert roles_of(get_roles(tree.pws, other)) == []
    assert the_role(tree.pws, tree.project, uid).description == "stays"


def test_mode_and_scheduling_mode_are_validated(tree: Tree) -> None:
    for mode in ("E", "X"):
        bad = save(tree.pws, com("RoleName", "Any"), mode=mode, project=tree.project)
        assert bad.status == "Fail" and bad.error_numbers() == [10126]
    no_mode = tree.pws.call("PwsSaveProjectRole", f"<sch:ProjectIdentity>{ref('Project', tree.project)}"
                            "</sch:ProjectIdentity><sch:ProjectRole><com:RoleName>Any</com:RoleName></sch:ProjectRole>")
    assert no_mode.status_code == 500 and no_mode.faultcode == "s:Client" and "Mode" in no_mode.faultstring
    assert save(tree.pws, com("RoleName", "Any") + com("DefaultSchedulingMode", "M"),
                project=tree.project).error_numbers() == [10126]
    assert save(tree.pws, com("RoleName", "Any"), project=tree.project,
                extra=tag("RetrievalMode", "Q")).error_numbers() == [10126]
    daily = insert(tree, "Daily", com("DefaultSchedulingMode", "D"))
    assert the_role(tree.pws, tree.project, daily).mode == "D"
    assert save(tree.pws, role_by_uid(daily) + com("DefaultSchedulingMode", "w")).status == "Ok"
    assert the_role(tree.pws, tree.project, daily).mode == "W"
    assert roles_of(get_roles(tree.pws, tree.project)) and [r.name for r in roles_of(
        get_roles(tree.pws, tree.project))] == ["Daily"]


def test_resources_by_display_name_reference_id_and_uid(tree: Tree, account: AccountFixture) -> None:
    admin_name, viewer_name = f"User {account.admin}", f"User {account.viewer}"
    uid = insert(tree, "Staffed", resource(DisplayName=admin_name))
    requested = the_role(tree.pws, tree.project, uid, "R")
    assert requested.resource == admin_name
    assert the_role(tree.pws, tree.project, uid, "A").resource is None
    # Mode A names the booked resource, here by reference system id.
    booked = save(tree.pws, role_by_uid(uid) + resource(ReferenceSystemId="E2"), mode="A", extra=tag("RetrievalMode", "A"))
    assert booked.status == "Ok", booked.content
    assert booked.text(".//sch:ProjectRole/com:ProjectRoleDetail/com:ResourceIdentity/com:ResourceDisplayName") == viewer_name
    viewer_uid = booked.text(".//sch:ProjectRole/com:ProjectRoleDetail/com:ResourceIdentity/com:ResourceUid")
    assert the_role(tree.pws, tree.project, uid, "R").resource == admin_name
    assert the_role(tree.pws, tree.project, uid, "E").resource == viewer_name
    by_uid = insert(tree, "By uid", resource(Uid=viewer_uid))
    assert the_role(tree.pws, tree.project, by_uid).resource == viewer_name
    for keys in ({"DisplayName": "Nobody Here"}, {"ReferenceSystemId": "E404"}, {"Uid": 2**60 + 55555},
                 {"DisplayName": admin_name, "ReferenceSystemId": "E2"}):
        unknown = save(tree.pws, role_by_uid(uid) + resource(**keys))
        assert unknown.status == "Fail" and unknown.error_numbers() == [50024], keys
    # The response reads the role as RetrievalMode says (Mode when absent); without FullDetailFlag
    # only the identity comes back.
    as_requested = save(tree.pws, role_by_uid(uid), mode="A", extra=tag("RetrievalMode", "R"))
    assert as_requested.text(".//sch:ProjectRole/com:ProjectRoleDetail/com:ResourceIdentity/com:ResourceDisplayName"
                             ) == admin_name
    brief = save(tree.pws, role_by_uid(uid), mode="A", full=False)
    assert brief.status == "Ok" and brief.text(SAVED + "ProjectRoleUid") == str(uid)
    assert brief.find(".//sch:ProjectRole").get(f"{{{NAMESPACES['i']}}}nil") == "true"  # type: ignore[union-attr]
    # ResourceClearFlag clears the side of the Mode only.
    assert save(tree.pws, role_by_uid(uid), mode="A", extra=tag("ResourceClearFlag", True)).status == "Ok"
    assert the_role(tree.pws, tree.project, uid, "A").resource is None
    assert the_role(tree.pws, tree.project, uid, "E").resource == admin_name
    assert the_role(tree.pws, tree.project, uid, "R").resource == admin_name


def test_engagement_timestamp_changes_with_each_role_write(tree: Tree) -> None:
    before = engagement_timestamp(tree.pws, tree.engagement)
    first = save(tree.pws, com("RoleName", "One"), project=tree.project)
    stamp1 = first.text(".//sch:EngagementTimestamp")
    assert stamp1 and stamp1 != before and stamp1 == engagement_timestamp(tree.pws, tree.engagement)
    uid = int(first.text(SAVED + "ProjectRoleUid") or 0)
    second = save(tree.pws, role_by_uid(uid) + com("Description", "changed"), extra=tag("EngagementTimestamp", stamp1))
    stamp2 = second.text(".//sch:EngagementTimestamp")
    assert second.status == "Ok" and stamp2 not in (None, stamp1)
    assert stamp2 == engagement_timestamp(tree.pws, tree.engagement)
    stale = save(tree.pws, role_by_uid(uid) + com("Description", "stale"), extra=tag("EngagementTimestamp", stamp1))
    assert stale.status == "Fail" and stale.error_numbers() == [990007]
    assert hours(tree.pws, "R", role_hours(uid, bucket(week(), 120))).status == "Ok"
    assert engagement_timestamp(tree.pws, tree.engagement) not in (stamp1, stamp2)
    assert the_role(tree.pws, tree.project, uid).description == "changed"


def test_role_timestamp_mismatch_changes_nothing(tree: Tree) -> None:
    uid = insert(tree, "Versioned")
    stamp = the_role(tree.pws, tree.project, uid).timestamp
    fresh = save(tree.pws, role_by_uid(uid) + com("RoleName", "Second") + com("ProjectRoleTimestamp", stamp))
    assert fresh.status == "Ok"
    newer = fresh.text(".//sch:ProjectRole/com:ProjectRoleDetail/com:ProjectRoleTimestamp")
    assert newer != stamp and newer == the_role(tree.pws, tree.project, uid).timestamp
    stale = save(tree.pws, role_by_uid(uid) + com("RoleName", "Third") + com("ProjectRoleTimestamp", stamp))
    assert stale.status == "Fail" and stale.error_numbers() == [990007]
    assert the_role(tree.pws, tree.project, uid).name == "Second"


def test_not_modelled_members_are_accepted(tree: Tree) -> None:
    detail = (com("RoleName", "Full") + "<com:CandidateIdentities><com:PwsResourceRef>"
              f"{com('ResourceReferenceSystemId', 'E1')}</com:PwsResourceRef></com:CandidateIdentities>" +
              com("CostCenterAnyFlag", True) + com("Keywords", "python") + com("PurchaseOrderNumber", "PO-1") +
              com("RdcTransferHourlyRate", 12.5))
    extra = (tag("NameRoleFlag", False) + tag("StealLockFlag", False) + tag("KeywordsClearFlag", True) +
             "<sch:InitialAllocation><com:HoursBucketCount>4</com:HoursBucketCount></sch:InitialAllocation>")
    answer = save(tree.pws, detail, project=tree.project, extra=extra)
    assert answer.status == "Ok", answer.content
    assert answer.find(".//sch:LockStolenFromUserIdentity") is not None


# --- PwsGetProjectRoles ------------------------------------------------------------------------------

def test_get_project_roles_batches_projects_in_request_order(tree: Tree) -> None:
    other = tree.pws.project(tree.engagement, "Phase 2")
    empty = tree.pws.project(tree.engagement, "Phase 3")
    insert(tree, "A1")
    tree.pws.role(other, "B1")
    tree.pws.role(other, "B2")
    answer = get_roles(tree.pws, other, "NOPE", empty, tree.project)
    assert answer.status == "OkWithWarnings" and answer.error_numbers() == [105]
    assert "NOPE" in (answer.messages()[0]["AdditionalErrorText"] or "")
    groups = answer.root.findall(".//sch:ProjectProjectRoles/com:PwsProjectProjectRoles", NAMESPACES)
    assert [text(g, "com:ProjectIdentity/com:ProjectCode") for g in groups] == [other, empty, tree.project]
    assert all(text(g, "com:ProjectIdentity/com:ProjectUid") for g in groups)
    assert [[text(e, "com:ProjectRoleDetail/com:RoleName") for e in g.iterfind(
        "com:ProjectRoles/com:PwsProjectRoleElement", NAMESPACES)] for g in groups] == [["B1", "B2"], [], ["A1"]]
    assert get_roles(tree.pws).error_numbers() == [990011]
    assert get_roles(tree.pws, *[tree.project] * 101).error_numbers() == [990012]
    assert get_roles(tree.pws, *[tree.project] * 100).status == "Ok"
    assert get_roles(tree.pws, tree.project, mode="Z").error_numbers() == [10126]


# --- PwsRequestOrBookRoleHours -------------------------------------------------------------------

def test_requested_booked_and_effective_hours(tree: Tree, account: AccountFixture) -> None:
    requested_only = insert(tree, "Requested")
    booked = insert(tree, "Booked")
    answer = hours(tree.pws, "R", role_hours(requested_only, bucket(week(), 600)), role_hours(booked, bucket(week(), 900)))
    assert answer.status == "Ok", answer.content
    assert [(r.uid, r.buckets) for r in roles_of(answer)] == [
        (requested_only, [(str(week()), "W", 600, None)]), (booked, [(str(week()), "W", 900, None)])]
    booking = hours(tree.pws, "A", role_hours(booked, bucket(week(), 480), extra=(
        f"<com:CandidateResourceIdentity>{com('ResourceReferenceSystemId', 'E1')}</com:CandidateResourceIdentity>")))
    assert booking.status == "Ok", booking.content
    assert roles_of(booking)[0].resource == f"User {account.admin}"
    by_mode = {mode: {r.name: r.buckets for r in roles_of(get_roles(tree.pws, tree.project, mode=mode))}
               for mode in "RAE"}
    assert by_mode["R"] == {"Requested": [(str(week()), "W", 600, None)], "Booked": [(str(week()), "W", 900, None)]}
    assert by_mode["A"] == {"Requested": [], "Booked": [(str(week()), "W", 480, None)]}
    assert by_mode["E"] == {"Requested": [(str(week()), "W", 600, None)], "Booked": [(str(week()), "W", 480, None)]}
    # The candidate of a request is the requested resource; clearing it leaves the booked one.
    assert hours(tree.pws, "R", role_hours(booked, extra=(
        f"<com:CandidateResourceIdentity>{com('ResourceReferenceSystemId', 'E2')}</com:CandidateResourceIdentity>"))
    ).status == "Ok"
    assert the_role(tree.pws, tree.project, booked, "R").resource == f"User {account.viewer}"
    assert hours(tree.pws, "R", role_hours(booked, extra=tag("com:CandidateResourceClearFlag", True))).status == "Ok"
    assert the_role(tree.pws, tree.project, booked, "R").resource is None
    assert the_role(tree.pws, tree.project, booked, "A").resource == f"User {account.admin}"


def test_weekly_and_daily_buckets(tree: Tree) -> None:
    uid = insert(tree, "Scheduled")
    daily = [480, 480, 240, 0, 60, 0, 0]
    answer = hours(tree.pws, "R", role_hours(uid, bucket(week(2), 2400), bucket(week(0), daily=daily),
                                             bucket(week(1), weekly=1260, daily=daily)))
    assert answer.status == "Ok", answer.content
    expected = [(str(week(0)), "D", 1260, daily), (str(week(1)), "D", 1260, daily), (str(week(2)), "W", 2400, None)]
    assert roles_of(answer)[0].buckets == expected
    assert the_role(tree.pws, tree.project, uid).buckets == expected
    # A bucket replaces the one of its week; a bucket of 0 minutes removes it.
    again = hours(tree.pws, "R", role_hours(uid, bucket(week(0), 300), bucket(week(2), daily=[0] * 7),
                                            bucket(week(1), 0)))
    assert again.status == "Ok", again.content
    assert the_role(tree.pws, tree.project, uid).buckets == [(str(week(0)), "W", 300, None)]
    assert the_role(tree.pws, tree.project, uid, "A").buckets == []


@pytest.mark.parametrize(("bad", "number"), [
    (bucket(week() + timedelta(days=1), 60), 990019),          # a Tuesday
    (bucket(week(), 60, at="T08:00:00Z"), 990019),            # not midnight UTC
    (bucket(week(), 60, at="T00:00:00+01:00"), 990019),       # Sunday 23:00 UTC
    (bucket(week(), 10081), 990019),
    (bucket(week(), -1), 990019),
    (bucket(week(), mode="W"), 990019),                       # no WeeklyMinutes
    (bucket(week(), daily=[60] * 6), 990019),
    (bucket(week(), daily=[60] * 6 + [1441]), 990019),
    (bucket(week(), weekly=100, daily=[60] * 7), 990019),     # WeeklyMinutes is not their sum
    (bucket(week(), 60) + bucket(week(), 120), 990019),       # the same week twice
    ("<com:PwsProjectRoleHoursBucket><com:WeeklyMinutes>60</com:WeeklyMinutes></com:PwsProjectRoleHoursBucket>", 990019),
    (bucket(week(), 60, mode="M"), 10126),
])
def test_invalid_buckets_are_refused_and_nothing_is_written(tree: Tree, bad: str, number: int) -> None:
    uid = insert(tree, "Strict")
    other = insert(tree, "Neighbour")
    answer = hours(tree.pws, "R", role_hours(other, bucket(week(), 60)), role_hours(uid, bucket(week(3), 30), bad))
    assert answer.status == "Fail" and answer.error_numbers() == [number], answer.content
    assert all(r.buckets == [] for r in roles_of(get_roles(tree.pws, tree.project)))


def test_clear_existing_hours_with_and_without_a_period(tree: Tree) -> None:
    uid = insert(tree, "Clearing")
    assert hours(tree.pws, "A", role_hours(uid, *(bucket(week(i), 60 * (i + 1)) for i in range(4)))).status == "Ok"
    assert hours(tree.pws, "R", role_hours(uid, bucket(week(0), 999))).status == "Ok"
    period = (tag("com:ClearExistingHoursFlag", True) + tag("com:ClearPeriodEndDate", f"{week(2)}T00:00:00Z") +
              tag("com:ClearPeriodStartDate", f"{week(1)}T00:00:00Z"))
    cleared = hours(tree.pws, "A", role_hours(uid, bucket(week(5), 30), extra=period))
    assert cleared.status == "Ok", cleared.content
    assert [b[0] for b in roles_of(cleared)[0].buckets] == [str(week(0)), str(week(3)), str(week(5))]
    backwards = (tag("com:ClearExistingHoursFlag", True) + tag("com:ClearPeriodEndDate", f"{week(1)}T00:00:00Z") +
                 tag("com:ClearPeriodStartDate", f"{week(2)}T00:00:00Z"))
    assert hours(tree.pws, "A", role_hours(uid, extra=backwards)).error_numbers() == [990020]
    everything = hours(tree.pws, "A", role_hours(uid, bucket(week(7), 45), extra=tag("com:ClearExistingHoursFlag", True)))
    assert roles_of(everything)[0].buckets == [(str(week(7)), "W", 45, None)]
    # Only the Mode's side is cleared.
    assert the_role(tree.pws, tree.project, uid, "R").buckets == [(str(week(0)), "W", 999, None)]


def test_copy_requested_hours(tree: Tree) -> None:
    uid = insert(tree, "Copied")
    daily = [60, 60, 60, 60, 60, 0, 0]
    assert hours(tree.pws, "R", role_hours(uid, bucket(week(0), 600), bucket(week(1), daily=daily))).status == "Ok"
    assert hours(tree.pws, "A", role_hours(uid, bucket(week(4), 100))).status == "Ok"
    refused = hours(tree.pws, "R", role_hours(uid, extra=tag("com:CopyRequestedHoursFlag", True)))
    assert refused.status == "Fail" and refused.error_numbers() == [990040]
    copied = hours(tree.pws, "A", role_hours(uid, bucket(week(1), 120), extra=tag("com:CopyRequestedHoursFlag", True)))
    assert copied.status == "Ok", copied.content
    # Copied first, then the buckets sent are written over the copy.
    assert roles_of(copied)[0].buckets == [(str(week(0)), "W", 600, None), (str(week(1)), "W", 120, None),
                                              (str(week(4)), "W", 100, None)]
    assert the_role(tree.pws, tree.project, uid, "R").buckets == [(str(week(0)), "W", 600, None),
                                                                      (str(week(1)), "D", 300, daily)]


def test_hours_timestamp_mismatch_changes_nothing(tree: Tree) -> None:
    uid = insert(tree, "Guarded")
    other = insert(tree, "Other")
    stamp = the_role(tree.pws, tree.project, uid).timestamp
    first = hours(tree.pws, "R", role_hours(uid, bucket(week(), 60), extra=tag("com:Timestamp", stamp)))
    assert first.status == "Ok"
    assert roles_of(first)[0].timestamp not in (None, stamp)
    stale = hours(tree.pws, "R", role_hours(other, bucket(week(), 30)),
                  role_hours(uid, bucket(week(), 90), extra=tag("com:Timestamp", stamp)))
    assert stale.status == "Fail" and stale.error_numbers() == [990007]
    assert the_role(tree.pws, tree.project, uid).buckets == [(str(week()), "W", 60, None)]
    assert the_role(tree.pws, tree.project, other).buckets == []
    garbage = hours(tree.pws, "R", role_hours(uid, bucket(week(), 90), extra=tag("com:Timestamp", "not-base64")))
    assert garbage.error_numbers() == [990007]


def test_hours_requests_need_roles_and_a_mode(tree: Tree) -> None:
    assert hours(tree.pws, "R").error_numbers() == [990021]
    no_key = hours(tree.pws, "R", "<com:PwsProjectRoleHours><com:HoursBuckets/></com:PwsProjectRoleHours>")
    assert no_key.error_numbers() == [990010]
    uid = insert(tree, "Moded")
    assert hours(tree.pws, "E", role_hours(uid, bucket(week(), 60))).error_numbers() == [10126]
    unknown = hours(tree.pws, "A", role_hours(uid, extra=(
        f"<com:CandidateResourceIdentity>{com('ResourceDisplayName', 'Nobody')}</com:CandidateResourceIdentity>")))
    assert unknown.error_numbers() == [50024]


def test_open_request_follows_requesting_and_booking(tree: Tree, store: Store) -> None:
    uid = insert(tree, "Open")

    def is_open() -> bool:
        with store.read() as tx:
            return bool(tx.execute(select(project_roles.c.open_request).where(project_roles.c.uid == uid)).scalar_one())

    assert not is_open()
    assert hours(tree.pws, "R", role_hours(uid, bucket(week(), 600))).status == "Ok"
    assert is_open()
    assert hours(tree.pws, "A", role_hours(uid, bucket(week(), 300), extra=tag("com:LeaveRequestOpenFlag", True))
                 ).status == "Ok"
    assert is_open()
    assert hours(tree.pws, "A", role_hours(uid, bucket(week(), 600))).status == "Ok"
    assert not is_open()


def test_hours_permissions(soap: SoapClient, account: AccountFixture, store: Store, tree: Tree) -> None:
    uid = insert(tree, "Permitted")
    viewer = Pws(soap, account, account.viewer)
    for mode in "RA":
        refused = hours(viewer, mode, role_hours(uid, bucket(week(), 60)))
        assert refused.status == "Fail" and refused.error_numbers() == [50046]
    assert save(viewer, role_by_uid(uid) + com("RoleName", "Mine")).error_numbers() == [50046]
    assert get_roles(viewer, tree.project).status == "Ok"
    requester = f"requester@{account.code}"
    make_user(store, account.code, requester, frozenset({Permission.WEB_SERVICES, Permission.PROJECTS_VIEW,
                                                         Permission.HOURS_REQUEST}))
    as_requester = Pws(soap, account, requester)
    assert hours(as_requester, "R", role_hours(uid, bucket(week(), 60))).status == "Ok"
    assert hours(as_requester, "A", role_hours(uid, bucket(week(), 60))).error_numbers() == [50046]
    assert the_role(tree.pws, tree.project, uid, "A").buckets == []
    no_view = f"blind@{account.code}"
    make_user(store, account.code, no_view, frozenset({Permission.WEB_SERVICES}))
    assert get_roles(Pws(soap, account, no_view), tree.project).error_numbers() == [50045]


def test_nothing_of_another_account_resolves(soap: SoapClient, store: Store, tree: Tree) -> None:
    uid = insert(tree, "Private", external_id="SHARED-ESI")
    stranger = Pws(soap, make_account(store, "other"))
    by_esi = role_hours(uid, bucket(week(), 60)).replace(role_by_uid(uid), ref("ProjectRole", "SHARED-ESI"))
    assert hours(stranger, "R", by_esi).error_numbers() == [54080]
    assert hours(stranger, "R", role_hours(uid, bucket(week(), 60))).error_numbers() == [54080]
    assert save(stranger, role_by_uid(uid) + com("RoleName", "Stolen")).error_numbers() == [54080]
    assert get_roles(stranger, tree.project).error_numbers() == [105]
    # ESIs are unique per account: the stranger's own role may use the same one.
    own = stranger.project(stranger.engagement(stranger.client("Theirs"), "E"), "P")
    mine = save(stranger, com("ExternalSystemIdentifier", "SHARED-ESI") + com("RoleName", "Theirs"), project=own)
    assert mine.status == "Ok" and int(mine.text(SAVED + "ProjectRoleUid") or 0) != uid
    role = the_role(tree.pws, tree.project, uid)
    assert (role.name, role.buckets) == ("Private", [])


# --- properties and third-party clients --------------------------------------------------------------

texts = st.text(st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")), min_size=1, max_size=50).filter(str.strip)
days = st.dates(min_value=date(2000, 1, 1), max_value=date(2099, 12, 31))


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(name=texts, description=st.none() | texts, mode=st.sampled_from("DW"), start=st.none() | days,
       length=st.integers(0, 400), minutes=st.lists(st.integers(0, 1440), min_size=7, max_size=7),
       weekly=st.integers(1, 10080), offset=st.integers(0, 520))
def test_save_then_get_round_trips_modelled_fields(tree: Tree, name: str, description: str | None, mode: str,
                                                   start: date | None, length: int, minutes: list[int],
                                                   weekly: int, offset: int) -> None:
    detail = com("RoleName", name) + com("DefaultSchedulingMode", mode) + resource(ReferenceSystemId="E2")
    if description is not None:
        detail += com("Description", description)
    if start is not None:
        detail += com("RoleStartDate", f"{start}T00:00:00Z") + com("RoleEndDate", f"{start + timedelta(days=length)}"
                                                                            "T00:00:00Z")
    # A project per example: names are unique per project, and examples share the fixture's tree.
    project = tree.pws.project(tree.engagement, "Round trip")
    saved = save(tree.pws, detail, mode="A", project=project)
    assert saved.status == "Ok", saved.content
    uid = int(saved.text(SAVED + "ProjectRoleUid") or 0)
    first, second = week(offset), week(offset + 1)
    booked: list[Bucket] = [(str(first), "D", sum(minutes), minutes)] if sum(minutes) else []
    assert hours(tree.pws, "A", role_hours(uid, bucket(first, daily=minutes), bucket(second, weekly))).status == "Ok"
    role = the_role(tree.pws, project, uid, "A")
    assert (role.name, role.description, role.mode) == (name, description, mode)
    assert role.resource == f"User viewer@{tree.pws.account.code}"
    assert role.start == (f"{start}T00:00:00.0000000Z" if start else None)
    assert role.end == (f"{start + timedelta(days=length)}T00:00:00.0000000Z" if start else None)
    assert role.buckets == [*booked, (str(second), "W", weekly, None)]


def test_zeep_creates_a_role_books_daily_hours_and_reads_them(soap: SoapClient, tree: Tree,
                                                              account: AccountFixture) -> None:
    client = zeep.Client(soap.endpoint + "?wsdl", transport=soap.zeep_transport())
    ticket = client.service.PwsAuthenticate(serviceRequest={
        "AccountCode": account.code, "UserName": account.admin, "Password": account.password}).SessionTicket
    saved = client.service.PwsSaveProjectRole(serviceRequest={
        "SessionTicket": ticket, "Mode": "A", "FullDetailFlag": True, "ProjectIdentity": {"ProjectCode": tree.project},
        "ProjectRole": {"ExternalSystemIdentifier": "ZEEP-1", "RoleName": "Zeep Role", "DefaultSchedulingMode": "D",
                        "ResourceIdentity": {"ResourceReferenceSystemId": "E1"}}})
    assert saved.Status == "Ok"
    uid = saved.ProjectRoleIdentity.ProjectRoleUid
    assert saved.ProjectRole.ProjectRoleDetail.ResourceIdentity.ResourceReferenceSystemId == "E1"
    start = datetime(week(1).year, week(1).month, week(1).day, tzinfo=UTC)
    booked = client.service.PwsRequestOrBookRoleHours(serviceRequest={
        "SessionTicket": ticket, "Mode": "A",
        "ProjectRoles": {"PwsProjectRoleHours": [{
            "ProjectRoleIdentity": {"ExternalSystemIdentifier": "ZEEP-1"},
            "HoursBuckets": {"PwsProjectRoleHoursBucket": [{
                "BucketStartDate": start, "SchedulingMode": "D",
                "DailyMinutes": {"short": [480, 480, 480, 480, 240, 0, 0]}}]}}]}})
    assert booked.Status == "Ok"
    got = client.service.PwsGetProjectRoles(serviceRequest={
        "SessionTicket": ticket, "Mode": "E", "ProjectIdentities": {"PwsProjectRef": [{"ProjectCode": tree.project}]}})
    assert got.Status == "Ok"
    group = got.ProjectProjectRoles.PwsProjectProjectRoles[0]
    assert group.ProjectIdentity.ProjectCode == tree.project
    element = group.ProjectRoles.PwsProjectRoleElement[0]
    assert element.ProjectRoleDetail.ProjectRoleUid == uid
    assert element.ProjectRoleDetail.RoleName == "Zeep Role"
    [hours_bucket] = element.HoursBuckets.PwsProjectRoleHoursBucket
    assert list(hours_bucket.DailyMinutes.short) == [480, 480, 480, 480, 240, 0, 0]
    assert hours_bucket.WeeklyMinutes == 2160 and hours_bucket.BucketStartDate.date() == week(1)


def test_escaped_names_round_trip(tree: Tree) -> None:
    name = "R&D <lead> \"quoted\""
    uid = insert(tree, name)
    assert the_role(tree.pws, tree.project, uid).name == name

"""PwsDeleteProject over real HTTP: refs, roles and cascades, invoices, timestamps,
DeleteEmptyEngagementFlag, permissions, locks and stealing; every refused call changes nothing."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from openpws.contract import ns
from openpws.services.permissions import Permission
from openpws.store.transactions import Store
from tests.conftest import AccountFixture
from tests.messages.deletes_common import (
    FAULT,
    acquire,
    delete_project,
    delete_role,
    engagement_state,
    fault_numbers,
    hours,
    invoice,
    lock_holders,
    other_user,
    project_exists,
    project_state,
    result_text,
)
from tests.pws import NAMESPACES, SoapClient
from tests.tree import Pws, ref, tag

NIL = "{" + ns.XSI + "}nil"
EMPTY_ENGAGEMENT = tag("DeleteEmptyEngagementFlag", True)


@dataclass
class Tree:
    pws: Pws
    client: str
    engagement: str
    project: str  # with two roles that have requested and booked hours
    sibling: str  # another project of the engagement, without roles
    roles: list[int]


@pytest.fixture
def tree(soap: SoapClient, account: AccountFixture) -> Tree:
    pws = Pws(soap, account)
    client = pws.client("Acme")
    engagement = pws.engagement(client, "Rollout")
    project = pws.project(engagement, "Phase 1")
    roles = [pws.role(project, "Lead", external_id="ESI-LEAD"), pws.role(project, "Analyst")]
    for uid in roles:
        hours(pws, uid, "R")
        hours(pws, uid, "A", 240)
    return Tree(pws, client, engagement, project, pws.project(engagement, "Phase 2"), roles)


def stamp(pws: Pws, engagement: str) -> str | None:
    state = engagement_state(pws, engagement)
    assert state is not None
    return state.timestamp


def test_a_project_without_roles_is_deleted(tree: Tree) -> None:
    before = stamp(tree.pws, tree.engagement)
    answer = delete_project(tree.pws, tree.sibling)
    assert answer.status == "Ok", answer.content
    identity = answer.result.find("sch:ProjectIdentity", NAMESPACES)
    assert identity is not None
    assert identity.findtext("com:ProjectCode", namespaces=NAMESPACES) == tree.sibling
    assert int(identity.findtext("com:ProjectUid", namespaces=NAMESPACES) or 0) > 2**60
    project_id = identity.find("com:ProjectId", NAMESPACES)
    assert project_id is not None and project_id.get(NIL) == "true"
    # The engagement graph took a new version, and the response carries it.
    after = stamp(tree.pws, tree.engagement)
    assert result_text(answer, "EngagementTimestamp") == after != before
    assert answer.result.find("sch:LockStolenFromUserIdentity", NAMESPACES).get(NIL) == "true"  # type: ignore[union-attr]
    assert not project_exists(tree.pws, tree.sibling)
    assert project_exists(tree.pws, tree.project)
    assert delete_project(tree.pws, tree.sibling).error_numbers() == [50024]


def test_refs_that_name_no_project(tree: Tree) -> None:
    before = engagement_state(tree.pws, tree.engagement)
    assert tree.pws.call("PwsDeleteProject", "<sch:ProjectIdentity/>").error_numbers() == [990009]
    assert delete_project(tree.pws, "NO-SUCH").error_numbers() == [50024]
    uid = int(tree.pws.ok("PwsGetProject", f"{tag('Mode', 'R')}<sch:ProjectIdentities><com:PwsProjectRef>"
                          f"{ref('Project', tree.sibling)}</com:PwsProjectRef></sch:ProjectIdentities>")
              .text(".//com:ProjectDetail/com:ProjectUid") or 0)
    mixed = tree.pws.call("PwsDeleteProject", f"{tag('CascadeDeleteFlag', True)}<sch:ProjectIdentity>"
                          f"{ref('Project', tree.project, uid)}</sch:ProjectIdentity>")
    assert mixed.error_numbers() == [50024]
    assert engagement_state(tree.pws, tree.engagement) == before


@pytest.mark.parametrize("cascade", [None, False])
def test_live_roles_block_without_cascade(tree: Tree, cascade: bool | None) -> None:
    before = engagement_state(tree.pws, tree.engagement)
    answer = delete_project(tree.pws, tree.project, cascade=cascade)
    assert answer.status == "Fail" and answer.error_numbers() == [990072]
    assert tree.project in (answer.messages()[0]["AdditionalErrorText"] or "")
    assert engagement_state(tree.pws, tree.engagement) == before


def test_deleted_roles_do_not_block(tree: Tree) -> None:
    for uid in tree.roles:
        assert delete_role(tree.pws, uid, tag("ZeroOutHoursFlag", True)).status == "Ok"
    assert all(r.deleted for r in project_state(tree.pws, tree.project).roles)
    answer = delete_project(tree.pws, tree.project)
    assert answer.status == "Ok", answer.content
    assert not project_exists(tree.pws, tree.project)


def test_cascade_deletes_the_roles_with_their_hours(tree: Tree) -> None:
    answer = delete_project(tree.pws, tree.project, cascade=True)
    assert answer.status == "Ok", answer.content
    assert not project_exists(tree.pws, tree.project)
    roles = tree.pws.call("PwsGetProjectRoles", f"{tag('Mode', 'A')}<sch:ProjectIdentities><com:PwsProjectRef>"
                          f"{ref('Project', tree.project)}</com:PwsProjectRef></sch:ProjectIdentities>")
    assert roles.error_numbers() == [105]
    # The roles are gone, not hidden: their identifier is free again.
    assert tree.pws.role(tree.sibling, "Lead", external_id="ESI-LEAD") > 0
    assert delete_role(tree.pws, tree.roles[1]).error_numbers() == [54080]
    assert stamp(tree.pws, tree.engagement) is not None


def test_a_project_ever_invoiced_is_never_deleted(tree: Tree) -> None:
    invoice(tree.pws, tree.client, tree.engagement, tree.project)
    before = engagement_state(tree.pws, tree.engagement)
    for cascade, extra in ((None, ""), (True, ""), (True, EMPTY_ENGAGEMENT)):
        answer = delete_project(tree.pws, tree.project, extra, cascade=cascade)
        assert answer.status == "Fail" and answer.error_numbers() == [990071], (cascade, extra)
    assert engagement_state(tree.pws, tree.engagement) == before
    # An invoice on the engagement alone does not hold its other projects back.
    assert delete_project(tree.pws, tree.sibling).status == "Ok"


def test_timestamps_must_be_current(tree: Tree) -> None:
    project = project_state(tree.pws, tree.project)
    engagement = stamp(tree.pws, tree.engagement)
    tree.pws.ok("PwsSaveProject", f"{tag('Mode', 'R')}<sch:Project>{ref('Project', tree.project)}"
                "<com:Description>changed</com:Description></sch:Project>")
    for stale in (tag("ProjectTimestamp", project.timestamp), tag("EngagementTimestamp", engagement)):
        before = engagement_state(tree.pws, tree.engagement)
        answer = delete_project(tree.pws, tree.project, stale, cascade=True)
        assert answer.error_numbers() == [990007], stale
        assert engagement_state(tree.pws, tree.engagement) == before
    # A write elsewhere in the graph moves the EngagementTimestamp, not this ProjectTimestamp.
    current = project_state(tree.pws, tree.project)
    tree.pws.role(tree.sibling, "Elsewhere")
    assert project_state(tree.pws, tree.project).timestamp == current.timestamp
    assert delete_project(tree.pws, tree.project, tag("EngagementTimestamp", engagement), cascade=True
                          ).error_numbers() == [990007]
    answer = delete_project(tree.pws, tree.project, tag("EngagementTimestamp", stamp(tree.pws, tree.engagement))
                            + tag("ProjectTimestamp", current.timestamp), cascade=True)
    assert answer.status == "Ok", answer.content


def test_delete_empty_engagement_flag(tree: Tree) -> None:
    # Projects are left: the engagement stays, silently, with a new version.
    answer = delete_project(tree.pws, tree.sibling, EMPTY_ENGAGEMENT)
    assert answer.status == "Ok" and answer.messages() == []
    assert result_text(answer, "EngagementTimestamp") == stamp(tree.pws, tree.engagement)
    # The last project goes, and the engagement with it: the response keeps its last version.
    last = stamp(tree.pws, tree.engagement)
    answer = delete_project(tree.pws, tree.project, EMPTY_ENGAGEMENT, cascade=True)
    assert answer.status == "Ok", answer.content
    assert result_text(answer, "EngagementTimestamp") == last
    assert engagement_state(tree.pws, tree.engagement) is None


def test_without_the_flag_an_empty_engagement_stays(tree: Tree) -> None:
    assert delete_project(tree.pws, tree.sibling).status == "Ok"
    assert delete_project(tree.pws, tree.project, tag("DeleteEmptyEngagementFlag", False), cascade=True).status == "Ok"
    state = engagement_state(tree.pws, tree.engagement)
    assert state is not None and state.projects == ()


def test_an_invoiced_engagement_stays_when_emptied(tree: Tree) -> None:
    invoice(tree.pws, tree.client, tree.engagement)
    assert delete_project(tree.pws, tree.sibling).status == "Ok"
    answer = delete_project(tree.pws, tree.project, EMPTY_ENGAGEMENT, cascade=True)
    assert answer.status == "Ok" and answer.messages() == []
    state = engagement_state(tree.pws, tree.engagement)
    assert state is not None and state.projects == ()
    assert result_text(answer, "EngagementTimestamp") == state.timestamp


def test_deleting_needs_the_projects_delete_permission(tree: Tree, soap: SoapClient, store: Store,
                                                       account: AccountFixture) -> None:
    before = engagement_state(tree.pws, tree.engagement)
    updater = other_user(soap, store, account, "updater", frozenset({Permission.WEB_SERVICES,
                                                                     Permission.PROJECTS_UPDATE}))
    for user in (Pws(soap, account, account.viewer), updater):
        assert delete_project(user, tree.sibling).error_numbers() == [50046]
    assert engagement_state(tree.pws, tree.engagement) == before


@pytest.mark.parametrize(("lock_type", "number"), [("E", 54076), ("P", 50469), ("R", 50469)])
def test_another_users_lock_on_the_project_or_above_or_below_blocks(
        tree: Tree, soap: SoapClient, store: Store, account: AccountFixture, lock_type: str, number: int) -> None:
    holder = other_user(soap, store, account)
    if lock_type == "R":
        acquire(holder, "R", uid=tree.roles[1])
    else:
        acquire(holder, lock_type, tree.engagement if lock_type == "E" else tree.project)
    before = engagement_state(tree.pws, tree.engagement)
    answer = delete_project(tree.pws, tree.project, EMPTY_ENGAGEMENT, cascade=True)
    assert fault_numbers(answer) == [number]
    assert answer.text(FAULT + "com:LockHolderUserIdentity/com:UserDisplayName") == f"User holder@{account.code}"
    assert engagement_state(tree.pws, tree.engagement) == before


def test_a_lock_on_another_project_does_not_block(tree: Tree, soap: SoapClient, store: Store,
                                                  account: AccountFixture) -> None:
    holder = other_user(soap, store, account)
    acquire(holder, "P", tree.sibling)
    assert delete_project(tree.pws, tree.project, cascade=True).status == "Ok"
    assert fault_numbers(delete_project(tree.pws, tree.sibling)) == [50469]


def test_stealing_with_the_flag_and_with_locks_to_steal(tree: Tree, soap: SoapClient, store: Store,
                                                        account: AccountFixture) -> None:
    holder = other_user(soap, store, account)
    acquire(holder, "P", tree.sibling)
    flagged = delete_project(tree.pws, tree.sibling, tag("StealLockFlag", True))
    assert flagged.status == "Ok", flagged.content
    assert result_text(flagged, "LockStolenFromUserIdentity", "UserDisplayName") == f"User holder@{account.code}"
    assert flagged.result.find("sch:StolenLocks/com:PwsEntityLockSummary", NAMESPACES) is not None
    acquire(holder, "R", uid=tree.roles[0])
    refused = delete_project(tree.pws, tree.project, cascade=True)
    assert fault_numbers(refused) == [50469]
    answer = delete_project(tree.pws, tree.project, lock_holders(refused), cascade=True)
    assert answer.status == "Ok", answer.content
    stolen = answer.result.find("sch:StolenLocks/com:PwsEntityLockSummary", NAMESPACES)
    assert stolen is not None
    assert stolen.findtext("com:EntityIdentity/com:EntityUid", namespaces=NAMESPACES) == str(tree.roles[0])
    assert not project_exists(tree.pws, tree.project)


def test_the_callers_own_locks_go_with_the_project(tree: Tree) -> None:
    mine = acquire(tree.pws, "R", uid=tree.roles[0])
    answer = delete_project(tree.pws, tree.project, tag("ProjectorLockSetId", mine), cascade=True)
    assert answer.status == "Ok", answer.content
    check = tree.pws.call("PwsCheckProjectorLocks", f"<req:ProjectorLockSetId>{mine}</req:ProjectorLockSetId>")
    assert check.status == "Ok", check.content
    assert check.find(".//com:PwsProjectorLock") is None

"""PwsDeleteProjectRole and PwsUndeleteProjectRole over real HTTP: soft deletes, hours and
ZeroOutHoursFlag, refs, names on undelete, timestamps, permissions and locks; every refused call
changes nothing."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from openpws.services.permissions import Permission
from openpws.store.transactions import Store
from tests.conftest import AccountFixture
from tests.messages.deletes_common import (
    FAULT,
    RoleState,
    acquire,
    delete_role,
    engagement_state,
    fault_numbers,
    hours,
    lock_holders,
    other_user,
    project_state,
    result_text,
    undelete_role,
)
from tests.pws import NAMESPACES, Answer, SoapClient
from tests.tree import Pws, ref, tag

ZERO_OUT = tag("ZeroOutHoursFlag", True)
UNIQUE = tag("MakeRoleNameUniqueFlag", True)


@dataclass
class Tree:
    pws: Pws
    engagement: str
    project: str
    lead: int  # with requested and booked hours
    spare: int  # without hours


@pytest.fixture
def tree(soap: SoapClient, account: AccountFixture) -> Tree:
    pws = Pws(soap, account)
    engagement = pws.engagement(pws.client("Acme"), "Rollout")
    project = pws.project(engagement, "Phase 1")
    lead = pws.role(project, "Lead", external_id="ESI-LEAD")
    hours(pws, lead, "R", weeks=2)
    hours(pws, lead, "A", 240)
    return Tree(pws, engagement, project, lead, pws.role(project, "Spare"))


def role(tree: Tree, uid: int) -> RoleState:
    [found] = [r for r in project_state(tree.pws, tree.project).roles if r.uid == uid]
    return found


def live_names(tree: Tree) -> list[str | None]:
    listed = tree.pws.ok("PwsGetProjectRoles", f"{tag('Mode', 'R')}<sch:ProjectIdentities><com:PwsProjectRef>"
                         f"{ref('Project', tree.project)}</com:PwsProjectRef></sch:ProjectIdentities>")
    return [e.text for e in listed.root.iterfind(".//com:ProjectRoleDetail/com:RoleName", NAMESPACES)]


def stamp(tree: Tree) -> str | None:
    state = engagement_state(tree.pws, tree.engagement)
    assert state is not None
    return state.timestamp


def identity(answer: Answer) -> tuple[str | None, int]:
    return (result_text(answer, "ProjectRoleIdentity", "ExternalSystemIdentifier"),
            int(result_text(answer, "ProjectRoleIdentity", "ProjectRoleUid") or 0))


# --- PwsDeleteProjectRole ---------------------------------------------------------------------------

def test_a_delete_is_soft(tree: Tree) -> None:
    before = role(tree, tree.spare)
    engagement_before = stamp(tree)
    answer = delete_role(tree.pws, tree.spare)
    assert answer.status == "Ok", answer.content
    assert identity(answer) == (None, tree.spare)
    assert result_text(answer, "EngagementTimestamp") == stamp(tree) != engagement_before
    after = role(tree, tree.spare)
    assert after.deleted and after.name == "Spare" and after.timestamp != before.timestamp
    assert live_names(tree) == ["Lead"]
    assert delete_role(tree.pws, tree.spare).error_numbers() == [54080]


def test_hours_block_unless_zeroed_out(tree: Tree) -> None:
    booked_only = tree.pws.role(tree.project, "Booked only")
    hours(tree.pws, booked_only, "A")
    before = engagement_state(tree.pws, tree.engagement)
    for uid in (tree.lead, booked_only):
        for flag in ("", tag("ZeroOutHoursFlag", False)):
            answer = delete_role(tree.pws, uid, flag)
            assert answer.status == "Fail" and answer.error_numbers() == [54074], (uid, flag)
    assert engagement_state(tree.pws, tree.engagement) == before
    answer = delete_role(tree.pws, tree.lead, ZERO_OUT)
    assert answer.status == "Ok", answer.content
    assert identity(answer) == ("ESI-LEAD", tree.lead)
    gone = role(tree, tree.lead)
    assert gone.deleted and gone.requested == () and gone.booked == ()
    # ZeroOutHoursFlag on a role without hours is just a delete.
    assert delete_role(tree.pws, tree.spare, ZERO_OUT).status == "Ok"


def test_refs_that_name_no_live_role(tree: Tree) -> None:
    before = engagement_state(tree.pws, tree.engagement)
    assert tree.pws.call("PwsDeleteProjectRole", "<sch:ProjectRoleIdentity/>").error_numbers() == [990010]
    assert delete_role(tree.pws, 2**60 + 999999).error_numbers() == [54080]
    mixed = tree.pws.call("PwsDeleteProjectRole", "<sch:ProjectRoleIdentity>"
                          f"{ref('ProjectRole', 'ESI-LEAD', tree.spare)}</sch:ProjectRoleIdentity>")
    assert mixed.error_numbers() == [54080]
    assert engagement_state(tree.pws, tree.engagement) == before


def test_delete_timestamps_must_be_current(tree: Tree) -> None:
    old_role, old_engagement = role(tree, tree.spare).timestamp, stamp(tree)
    tree.pws.ok("PwsSaveProjectRole", f"{tag('Mode', 'R')}<sch:ProjectRole>{ref('ProjectRole', uid=tree.spare)}"
                "<com:Description>changed</com:Description></sch:ProjectRole>")
    for stale in (tag("ProjectRoleTimestamp", old_role), tag("EngagementTimestamp", old_engagement)):
        before = engagement_state(tree.pws, tree.engagement)
        assert delete_role(tree.pws, tree.spare, stale).error_numbers() == [990007], stale
        assert engagement_state(tree.pws, tree.engagement) == before
    current = tag("EngagementTimestamp", stamp(tree)) + tag("ProjectRoleTimestamp", role(tree, tree.spare).timestamp)
    assert delete_role(tree.pws, tree.spare, current).status == "Ok"


# --- PwsUndeleteProjectRole -------------------------------------------------------------------------

def test_undelete_restores_the_role(tree: Tree) -> None:
    assert delete_role(tree.pws, tree.spare).status == "Ok"
    deleted = role(tree, tree.spare)
    before = stamp(tree)
    answer = undelete_role(tree.pws, tree.spare)
    assert answer.status == "Ok", answer.content
    assert identity(answer) == (None, tree.spare)
    assert result_text(answer, "EngagementTimestamp") == stamp(tree) != before
    back = role(tree, tree.spare)
    assert not back.deleted and back.name == "Spare" and back.timestamp != deleted.timestamp
    assert live_names(tree) == ["Lead", "Spare"]
    # It is a live role again: it can be given hours and deleted.
    hours(tree.pws, tree.spare, "R")
    assert delete_role(tree.pws, tree.spare).error_numbers() == [54074]


def test_only_a_deleted_role_can_be_undeleted(tree: Tree) -> None:
    before = engagement_state(tree.pws, tree.engagement)
    assert undelete_role(tree.pws, tree.spare).error_numbers() == [990073]
    assert undelete_role(tree.pws, 2**60 + 999999).error_numbers() == [54080]
    assert tree.pws.call("PwsUndeleteProjectRole", "<sch:ProjectRoleIdentity/>").error_numbers() == [990010]
    assert engagement_state(tree.pws, tree.engagement) == before


def test_undelete_needs_a_free_name_or_makes_one(tree: Tree) -> None:
    assert delete_role(tree.pws, tree.spare).status == "Ok"
    second = tree.pws.role(tree.project, "spare")  # names are compared case-insensitively
    assert delete_role(tree.pws, second).status == "Ok"
    tree.pws.role(tree.project, "Spare")
    before = engagement_state(tree.pws, tree.engagement)
    clash = undelete_role(tree.pws, tree.spare)
    assert clash.status == "Fail" and clash.error_numbers() == [990016]
    assert engagement_state(tree.pws, tree.engagement) == before
    assert undelete_role(tree.pws, tree.spare, first=tag("MakeRoleNameUniqueFlag", False)).error_numbers() == [990016]
    assert undelete_role(tree.pws, tree.spare, first=UNIQUE).status == "Ok"
    assert undelete_role(tree.pws, second, first=UNIQUE).status == "Ok"
    assert live_names(tree) == ["Lead", "Spare 2", "spare 3", "Spare"]


def test_undelete_timestamp_must_be_current(tree: Tree) -> None:
    old = role(tree, tree.spare).timestamp
    assert delete_role(tree.pws, tree.spare).status == "Ok"
    before = engagement_state(tree.pws, tree.engagement)
    assert undelete_role(tree.pws, tree.spare, tag("ProjectRoleTimestamp", old)).error_numbers() == [990007]
    assert engagement_state(tree.pws, tree.engagement) == before
    current = role(tree, tree.spare).timestamp
    assert undelete_role(tree.pws, tree.spare, tag("ProjectRoleTimestamp", current)).status == "Ok"


def test_permissions(tree: Tree, soap: SoapClient, store: Store, account: AccountFixture) -> None:
    web = Permission.WEB_SERVICES
    updater = other_user(soap, store, account, "updater", frozenset({web, Permission.PROJECTS_UPDATE}))
    deleter = other_user(soap, store, account, "deleter", frozenset({web, Permission.PROJECTS_DELETE}))
    before = engagement_state(tree.pws, tree.engagement)
    for user in (Pws(soap, account, account.viewer), updater):
        assert delete_role(user, tree.spare).error_numbers() == [50046]
    assert engagement_state(tree.pws, tree.engagement) == before
    assert delete_role(deleter, tree.spare).status == "Ok"
    deleted = engagement_state(tree.pws, tree.engagement)
    assert undelete_role(deleter, tree.spare).error_numbers() == [50046]
    assert engagement_state(tree.pws, tree.engagement) == deleted
    assert undelete_role(updater, tree.spare).status == "Ok"


# --- locks ------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("lock_type", "number"), [("E", 54076), ("P", 50469), ("R", 50469)])
def test_another_users_lock_on_the_role_or_above_blocks(tree: Tree, soap: SoapClient, store: Store,
                                                        account: AccountFixture, lock_type: str, number: int) -> None:
    holder = other_user(soap, store, account)
    if lock_type == "R":
        acquire(holder, "R", uid=tree.spare)
    else:
        acquire(holder, lock_type, tree.engagement if lock_type == "E" else tree.project)
    before = engagement_state(tree.pws, tree.engagement)
    answer = delete_role(tree.pws, tree.spare)
    assert fault_numbers(answer) == [number]
    assert answer.text(FAULT + "com:LockHolderUserIdentity/com:UserDisplayName") == f"User holder@{account.code}"
    assert engagement_state(tree.pws, tree.engagement) == before


def test_a_lock_on_another_role_does_not_block(tree: Tree, soap: SoapClient, store: Store,
                                               account: AccountFixture) -> None:
    holder = other_user(soap, store, account)
    acquire(holder, "R", uid=tree.lead)
    assert delete_role(tree.pws, tree.spare).status == "Ok"
    assert undelete_role(tree.pws, tree.spare).status == "Ok"


def test_stealing_on_delete_and_undelete(tree: Tree, soap: SoapClient, store: Store, account: AccountFixture) -> None:
    holder = other_user(soap, store, account)
    acquire(holder, "R", uid=tree.spare)
    answer = delete_role(tree.pws, tree.spare, tag("StealLockFlag", True))
    assert answer.status == "Ok", answer.content
    assert result_text(answer, "LockStolenFromUserIdentity", "UserDisplayName") == f"User holder@{account.code}"
    assert answer.result.find("sch:StolenLocks/com:PwsEntityLockSummary", NAMESPACES) is not None
    # Undelete has no StealLockFlag: the PwsFault's LockHolders are sent back as LocksToSteal.
    acquire(holder, "P", tree.project)
    refused = undelete_role(tree.pws, tree.spare)
    assert fault_numbers(refused) == [50469]
    assert role(tree, tree.spare).deleted
    stolen = undelete_role(tree.pws, tree.spare, first=lock_holders(refused))
    assert stolen.status == "Ok", stolen.content
    summary = stolen.result.find("sch:StolenLocks/com:PwsEntityLockSummary", NAMESPACES)
    assert summary is not None
    assert summary.findtext("com:EntityIdentity/com:EntityCode", namespaces=NAMESPACES) == tree.project
    assert not role(tree, tree.spare).deleted
    # LocksToSteal on delete too.
    acquire(holder, "E", tree.engagement)
    refused = delete_role(tree.pws, tree.spare)
    assert fault_numbers(refused) == [54076]
    assert delete_role(tree.pws, tree.spare, lock_holders(refused)).status == "Ok"


def test_the_callers_own_role_lock_goes_with_the_delete(tree: Tree) -> None:
    mine = acquire(tree.pws, "R", uid=tree.spare)
    assert delete_role(tree.pws, tree.spare, tag("ProjectorLockSetId", mine)).status == "Ok"
    check = tree.pws.call("PwsCheckProjectorLocks", f"<req:ProjectorLockSetId>{mine}</req:ProjectorLockSetId>")
    assert check.status == "Ok", check.content
    assert check.find(".//com:PwsProjectorLock") is None

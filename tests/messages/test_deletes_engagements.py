"""PwsDeleteEngagement over real HTTP: refs, projects and cascades, invoices, permissions,
timestamps, locks and stealing; every refused call changes nothing."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from sqlalchemy import update

from openpws.contract import ns
from openpws.services.permissions import Permission
from openpws.store.schema import projects
from openpws.store.transactions import Store
from tests.conftest import AccountFixture
from tests.messages.deletes_common import (
    FAULT,
    acquire,
    delete_engagement,
    engagement_state,
    fault_numbers,
    hours,
    invoice,
    lock_holders,
    other_user,
    project_exists,
    result_text,
)
from tests.pws import NAMESPACES, SoapClient
from tests.tree import Pws, ref, tag

NIL = "{" + ns.XSI + "}nil"


@dataclass
class Tree:
    pws: Pws
    client: str
    engagement: str
    projects: list[str]
    roles: list[int]


@pytest.fixture
def tree(soap: SoapClient, account: AccountFixture) -> Tree:
    """An engagement of two projects, each with two roles that have requested and booked hours."""
    pws = Pws(soap, account)
    client = pws.client("Acme")
    engagement = pws.engagement(client, "Rollout")
    codes, uids = [], []
    for name in ("Phase 1", "Phase 2"):
        code = pws.project(engagement, name)
        codes.append(code)
        for role in ("Lead", "Analyst"):
            uid = pws.role(code, role)
            hours(pws, uid, "R")
            hours(pws, uid, "A", 300)
            uids.append(uid)
    return Tree(pws, client, engagement, codes, uids)


def empty_engagement(pws: Pws, name: str = "Empty") -> str:
    return pws.engagement(pws.client(f"{name} client"), name)


def test_an_engagement_without_projects_is_deleted(tree: Tree) -> None:
    code = empty_engagement(tree.pws)
    before = engagement_state(tree.pws, code)
    assert before is not None
    answer = tree.pws.call("PwsDeleteEngagement", f"<sch:EngagementIdentity>{ref('Engagement', code)}"
                           "</sch:EngagementIdentity>", request_id=7)
    assert answer.status == "Ok", answer.content
    assert answer.result.findtext("cs:ResponseId", namespaces=NAMESPACES) == "7"
    identity = answer.result.find("sch:EngagementIdentity", NAMESPACES)
    assert identity is not None
    assert identity.findtext("com:EngagementCode", namespaces=NAMESPACES) == code
    assert int(identity.findtext("com:EngagementUid", namespaces=NAMESPACES) or 0) > 2**60
    engagement_id = identity.find("com:EngagementId", NAMESPACES)
    assert engagement_id is not None and engagement_id.get(NIL) == "true"
    # There is no version after a delete: the response carries the last one.
    assert result_text(answer, "EngagementTimestamp") == before.timestamp
    assert answer.result.find("sch:StolenLocks", NAMESPACES) is None
    assert engagement_state(tree.pws, code) is None
    assert delete_engagement(tree.pws, code).error_numbers() == [54061]


def test_refs_that_name_no_engagement(tree: Tree) -> None:
    before = engagement_state(tree.pws, tree.engagement)
    uid = int(tree.pws.ok("PwsGetEngagement", "<sch:EngagementIdentities><com:PwsEngagementRef>"
                          f"{ref('Engagement', tree.engagement)}</com:PwsEngagementRef></sch:EngagementIdentities>")
              .text(".//com:EngagementDetail/com:EngagementUid") or 0)
    assert tree.pws.call("PwsDeleteEngagement", "<sch:EngagementIdentity/>").error_numbers() == [54059]
    assert tree.pws.call("PwsDeleteEngagement", "").error_numbers() == [54059]
    assert delete_engagement(tree.pws, "NO-SUCH").error_numbers() == [54061]
    other = empty_engagement(tree.pws)
    mixed = tree.pws.call("PwsDeleteEngagement", f"<sch:EngagementIdentity>{ref('Engagement', other, uid)}"
                          "</sch:EngagementIdentity>" + tag("CascadeDeleteFlag", True))
    assert mixed.error_numbers() == [54061]
    assert str(uid) in (mixed.messages()[0]["AdditionalErrorText"] or "")
    assert engagement_state(tree.pws, tree.engagement) == before
    assert engagement_state(tree.pws, other) is not None


@pytest.mark.parametrize("flag", ["", tag("CascadeDeleteFlag", False)])
def test_projects_block_without_cascade(tree: Tree, flag: str) -> None:
    before = engagement_state(tree.pws, tree.engagement)
    answer = delete_engagement(tree.pws, tree.engagement, flag)
    assert answer.status == "Fail" and answer.error_numbers() == [54537]
    assert tree.projects[0] in (answer.messages()[0]["AdditionalErrorText"] or "")
    assert engagement_state(tree.pws, tree.engagement) == before


def test_cascade_deletes_projects_roles_and_hours(tree: Tree) -> None:
    # A deleted role goes with its project too.
    deleted = tree.pws.role(tree.projects[1], "Gone", external_id="ESI-GONE")
    tree.pws.ok("PwsDeleteProjectRole", f"<sch:ProjectRoleIdentity>{ref('ProjectRole', uid=deleted)}"
                "</sch:ProjectRoleIdentity>")
    before = engagement_state(tree.pws, tree.engagement)
    assert before is not None
    answer = delete_engagement(tree.pws, tree.engagement, tag("CascadeDeleteFlag", True))
    assert answer.status == "Ok", answer.content
    assert result_text(answer, "EngagementTimestamp") == before.timestamp
    assert engagement_state(tree.pws, tree.engagement) is None
    assert not any(project_exists(tree.pws, code) for code in tree.projects)
    roles = tree.pws.call("PwsGetProjectRoles", f"{tag('Mode', 'R')}<sch:ProjectIdentities>"
                          + "".join(f"<com:PwsProjectRef>{ref('Project', p)}</com:PwsProjectRef>" for p in tree.projects)
                          + "</sch:ProjectIdentities>")
    assert roles.error_numbers() == [105] and roles.find(".//com:PwsProjectRoleElement") is None
    # The rows are gone, not hidden: their identifiers are free for new entities.
    again = tree.pws.project(tree.pws.engagement(tree.client, "Second"), "Phase 1")
    assert tree.pws.role(again, "Reborn", external_id="ESI-GONE") > 0
    # The client kept its other engagement; nothing else was touched.
    assert tree.pws.ok("PwsGetEngagementList", tag("QueryString", "Second")).find(".//com:EngagementCode") is not None


def test_an_invoiced_engagement_is_never_deleted(tree: Tree) -> None:
    invoice(tree.pws, tree.client, tree.engagement)
    before = engagement_state(tree.pws, tree.engagement)
    for flags in ("", tag("CascadeDeleteFlag", True), tag("CascadeDeleteFlag", False)):
        answer = delete_engagement(tree.pws, tree.engagement, flags)
        assert answer.status == "Fail" and answer.error_numbers() == [54556], flags
    # Invoices block even an engagement whose projects are all gone.
    lone = tree.pws.engagement(tree.client, "Invoiced")
    invoice(tree.pws, tree.client, lone)
    assert delete_engagement(tree.pws, lone).error_numbers() == [54556]
    assert engagement_state(tree.pws, tree.engagement) == before
    assert engagement_state(tree.pws, lone) is not None


def test_with_cascade_every_project_must_be_deletable(tree: Tree, store: Store) -> None:
    # Invoicing marks the engagement too; a project marked on its own (imported data) still blocks.
    with store.write() as tx:
        tx.execute(update(projects).where(projects.c.code == tree.projects[1]).values(ever_invoiced=True))
    before = engagement_state(tree.pws, tree.engagement)
    answer = delete_engagement(tree.pws, tree.engagement, tag("CascadeDeleteFlag", True))
    assert answer.error_numbers() == [990071]
    assert tree.projects[1] in (answer.messages()[0]["AdditionalErrorText"] or "")
    assert engagement_state(tree.pws, tree.engagement) == before


def test_deleting_needs_the_projects_delete_permission(tree: Tree, soap: SoapClient, store: Store,
                                                       account: AccountFixture) -> None:
    code = empty_engagement(tree.pws)
    before = engagement_state(tree.pws, code)
    updater = other_user(soap, store, account, "updater", frozenset({Permission.WEB_SERVICES,
                                                                     Permission.PROJECTS_UPDATE}))
    for user in (Pws(soap, account, account.viewer), updater):
        answer = delete_engagement(user, code)
        assert answer.status == "Fail" and answer.error_numbers() == [54536]
    assert engagement_state(tree.pws, code) == before
    deleter = other_user(soap, store, account, "deleter", frozenset({Permission.WEB_SERVICES,
                                                                     Permission.PROJECTS_DELETE}))
    assert delete_engagement(deleter, code).status == "Ok"


def test_a_stale_engagement_timestamp_changes_nothing(tree: Tree) -> None:
    before = engagement_state(tree.pws, tree.engagement)
    assert before is not None
    tree.pws.role(tree.projects[0], "Late arrival")
    after_write = engagement_state(tree.pws, tree.engagement)
    stale = delete_engagement(tree.pws, tree.engagement, tag("EngagementTimestamp", before.timestamp)
                              + tag("CascadeDeleteFlag", True))
    assert stale.error_numbers() == [990007]
    assert engagement_state(tree.pws, tree.engagement) == after_write
    assert after_write is not None
    fresh = delete_engagement(tree.pws, tree.engagement, tag("EngagementTimestamp", after_write.timestamp)
                              + tag("CascadeDeleteFlag", True))
    assert fresh.status == "Ok", fresh.content


@pytest.mark.parametrize(("lock_type", "number"), [("E", 54076), ("P", 50469), ("R", 50469)])
def test_another_users_lock_anywhere_in_the_graph_blocks(tree: Tree, soap: SoapClient, store: Store,
                                                         account: AccountFixture, lock_type: str, number: int) -> None:
    holder = other_user(soap, store, account)
    if lock_type == "R":
        acquire(holder, "R", uid=tree.roles[3])
    else:
        acquire(holder, lock_type, tree.engagement if lock_type == "E" else tree.projects[1])
    before = engagement_state(tree.pws, tree.engagement)
    answer = delete_engagement(tree.pws, tree.engagement, tag("CascadeDeleteFlag", True))
    assert fault_numbers(answer) == [number]
    if lock_type == "E":
        assert "User holder@" in (answer.text(FAULT + "com:Messages/com:PwsMessage/com:ErrorText") or "")
    assert answer.text(FAULT + "com:LockHolderUserIdentity/com:UserDisplayName") == f"User holder@{account.code}"
    assert answer.text(FAULT + "com:AllowLocksToBeStolenFlag") == "true"
    assert answer.text(FAULT + "com:ServiceName") is not None
    assert engagement_state(tree.pws, tree.engagement) == before


def test_steal_lock_flag_takes_the_locks(tree: Tree, soap: SoapClient, store: Store, account: AccountFixture) -> None:
    holder = other_user(soap, store, account)
    held = acquire(holder, "P", tree.projects[0])
    answer = delete_engagement(tree.pws, tree.engagement, tag("StealLockFlag", True) + tag("CascadeDeleteFlag", True))
    assert answer.status == "Ok", answer.content
    assert result_text(answer, "LockStolenFromUserIdentity", "UserDisplayName") == f"User holder@{account.code}"
    stolen = answer.result.find("sch:StolenLocks/com:PwsEntityLockSummary", NAMESPACES)
    assert stolen is not None
    assert stolen.findtext("com:EntityIdentity/com:EntityCode", namespaces=NAMESPACES) == tree.projects[0]
    assert engagement_state(tree.pws, tree.engagement) is None
    # The victim learns who took its set.
    check = holder.call("PwsCheckProjectorLocks", f"<req:ProjectorLockSetId>{held}</req:ProjectorLockSetId>")
    assert check.status_code == 500, check.content
    assert check.text(FAULT + "com:LockTaker/com:LockStolenByUser/com:UserDisplayName") == f"User admin@{account.code}"


def test_locks_to_steal_two_steps(tree: Tree, soap: SoapClient, store: Store, account: AccountFixture) -> None:
    holder = other_user(soap, store, account)
    acquire(holder, "R", uid=tree.roles[0])
    cascade = tag("CascadeDeleteFlag", True)
    refused = delete_engagement(tree.pws, tree.engagement, cascade)
    assert fault_numbers(refused) == [50469]
    to_steal = lock_holders(refused)
    # The lock state moved on (another lock appeared): the old LockHolders no longer match.
    acquire(holder, "P", tree.projects[1])
    before = engagement_state(tree.pws, tree.engagement)
    assert fault_numbers(delete_engagement(tree.pws, tree.engagement, to_steal + cascade)) == [50469]
    assert engagement_state(tree.pws, tree.engagement) == before
    again = delete_engagement(tree.pws, tree.engagement, cascade)
    answer = delete_engagement(tree.pws, tree.engagement, lock_holders(again) + cascade)
    assert answer.status == "Ok", answer.content
    codes = {e.text for e in answer.result.iterfind("sch:StolenLocks//com:EntityCode", NAMESPACES)}
    assert tree.projects[1] in codes and len(codes) == 2
    assert engagement_state(tree.pws, tree.engagement) is None


def test_a_refused_delete_steals_nothing(tree: Tree, soap: SoapClient, store: Store, account: AccountFixture) -> None:
    holder = other_user(soap, store, account)
    held = acquire(holder, "E", tree.engagement)
    answer = delete_engagement(tree.pws, tree.engagement, tag("StealLockFlag", True))
    assert answer.error_numbers() == [54537]  # projects, no cascade: the steal is rolled back with the rest
    check = holder.call("PwsCheckProjectorLocks", f"<req:ProjectorLockSetId>{held}</req:ProjectorLockSetId>")
    assert check.status == "Ok", check.content


def test_own_lock_set_and_the_locks_of_deleted_entities(tree: Tree) -> None:
    mine = acquire(tree.pws, "E", tree.engagement)
    assert delete_engagement(tree.pws, tree.engagement, tag("ProjectorLockSetId", 987654)
                             + tag("CascadeDeleteFlag", True)).error_numbers() == [50475]
    answer = delete_engagement(tree.pws, tree.engagement, tag("ProjectorLockSetId", mine)
                               + tag("CascadeDeleteFlag", True))
    assert answer.status == "Ok", answer.content
    # The set's lock on the deleted engagement went with it: the set is still good and holds nothing.
    check = tree.pws.call("PwsCheckProjectorLocks", f"<req:ProjectorLockSetId>{mine}</req:ProjectorLockSetId>")
    assert check.status == "Ok", check.content
    assert check.find(".//com:PwsProjectorLock") is None

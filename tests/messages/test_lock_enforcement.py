"""Every write of the entity services respects other users' locks: PwsFault, stealing, and the
caller's own locks never in the way."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from lxml import etree

from openpws.contract import ns
from openpws.services.permissions import ALL
from openpws.store.transactions import Store
from tests.conftest import AccountFixture, make_user
from tests.pws import Answer, SoapClient
from tests.tree import Pws, ref

FAULT = "s:Body/s:Fault/detail/com:PwsFault/"
NS = {"s": ns.SOAP_ENV, "com": ns.COMMON, "sch": ns.SCHEDULING}


class Tree:
    def __init__(self, soap: SoapClient, store: Store, account: AccountFixture) -> None:
        self.me = Pws(soap, account)
        login = f"other@{account.code}"
        make_user(store, account.code, login, ALL, reference_id="OTHER")
        self.other = Pws(soap, account, login)
        self.engagement = self.me.engagement(self.me.client("Acme"), "Locked work")
        self.project = self.me.project(self.engagement, "Build")
        self.second_project = self.me.project(self.engagement, "Run")
        self.role = self.me.role(self.project, "Engineer", external_id="ENG-1")


@pytest.fixture
def tree(soap: SoapClient, store: Store, account: AccountFixture) -> Tree:
    return Tree(soap, store, account)


def lock(pws: Pws, lock_type: str, code: str, extra: str = "") -> Answer:
    return pws.call("PwsAcquireProjectorLocks", "<req:LockDurationSeconds>600</req:LockDurationSeconds><req:Locks>"
                    f"<com:PwsProjectorLockRequest><com:EntityIdentity><com:EntityCode>{code}</com:EntityCode>"
                    f"<com:LockType>{lock_type}</com:LockType></com:EntityIdentity></com:PwsProjectorLockRequest>"
                    f"</req:Locks>{extra}")


def fault_numbers(answer: Answer) -> list[int]:
    assert answer.status_code == 500, answer.content
    return [int(n) for n in answer.root.xpath(f"{FAULT}com:Messages/com:PwsMessage/com:ErrorNumber/text()",
                                              namespaces=NS)]


def save_engagement(pws: Pws, code: str, name: str, extra: str = "") -> Answer:
    return pws.call("PwsSaveEngagement", f"<sch:Engagement>{ref('Engagement', code)}<com:EngagementName>{name}"
                    f"</com:EngagementName></sch:Engagement>{extra}")


def save_project(pws: Pws, code: str, name: str, extra: str = "") -> Answer:
    return pws.call("PwsSaveProject", f"<sch:Mode>R</sch:Mode><sch:Project>{ref('Project', code)}<com:ProjectName>"
                    f"{name}</com:ProjectName></sch:Project>{extra}")


def new_project(pws: Pws, engagement: str) -> Answer:
    return pws.call("PwsSaveProject", "<sch:Mode>R</sch:Mode><sch:Project><com:EngagementIdentity>"
                    f"{ref('Engagement', engagement)}</com:EngagementIdentity><com:ProjectName>New</com:ProjectName>"
                    "</sch:Project>")


def save_role(pws: Pws, project: str, name: str) -> Answer:
    return pws.call("PwsSaveProjectRole", f"<sch:Mode>R</sch:Mode><sch:ProjectIdentity>{ref('Project', project)}"
                    f"</sch:ProjectIdentity><sch:ProjectRole><com:ExternalSystemIdentifier>ENG-1"
                    f"</com:ExternalSystemIdentifier><com:RoleName>{name}</com:RoleName></sch:ProjectRole>")


def book(pws: Pws) -> Answer:
    monday = datetime.now(UTC).date() - timedelta(days=datetime.now(UTC).weekday())
    return pws.call("PwsRequestOrBookRoleHours", "<sch:Mode>R</sch:Mode><sch:ProjectRoles><com:PwsProjectRoleHours>"
                    "<com:HoursBuckets><com:PwsProjectRoleHoursBucket><com:BucketStartDate>"
                    f"{monday}T00:00:00Z</com:BucketStartDate><com:SchedulingMode>W</com:SchedulingMode>"
                    "<com:WeeklyMinutes>600</com:WeeklyMinutes></com:PwsProjectRoleHoursBucket></com:HoursBuckets>"
                    "<com:ProjectRoleIdentity><com:ExternalSystemIdentifier>ENG-1</com:ExternalSystemIdentifier>"
                    "</com:ProjectRoleIdentity></com:PwsProjectRoleHours></sch:ProjectRoles>")


def engagement_timestamp(pws: Pws, code: str) -> str | None:
    return pws.ok("PwsGetEngagement", f"<sch:EngagementIdentities><com:PwsEngagementRef>{ref('Engagement', code)}"
                  "</com:PwsEngagementRef></sch:EngagementIdentities>").text(
        ".//com:EngagementDetail/com:EngagementTimestamp")


def test_an_engagement_lock_blocks_every_write_in_its_graph(tree: Tree) -> None:
    assert lock(tree.other, "E", tree.engagement).status == "Ok"
    before = engagement_timestamp(tree.me, tree.engagement)
    for answer in (save_engagement(tree.me, tree.engagement, "Changed"), save_project(tree.me, tree.project, "X"),
                   new_project(tree.me, tree.engagement), save_role(tree.me, tree.project, "Renamed"),
                   book(tree.me)):
        assert fault_numbers(answer) == [54076]
        assert f"locked by User other@{tree.me.account.code}" in answer.faultstring
        assert answer.text(FAULT + "com:LockHolderUserIdentity/com:UserReferenceSystemId") == "OTHER"
        assert answer.text(FAULT + "com:AllowLocksToBeStolenFlag") == "true"
    assert engagement_timestamp(tree.me, tree.engagement) == before
    # The holder itself is not in its own way.
    assert save_project(tree.other, tree.project, "By the holder").status == "Ok"


def test_a_project_lock_blocks_that_project_and_its_roles_only(tree: Tree) -> None:
    assert lock(tree.other, "P", tree.project).status == "Ok"
    assert fault_numbers(save_project(tree.me, tree.project, "X")) == [50469]
    assert fault_numbers(save_role(tree.me, tree.project, "Renamed")) == [50469]
    assert fault_numbers(book(tree.me)) == [50469]
    assert save_project(tree.me, tree.second_project, "Other project").status == "Ok"
    assert save_engagement(tree.me, tree.engagement, "Engagement itself").status == "Ok"
    assert new_project(tree.me, tree.engagement).status == "Ok"


def test_a_role_lock_blocks_that_role(tree: Tree) -> None:
    assert lock(tree.other, "R", "ENG-1").status == "Ok"
    assert fault_numbers(save_role(tree.me, tree.project, "Renamed")) == [50469]
    assert fault_numbers(book(tree.me)) == [50469]
    assert save_project(tree.me, tree.project, "Project is free").status == "Ok"


def test_stealing_with_the_fault_holders_then_the_victim_learns_who(tree: Tree) -> None:
    held = lock(tree.other, "E", tree.engagement)
    set_id = held.text(".//{*}ProjectorLockSetId")
    blocked = save_project(tree.me, tree.project, "Stolen")
    holders = blocked.root.find(FAULT + "com:LockHolders", NS)
    assert holders is not None
    # Send LockHolders back unchanged as LocksToSteal.
    steal = etree.tostring(holders).decode().replace("<LockHolders", "<sch:LocksToSteal", 1).replace(
        "</LockHolders>", "</sch:LocksToSteal>")
    stolen = save_project(tree.me, tree.project, "Stolen", steal)
    assert stolen.status == "Ok", stolen.content
    assert stolen.text(".//sch:LockStolenFromUserIdentity/com:UserReferenceSystemId") == "OTHER"
    victim = tree.other.call("PwsCheckProjectorLocks", f"<req:ProjectorLockSetId>{set_id}</req:ProjectorLockSetId>")
    assert victim.status_code == 500
    assert victim.text(FAULT + "com:LockTaker/com:LockStolenByUser/com:UserReferenceSystemId") == "E1"
    assert victim.text(FAULT + "com:LockTaker/com:ProjectorLockSetId") == set_id


def test_a_stale_steal_changes_nothing(tree: Tree) -> None:
    lock(tree.other, "P", tree.project)
    holders = save_project(tree.me, tree.project, "X").root.find(FAULT + "com:LockHolders", NS)
    assert holders is not None
    steal = etree.tostring(holders).decode().replace("<LockHolders", "<sch:LocksToSteal", 1).replace(
        "</LockHolders>", "</sch:LocksToSteal>")
    lock(tree.other, "E", tree.engagement)  # a lock added since the fault
    refused = save_project(tree.me, tree.project, "X", steal)
    assert fault_numbers(refused) == [54076]
    assert fault_numbers(save_project(tree.me, tree.project, "Still locked")) == [54076]


def test_steal_lock_flag_takes_whatever_is_there(tree: Tree) -> None:
    lock(tree.other, "E", tree.engagement)
    lock(tree.other, "P", tree.project)
    answer = save_project(tree.me, tree.project, "Taken", "<sch:StealLockFlag>true</sch:StealLockFlag>")
    assert answer.status == "Ok"
    assert answer.text(".//sch:LockStolenFromUserIdentity/com:UserReferenceSystemId") == "OTHER"
    assert save_engagement(tree.me, tree.engagement, "Free now").status == "Ok"


def test_the_callers_own_lock_set_is_asserted(tree: Tree) -> None:
    mine = lock(tree.me, "E", tree.engagement).text(".//{*}ProjectorLockSetId")
    asserted = save_engagement(tree.me, tree.engagement, "Mine", f"<sch:ProjectorLockSetId>{mine}</sch:ProjectorLockSetId>")
    assert asserted.status == "Ok"
    # My engagement lock keeps the other user out of this graph: their set is on another engagement.
    elsewhere = tree.other.engagement(tree.other.client("Elsewhere"), "Theirs")
    foreign = lock(tree.other, "E", elsewhere).text(".//{*}ProjectorLockSetId")
    assert fault_numbers(lock(tree.other, "P", tree.second_project)) == [54076]
    wrong = save_engagement(tree.me, tree.engagement, "Theirs", f"<sch:ProjectorLockSetId>{foreign}</sch:ProjectorLockSetId>")
    assert wrong.status == "Fail" and wrong.error_numbers() == [50475]

"""PwsAcquireProjectorLocks, PwsCheckProjectorLocks, PwsRenewProjectorLocks,
PwsReleaseProjectorLocks over real HTTP: two users in two sessions, PwsFault, expiry, stealing."""

from __future__ import annotations

import copy
import time
from datetime import UTC, datetime

import pytest
import zeep
import zeep.exceptions
from lxml import etree

from openpws.contract import compile_schema, ns
from openpws.services import admin, lock_sets, locks
from openpws.services.context import Context
from openpws.services.permissions import ALL
from openpws.services.refs import Key
from openpws.store.transactions import Store
from tests.conftest import AccountFixture, make_account, make_user
from tests.pws import NAMESPACES, Answer, SoapClient
from tests.tree import Pws, ref, tag

FAULT = "s:Body/s:Fault/detail/com:PwsFault/"
LOCK = ".//rs:Locks/com:PwsProjectorLock/"
_SCHEMA = compile_schema()


class Two:
    """Two users of one account, each in a session of their own, and a tree to lock."""

    def __init__(self, soap: SoapClient, store: Store, account: AccountFixture) -> None:
        self.soap, self.store, self.account = soap, store, account
        self.me = Pws(soap, account)  # "User admin@…", reference id E1
        self.other_login = f"other@{account.code}"
        make_user(store, account.code, self.other_login, ALL, reference_id="OTHER")
        self.other = Pws(soap.another(), account, self.other_login)
        self.engagement = self.me.engagement(self.me.client("Acme"), "Locked work")
        self.project = self.me.project(self.engagement, "Build")
        self.second_project = self.me.project(self.engagement, "Run")
        self.role_uid = self.me.role(self.project, "Engineer", external_id="ENG-1")


@pytest.fixture
def two(soap: SoapClient, store: Store, account: AccountFixture) -> Two:
    return Two(soap, store, account)


def entity(lock_type: str, code: str | None = None, uid: int | None = None) -> str:
    keys = (f"<com:EntityCode>{code}</com:EntityCode>" if code is not None else "") + (
        f"<com:EntityUid>{uid}</com:EntityUid>" if uid is not None else "")
    return f"<com:EntityIdentity>{keys}<com:LockType>{lock_type}</com:LockType></com:EntityIdentity>"


def acquire(pws: Pws, *entities: str, seconds: int | None = 600, extra: str = "", timestamp: str | None = None,
            request_id: int | None = None) -> Answer:
    """``extra``: the members that follow Locks in PwsAcquireProjectorLocksRq."""
    stamp = f"<com:EntityTimestamp>{timestamp}</com:EntityTimestamp>" if timestamp else ""
    requests = "".join(f"<com:PwsProjectorLockRequest>{e}{stamp}</com:PwsProjectorLockRequest>" for e in entities)
    duration = tag("req:LockDurationSeconds", seconds) if seconds is not None else ""
    return pws.call("PwsAcquireProjectorLocks", f"{duration}<req:Locks>{requests}</req:Locks>{extra}",
                    request_id=request_id)


def set_of(answer: Answer) -> int:
    assert answer.status == "Ok", answer.content.decode()
    return int(answer.text(".//rs:ProjectorLockSetId") or 0)


def check(pws: Pws, set_id: int | None = None, *entities: str, extra: str = "") -> Answer:
    members = tag("req:ProjectorLockSetId", set_id) if set_id is not None else ""
    if entities:
        members += "<req:Locks>" + "".join(f"<com:PwsProjectorLockRequest>{e}</com:PwsProjectorLockRequest>"
                                           for e in entities) + "</req:Locks>"
    return pws.call("PwsCheckProjectorLocks", members + extra)


def renew(pws: Pws, set_id: int, seconds: int = 600) -> Answer:
    return pws.call("PwsRenewProjectorLocks",
                    tag("req:LockDurationSeconds", seconds) + tag("req:ProjectorLockSetId", set_id))


def release(pws: Pws, set_id: int) -> Answer:
    return pws.call("PwsReleaseProjectorLocks", tag("req:ProjectorLockSetId", set_id))


def pws_fault(answer: Answer) -> etree._Element:
    """The PwsFault of a lock conflict, checked against the served schema."""
    assert answer.status_code == 500, answer.content.decode()
    assert answer.faultcode == "s:Client"
    fault = answer.find("s:Body/s:Fault/detail/com:PwsFault")
    assert fault is not None, answer.content.decode()
    _SCHEMA.assertValid(etree.ElementTree(copy.deepcopy(fault)))
    return fault


def fault_numbers(answer: Answer) -> list[int]:
    return [int(n) for n in pws_fault(answer).xpath("com:Messages/com:PwsMessage/com:ErrorNumber/text()",
                                                    namespaces=NAMESPACES)]


def holders_as_locks_to_steal(answer: Answer, namespace: str = ns.REQUESTS) -> str:
    """The fault's LockHolders, unchanged, as the LocksToSteal member of a request."""
    holders = pws_fault(answer).find("com:LockHolders", NAMESPACES)
    assert holders is not None
    steal = etree.Element(f"{{{namespace}}}LocksToSteal")
    for summary in holders:
        steal.append(copy.deepcopy(summary))
    return etree.tostring(steal).decode()


def engagement_timestamp(pws: Pws, code: str) -> str | None:
    return pws.ok("PwsGetEngagement", f"<sch:EngagementIdentities><com:PwsEngagementRef>{ref('Engagement', code)}"
                  "</com:PwsEngagementRef></sch:EngagementIdentities>").text(
        ".//com:EngagementDetail/com:EngagementTimestamp")


def test_acquire_check_renew_release(two: Two) -> None:
    before = engagement_timestamp(two.me, two.engagement)
    held = acquire(two.me, entity("E", two.engagement), request_id=41)
    set_id = set_of(held)
    assert held.text("s:Body//cs:ResponseId") == "41"
    assert held.text(LOCK + "com:EntityIdentity/com:EntityCode") == two.engagement
    assert int(held.text(LOCK + "com:EntityIdentity/com:EntityUid") or 0) > 2**60
    assert held.text(LOCK + "com:EntityIdentity/com:LockType") == "E"
    assert held.text(LOCK + "com:LockStolenFlag") == "false"
    # The EntityTimestamp is the engagement's own, and taking a lock is not a change to it.
    assert held.text(LOCK + "com:EntityTimestamp") == before == engagement_timestamp(two.me, two.engagement)

    checked = check(two.me, set_id)
    assert checked.status == "Ok"
    assert [e.text for e in checked.root.iterfind(LOCK + "com:EntityIdentity/com:EntityCode", NAMESPACES)] == [
        two.engagement]
    assert renew(two.me, set_id, 3600).status == "Ok"
    released = release(two.me, set_id)
    assert released.status == "Ok"
    assert released.find(".//rs:StolenLock").get(f"{{{ns.XSI}}}nil") == "true"  # type: ignore[union-attr]
    # The other user may lock it now (lock types are read in either case).
    assert set_of(acquire(two.other, entity("e", two.engagement))) != set_id

    again = release(two.me, set_id)
    assert again.status == "OkWithWarnings" and again.error_numbers() == [50476]
    assert f"Lock {set_id} has already been released" in (again.messages()[0]["ErrorText"] or "")
    assert check(two.me, set_id).error_numbers() == [50475]
    assert renew(two.me, set_id).error_numbers() == [50485]


def test_a_second_user_is_blocked_with_a_pws_fault(two: Two) -> None:
    held = acquire(two.other, entity("E", two.engagement))
    set_of(held)
    blocked = acquire(two.me, entity("E", two.engagement), request_id=7)
    assert fault_numbers(blocked) == [54076]
    fault = FAULT
    assert blocked.text(fault + "com:Messages/com:PwsMessage/com:ErrorText") == (
        f"The engagement is locked by User {two.other_login} and may not be updated.")
    assert blocked.faultstring == f"The engagement is locked by User {two.other_login} and may not be updated."
    assert blocked.text(fault + "com:ResponseId") == "7"
    assert blocked.text(fault + "com:ServiceName") == "PwsAcquireProjectorLocksRs"
    assert blocked.text(fault + "com:LockHolderUserIdentity/com:UserReferenceSystemId") == "OTHER"
    assert blocked.text(fault + "com:AllowLocksToBeStolenFlag") == "true"
    summary = fault + "com:LockHolders/com:PwsEntityLockSummary/"
    assert blocked.text(summary + "com:EntityIdentity/com:EntityCode") == two.engagement
    assert blocked.text(summary + "com:EntityIdentity/com:LockType") == "E"
    item = summary + "com:EntityLockSummary/com:PwsEntityLockSummaryItem/"
    assert blocked.text(item + "com:LockCount") == "1"
    assert blocked.text(item + "com:LockHolderUserIdentity/com:UserDisplayName") == f"User {two.other_login}"
    acquired = blocked.text(item + "com:MostRecentLockAcquisitionTimestamp") or ""
    assert acquired.endswith("Z") and abs(datetime.fromisoformat(acquired[:23]).replace(tzinfo=UTC)
                                          - datetime.now(UTC)).total_seconds() < 60

    # A project or role lock: 50469. Check reports the same fault, under its own service name.
    acquire(two.other, entity("P", two.second_project))
    assert fault_numbers(acquire(two.me, entity("P", two.second_project))) == [54076]  # the engagement lock too
    release(two.other, set_of(held))
    assert fault_numbers(acquire(two.me, entity("P", two.second_project))) == [50469]
    acquire(two.other, entity("R", "ENG-1"))
    role_blocked = acquire(two.me, entity("R", uid=two.role_uid))
    assert fault_numbers(role_blocked) == [50469]
    assert role_blocked.text(fault + "com:Messages/com:PwsMessage/com:ErrorText") == (
        "One or more existing locks prevent acquisition of requested lock.")
    checked = check(two.me, None, entity("R", "ENG-1"))
    assert fault_numbers(checked) == [50469]
    assert checked.text(fault + "com:ServiceName") == "PwsCheckProjectorLocksRs"
    assert checked.text(fault + "com:LockHolders/com:PwsEntityLockSummary/com:EntityIdentity/com:LockType") == "R"
    # Checked by the holder, its own locks are no obstacle; the entity comes back with its timestamp.
    free = check(two.other, None, entity("E", two.engagement))
    assert free.status == "Ok" and free.text(LOCK + "com:EntityTimestamp") == engagement_timestamp(
        two.me, two.engagement)


def test_a_lock_is_blocked_by_locks_above_and_below_it(two: Two) -> None:
    acquire(two.other, entity("E", two.engagement))
    # A project or role lock is blocked by the engagement lock above it.
    assert fault_numbers(acquire(two.me, entity("P", two.project))) == [54076]
    assert fault_numbers(acquire(two.me, entity("R", "ENG-1"))) == [54076]

    # A role lock keeps others from locking its project and its engagement, not a sibling project.
    fresh = two.me.engagement(two.me.client("Beta"), "Fresh")
    deep = two.me.project(fresh, "Deep")
    two.me.role(deep, "Tester", external_id="TST-1")
    sibling = two.me.project(fresh, "Sibling")
    set_of(acquire(two.other, entity("R", "TST-1")))
    assert fault_numbers(acquire(two.me, entity("P", deep))) == [50469]
    assert fault_numbers(acquire(two.me, entity("E", fresh))) == [50469]
    assert set_of(acquire(two.me, entity("P", sibling)))
    # And a project lock keeps others off its engagement, not off the other project.
    assert fault_numbers(acquire(two.other, entity("E", fresh))) == [50469]
    assert fault_numbers(acquire(two.other, entity("P", sibling))) == [50469]


def test_locks_expire_by_themselves(two: Two) -> None:
    short = set_of(acquire(two.other, entity("E", two.engagement), seconds=1))
    kept = set_of(acquire(two.me, entity("P", two.me.project(two.me.engagement(two.me.client("B"), "B"), "B")),
                          seconds=1))
    assert renew(two.me, kept, 600).status == "Ok"
    assert fault_numbers(acquire(two.me, entity("E", two.engagement))) == [54076]
    time.sleep(1.5)
    assert set_of(acquire(two.me, entity("E", two.engagement)))
    assert check(two.other, short).error_numbers() == [50475]
    assert renew(two.other, short).error_numbers() == [50475]
    assert check(two.me, kept).status == "Ok"  # renewed before it ran out
    assert release(two.other, short).status == "Ok"  # releasing an expired set is harmless


def test_entity_timestamp_must_match(two: Two) -> None:
    current = engagement_timestamp(two.me, two.engagement)
    assert current
    two.me.ok("PwsSaveProject", f"<sch:Mode>R</sch:Mode><sch:Project>{ref('Project', two.project)}"
              "<com:ProjectName>Renamed</com:ProjectName></sch:Project>")  # a write in the graph: a new version
    stale = acquire(two.me, entity("E", two.engagement), timestamp=current)
    assert stale.status == "Fail" and stale.error_numbers() == [990007]
    assert two.engagement in (stale.messages()[0]["AdditionalErrorText"] or "")
    assert check(two.other, None, entity("E", two.engagement)).status == "Ok"  # the failed request locked nothing
    assert set_of(acquire(two.me, entity("E", two.engagement), timestamp=engagement_timestamp(two.me, two.engagement)))
    # A role's EntityTimestamp is the role's own version, as the lock services return it.
    role_lock = acquire(two.me, entity("R", "ENG-1"))
    version = role_lock.text(LOCK + "com:EntityTimestamp")
    assert acquire(two.me, entity("R", "ENG-1"), timestamp=version).status == "Ok"
    assert acquire(two.me, entity("R", "ENG-1"), timestamp="AAAAAAAAAAE=").error_numbers() == [990007]


@pytest.mark.parametrize("lock_type", ["X", "C", "I", "RT", "CB", ""])
def test_lock_types_other_than_e_p_r_are_10126(two: Two, lock_type: str) -> None:
    answer = acquire(two.me, entity(lock_type, two.engagement))
    assert answer.status == "Fail" and answer.error_numbers() == [10126]
    message = answer.messages()[0]
    assert message["ErrorText"] == "An invalid value was specified for LockType. Valid values are E, P, R."
    assert check(two.me, None, entity(lock_type, two.engagement)).error_numbers() == [10126]


def test_unknown_entities_are_50024(two: Two) -> None:
    assert acquire(two.me, entity("E", "E999999")).error_numbers() == [50024]
    missing = acquire(two.me, entity("P", two.project), entity("P", "NOPE-1"))
    assert missing.error_numbers() == [50024]
    assert missing.messages()[0]["ErrorText"] == "Entity PwsProjectRef was not found."
    assert acquire(two.me, entity("R", uid=2**60 + 10**9)).error_numbers() == [50024]
    assert acquire(two.me, entity("P")).error_numbers() == [50024]
    # Nothing of the failed request was locked.
    assert set_of(acquire(two.other, entity("P", two.project)))


@pytest.mark.parametrize("seconds", [0, -5, 86401])
def test_lock_duration_is_1_to_86400_seconds(two: Two, seconds: int) -> None:
    answer = acquire(two.me, entity("E", two.engagement), seconds=seconds)
    assert answer.status == "Fail" and answer.error_numbers() == [990030]
    assert "LockDurationSeconds must be a number from 1 to 86400" in (answer.messages()[0]["ErrorText"] or "")
    held = set_of(acquire(two.me, entity("E", two.engagement), seconds=86400))
    assert renew(two.me, held, seconds).error_numbers() == [990030]


def test_lock_count_and_required_members(two: Two) -> None:
    missing = acquire(two.me, entity("E", two.engagement), seconds=None)
    assert missing.status_code == 500 and "LockDurationSeconds" in missing.faultstring
    assert acquire(two.me).error_numbers() == [990021]
    too_many = acquire(two.me, *[entity("E", two.engagement)] * 101)
    assert too_many.error_numbers() == [990030]
    assert set_of(acquire(two.me, *[entity("E", two.engagement)] * 100))
    assert check(two.me).error_numbers() == [990021]
    assert two.me.call("PwsReleaseProjectorLocks").status_code == 500


def test_a_view_only_user_cannot_take_locks(two: Two) -> None:
    viewer = Pws(two.soap, two.account, two.account.viewer)
    refused = acquire(viewer, entity("E", two.engagement))
    assert refused.status == "Fail" and refused.error_numbers() == [50046]
    assert check(viewer, None, entity("E", two.engagement)).status == "Ok"


def test_two_step_steal_with_zeep(two: Two) -> None:
    victim_set = set_of(acquire(two.other, entity("E", two.engagement)))
    client = zeep.Client(two.soap.endpoint + "?wsdl", transport=two.soap.zeep_transport())
    request = {"SessionTicket": two.me.ticket, "LockDurationSeconds": 600, "RequestId": 3,
               "Locks": {"PwsProjectorLockRequest": [{"EntityIdentity": {"EntityCode": two.project, "LockType": "P"}}]}}
    with pytest.raises(zeep.exceptions.Fault) as raised:
        client.service.PwsAcquireProjectorLocks(serviceRequest=request)
    assert raised.value.detail is not None
    fault_type = client.get_type(f"{{{ns.COMMON}}}PwsFault")
    fault = fault_type.parse_xmlelement(raised.value.detail[0], client.wsdl.types)
    assert fault.ServiceName == "PwsAcquireProjectorLocksRs" and fault.ResponseId == 3
    assert fault.Messages.PwsMessage[0].ErrorNumber == 54076
    assert fault.AllowLocksToBeStolenFlag is True
    assert fault.LockHolderUserIdentity.UserReferenceSystemId == "OTHER"

    stolen = client.service.PwsAcquireProjectorLocks(serviceRequest={
        **request, "LocksToSteal": {"PwsEntityLockSummary": fault.LockHolders.PwsEntityLockSummary}})
    assert stolen.Status == "Ok"
    lock = stolen.Locks.PwsProjectorLock[0]
    assert lock.LockStolenFlag is True
    assert [i.LockHolderUserIdentity.UserReferenceSystemId for i in lock.StolenLocks.PwsEntityLockSummaryItem] == [
        "OTHER"]

    # The victim's next use of its set names the thief; its release reports the theft.
    for answer in (check(two.other, victim_set), renew(two.other, victim_set)):
        assert fault_numbers(answer) == [990061]
        assert answer.text(FAULT + "com:LockTaker/com:LockStolenByUser/com:UserReferenceSystemId") == "E1"
        assert answer.text(FAULT + "com:LockTaker/com:ProjectorLockSetId") == str(victim_set)
        assert answer.faultstring == f"Your lock has been stolen by User {two.account.admin}."
    extend = acquire(two.other, entity("P", two.second_project), extra=tag("req:ProjectorLockSetId", victim_set))
    assert fault_numbers(extend) == [990061]
    released = release(two.other, victim_set)
    assert released.status == "Ok"
    assert released.text(".//rs:StolenLock/com:LockStolenByUser/com:UserReferenceSystemId") == "E1"
    assert released.text(".//rs:StolenLock/com:ProjectorLockSetId") == str(victim_set)
    # The thief now holds the project; the engagement lock went with the victim's set.
    assert fault_numbers(acquire(two.other, entity("P", two.project))) == [50469]
    assert set_of(acquire(two.other, entity("P", two.second_project)))


@pytest.mark.parametrize("change", ["renewed", "added", "extended", "another holder"])
def test_a_stale_steal_is_refused_and_changes_nothing(two: Two, change: str) -> None:
    victim_set = set_of(acquire(two.other, entity("P", two.project)))
    wanted = (entity("P", two.project), entity("P", two.second_project))
    steal = holders_as_locks_to_steal(acquire(two.me, *wanted))
    time.sleep(0.01)  # lock times have millisecond precision
    if change == "renewed":
        assert renew(two.other, victim_set).status == "Ok"
    elif change == "added":
        assert set_of(acquire(two.other, entity("P", two.project)))  # a second lock of the same holder
    elif change == "extended":
        assert acquire(two.other, entity("P", two.second_project),
                       extra=tag("req:ProjectorLockSetId", victim_set)).status == "Ok"
    else:
        third = f"third@{two.account.code}"
        make_user(two.store, two.account.code, third, ALL)
        assert set_of(acquire(Pws(two.soap, two.account, third), entity("P", two.second_project)))
    refused = acquire(two.me, *wanted, extra=steal)
    assert fault_numbers(refused) == [50469]
    assert "LocksToSteal no longer matches" in (refused.text(FAULT + "com:Messages/com:PwsMessage/"
                                                             "com:AdditionalErrorText") or "")
    assert check(two.other, victim_set).status == "Ok"  # nothing was stolen
    # The new fault's holders, sent back unchanged, do steal.
    stolen = acquire(two.me, *wanted, extra=holders_as_locks_to_steal(refused))
    assert set_of(stolen) and stolen.text(LOCK + "com:LockStolenFlag") == "true"
    assert fault_numbers(check(two.other, victim_set)) == [990061]


def test_a_steal_of_locks_released_meanwhile_is_refused(two: Two) -> None:
    victim_set = set_of(acquire(two.other, entity("E", two.engagement)))
    blocked = acquire(two.me, entity("P", two.project))
    steal = holders_as_locks_to_steal(blocked)
    assert check(two.me, None, entity("P", two.project), extra=steal).status == "Ok"  # the steal would succeed
    release(two.other, victim_set)
    refused = acquire(two.me, entity("P", two.project), extra=steal)
    assert fault_numbers(refused) == [990060]
    assert pws_fault(refused).find("com:LockHolders", NAMESPACES) is not None
    assert not len(pws_fault(refused).find("com:LockHolders", NAMESPACES))  # type: ignore[arg-type]
    assert check(two.me, None, entity("P", two.project), extra=steal).status_code == 500
    # Its empty LockHolders sent back, or no LocksToSteal at all: nothing is in the way.
    assert set_of(acquire(two.me, entity("P", two.project), extra=holders_as_locks_to_steal(refused)))


def test_steal_lock_flag_takes_whatever_is_there(two: Two) -> None:
    victim_set = set_of(acquire(two.other, entity("E", two.engagement)))
    acquire(two.other, entity("P", two.project))
    saved = two.me.call("PwsSaveEngagement", f"<sch:Engagement>{ref('Engagement', two.engagement)}<com:EngagementName>"
                        "Taken</com:EngagementName></sch:Engagement>" + tag("StealLockFlag", True))
    assert saved.status == "Ok", saved.content.decode()
    assert saved.text(".//sch:LockStolenFromUserIdentity/com:UserReferenceSystemId") == "OTHER"
    taker = check(two.other, victim_set)
    assert taker.text(FAULT + "com:LockTaker/com:LockStolenByUser/com:UserReferenceSystemId") == "E1"
    # Only the engagement lock was in the save's way: the project lock's set is untouched.
    assert fault_numbers(acquire(two.me, entity("P", two.project))) == [50469]


def _internal_lock(two: Two, code: str) -> int:
    """A lock as a back-office process holds it, taken by the service itself."""
    with two.store.write() as tx:
        caller = admin.caller_for(tx, two.account.code, two.other_login)
        request = lock_sets.LockRequest("E", Key(code, None), None)
        set_id, _ = lock_sets.acquire(Context(tx, caller, datetime.now(UTC)), 600, [request], locks.NO_ASSERTION,
                                      internal=True)
    return set_id


def test_internal_locks_cannot_be_stolen(two: Two) -> None:
    internal = _internal_lock(two, two.engagement)
    blocked = acquire(two.me, entity("P", two.project))
    assert fault_numbers(blocked) == [54076]
    assert blocked.text(FAULT + "com:AllowLocksToBeStolenFlag") == "false"
    again = acquire(two.me, entity("P", two.project), extra=holders_as_locks_to_steal(blocked))
    assert fault_numbers(again) == [54076] and again.text(FAULT + "com:AllowLocksToBeStolenFlag") == "false"
    flagged = two.me.call("PwsSaveEngagement", f"<sch:Engagement>{ref('Engagement', two.engagement)}"
                          "<com:EngagementName>No</com:EngagementName></sch:Engagement>" + tag("StealLockFlag", True))
    assert fault_numbers(flagged) == [54076]
    assert check(two.other, internal).status == "Ok"  # still held


def test_the_callers_own_locks_never_block_it(two: Two) -> None:
    second_session = Pws(two.soap.another(), two.account)
    first = set_of(acquire(two.me, entity("E", two.engagement)))
    second = set_of(acquire(second_session, entity("E", two.engagement)))
    third = set_of(acquire(second_session, entity("P", two.project)))
    assert len({first, second, third}) == 3
    blocked = acquire(two.other, entity("E", two.engagement))
    assert fault_numbers(blocked) == [54076]
    counts = {(s.findtext("com:EntityIdentity/com:LockType", namespaces=NAMESPACES),
               s.findtext("com:EntityLockSummary/com:PwsEntityLockSummaryItem/com:LockCount", namespaces=NAMESPACES))
              for s in pws_fault(blocked).iterfind("com:LockHolders/com:PwsEntityLockSummary", NAMESPACES)}
    assert counts == {("E", "2"), ("P", "1")}
    # Either session may use either set: they are the same user's.
    assert check(second_session, first).status == "Ok"
    assert release(second_session, first).status == "Ok"


def test_extending_a_set(two: Two) -> None:
    elsewhere = two.me.engagement(two.me.client("Beta"), "Elsewhere")
    set_id = set_of(acquire(two.me, entity("E", two.engagement)))
    extended = acquire(two.me, entity("E", elsewhere), entity("E", two.engagement),
                       extra=tag("req:ProjectorLockSetId", set_id))
    assert set_of(extended) == set_id
    assert len(extended.root.findall(LOCK + "com:EntityIdentity", NAMESPACES)) == 2
    listed = check(two.me, set_id)
    assert sorted(e.text or "" for e in listed.root.iterfind(LOCK + "com:EntityIdentity/com:EntityCode",
                                                             NAMESPACES)) == sorted([two.engagement, elsewhere])
    assert fault_numbers(acquire(two.other, entity("E", elsewhere))) == [54076]
    release(two.me, set_id)
    assert set_of(acquire(two.other, entity("E", elsewhere), entity("E", two.engagement)))
    # A set that is not the caller's cannot be extended.
    assert acquire(two.me, entity("P", two.project), extra=tag("req:ProjectorLockSetId", set_id)).error_numbers() == [
        50475]


def test_another_accounts_or_users_set_is_not_found(two: Two, store: Store) -> None:
    set_id = set_of(acquire(two.me, entity("E", two.engagement)))
    foreign_account = make_account(store)
    stranger = Pws(two.soap, foreign_account)
    for pws in (stranger, two.other):
        assert check(pws, set_id).error_numbers() == [50475]
        assert renew(pws, set_id).error_numbers() == [50475]
        assert release(pws, set_id).error_numbers() == [50475]
    assert check(two.me, set_id).status == "Ok"  # untouched
    # The stranger's account has no such engagement either.
    assert acquire(stranger, entity("E", two.engagement)).error_numbers() == [50024]

"""PwsRequestOrBookRoleHours beyond the hours themselves, over real HTTP: allocation notes
(NotesBuckets), submitting roles to schedulers (SubmitOrder), approving or finalizing them
(FinalizeOrder), and accounts whose weeks start on a Sunday.

Every request is written in production's member order: the order of the wiki's Request Format
(PwsRequestOrBookRoleHours: FinalizeOrder, Mode, ProjectRoles, SubmitOrder; PwsProjectRoleHours:
CandidateResourceClearFlag … LeaveRequestOpenFlag, NotesBuckets, ProjectRoleIdentity, Timestamp;
PwsGetProjectRoles: ExcludeReadNotesFlag, IncludeDeletedRolesFlag, Mode, ProjectIdentities;
PwsGetProject: Mode, ProjectIdentities, ExcludeReadNotesFlag, IncludeDeletedRolesFlag).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from xml.sax.saxutils import escape

import pytest
import zeep
from click.testing import CliRunner
from lxml import etree
from sqlalchemy import select

from openpws.cli import main
from openpws.contract import ns
from openpws.services.permissions import Permission
from openpws.store.schema import project_roles
from openpws.store.transactions import Store
from tests.conftest import AccountFixture, make_account, make_user
from tests.pws import NAMESPACES, Answer, SoapClient
from tests.tree import Pws, ref, tag

ARR = "{" + ns.ARRAYS + "}"
MONDAY = date(2024, 1, 1)
SUNDAY = date(2023, 12, 31)
REQUESTER = frozenset({Permission.WEB_SERVICES, Permission.PROJECTS_VIEW, Permission.HOURS_REQUEST})
SCHEDULER = frozenset({Permission.WEB_SERVICES, Permission.PROJECTS_VIEW, Permission.HOURS_BOOK})


def week(offset: int = 0, first: date = MONDAY) -> date:
    return first + timedelta(weeks=offset)


def at_midnight(day: date, at: str = "T00:00:00Z") -> str:
    return f"{day.isoformat()}{at}"


# --- requests, in production's member order ---------------------------------------------------------

def com(name: str, value: object) -> str:
    return tag(f"com:{name}", value)


def hours_bucket(start: date, weekly: int | None = None, daily: Sequence[int] | None = None) -> str:
    body = com("BucketStartDate", at_midnight(start))
    if daily is not None:
        body += (f'<com:DailyMinutes xmlns:arr="{ns.ARRAYS}">' + "".join(f"<arr:short>{m}</arr:short>" for m in daily)
                 + "</com:DailyMinutes>")
    body += com("SchedulingMode", "D" if daily is not None else "W")
    if weekly is not None:
        body += com("WeeklyMinutes", weekly)
    return f"<com:PwsProjectRoleHoursBucket>{body}</com:PwsProjectRoleHoursBucket>"


def notes_bucket(start: date | None, notes: Sequence[str | None], at: str = "T00:00:00Z") -> str:
    days = "".join('<arr:string xmlns:i="http://www.w3.org/2001/XMLSchema-instance" i:nil="true"/>' if n is None
                   else f"<arr:string>{escape(n)}</arr:string>" for n in notes)
    start_member = com("BucketStartDate", at_midnight(start, at)) if start is not None else ""
    return (f"<com:PwsProjectRoleNotesBucket>{start_member}"
            f'<com:Notes xmlns:arr="{ns.ARRAYS}">{days}</com:Notes></com:PwsProjectRoleNotesBucket>')


def resource(reference_id: str) -> str:
    return f"<com:CandidateResourceIdentity>{com('ResourceReferenceSystemId', reference_id)}</com:CandidateResourceIdentity>"


def role_hours(uid: int, *, candidate: str | None = None, clear: tuple[date, date] | None = None,
               clear_all: bool = False, copy: bool = False, buckets: Sequence[str] = (), leave_open: bool = False,
               notes: Sequence[str] = ()) -> str:
    body = resource(candidate) if candidate is not None else ""
    if clear is not None or clear_all:
        body += com("ClearExistingHoursFlag", True)
    if clear is not None:
        body += com("ClearPeriodEndDate", at_midnight(clear[1])) + com("ClearPeriodStartDate", at_midnight(clear[0]))
    if copy:
        body += com("CopyRequestedHoursFlag", True)
    if buckets:
        body += f"<com:HoursBuckets>{''.join(buckets)}</com:HoursBuckets>"
    if leave_open:
        body += com("LeaveRequestOpenFlag", True)
    if notes:
        body += f"<com:NotesBuckets>{''.join(notes)}</com:NotesBuckets>"
    body += f"<com:ProjectRoleIdentity>{ref('ProjectRole', uid=uid)}</com:ProjectRoleIdentity>"
    return f"<com:PwsProjectRoleHours>{body}</com:PwsProjectRoleHours>"


def submit_order(*, constraint: str | None = "N", effective: date | None = None, schedulers: Sequence[str] = (),
                 notes: str | None = None) -> str:
    body = tag("ConstraintType", constraint) if constraint is not None else ""
    if effective is not None:
        body += tag("EffectiveDate", at_midnight(effective))
    if schedulers:
        body += ("<sch:SchedulerIdentities>" + "".join(
            f"<com:PwsUserRef>{com('UserDisplayName', name)}</com:PwsUserRef>" for name in schedulers)
                 + "</sch:SchedulerIdentities>")
    if notes is not None:
        body += tag("SchedulerNotes", notes)
    return f"<sch:SubmitOrder>{body}</sch:SubmitOrder>"


def finalize_order(*, constraint: str | None = None, effective: date | None = None, notes: str | None = None,
                   send: bool | None = None) -> str:
    body = tag("ConstraintType", constraint) if constraint is not None else ""
    if effective is not None:
        body += tag("EffectiveDate", at_midnight(effective))
    if notes is not None:
        body += tag("ProjectManagerNotes", notes)
    if send is not None:
        body += tag("SendBookingEmailFlag", send) + tag("SendPmBookingEmailFlag", send)
    return f"<sch:FinalizeOrder>{body}</sch:FinalizeOrder>"


def book(pws: Pws, mode: str, *entries: str, finalize: str = "", submit: str = "") -> Answer:
    return pws.call("PwsRequestOrBookRoleHours",
                    f"{finalize}{tag('Mode', mode)}<sch:ProjectRoles>{''.join(entries)}</sch:ProjectRoles>{submit}")


def get_roles(pws: Pws, project: str, mode: str = "R", *, exclude_read: bool = False) -> Answer:
    members = tag("ExcludeReadNotesFlag", True) if exclude_read else ""
    members += (f"{tag('IncludeDeletedRolesFlag', True)}{tag('Mode', mode)}"
                f"<sch:ProjectIdentities><com:PwsProjectRef>{ref('Project', project)}</com:PwsProjectRef>"
                "</sch:ProjectIdentities>")
    answer = pws.call("PwsGetProjectRoles", members)
    assert answer.status == "Ok", answer.content
    return answer


def get_project(pws: Pws, project: str, mode: str = "R", *, exclude_read: bool = False) -> Answer:
    members = (f"{tag('Mode', mode)}<sch:ProjectIdentities><com:PwsProjectRef>{ref('Project', project)}"
               "</com:PwsProjectRef></sch:ProjectIdentities>")
    if exclude_read:
        members += tag("ExcludeReadNotesFlag", True)
    answer = pws.call("PwsGetProject", members)
    assert answer.status == "Ok", answer.content
    return answer


# --- responses ------------------------------------------------------------------------------------

def _text(element: etree._Element, path: str) -> str | None:
    found = element.find(path, NAMESPACES)
    return None if found is None else found.text


@dataclass
class Note:
    text: str | None
    author: str | None
    read: bool
    read_at: str | None


@dataclass
class Seen:
    """A PwsProjectRoleElement as plain values."""

    uid: int
    assigned: bool
    project: str | None
    deleted: bool
    scheduled: float
    hours: list[tuple[str, int]] = field(default_factory=list)
    notes_buckets: dict[str, list[str | None]] = field(default_factory=dict)
    notes: list[Note] = field(default_factory=list)


def roles_of(answer: Answer) -> dict[int, Seen]:
    """Every PwsProjectRoleElement of a response (PwsSaveProjectRole's is its ProjectRole), by Uid."""
    found = {}
    elements = [*answer.root.iterfind(".//com:PwsProjectRoleElement", NAMESPACES),
                *answer.root.iterfind(".//sch:ProjectRole", NAMESPACES)]
    for element in elements:
        seen = Seen(
            uid=int(_text(element, "com:ProjectRoleDetail/com:ProjectRoleUid") or 0),
            assigned=_text(element, "com:AssignedToSchedulersFlag") == "true",
            project=_text(element, "com:ProjectIdentity/com:ProjectCode"),
            deleted=_text(element, "com:DeletedFlag") == "true",
            scheduled=float(_text(element, "com:TotalScheduledMinutes") or "nan"),
        )
        for item in element.iterfind("com:HoursBuckets/com:PwsProjectRoleHoursBucket", NAMESPACES):
            seen.hours.append(((_text(item, "com:BucketStartDate") or "")[:10], int(_text(item, "com:WeeklyMinutes") or 0)))
        for item in element.iterfind("com:NotesBuckets/com:PwsProjectRoleNotesBucket", NAMESPACES):
            seen.notes_buckets[(_text(item, "com:BucketStartDate") or "")[:10]] = [
                day.text if day.get(f"{{{ns.XSI}}}nil") != "true" else None
                for day in item.iterfind(f"com:Notes/{ARR}string", NAMESPACES)]
        for item in element.iterfind("com:Notes/com:PwsProjectNote", NAMESPACES):
            seen.notes.append(Note(_text(item, "com:Note"), _text(item, "com:CreatedByUser/com:UserDisplayName"),
                                   _text(item, "com:ReadFlag") == "true", _text(item, "com:ReadTimestamp")))
        found[seen.uid] = seen
    return found


def results(answer: Answer, member: str) -> list[tuple[int, bool, int | None]] | None:
    """SubmittedProjectRoles or ApprovedProjectRoles: (Uid, OverallocationFlag, minutes) each; None when nil."""
    element = answer.result.find(f"sch:{member}", NAMESPACES)
    assert element is not None, answer.content
    if element.get(f"{{{ns.XSI}}}nil") == "true":
        return None
    minutes = _text
    return [(int(_text(item, "com:ProjectRoleIdentity/com:ProjectRoleUid") or 0),
             _text(item, "com:OverallocationFlag") == "true",
             int(value) if (value := minutes(item, "com:TotalApprovedOrFinalizedMinutes")) is not None else None)
            for item in element]


# --- fixtures -------------------------------------------------------------------------------------

@dataclass
class Tree:
    pws: Pws
    engagement: str
    project: str


def tree_in(soap: SoapClient, account: AccountFixture) -> Tree:
    pws = Pws(soap, account)
    engagement = pws.engagement(pws.client("Acme"), "Rollout")
    return Tree(pws, engagement, pws.project(engagement, "Phase 1"))


@pytest.fixture
def tree(soap: SoapClient, account: AccountFixture) -> Tree:
    return tree_in(soap, account)


@dataclass
class People:
    requester: Pws
    scheduler: Pws
    requester_name: str
    scheduler_name: str


@pytest.fixture
def people(soap: SoapClient, account: AccountFixture, store: Store) -> People:
    requester, scheduler = f"requester@{account.code}", f"scheduler@{account.code}"
    make_user(store, account.code, requester, REQUESTER)
    make_user(store, account.code, scheduler, SCHEDULER)
    return People(Pws(soap, account, requester), Pws(soap, account, scheduler), f"User {requester}",
                  f"User {scheduler}")


def the_role(pws: Pws, project: str, uid: int, mode: str = "R", *, exclude_read: bool = False) -> Seen:
    return roles_of(get_roles(pws, project, mode, exclude_read=exclude_read))[uid]


# --- allocation notes -----------------------------------------------------------------------------

DAYS = ["Monday", "Tuesday", None, "Thursday", "", "Saturday", "Sunday"]


def test_notes_buckets_are_kept_by_week_and_side_and_read_back(tree: Tree) -> None:
    pws, project = tree.pws, tree.project
    uid = pws.role(project, "Noted")
    written = book(pws, "R", role_hours(uid, buckets=[hours_bucket(week(0), 2400)],
                                        notes=[notes_bucket(week(0), DAYS), notes_bucket(week(2), ["x"] * 7)]))
    assert written.status == "Ok", written.content
    # A nil or empty day is a day without a note.
    expected = {str(week(0)): ["Monday", "Tuesday", None, "Thursday", None, "Saturday", "Sunday"],
                str(week(2)): ["x"] * 7}
    assert roles_of(written)[uid].notes_buckets == expected
    assert the_role(pws, project, uid, "R").notes_buckets == expected
    assert roles_of(get_project(pws, project, "R"))[uid].notes_buckets == expected
    assert the_role(pws, project, uid, "A").notes_buckets == {}
    # The booked side has notes of its own; a notes bucket replaces its week's notes, and one with
    # no note at all removes them.
    booked = book(pws, "A", role_hours(uid, buckets=[hours_bucket(week(0), 600)],
                                       notes=[notes_bucket(week(0), ["booked"] + [None] * 6)]))
    assert booked.status == "Ok", booked.content
    assert book(pws, "R", role_hours(uid, notes=[notes_bucket(week(0), ["again"] * 7),
                                                 notes_bucket(week(2), [None, "", " ", None, None, None, None])])
                ).status == "Ok"
    assert the_role(pws, project, uid, "R").notes_buckets == {str(week(0)): ["again"] * 7}
    assert the_role(pws, project, uid, "A").notes_buckets == {str(week(0)): ["booked"] + [None] * 6}
    # Effective: the booked side of a booked role.
    assert the_role(pws, project, uid, "E").notes_buckets == {str(week(0)): ["booked"] + [None] * 6}
    # Allocation notes are not notes a user marks read: ExcludeReadNotesFlag leaves them.
    assert the_role(pws, project, uid, "R", exclude_read=True).notes_buckets == {str(week(0)): ["again"] * 7}


@pytest.mark.parametrize(("bad", "number"), [
    (notes_bucket(week(0) + timedelta(days=1), ["a"] * 7), 990080),        # a Tuesday
    (notes_bucket(week(0), ["a"] * 7, at="T09:00:00Z"), 990080),           # not midnight UTC
    (notes_bucket(None, ["a"] * 7), 990080),                               # no BucketStartDate
    (notes_bucket(week(0), ["a"] * 6), 990080),
    (notes_bucket(week(0), ["a"] * 8), 990080),
    (notes_bucket(week(1), ["a"] * 7) + notes_bucket(week(1), ["b"] * 7), 990080),  # one week twice
    (notes_bucket(week(0), ["a" * 1025] + [None] * 6), 990008),
])
def test_invalid_notes_buckets_are_refused_and_nothing_is_written(tree: Tree, bad: str, number: int) -> None:
    pws, project = tree.pws, tree.project
    uid, other = pws.role(project, "Strict"), pws.role(project, "Neighbour")
    answer = book(pws, "R", role_hours(other, buckets=[hours_bucket(week(0), 60)],
                                       notes=[notes_bucket(week(0), ["fine"] * 7)]),
                  role_hours(uid, notes=[notes_bucket(week(3), ["fine"] * 7), bad]))
    assert answer.status == "Fail" and answer.error_numbers() == [number], answer.content
    assert "ProjectRoles[1] NotesBuckets[" in (answer.messages()[0]["AdditionalErrorText"] or "")
    assert all(not (r.notes_buckets or r.hours) for r in roles_of(get_roles(pws, project)).values())


def test_clearing_and_copying_hours_take_their_notes_along(tree: Tree) -> None:
    pws, project = tree.pws, tree.project
    uid = pws.role(project, "Copied")
    assert book(pws, "R", role_hours(uid, buckets=[hours_bucket(week(0), 600), hours_bucket(week(1), 600)],
                                     notes=[notes_bucket(week(0), ["r0"] * 7), notes_bucket(week(1), ["r1"] * 7)])
                ).status == "Ok"
    assert book(pws, "A", role_hours(uid, notes=[notes_bucket(week(2), ["a2"] * 7)])).status == "Ok"
    copied = book(pws, "A", role_hours(uid, copy=True, notes=[notes_bucket(week(1), ["mine"] * 7)]))
    assert copied.status == "Ok", copied.content
    # Copied first, then the notes sent are written over the copy.
    assert roles_of(copied)[uid].notes_buckets == {str(week(0)): ["r0"] * 7, str(week(1)): ["mine"] * 7,
                                                  str(week(2)): ["a2"] * 7}
    cleared = book(pws, "A", role_hours(uid, clear=(week(1), week(2))))
    assert cleared.status == "Ok", cleared.content
    assert roles_of(cleared)[uid].notes_buckets == {str(week(0)): ["r0"] * 7}
    # Only the Mode's side is cleared.
    assert the_role(pws, project, uid, "R").notes_buckets == {str(week(0)): ["r0"] * 7, str(week(1)): ["r1"] * 7}
    assert book(pws, "R", role_hours(uid, clear_all=True)).status == "Ok"
    assert the_role(pws, project, uid, "R").notes_buckets == {}


def test_deletes_take_hours_notes_and_role_notes_with_them(tree: Tree, people: People) -> None:
    pws, project = tree.pws, tree.project
    uid = pws.role(project, "Deleted")
    assert book(people.requester, "R", role_hours(uid, buckets=[hours_bucket(week(0), 600)],
                                                  notes=[notes_bucket(week(0), ["n"] * 7)]),
                submit=submit_order(notes="Please staff")).status == "Ok"
    role = f"<sch:ProjectRoleIdentity>{ref('ProjectRole', uid=uid)}</sch:ProjectRoleIdentity>"
    assert pws.call("PwsDeleteProjectRole", role).error_numbers() == [54074]
    assert pws.call("PwsDeleteProjectRole", role + tag("ZeroOutHoursFlag", True)).status == "Ok"
    assert pws.call("PwsUndeleteProjectRole", role).status == "Ok"
    # Zeroing out the hours clears their allocation notes; the notes left on the role stay.
    seen = the_role(pws, project, uid)
    assert (seen.hours, seen.notes_buckets, [n.text for n in seen.notes]) == ([], {}, ["Please staff"])
    # A cascade takes everything of the role (a foreign key left behind would fail the delete).
    deleted = pws.call("PwsDeleteProject", tag("CascadeDeleteFlag", True)
                       + f"<sch:ProjectIdentity>{ref('Project', project)}</sch:ProjectIdentity>")
    assert deleted.status == "Ok", deleted.content


# --- submitting, approving and finalizing ---------------------------------------------------------

def test_submitting_assigns_the_roles_to_schedulers_and_leaves_the_requesters_note(
        tree: Tree, people: People, store: Store) -> None:
    project = tree.project
    uid, untouched = tree.pws.role(project, "Developer"), tree.pws.role(project, "Tester")
    order = submit_order(constraint="W", effective=week(0), schedulers=[people.scheduler_name],
                         notes="Please book Pat for the rollout")
    submitted = book(people.requester, "R", role_hours(uid, candidate="E2", buckets=[hours_bucket(week(0), 2400)]),
                     submit=order)
    assert submitted.status == "Ok", submitted.content
    assert results(submitted, "SubmittedProjectRoles") == [(uid, False, None)]
    assert results(submitted, "ApprovedProjectRoles") is None
    seen = roles_of(get_roles(people.requester, project))
    assert (seen[uid].assigned, seen[untouched].assigned) == (True, False)
    assert seen[uid].project == project
    [note] = seen[uid].notes
    # Its author has read what they wrote; nobody else has.
    assert (note.text, note.author, note.read) == ("Please book Pat for the rollout", people.requester_name, True)
    assert note.read_at is not None and note.read_at.startswith(datetime.now(UTC).strftime("%Y-"))
    [theirs] = the_role(people.scheduler, project, uid).notes
    assert (theirs.text, theirs.read, theirs.read_at) == ("Please book Pat for the rollout", False, None)
    # ExcludeReadNotesFlag leaves out the notes the caller has read, in both reads that take it.
    assert the_role(people.requester, project, uid, exclude_read=True).notes == []
    assert len(the_role(people.scheduler, project, uid, exclude_read=True).notes) == 1
    assert roles_of(get_project(people.requester, project, exclude_read=True))[uid].notes == []
    in_project = roles_of(get_project(people.scheduler, project, exclude_read=True))[uid]
    assert in_project.assigned and len(in_project.notes) == 1
    with store.read() as tx:
        assert tx.execute(select(project_roles.c.open_request).where(project_roles.c.uid == uid)).scalar_one()


def test_a_saved_roles_full_detail_leaves_out_read_notes_on_request(tree: Tree) -> None:
    pws, project = tree.pws, tree.project
    uid = pws.role(project, "Saved")
    assert book(pws, "R", role_hours(uid), submit=submit_order(notes="mine")).status == "Ok"

    def saved(exclude: bool) -> Seen:
        # PwsSaveProjectRoleRq's order: Mode, ProjectIdentity, ProjectRole, …, FullDetailFlag, …,
        # ExcludeReadNotesFlag (a later version's member).
        answer = pws.call("PwsSaveProjectRole", f"{tag('Mode', 'R')}<sch:ProjectRole>"
                          f"{ref('ProjectRole', uid=uid)}{com('Description', 'Saved again')}</sch:ProjectRole>"
                          f"{tag('FullDetailFlag', True)}" + (tag("ExcludeReadNotesFlag", True) if exclude else ""))
        assert answer.status == "Ok", answer.content
        return roles_of(answer)[uid]

    assert [(n.text, n.read) for n in saved(False).notes] == [("mine", True)]
    kept = saved(True)
    assert kept.notes == [] and kept.assigned


def test_finalizing_completes_scheduling_and_leaves_the_schedulers_note(tree: Tree, people: People,
                                                                         store: Store) -> None:
    project = tree.project
    uid, direct = tree.pws.role(project, "Architect"), tree.pws.role(project, "Never submitted")
    assert book(people.requester, "R", role_hours(uid, candidate="E2", buckets=[hours_bucket(week(0), 2400)]),
                submit=submit_order(notes="40 hours please")).status == "Ok"
    assert book(people.requester, "R", role_hours(direct, buckets=[hours_bucket(week(0), 960)])).status == "Ok"
    assert book(people.scheduler, "A", role_hours(uid, buckets=[hours_bucket(week(1), 600)])).status == "Ok"
    # A booking without a FinalizeOrder leaves the role with the schedulers.
    assert the_role(people.scheduler, project, uid).assigned
    finalized = book(people.scheduler, "A",
                     role_hours(uid, candidate="E2", buckets=[hours_bucket(week(0), 1800)]),
                     role_hours(direct, candidate="E1", buckets=[hours_bucket(week(0), 480)], leave_open=True),
                     finalize=finalize_order(constraint="N", effective=week(0), notes="Booked 30 of the 40 hours",
                                             send=True))
    assert finalized.status == "Ok", finalized.content
    # Every booked minute of the role: the weeks booked before and now.
    assert results(finalized, "ApprovedProjectRoles") == [(uid, False, 2400), (direct, False, 480)]
    assert results(finalized, "SubmittedProjectRoles") is None
    seen = roles_of(get_roles(people.requester, project, "A"))
    assert not seen[uid].assigned and seen[uid].scheduled == 2400.0
    assert [(n.text, n.author, n.read) for n in seen[uid].notes] == [
        ("40 hours please", people.requester_name, True), ("Booked 30 of the 40 hours", people.scheduler_name, False)]
    assert [n.text for n in seen[direct].notes] == ["Booked 30 of the 40 hours"]
    with store.read() as tx:
        open_requests = dict(tx.execute(select(project_roles.c.uid, project_roles.c.open_request).where(
            project_roles.c.uid.in_([uid, direct]))).all())
    assert open_requests == {uid: False, direct: True}  # LeaveRequestOpenFlag keeps the request open


def test_a_role_named_twice_is_submitted_once(tree: Tree, people: People) -> None:
    uid = tree.pws.role(tree.project, "Twice")
    answer = book(people.requester, "R", role_hours(uid, buckets=[hours_bucket(week(0), 60)]),
                  role_hours(uid, buckets=[hours_bucket(week(1), 60)]), submit=submit_order(notes="once"))
    assert answer.status == "Ok", answer.content
    assert results(answer, "SubmittedProjectRoles") == [(uid, False, None)]
    assert [n.text for n in the_role(tree.pws, tree.project, uid).notes] == ["once"]


def test_wrong_orders_are_refused_and_change_nothing(tree: Tree, people: People, account: AccountFixture,
                                                     soap: SoapClient) -> None:
    project = tree.project
    uid = tree.pws.role(project, "Guarded")
    hours = role_hours(uid, candidate="E2", buckets=[hours_bucket(week(0), 600)])
    viewer = Pws(soap, account, account.viewer)
    refused = [
        (people.scheduler, "A", "", submit_order(), 990040),                       # SubmitOrder is Mode R only
        (people.requester, "R", finalize_order(), "", 990040),                     # FinalizeOrder is Mode A only
        (tree.pws, "A", submit_order().replace("SubmitOrder", "FinalizeOrder"), submit_order(), 990040),
        (people.requester, "R", "", submit_order(constraint="X"), 10126),
        (people.scheduler, "A", finalize_order(constraint="Q"), "", 10126),
        (people.requester, "R", "", submit_order(schedulers=["Nobody At All"]), 50024),
        (people.requester, "A", finalize_order(), "", 50046),                      # a requester cannot book
        (people.scheduler, "R", "", submit_order(), 50046),                        # a scheduler cannot request
        (viewer, "R", "", submit_order(), 50046),
    ]
    for caller, mode, finalize, submit, number in refused:
        answer = book(caller, mode, hours, finalize=finalize, submit=submit)
        assert answer.status == "Fail" and answer.error_numbers() == [number], (mode, finalize, submit, answer.content)
    for mode in "RA":
        seen = the_role(tree.pws, project, uid, mode)
        assert (seen.assigned, seen.hours, seen.notes) == (False, [], []), mode
    flag = book(people.requester, "R", hours, submit=submit_order())
    assert flag.status == "Ok"
    text = book(people.scheduler, "A", hours, submit=submit_order()).messages()[0]
    assert text["ErrorText"] == "SubmitOrder can only be sent with Mode R."


def test_overallocation_counts_the_resources_other_bookings(tree: Tree, people: People) -> None:
    pws, project = tree.pws, tree.project
    busy, more, less = pws.role(project, "Busy"), pws.role(project, "More"), pws.role(project, "Less")
    assert book(people.scheduler, "A", role_hours(busy, candidate="E2", buckets=[hours_bucket(week(0), 2000)])
                ).status == "Ok"
    # 2000 booked elsewhere: 600 more requested is over 40 hours that week, 400 is not.
    submitted = book(people.requester, "R",
                     role_hours(more, candidate="E2", buckets=[hours_bucket(week(0), 600), hours_bucket(week(1), 600)]),
                     role_hours(less, candidate="E2", buckets=[hours_bucket(week(0), 400)]), submit=submit_order())
    assert results(submitted, "SubmittedProjectRoles") == [(more, True, None), (less, False, None)]
    # Booked: the booked resource's weeks count, daily buckets by their total.
    finalized = book(people.scheduler, "A",
                     role_hours(more, candidate="E2", buckets=[hours_bucket(week(0), daily=[100, 100, 100, 0, 0, 0, 0])]),
                     role_hours(less, candidate="E2", buckets=[hours_bucket(week(0), 500)]), finalize=finalize_order())
    assert results(finalized, "ApprovedProjectRoles") == [(more, True, 300), (less, True, 500)]
    # A role nobody is booked on is never overallocated.
    unnamed = pws.role(project, "Unnamed")
    alone = book(people.scheduler, "A", role_hours(unnamed, buckets=[hours_bucket(week(0), 10080)]),
                 finalize=finalize_order())
    assert results(alone, "ApprovedProjectRoles") == [(unnamed, False, 10080)]


def test_a_note_over_1024_characters_is_cut_with_warning_165(tree: Tree, people: People) -> None:
    uid = tree.pws.role(tree.project, "Verbose")
    long_note = "é" * 1500
    answer = book(people.requester, "R", role_hours(uid, buckets=[hours_bucket(week(0), 60)]),
                  submit=submit_order(notes=long_note))
    assert answer.status == "OkWithWarnings" and answer.error_numbers() == [165], answer.content
    assert results(answer, "SubmittedProjectRoles") == [(uid, False, None)]
    [note] = the_role(tree.pws, tree.project, uid).notes
    assert note.text == long_note[:1024]
    # An empty note leaves none.
    assert book(people.requester, "R", role_hours(uid), submit=submit_order(notes="  ")).status == "Ok"
    assert len(the_role(tree.pws, tree.project, uid).notes) == 1


def test_the_wikis_order_examples_work_as_written(tree: Tree, people: People, soap: SoapClient) -> None:
    """The usage examples of PwsProjectRoleSubmitOrder, PwsProjectRoleApproveFinalizeOrder and
    PwsProjectRoleNotesBucket, verbatim, in an envelope with the namespaces of the service's own
    example (week of 2020-01-06, a Monday)."""
    uid = tree.pws.role(tree.project, "Documented")
    notes = """                 <com:NotesBuckets>
                     <com:PwsProjectRoleNotesBucket>
                        <com:BucketStartDate>2020-01-06T00:00:00.000Z</com:BucketStartDate>
                        <com:Notes>
                           <arr:string>Monday</arr:string>
                           <arr:string>Tuesday</arr:string>
                           <arr:string>Wednesday</arr:string>
                           <arr:string>Thursday</arr:string>
                           <arr:string>Friday</arr:string>
                           <arr:string>Saturday</arr:string>
                           <arr:string>Sunday</arr:string>
                        </com:Notes>
                     </com:PwsProjectRoleNotesBucket>
                  </com:NotesBuckets>"""
    submit = """            <sch:SubmitOrder>
               <sch:ConstraintType>N</sch:ConstraintType>
               <sch:EffectiveDate>2020-01-06T00:00:00.000Z</sch:EffectiveDate>
               <sch:SchedulerNotes>Submitting Hours for Review</sch:SchedulerNotes>
            </sch:SubmitOrder>"""
    finalize = """            <sch:FinalizeOrder>
               <sch:ConstraintType>N</sch:ConstraintType>
               <sch:EffectiveDate>2020-01-06T00:00:00.000Z</sch:EffectiveDate>
               <sch:ProjectManagerNotes>Scheduling Hours</sch:ProjectManagerNotes>
               <sch:SendBookingEmailFlag>true</sch:SendBookingEmailFlag>
               <sch:SendPmBookingEmailFlag>false</sch:SendPmBookingEmailFlag>
            </sch:FinalizeOrder>"""

    def send(ticket: str, before: str, mode: str, after: str) -> Answer:
        body = (f'<soapenv:Envelope xmlns:soapenv="{ns.SOAP_ENV}" xmlns:pws="{ns.PWS}" xmlns:req="{ns.REQUESTS}" '
                f'xmlns:sch="{ns.SCHEDULING}" xmlns:com="{ns.COMMON}" xmlns:arr="{ns.ARRAYS}"><soapenv:Header/>'
                f"<soapenv:Body><pws:PwsRequestOrBookRoleHours><pws:serviceRequest>"
                f"<req:RequestId>1</req:RequestId><req:SessionTicket>{ticket}</req:SessionTicket>{before}"
                f"<sch:Mode>{mode}</sch:Mode><sch:ProjectRoles><com:PwsProjectRoleHours>"
                f"<com:HoursBuckets>{hours_bucket(date(2020, 1, 6), 2400)}</com:HoursBuckets>{notes}"
                f"<com:ProjectRoleIdentity><com:ProjectRoleUid>{uid}</com:ProjectRoleUid></com:ProjectRoleIdentity>"
                f"</com:PwsProjectRoleHours></sch:ProjectRoles>{after}</pws:serviceRequest>"
                "</pws:PwsRequestOrBookRoleHours></soapenv:Body></soapenv:Envelope>")
        return soap.post(body.encode())

    requested = send(people.requester.ticket, "", "R", submit)
    assert requested.status == "Ok", requested.content
    assert results(requested, "SubmittedProjectRoles") == [(uid, False, None)]
    booked = send(people.scheduler.ticket, finalize, "A", "")
    assert booked.status == "Ok", booked.content
    assert results(booked, "ApprovedProjectRoles") == [(uid, False, 2400)]
    for mode in "RA":
        seen = the_role(tree.pws, tree.project, uid, mode)
        assert seen.notes_buckets == {"2020-01-06": ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday",
                                                     "Saturday", "Sunday"]}
    assert [n.text for n in seen.notes] == ["Submitting Hours for Review", "Scheduling Hours"]
    assert not seen.assigned


def test_zeep_submits_with_notes_and_reads_the_workflow_back(soap: SoapClient, tree: Tree, people: People,
                                                            account: AccountFixture) -> None:
    client = zeep.Client(soap.endpoint + "?wsdl", transport=soap.zeep_transport())
    service = client.service
    uid = tree.pws.role(tree.project, "Zeep role")
    ticket = service.PwsAuthenticate(serviceRequest={
        "AccountCode": account.code, "UserName": f"requester@{account.code}",
        "Password": account.password}).SessionTicket
    start = datetime(2024, 1, 8, tzinfo=UTC)
    answer = service.PwsRequestOrBookRoleHours(serviceRequest={
        "SessionTicket": ticket, "Mode": "R",
        "ProjectRoles": {"PwsProjectRoleHours": [{
            "ProjectRoleIdentity": {"ProjectRoleUid": uid},
            "HoursBuckets": {"PwsProjectRoleHoursBucket": [{"BucketStartDate": start, "SchedulingMode": "W",
                                                            "WeeklyMinutes": 1200}]},
            # zeep leaves None items out of an array: a day without a note is sent empty.
            "NotesBuckets": {"PwsProjectRoleNotesBucket": [{"BucketStartDate": start,
                                                            "Notes": {"string": ["kick-off"] + [""] * 6}}]}}]},
        "SubmitOrder": {"ConstraintType": "N", "SchedulerNotes": "From zeep",
                        "SchedulerIdentities": {"PwsUserRef": [{"UserDisplayName": people.scheduler_name}]}}})
    assert answer.Status == "Ok", answer.Messages
    [submitted] = answer.SubmittedProjectRoles.PwsProjectRoleSubmissionResult
    assert submitted.ProjectRoleIdentity.ProjectRoleUid == uid and submitted.OverallocationFlag is False
    assert not (answer.ApprovedProjectRoles and answer.ApprovedProjectRoles.PwsProjectRoleApprovalResult)
    got = service.PwsGetProjectRoles(serviceRequest={
        "SessionTicket": ticket, "Mode": "R", "ProjectIdentities": {"PwsProjectRef": [{"ProjectCode": tree.project}]}})
    [element] = [e for e in got.ProjectProjectRoles.PwsProjectProjectRoles[0].ProjectRoles.PwsProjectRoleElement
                 if e.ProjectRoleDetail.ProjectRoleUid == uid]
    assert element.AssignedToSchedulersFlag is True and element.ProjectIdentity.ProjectCode == tree.project
    [note] = element.Notes.PwsProjectNote
    assert (note.Note, note.ReadFlag, note.CreatedByUser.UserDisplayName) == ("From zeep", True,
                                                                             f"User requester@{account.code}")
    [notes] = element.NotesBuckets.PwsProjectRoleNotesBucket
    assert notes.BucketStartDate.date() == start.date() and list(notes.Notes.string) == ["kick-off"] + [None] * 6


# --- the account's first day of the week ----------------------------------------------------------

def test_a_sunday_week_account_books_sunday_to_saturday_weeks(soap: SoapClient, store: Store) -> None:
    sunday_account = make_account(store, "sunday", week_start=6)
    tree = tree_in(soap, sunday_account)
    pws = tree.pws
    uid = pws.role(tree.project, "Weekly")
    daily = [0, 480, 480, 480, 480, 240, 0]  # from Sunday: Monday to Friday
    booked = book(pws, "R", role_hours(uid, buckets=[hours_bucket(week(0, SUNDAY), daily=daily),
                                                     hours_bucket(week(1, SUNDAY), 2400)],
                                       notes=[notes_bucket(week(0, SUNDAY), [None, "Mon", None, None, None, "Fri",
                                                                             None])]))
    assert booked.status == "Ok", booked.content
    seen = the_role(pws, tree.project, uid)
    assert seen.hours == [(str(week(0, SUNDAY)), 2160), (str(week(1, SUNDAY)), 2400)]
    assert seen.notes_buckets == {str(week(0, SUNDAY)): [None, "Mon", None, None, None, "Fri", None]}
    answer = get_roles(pws, tree.project)
    assert [int(s.text or 0) for s in answer.root.iterfind(f".//com:DailyMinutes/{ARR}short", NAMESPACES)] == daily
    # A Monday bucket is refused, its message naming the account's first day.
    for bad in (role_hours(uid, buckets=[hours_bucket(MONDAY, 600)]),
                role_hours(uid, notes=[notes_bucket(MONDAY, ["x"] * 7)])):
        refused = book(pws, "R", bad)
        assert refused.status == "Fail" and refused.error_numbers() in ([990019], [990080]), refused.content
        text = refused.messages()[0]["ErrorText"] or ""
        assert "2024-01-01T00:00:00Z is a Monday" in text and "first day of the week, Sunday," in text, text
    assert the_role(pws, tree.project, uid).hours == [(str(week(0, SUNDAY)), 2160), (str(week(1, SUNDAY)), 2400)]


def test_a_monday_week_account_refuses_sunday_buckets_naming_monday(tree: Tree) -> None:
    uid = tree.pws.role(tree.project, "Monday weeks")
    refused = book(tree.pws, "R", role_hours(uid, buckets=[hours_bucket(SUNDAY, 600)]))
    assert refused.error_numbers() == [990019]
    text = refused.messages()[0]["ErrorText"] or ""
    assert "is a Sunday" in text and "first day of the week, Monday," in text, text


def test_account_create_takes_the_first_day_of_the_week(database_url: str, store: Store, soap: SoapClient) -> None:
    runner = CliRunner()
    code = f"cli-{datetime.now(UTC):%H%M%S%f}"
    created = runner.invoke(main, ["account", "create", code, "--week-starts", "Sunday", "--database", database_url])
    assert created.exit_code == 0, created.output
    assert "its weeks start on Sunday" in created.output
    plain = runner.invoke(main, ["account", "create", code + "-m", "--database", database_url])
    assert plain.exit_code == 0 and "its weeks start on Monday" in plain.output, plain.output
    wrong = runner.invoke(main, ["account", "create", code + "-x", "--week-starts", "funday", "--database",
                                 database_url])
    assert wrong.exit_code == 2 and "funday" in wrong.output
    for account_code, good, bad in ((code, SUNDAY, MONDAY), (code + "-m", MONDAY, SUNDAY)):
        make_user(store, account_code, f"pm@{account_code}", frozenset(Permission))
        account = AccountFixture(account_code, f"pm@{account_code}", "", "")
        tree = tree_in(soap, account)
        uid = tree.pws.role(tree.project, "Booked")
        assert book(tree.pws, "A", role_hours(uid, buckets=[hours_bucket(good, 600)])).status == "Ok"
        assert book(tree.pws, "A", role_hours(uid, buckets=[hours_bucket(bad, 600)])).error_numbers() == [990019]

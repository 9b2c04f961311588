"""PwsGetProject, PwsGetProjectList and PwsSaveProject over real HTTP, on both stores."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from xml.sax.saxutils import escape

import pytest
import zeep
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from openpws.contract import ns
from openpws.services.permissions import Permission
from openpws.store import accounts as account_store
from openpws.store import engagements as engagement_store
from openpws.store import projects as project_store
from openpws.store import roles as role_store
from openpws.store.counters import next_rowversion, next_uid
from openpws.store.transactions import Store
from tests.conftest import AccountFixture, make_account, make_user
from tests.pws import Answer, SoapClient
from tests.tree import Pws, in_order, ref, tag

DETAIL = ".//com:ProjectDetail/com:"
FULL = ".//sch:Project/com:ProjectDetail/com:"  # the Project element of a PwsSaveProject response
NIL = f"{{{ns.XSI}}}nil"


class Projects(Pws):
    """One logged-in user of an account, speaking the project services."""

    def save(self, detail: str, extra: str = "", *, mode: str | None = "R", full: bool = True) -> Answer:
        """PwsSaveProject of ``detail`` (PwsProjectDetail members) with ``extra`` (more request
        members), each put in the contract's order."""
        members = (tag("Mode", mode) if mode is not None else "") + (tag("FullDetailFlag", True) if full else "")
        members += f"<sch:Project>{in_order('PwsProjectDetail', detail)}</sch:Project>{extra}"
        return self.call("PwsSaveProject", in_order("PwsSaveProjectRq", members))

    def get(self, *refs: str, mode: str = "R", extra: str = "") -> Answer:
        body = "".join(f"<com:PwsProjectRef>{r}</com:PwsProjectRef>" for r in refs)
        return self.call("PwsGetProject", in_order("PwsGetProjectRq", f"{tag('Mode', mode)}<sch:ProjectIdentities>"
                                                   f"{body}</sch:ProjectIdentities>{extra}"))

    def list(self, members: str = "") -> Answer:
        return self.call("PwsGetProjectList", members)

    def tree(self, project_name: str = "Project", engagement_name: str = "Engagement") -> tuple[str, str]:
        """A client, an engagement and one project: (engagement code, project code)."""
        engagement = self.engagement(self.client("Client"), engagement_name)
        return engagement, self.project(engagement, project_name)

    def engagement_timestamp(self, engagement: str) -> str | None:
        got = self.ok("PwsGetEngagement", "<sch:EngagementIdentities><com:PwsEngagementRef>"
                      f"{ref('Engagement', engagement)}</com:PwsEngagementRef></sch:EngagementIdentities>")
        return got.text(".//com:EngagementDetail/com:EngagementTimestamp")


def codes(answer: Answer) -> list[str]:
    return [e.text or "" for e in answer.root.findall(".//sch:Projects/com:PwsProjectSummary/com:ProjectCode",
                                                      {"sch": ns.SCHEDULING, "com": ns.COMMON})]


def detail_codes(answer: Answer) -> list[str]:
    return [e.text or "" for e in answer.root.findall(
        ".//sch:Projects/com:PwsProjectElement/com:ProjectDetail/com:ProjectCode", {"sch": ns.SCHEDULING,
                                                                                   "com": ns.COMMON})]


def project(code: str, engagement: str | None = None) -> str:
    """A detail naming a project, optionally with its engagement."""
    body = ref("Project", code)
    if engagement is not None:
        body += f"<com:EngagementIdentity>{ref('Engagement', engagement)}</com:EngagementIdentity>"
    return body


def new(engagement: str, name: str, extra: str = "") -> str:
    """A detail for an insert."""
    return (f"<com:EngagementIdentity>{ref('Engagement', engagement)}</com:EngagementIdentity>"
            f"<com:ProjectName>{escape(name)}</com:ProjectName>{extra}")


def failed(answer: Answer) -> list[int]:
    assert answer.status == "Fail", answer.content.decode()
    return answer.error_numbers()


def uid_of(answer: Answer) -> str:
    return answer.text(".//sch:ProjectIdentity/com:ProjectUid") or ""


@pytest.fixture
def pws(soap: SoapClient, account: AccountFixture) -> Projects:
    return Projects(soap, account)


def test_insert_generates_codes_per_engagement(pws: Projects) -> None:
    client = pws.client("Acme")
    first, second = pws.engagement(client, "First"), pws.engagement(client, "Second")
    assert pws.project(first, "A") == f"{first}-001"
    assert pws.project(first, "B") == f"{first}-002"
    assert pws.project(second, "C") == f"{second}-001"
    # A code another engagement's project already holds is skipped.
    taken = pws.save(new(second, "Squatter", tag("com:NewProjectCode", f"{first}-003")))
    assert taken.status == "Ok" and taken.text(".//sch:ProjectIdentity/com:ProjectCode") == f"{first}-003"
    assert pws.project(first, "D") == f"{first}-004"


def test_insert_with_a_given_code_and_duplicates(pws: Projects) -> None:
    engagement = pws.engagement(pws.client("Acme"), "Eng")
    given = pws.save(f"{ref('Project', 'WS-1')}{new(engagement, 'Given')}")
    assert given.status == "Ok", given.content
    assert given.text(".//sch:ProjectIdentity/com:ProjectCode") == "WS-1"
    assert int(uid_of(given)) > 2**60
    assert given.text(FULL + "ProjectName") == "Given"
    via_new_code = pws.save(new(engagement, "Other", tag("com:NewProjectCode", "WS-2")))
    assert via_new_code.text(".//sch:ProjectIdentity/com:ProjectCode") == "WS-2"
    assert failed(pws.save(new(engagement, "Clash", tag("com:NewProjectCode", "ws-1")))) == [990005]
    assert failed(pws.save(f"{project('WS-2')}{tag('com:NewProjectCode', 'WS-1')}")) == [990005]
    assert detail_codes(pws.get(ref("Project", "WS-1"), ref("Project", "WS-2"))) == ["WS-1", "WS-2"]


def test_rename_keeps_everything_else(pws: Projects) -> None:
    _, code = pws.tree()
    described = pws.save(f"{project(code)}{tag('com:Description', 'Kept')}")
    uid = uid_of(described)
    renamed = pws.save(f"{project(code)}{tag('com:NewProjectCode', 'RENAMED-1')}")
    assert renamed.status == "Ok"
    assert renamed.text(".//sch:ProjectIdentity/com:ProjectCode") == "RENAMED-1"
    assert uid_of(renamed) == uid
    got = pws.get(ref("Project", uid=uid))
    assert got.text(DETAIL + "ProjectName") == "Project"
    assert got.text(DETAIL + "Description") == "Kept"
    assert got.text(DETAIL + "ProjectCode") == "RENAMED-1"
    assert pws.get(ref("Project", code)).error_numbers() == [105]


def test_projects_cannot_move_between_engagements(pws: Projects) -> None:
    engagement, code = pws.tree()
    other = pws.engagement(pws.client("Elsewhere"), "Other")
    assert failed(pws.save(f"{project(code, other)}{tag('com:ProjectName', 'Moved')}")) == [990015]
    same = pws.save(f"{project(code, engagement)}{tag('com:ProjectName', 'Renamed')}")
    assert same.status == "Ok"
    got = pws.get(ref("Project", code))
    assert got.text(DETAIL + "EngagementIdentity/com:EngagementCode") == engagement
    assert got.text(DETAIL + "ProjectName") == "Renamed"


def test_insert_requires_an_engagement_and_a_name(pws: Projects) -> None:
    engagement = pws.engagement(pws.client("Acme"), "Eng")
    assert failed(pws.save(tag("com:ProjectName", "Orphan"))) == [990004]
    nameless = pws.save(f"<com:EngagementIdentity>{ref('Engagement', engagement)}</com:EngagementIdentity>")
    assert failed(nameless) == [990004]
    assert "ProjectName" in (nameless.messages()[0]["ErrorText"] or "")
    assert failed(pws.save(new(engagement, "   "))) == [990004]
    assert failed(pws.save(new("NO-SUCH-ENG", "Lost"))) == [54061]
    assert failed(pws.save("<com:EngagementIdentity/><com:ProjectName>x</com:ProjectName>")) == [54059]
    assert failed(pws.save(f"{ref('Project', uid=2**60 + 999_999)}{new(engagement, 'Ghost')}")) == [50024]
    assert codes(pws.list()) == []


def test_no_new_project_under_an_inactive_client(pws: Projects) -> None:
    client = pws.client("Sleepy")
    engagement = pws.engagement(client, "Eng")
    code = pws.project(engagement, "Before")
    pws.ok("PwsSaveClient", f"<req:Client>{ref('Client', client)}<com:InactiveFlag>true</com:InactiveFlag></req:Client>")
    refused = pws.save(new(engagement, "After"))
    assert failed(refused) == [990013]
    assert client in (refused.messages()[0]["ErrorText"] or "")
    # Existing projects stay editable.
    assert pws.save(f"{project(code)}{tag('com:ProjectName', 'Still mine')}").status == "Ok"
    assert codes(pws.list()) == [code]


def test_mode_is_required_and_checked(pws: Projects) -> None:
    engagement, code = pws.tree()
    assert failed(pws.save(new(engagement, "Bad"), mode="X")) == [10126]
    assert failed(pws.get(ref("Project", code), mode="Q")) == [10126]
    missing = pws.save(new(engagement, "No mode"), mode=None)
    assert missing.status_code == 500 and missing.faultcode == "s:Client"
    assert "Mode" in missing.faultstring
    for mode in ("R", "A", "E", "e"):
        assert pws.get(ref("Project", code), mode=mode).status == "Ok"
    assert codes(pws.list()) == [code]


def test_get_limits_missing_refs_and_order(pws: Projects) -> None:
    engagement, first = pws.tree()
    second = pws.project(engagement, "Second")
    uid = pws.get(ref("Project", second)).text(DETAIL + "ProjectUid")
    answer = pws.get(ref("Project", uid=uid), ref("Project", "NOT-THERE"), ref("Project", first),
                     ref("Project", uid=2**60 + 123_456))
    assert answer.status == "OkWithWarnings" and answer.error_numbers() == [105]
    additional = answer.messages()[0]["AdditionalErrorText"] or ""
    assert "ProjectCode=NOT-THERE" in additional and f"ProjectUid={2**60 + 123_456}" in additional
    assert detail_codes(answer) == [second, first]
    assert failed(pws.get()) == [990011]
    assert failed(pws.get(*[ref("Project", first)] * 101)) == [990012]
    assert pws.get(*[ref("Project", first)] * 100).status == "Ok"


def test_both_keys_must_name_the_same_project(pws: Projects) -> None:
    engagement, first = pws.tree()
    second = pws.project(engagement, "Second")
    uid = pws.get(ref("Project", second)).text(DETAIL + "ProjectUid")
    assert pws.get(ref("Project", first, uid)).error_numbers() == [105]
    assert pws.get(ref("Project", second, uid)).status == "Ok"
    assert failed(pws.save(f"{ref('Project', first, uid)}{tag('com:ProjectName', 'Which?')}")) == [50024]
    names = [pws.get(ref("Project", c)).text(DETAIL + "ProjectName") for c in (first, second)]
    assert names == ["Project", "Second"]


def test_detail_members_round_trip_and_clear(pws: Projects) -> None:
    _, code = pws.tree()
    saved = pws.save(
        f"{project(code)}{tag('com:OpenDate', '2024-01-02T00:00:00Z')}{tag('com:CloseDate', '2024-06-30T00:00:00Z')}"
        f"{tag('com:Description', 'About it')}{tag('com:PercentLikelihood', 75.5)}"
        "<com:ProjectStageIdentity><com:ProjectStageShortName>OH</com:ProjectStageShortName></com:ProjectStageIdentity>"
        "<com:ManagerIdentity><com:UserReferenceSystemId>E1</com:UserReferenceSystemId></com:ManagerIdentity>"
        # Documented members that are not modelled are accepted and ignored.
        f"{tag('com:MinutesPerDay', 480)}{tag('com:OpenForTimeFlag', True)}{tag('com:WorkspaceMessages', 'hi')}")
    assert saved.status == "Ok", saved.content
    got = pws.get(ref("Project", code))
    assert got.text(DETAIL + "OpenDate") == "2024-01-02T00:00:00.0000000Z"
    assert got.text(DETAIL + "CloseDate") == "2024-06-30T00:00:00.0000000Z"
    assert got.text(DETAIL + "Description") == "About it"
    assert float(got.text(DETAIL + "PercentLikelihood") or "nan") == 75.5
    assert got.text(DETAIL + "ProjectStageIdentity/com:ProjectStageName") == "On Hold"
    assert got.text(DETAIL + "ManagerIdentity/com:UserDisplayName") == f"User {pws.account.admin}"
    assert got.text(".//com:PwsProjectElement/com:Manager/com:UserReferenceSystemId") == "E1"
    assert got.text(".//com:PwsProjectElement/com:Client/com:ClientNumber") == "C000001"
    assert got.text(".//com:PwsProjectElement/com:BillableFlag") == "true"
    minutes = got.find(DETAIL + "MinutesPerDay")
    assert minutes is not None and minutes.get(NIL) == "true"
    cleared = pws.save(project(code), tag("CloseDateClearFlag", True) + tag("DescriptionClearFlag", True)
                       + tag("PercentLikelihoodClearFlag", True))
    assert cleared.status == "Ok"
    after = pws.get(ref("Project", code))
    for member in ("CloseDate", "Description", "PercentLikelihood"):
        element = after.find(DETAIL + member)
        assert element is not None and element.get(NIL) == "true", member
    assert after.text(DETAIL + "OpenDate") == "2024-01-02T00:00:00.0000000Z"
    assert after.text(DETAIL + "ProjectStageIdentity/com:ProjectStageName") == "On Hold"


def test_bad_detail_values_change_nothing(pws: Projects) -> None:
    engagement, code = pws.tree()
    pws.ok("PwsSaveProject", tag("Mode", "R") + f"<sch:Project>{project(code)}"
           f"{tag('com:OpenDate', '2024-03-01T00:00:00Z')}</sch:Project>")
    assert failed(pws.save(f"{project(code)}{tag('com:CloseDate', '2024-02-28T00:00:00Z')}")) == [990020]
    assert failed(pws.save(new(engagement, "Backwards", tag("com:OpenDate", "2024-03-02T00:00:00Z")
                                + tag("com:CloseDate", "2024-03-01T00:00:00Z")))) == [990020]
    assert failed(pws.save(f"{project(code)}{tag('com:PercentLikelihood', 100.5)}")) == [990030]
    assert failed(pws.save(f"{project(code)}{tag('com:PercentLikelihood', 'NaN')}")) == [990030]
    assert failed(pws.save(f"{project(code)}{tag('com:ProjectName', 'x' * 256)}")) == [990008]
    assert failed(pws.save(f"{project(code)}{tag('com:Description', 'x' * 4001)}")) == [990008]
    assert failed(pws.save(new(engagement, "Long code", tag("com:NewProjectCode", "C" * 25)))) == [990008]
    assert failed(pws.save(f"{project(code)}{tag('com:ProjectName', ' ')}")) == [990021]
    unknown_stage = "<com:ProjectStageIdentity><com:ProjectStageName>Nope</com:ProjectStageName></com:ProjectStageIdentity>"
    assert failed(pws.save(f"{project(code)}{unknown_stage}")) == [50024]
    unknown_manager = "<com:ManagerIdentity><com:UserDisplayName>Nobody</com:UserDisplayName></com:ManagerIdentity>"
    assert failed(pws.save(f"{project(code)}{unknown_manager}")) == [50024]
    got = pws.get(ref("Project", code))
    assert got.text(DETAIL + "ProjectName") == "Project"
    close = got.find(DETAIL + "CloseDate")
    assert close is not None and close.get(NIL) == "true"
    assert codes(pws.list()) == [code]


def test_list_query_walks_up_the_client_tree(pws: Projects) -> None:
    top = pws.client("Globex Holdings")
    middle = pws.client("Division", parent=top)
    leaf = pws.client("Unit", parent=middle)
    deep = pws.engagement(leaf, "Plain")
    deep_project = pws.project(deep, "Alpha")
    moonshot = pws.engagement(pws.client("Other Corp"), "Moonshot Programme")
    moon_projects = [pws.project(moonshot, "One"), pws.project(moonshot, "Two")]
    plain = pws.engagement(pws.client("Third"), "Ordinary")
    named = pws.project(plain, "Mentions globex in its name")
    pws.project(plain, "Unrelated")
    assert codes(pws.list(tag("QueryString", "GLOBEX"))) == sorted([deep_project, named])
    assert codes(pws.list(tag("QueryString", "moonshot"))) == moon_projects
    assert codes(pws.list(tag("QueryString", "division"))) == [deep_project]
    assert codes(pws.list(tag("QueryString", deep))) == [deep_project]
    assert codes(pws.list(tag("QueryString", "alph"))) == [deep_project]
    assert codes(pws.list(tag("QueryString", "100%_none"))) == []
    override = pws.list(f"<sch:ProjectIdentity>{ref('Project', moon_projects[1])}</sch:ProjectIdentity>"
                        f"{tag('QueryString', 'globex')}")
    assert codes(override) == [moon_projects[1]]
    summary = override.find(".//com:PwsProjectSummary")
    assert summary is not None
    assert summary.findtext(f"{{{ns.COMMON}}}ProjectName") == "Two"
    assert summary.findtext(f"{{{ns.COMMON}}}EngagementIdentity/{{{ns.COMMON}}}EngagementCode") == moonshot


def test_closed_projects_are_hidden_unless_asked_for(pws: Projects) -> None:
    engagement, open_one = pws.tree()
    closed = pws.project(engagement, "Finished", "<com:ProjectStageIdentity><com:ProjectStageName>Closed"
                         "</com:ProjectStageName></com:ProjectStageIdentity>")
    assert codes(pws.list()) == [open_one]
    assert codes(pws.list(tag("QueryString", "finished"))) == []
    assert codes(pws.list(tag("IncludeClosedFlag", True))) == [open_one, closed]
    assert codes(pws.list(tag("IncludeClosedFlag", True) + tag("QueryString", "finished"))) == [closed]
    # A get names the project, so a closed one is returned as any other.
    assert detail_codes(pws.get(ref("Project", closed))) == [closed]


def test_list_row_limit_warns(pws: Projects) -> None:
    engagement, first = pws.tree()
    others = [pws.project(engagement, name) for name in ("B", "C")]
    capped = pws.list(tag("MaxRowsToReturn", 2))
    assert capped.status == "OkWithWarnings" and capped.error_numbers() == [104]
    assert codes(capped) == [first, others[0]]
    exact = pws.list(tag("MaxRowsToReturn", 3))
    assert exact.status == "Ok" and codes(exact) == [first, *others]
    assert codes(pws.list(tag("MaxRowsToReturn", 0))) == [first, *others]


def test_list_last_updated_since(pws: Projects) -> None:
    engagement, old = pws.tree()
    stamp = pws.get(ref("Project", old)).text(".//cs:ServerTimestampUtc")
    fresh = pws.project(engagement, "Fresh")
    assert codes(pws.list(tag("LastUpdatedSinceTimestamp", stamp))) == [fresh]
    pws.ok("PwsSaveProject", tag("Mode", "R") + f"<sch:Project>{project(old)}</sch:Project>")
    assert codes(pws.list(tag("LastUpdatedSinceTimestamp", stamp))) == [old, fresh]
    assert codes(pws.list(tag("LastUpdatedSinceTimestamp", "2999-01-01T00:00:00Z"))) == []


def test_stale_timestamps_change_nothing(pws: Projects) -> None:
    engagement, code = pws.tree()
    first = pws.get(ref("Project", code))
    project_stamp = first.text(DETAIL + "ProjectTimestamp") or ""
    engagement_stamp = first.text(DETAIL + "EngagementTimestamp") or ""
    fresh = pws.save(f"{project(code)}{tag('com:ProjectName', 'Second')}{tag('com:ProjectTimestamp', project_stamp)}"
                     f"{tag('com:EngagementTimestamp', engagement_stamp)}", tag("EngagementTimestamp", engagement_stamp))
    assert fresh.status == "Ok", fresh.content
    current = pws.engagement_timestamp(engagement)
    for stale in (f"{tag('com:ProjectTimestamp', project_stamp)}", f"{tag('com:EngagementTimestamp', engagement_stamp)}",
                  f"{tag('com:ProjectTimestamp', 'not-base64')}"):
        answer = pws.save(f"{project(code)}{tag('com:ProjectName', 'Third')}{stale}")
        assert failed(answer) == [990007], stale
    assert failed(pws.save(f"{project(code)}{tag('com:ProjectName', 'Third')}",
                           tag("EngagementTimestamp", engagement_stamp))) == [990007]
    # An insert checks the engagement's timestamp too: it adds to the same graph.
    assert failed(pws.save(new(engagement, "Late", tag("com:EngagementTimestamp", engagement_stamp)))) == [990007]
    after = pws.get(ref("Project", code))
    assert after.text(DETAIL + "ProjectName") == "Second"
    assert after.text(DETAIL + "ProjectTimestamp") == fresh.text(FULL + "ProjectTimestamp")
    assert pws.engagement_timestamp(engagement) == current
    assert codes(pws.list()) == [code]


def test_engagement_timestamp_follows_every_project_save(pws: Projects) -> None:
    engagement = pws.engagement(pws.client("Acme"), "Eng")
    seen = [pws.engagement_timestamp(engagement)]
    inserted = pws.save(new(engagement, "One"))
    code = inserted.text(".//sch:ProjectIdentity/com:ProjectCode") or ""
    saves: list[Callable[[], Answer]] = [
        lambda: inserted, lambda: pws.save(project(code)), lambda: pws.save(new(engagement, "Two")),
        lambda: pws.save(f"{project(code)}{tag('com:ProjectName', 'Renamed')}", full=False)]
    for save in saves:
        answer = save()
        assert answer.status == "Ok"
        stamp = answer.text(".//sch:EngagementTimestamp")
        assert stamp not in seen
        seen.append(stamp)
        assert pws.engagement_timestamp(engagement) == stamp
        assert pws.get(ref("Project", code)).text(DETAIL + "EngagementTimestamp") == stamp
        full = answer.find(".//sch:Project")
        if full is not None and full.get(NIL) != "true":
            assert answer.text(FULL + "EngagementTimestamp") == stamp
    # The latest token works as an echoed one.
    assert pws.save(project(code), tag("EngagementTimestamp", seen[-1] or "")).status == "Ok"


@pytest.mark.serve  # concurrent connections to the server process
def test_concurrent_inserts_into_one_engagement_take_turns(soap: SoapClient, pws: Projects) -> None:
    engagement = pws.engagement(pws.client("Busy"), "Shared")
    writers = [Projects(soap.another(), pws.account) for _ in range(6)]
    with ThreadPoolExecutor(len(writers)) as pool:
        answers = list(pool.map(lambda writer: writer.save(new(engagement, "Parallel"), full=False), writers))
    for writer in writers:
        writer.soap.close()
    assert [a.status for a in answers] == ["Ok"] * len(writers)
    made = sorted(a.text(".//sch:ProjectIdentity/com:ProjectCode") or "" for a in answers)
    assert made == [f"{engagement}-{n:03d}" for n in range(1, len(writers) + 1)]
    stamps = {a.text(".//sch:EngagementTimestamp") for a in answers}
    assert len(stamps) == len(writers)
    assert codes(pws.list()) == made


def test_full_detail_flag(pws: Projects) -> None:
    _, code = pws.tree()
    lean = pws.save(project(code), full=False)
    assert lean.status == "Ok" and lean.find(".//sch:Project") is not None
    lean_project = lean.find(".//sch:Project")
    assert lean_project is not None and lean_project.get(NIL) == "true"
    stolen = lean.find(".//sch:LockStolenFromUserIdentity")
    assert stolen is not None and stolen.get(NIL) == "true"
    full = pws.save(project(code))
    got = pws.get(ref("Project", code))
    for member in ("ProjectCode", "ProjectUid", "ProjectName", "ProjectTimestamp", "EngagementTimestamp"):
        assert full.text(FULL + member) == got.text(DETAIL + member), member


def add_deleted_role(store: Store, account: AccountFixture, project_code: str, name: str) -> None:
    """A deleted role, written through the store: no operation in scope deletes a role yet."""
    now = datetime.now(UTC).replace(tzinfo=None)
    with store.write() as tx:
        found = account_store.find_account(tx, account.code)
        assert found is not None
        row = project_store.by_code(tx, found.id, project_code)
        assert row is not None
        role_store.insert_role(tx, found.id, {
            "uid": next_uid(tx), "project_id": row.id, "external_id": None, "name": name, "description": None,
            "requested_user_id": None, "booked_user_id": None, "start_date": None, "end_date": None,
            "scheduling_mode": "W", "open_request": False, "deleted": True, "rowversion": next_rowversion(tx),
            "updated_at": now})
        engagement_store.bump(tx, row.engagement_id, now)


def resource(reference_id: str) -> str:
    return (f"<com:ResourceIdentity><com:ResourceReferenceSystemId>{reference_id}</com:ResourceReferenceSystemId>"
            "</com:ResourceIdentity>")


def role_names(answer: Answer) -> list[str]:
    return [e.text or "" for e in answer.root.findall(
        ".//com:Roles/com:PwsProjectRoleElement/com:ProjectRoleDetail/com:RoleName", {"com": ns.COMMON})]


def test_get_returns_roles_by_mode(pws: Projects, store: Store, account: AccountFixture) -> None:
    engagement, code = pws.tree()
    other = pws.project(engagement, "Roleless")
    uid = pws.role(code, "Analyst", resource("E1"))  # requested: the admin
    booked = pws.call("PwsSaveProjectRole", f"{tag('Mode', 'A')}<sch:ProjectIdentity>{ref('Project', code)}"
                      f"</sch:ProjectIdentity><sch:ProjectRole>{ref('ProjectRole', uid=uid)}{resource('E2')}"
                      "</sch:ProjectRole>")
    assert booked.status == "Ok", booked.content  # booked: the viewer
    # A role save moves the engagement graph on, and the project reports the new token.
    stamp = booked.text(".//sch:EngagementTimestamp")
    assert pws.get(ref("Project", code)).text(DETAIL + "EngagementTimestamp") == stamp
    add_deleted_role(store, account, code, "Gone")
    got = pws.get(ref("Project", code), ref("Project", other))
    assert role_names(got) == ["Analyst"]
    shown = ".//com:PwsProjectRoleElement/com:ProjectRoleDetail/com:ResourceIdentity/com:ResourceDisplayName"
    assert got.text(shown) == f"User {account.admin}"
    assert pws.get(ref("Project", code), mode="A").text(shown) == f"User {account.viewer}"
    assert pws.get(ref("Project", code), mode="E").text(shown) == f"User {account.viewer}"
    elements = got.root.findall(".//com:PwsProjectElement", {"com": ns.COMMON})
    roleless = elements[1].find(f"{{{ns.COMMON}}}Roles")
    assert roleless is not None and len(roleless) == 0 and roleless.get(NIL) is None
    with_deleted = pws.get(ref("Project", code), extra=tag("IncludeDeletedRolesFlag", True))
    assert role_names(with_deleted) == ["Analyst", "Gone"]
    wiki_spelling = pws.get(ref("Project", code), extra=tag("IncludeDeletedRolesFla", True))
    assert role_names(wiki_spelling) == ["Analyst", "Gone"]
    excluded = pws.get(ref("Project", code), extra=tag("ExcludeSubEntityElementsFlag", True))
    roles = excluded.find(".//com:PwsProjectElement/com:Roles")
    assert roles is not None and roles.get(NIL) == "true"
    saved = pws.save(project(code), tag("IncludeDeletedRolesFlag", True), mode="A")
    assert role_names(saved) == ["Analyst", "Gone"]
    assert saved.text(shown) == f"User {account.viewer}"


def test_permissions(soap: SoapClient, store: Store, account: AccountFixture, pws: Projects) -> None:
    engagement, code = pws.tree()
    viewer = Projects(soap, account, account.viewer)
    assert viewer.get(ref("Project", code)).status == "Ok"
    assert codes(viewer.list()) == [code]
    assert failed(viewer.save(f"{project(code)}{tag('com:ProjectName', 'Changed')}")) == [50046]
    assert failed(viewer.save(new(engagement, "Sneaky"))) == [50046]
    assert pws.get(ref("Project", code)).text(DETAIL + "ProjectName") == "Project"
    assert codes(pws.list()) == [code]
    blind = f"blind@{account.code}"
    make_user(store, account.code, blind, frozenset({Permission.WEB_SERVICES, Permission.CLIENTS_VIEW}))
    stranger = Projects(soap, account, blind)
    assert failed(stranger.get(ref("Project", code))) == [50045]
    assert failed(stranger.list()) == [50045]


def test_no_project_of_another_account_resolves(soap: SoapClient, store: Store, pws: Projects) -> None:
    engagement, code = pws.tree()
    uid = pws.get(ref("Project", code)).text(DETAIL + "ProjectUid")
    other = Projects(soap, make_account(store, "other"))
    assert other.get(ref("Project", code)).error_numbers() == [105]
    assert other.get(ref("Project", uid=uid)).error_numbers() == [105]
    assert failed(other.save(f"{ref('Project', uid=uid)}{tag('com:ProjectName', 'Mine')}")) == [50024]
    assert failed(other.save(f"{project(code)}{tag('com:ProjectName', 'Mine')}")) == [990004]
    assert failed(other.save(new(engagement, "Into theirs"))) == [54061]
    assert codes(other.list()) == []
    assert codes(other.list(f"<sch:ProjectIdentity>{ref('Project', code)}</sch:ProjectIdentity>")) == []
    assert pws.get(ref("Project", code)).text(DETAIL + "ProjectName") == "Project"


texts = st.text(st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")), min_size=1, max_size=60)


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(name=texts.filter(str.strip), description=st.none() | texts,
       percent=st.none() | st.floats(min_value=0, max_value=100),
       open_day=st.none() | st.integers(min_value=0, max_value=20_000), length=st.integers(min_value=0, max_value=900),
       close=st.booleans(), stage=st.sampled_from(["Open", "On Hold", "Closed"]))
def test_save_then_get_round_trips_modelled_fields(pws: Projects, name: str, description: str | None,
                                                   percent: float | None, open_day: int | None, length: int,
                                                   close: bool, stage: str) -> None:
    engagement = pws.engagement(pws.client("Hypothesis"), "Round trip")
    opened = datetime(1990, 1, 1, 8, 30, tzinfo=UTC) + timedelta(days=open_day) if open_day is not None else None
    closed = (opened or datetime(2020, 1, 1, tzinfo=UTC)) + timedelta(days=length, seconds=1) if close else None
    extra = f"<com:ProjectStageIdentity><com:ProjectStageName>{stage}</com:ProjectStageName></com:ProjectStageIdentity>"
    for member, value in (("Description", description), ("PercentLikelihood", percent),
                          ("OpenDate", opened.isoformat() if opened else None),
                          ("CloseDate", closed.isoformat() if closed else None)):
        if value is not None:
            extra += tag(f"com:{member}", value)
    saved = pws.save(new(engagement, name, extra))
    assert saved.status == "Ok", saved.content
    got = pws.get(ref("Project", uid=uid_of(saved)))
    assert got.text(DETAIL + "ProjectName") == name
    assert (got.text(DETAIL + "Description") or None) == (description or None)
    shown = got.text(DETAIL + "PercentLikelihood")
    assert (float(shown) if shown is not None else None) == percent
    for member, moment in (("OpenDate", opened), ("CloseDate", closed)):
        value = got.text(DETAIL + member)
        assert (datetime.fromisoformat(value) if value else None) == moment, member
    assert got.text(DETAIL + "ProjectStageIdentity/com:ProjectStageName") == stage
    assert got.text(DETAIL + "ProjectCode") == saved.text(".//sch:ProjectIdentity/com:ProjectCode")


def test_zeep_builds_and_reads_a_project(soap: SoapClient, account: AccountFixture) -> None:
    client = zeep.Client(soap.endpoint + "?wsdl", transport=soap.zeep_transport())
    ticket = client.service.PwsAuthenticate(serviceRequest={
        "AccountCode": account.code, "UserName": account.admin, "Password": account.password}).SessionTicket
    owner = client.service.PwsSaveClient(serviceRequest={"SessionTicket": ticket, "Client": {"ClientName": "Zeep Co"}})
    engagement = client.service.PwsSaveEngagement(serviceRequest={
        "SessionTicket": ticket, "Engagement": {"ClientIdentity": {"ClientUid": owner.ClientIdentity.ClientUid},
                                                "EngagementName": "Zeep Engagement"}})
    assert engagement.Status == "Ok"
    saved = client.service.PwsSaveProject(serviceRequest={
        "SessionTicket": ticket, "Mode": "R", "FullDetailFlag": True,
        "Project": {"EngagementIdentity": {"EngagementUid": engagement.EngagementIdentity.EngagementUid},
                    "ProjectName": "Zeep Project", "OpenDate": datetime(2024, 5, 1, tzinfo=UTC),
                    "PercentLikelihood": 40.0, "Description": "Built by zeep"}})
    assert saved.Status == "Ok"
    code = saved.ProjectIdentity.ProjectCode
    assert code == engagement.EngagementIdentity.EngagementCode + "-001"
    assert isinstance(saved.ProjectIdentity.ProjectUid, int)
    assert saved.Project.ProjectDetail.ProjectName == "Zeep Project"
    assert saved.Project.Client.ClientNumber == owner.ClientIdentity.ClientNumber
    assert saved.EngagementTimestamp == saved.Project.ProjectDetail.EngagementTimestamp
    got = client.service.PwsGetProject(serviceRequest={
        "SessionTicket": ticket, "Mode": "E", "ProjectIdentities": {"PwsProjectRef": [{"ProjectCode": code}]}})
    detail = got.Projects.PwsProjectElement[0].ProjectDetail
    assert detail.ProjectUid == saved.ProjectIdentity.ProjectUid
    assert detail.Description == "Built by zeep" and detail.PercentLikelihood == 40.0
    assert detail.OpenDate.year == 2024 and detail.ProjectStageIdentity.ProjectStageName == "Open"
    assert detail.ProjectTimestamp == saved.Project.ProjectDetail.ProjectTimestamp
    listed = client.service.PwsGetProjectList(serviceRequest={"SessionTicket": ticket, "QueryString": "zeep co"})
    assert [p.ProjectCode for p in listed.Projects.PwsProjectSummary] == [code]
    summary = listed.Projects.PwsProjectSummary[0]
    assert summary.EngagementIdentity.EngagementCode == engagement.EngagementIdentity.EngagementCode
    assert summary.ProjectName == "Zeep Project"

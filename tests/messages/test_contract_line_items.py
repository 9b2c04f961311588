"""Contract line items over real HTTP: made with their engagement, read with it, named by project
saves, searched by the list services, and deleted with their engagement (never with a project).

Requests are written in production's member order (the wiki's Request Format trees)."""

from __future__ import annotations

from xml.sax.saxutils import escape

import pytest
from lxml import etree

from openpws.contract import ns
from openpws.services.permissions import ALL
from openpws.store.transactions import Store
from tests.conftest import AccountFixture, make_user
from tests.pws import Answer, SoapClient
from tests.tree import Pws, ref, tag
from tests.zeep_session import ZeepSession

NS = {"sch": ns.SCHEDULING, "com": ns.COMMON}
LINES = ".//{*}ContractLineItems/com:PwsContractLineItemElement"
DETAIL = "com:ContractLineItemDetail/com:"


@pytest.fixture
def pws(soap: SoapClient, account: AccountFixture) -> Pws:
    return Pws(soap, account)


def cli_ref(code: str | None = None, uid: int | str | None = None) -> str:
    body = f"<com:ContractLineItemCode>{escape(code)}</com:ContractLineItemCode>" if code is not None else ""
    if uid is not None:
        body += f"<com:ContractLineItemUid>{uid}</com:ContractLineItemUid>"
    return body


def cli_by_name(name: str) -> str:
    """A PwsContractLineItemSummary standing for the ref, naming the contract line item by its name."""
    return (f'<com:ContractLineItemIdentity xmlns:i="{ns.XSI}" i:type="com:PwsContractLineItemSummary">'
            f"<com:ContractLineItemName>{escape(name)}</com:ContractLineItemName></com:ContractLineItemIdentity>")


def save_cli(pws: Pws, detail: str, request: str = "") -> Answer:
    """PwsSaveContractLineItem; ``request`` holds the members that follow ContractLineItem."""
    return pws.call("PwsSaveContractLineItem", f"<sch:ContractLineItem>{detail}</sch:ContractLineItem>{request}")


def new_cli(pws: Pws, engagement: str, name: str, extra: str = "") -> str:
    answer = save_cli(pws, f"<com:ContractLineItemName>{escape(name)}</com:ContractLineItemName>"
                           f"<com:EngagementIdentity>{ref('Engagement', engagement)}</com:EngagementIdentity>{extra}")
    assert answer.status == "Ok", answer.content
    return answer.text(".//sch:ContractLineItemIdentity/com:ContractLineItemCode") or ""


def get_engagement(pws: Pws, code: str) -> Answer:
    answer = pws.call("PwsGetEngagement", "<sch:EngagementIdentities><com:PwsEngagementRef>"
                      f"{ref('Engagement', code)}</com:PwsEngagementRef></sch:EngagementIdentities>")
    assert answer.status == "Ok", answer.content
    return answer


def get_clis(pws: Pws, *refs: str) -> Answer:
    body = "".join(f"<com:PwsContractLineItemRef>{r}</com:PwsContractLineItemRef>" for r in refs)
    return pws.call("PwsGetContractLineItem", f"<sch:ContractLineItemIdentities>{body}</sch:ContractLineItemIdentities>")


def texts(answer: Answer, path: str) -> list[str]:
    return [e.text or "" for e in answer.root.iterfind(path, NS)]


def nil(element: etree._Element, path: str) -> bool:
    found = element.find(path, NS)
    return found is not None and found.get(f"{{{ns.XSI}}}nil") == "true"


def layout(answer: Answer) -> dict[str, list[str]]:
    """Each contract line item of the (first) engagement read, by code, with its projects' codes."""
    return {line.findtext(DETAIL + "ContractLineItemCode", namespaces=NS) or "":
            [p.text or "" for p in line.iterfind("com:Projects/com:PwsProjectSummary/com:ProjectCode", NS)]
            for line in answer.root.iterfind(LINES, NS)}


def project_cli(pws: Pws, project: str) -> str | None:
    answer = pws.ok("PwsGetProject", "<sch:Mode>R</sch:Mode><sch:ProjectIdentities><com:PwsProjectRef>"
                    f"{ref('Project', project)}</com:PwsProjectRef></sch:ProjectIdentities>")
    return answer.text(".//com:ProjectDetail/com:ContractLineItemIdentity/com:ContractLineItemCode")


def move(pws: Pws, project: str, identity: str) -> Answer:
    return pws.call("PwsSaveProject", f"<sch:Mode>R</sch:Mode><sch:Project>{ref('Project', project)}{identity}"
                    "</sch:Project>")


def test_an_engagement_is_made_with_a_contract_line_item_that_its_projects_are_read_from(pws: Pws) -> None:
    client = pws.client("Acme")
    code = pws.engagement(client, "Website rebuild")
    first = pws.project(code, "Design")
    second = pws.project(code, "Build")
    got = get_engagement(pws, code)
    assert layout(got) == {f"{code}-CL1": sorted([first, second])}
    line = got.find(LINES)
    assert line is not None
    assert line.findtext(DETAIL + "ContractLineItemName", namespaces=NS) == "Website rebuild"
    assert int(line.findtext(DETAIL + "ContractLineItemUid", namespaces=NS) or 0) > 2**60
    assert nil(line, DETAIL + "ContractLineItemId")
    assert line.findtext(DETAIL + "EngagementIdentity/com:EngagementCode", namespaces=NS) == code
    assert line.findtext(DETAIL + "TimeContractTerms", namespaces=NS) == "T"
    assert line.findtext(DETAIL + "Timestamp", namespaces=NS)
    summary = line.find("com:Projects/com:PwsProjectSummary", NS)
    assert summary is not None and summary.findtext("com:ProjectName", namespaces=NS) == "Design"
    assert summary.findtext("com:EngagementIdentity/com:EngagementCode", namespaces=NS) == code
    assert project_cli(pws, first) == f"{code}-CL1"
    # The element's other members keep their place around the new one.
    element = got.find(".//com:PwsEngagementElement")
    assert element is not None
    names = [child.tag.rpartition("}")[2] for child in element]
    assert names.index("ProjectIdentities") + 1 == names.index("ContractLineItems")


def test_suppressing_the_contract_line_item_leaves_it_to_the_first_project(pws: Pws) -> None:
    client = pws.client("Acme")
    saved = pws.ok("PwsSaveEngagement", f"<sch:Engagement><com:ClientIdentity>{ref('Client', client)}"
                   "</com:ClientIdentity><com:EngagementName>Bare</com:EngagementName></sch:Engagement>"
                   + tag("SuppressCliCreationOnInsertFlag", True))
    code = saved.text(".//sch:EngagementIdentity/com:EngagementCode") or ""
    assert layout(get_engagement(pws, code)) == {}
    project = pws.project(code, "First")
    assert layout(get_engagement(pws, code)) == {f"{code}-CL1": [project]}


def test_saving_contract_line_items(pws: Pws) -> None:
    client = pws.client("Acme")
    engagement = pws.engagement(client, "Platform")
    second = new_cli(pws, engagement, "Support retainer", tag("com:TimeContractTerms", "F")
                     + "<com:ContractTypeIdentity><com:ContractTypeName>Retainer/Service Contract</com:ContractTypeName>"
                     "</com:ContractTypeIdentity>" + tag("com:PurchaseOrderNumber", "PO-7"))
    assert second == f"{engagement}-CL2"
    [line] = get_clis(pws, cli_ref(second)).root.findall(LINES, NS)
    assert line.findtext(DETAIL + "ContractTypeIdentity/com:ContractTypeName", namespaces=NS) == "Retainer/Service Contract"
    assert line.findtext(DETAIL + "TimeContractTerms", namespaces=NS) == "F"
    assert line.findtext(DETAIL + "CostContractTerms", namespaces=NS) == "T"
    assert line.findtext(DETAIL + "PurchaseOrderNumber", namespaces=NS) == "PO-7"
    stamp = line.findtext(DETAIL + "Timestamp", namespaces=NS) or ""
    named = save_cli(pws, cli_ref("PH-2") + "<com:ContractLineItemName>Phase 2</com:ContractLineItemName>"
                          f"<com:EngagementIdentity>{ref('Engagement', engagement)}</com:EngagementIdentity>")
    assert named.text(".//sch:ContractLineItemIdentity/com:ContractLineItemCode") == "PH-2"

    duplicate = save_cli(pws, "<com:ContractLineItemName>support RETAINER</com:ContractLineItemName>"
                              f"<com:EngagementIdentity>{ref('Engagement', engagement)}</com:EngagementIdentity>")
    assert duplicate.status == "Fail" and duplicate.error_numbers() == [990095]
    nameless = save_cli(pws, f"<com:EngagementIdentity>{ref('Engagement', engagement)}</com:EngagementIdentity>")
    assert nameless.error_numbers() == [990004]
    orphan = save_cli(pws, "<com:ContractLineItemName>Orphan</com:ContractLineItemName>")
    assert orphan.error_numbers() == [990004]
    terms = save_cli(pws, cli_ref(second) + tag("com:CostContractTerms", "X"))
    assert terms.error_numbers() == [10126]
    unknown = save_cli(pws, cli_ref(uid=2**60 + 10**9) + "<com:ContractLineItemName>Ghost</com:ContractLineItemName>")
    assert unknown.error_numbers() == [50024]

    # An update keeps what is not sent; the stale Timestamp of a later save is refused.
    renamed = save_cli(pws, cli_ref(second) + "<com:ContractLineItemName>Retainer 2026</com:ContractLineItemName>"
                       + tag("com:Timestamp", stamp), tag("ContractTypeClearFlag", True)
                       + tag("NewContractLineItemCode", "RET-26"))
    assert renamed.status == "Ok", renamed.content
    assert renamed.text(".//sch:ContractLineItemIdentity/com:ContractLineItemCode") == "RET-26"
    [line] = get_clis(pws, cli_ref("ret-26")).root.findall(LINES, NS)
    assert line.findtext(DETAIL + "ContractLineItemName", namespaces=NS) == "Retainer 2026"
    assert line.findtext(DETAIL + "TimeContractTerms", namespaces=NS) == "F"
    assert nil(line, DETAIL + "ContractTypeIdentity")
    stale = save_cli(pws, cli_ref("RET-26") + tag("com:Timestamp", stamp))
    assert stale.error_numbers() == [990007]
    taken = save_cli(pws, cli_ref("RET-26"), tag("NewContractLineItemCode", "ph-2"))
    assert taken.error_numbers() == [990005]
    other = pws.engagement(client, "Elsewhere")
    moved = save_cli(pws, cli_ref("RET-26") + f"<com:EngagementIdentity>{ref('Engagement', other)}"
                                              "</com:EngagementIdentity>")
    assert moved.error_numbers() == [990094]
    assert list(layout(get_engagement(pws, engagement))) == [f"{engagement}-CL1", "RET-26", "PH-2"]


def test_a_contract_line_item_save_is_a_write_to_its_engagement_graph(pws: Pws) -> None:
    client = pws.client("Acme")
    engagement = pws.engagement(client, "Platform")
    before = get_engagement(pws, engagement).text(".//com:EngagementDetail/com:EngagementTimestamp")
    saved = save_cli(pws, "<com:ContractLineItemName>Extra</com:ContractLineItemName>"
                          f"<com:EngagementIdentity>{ref('Engagement', engagement)}</com:EngagementIdentity>",
                     tag("EngagementTimestamp", before))
    assert saved.status == "Ok", saved.content
    after = get_engagement(pws, engagement).text(".//com:EngagementDetail/com:EngagementTimestamp")
    assert saved.text(".//sch:EngagementTimestamp") == after != before
    stale = save_cli(pws, "<com:ContractLineItemName>Late</com:ContractLineItemName>"
                          f"<com:EngagementIdentity>{ref('Engagement', engagement)}</com:EngagementIdentity>",
                     tag("EngagementTimestamp", before))
    assert stale.error_numbers() == [990007]


def test_another_users_engagement_lock_blocks_a_contract_line_item_save(pws: Pws, soap: SoapClient,
                                                                          account: AccountFixture, store: Store) -> None:
    client = pws.client("Acme")
    engagement = pws.engagement(client, "Locked")
    make_user(store, account.code, f"other@{account.code}", ALL, reference_id="OTHER")
    other = Pws(soap, account, f"other@{account.code}")
    other.ok("PwsAcquireProjectorLocks", "<req:LockDurationSeconds>600</req:LockDurationSeconds><req:Locks>"
             f"<com:PwsProjectorLockRequest><com:EntityIdentity><com:EntityCode>{engagement}</com:EntityCode>"
             "<com:LockType>E</com:LockType></com:EntityIdentity></com:PwsProjectorLockRequest></req:Locks>")
    blocked = save_cli(pws, "<com:ContractLineItemName>Extra</com:ContractLineItemName>"
                            f"<com:EngagementIdentity>{ref('Engagement', engagement)}</com:EngagementIdentity>")
    assert blocked.status_code == 500 and "54076" in blocked.content.decode()
    assert list(layout(get_engagement(pws, engagement))) == [f"{engagement}-CL1"]
    stolen = save_cli(pws, "<com:ContractLineItemName>Extra</com:ContractLineItemName>"
                           f"<com:EngagementIdentity>{ref('Engagement', engagement)}</com:EngagementIdentity>",
                      tag("StealLockFlag", True))
    assert stolen.status == "Ok", stolen.content
    assert stolen.text(".//sch:LockStolenFromUserIdentity/com:UserReferenceSystemId") == "OTHER"


def test_project_saves_name_the_contract_line_item_by_code_uid_or_name(pws: Pws) -> None:
    client = pws.client("Acme")
    engagement = pws.engagement(client, "Platform")
    retainer = new_cli(pws, engagement, "Retainer")
    [line] = get_clis(pws, cli_ref(retainer)).root.findall(LINES, NS)
    uid = line.findtext(DETAIL + "ContractLineItemUid", namespaces=NS)
    by_code = pws.project(engagement, "By code", f"<com:ContractLineItemIdentity>{cli_ref(retainer)}"
                                                 "</com:ContractLineItemIdentity>")
    by_uid = pws.project(engagement, "By uid", f"<com:ContractLineItemIdentity>{cli_ref(uid=uid)}"
                                               "</com:ContractLineItemIdentity>")
    by_name = pws.project(engagement, "By name", cli_by_name("retainer"))
    plain = pws.project(engagement, "Default")
    assert layout(get_engagement(pws, engagement)) == {f"{engagement}-CL1": [plain],
                                                        retainer: sorted([by_code, by_uid, by_name])}
    for project in (by_code, by_uid, by_name):
        assert project_cli(pws, project) == retainer


def test_a_project_moves_between_contract_line_items(pws: Pws) -> None:
    client = pws.client("Acme")
    engagement = pws.engagement(client, "Platform")
    project = pws.project(engagement, "Build")
    retainer = new_cli(pws, engagement, "Retainer")
    before = get_engagement(pws, engagement)
    stamps = dict(zip(texts(before, LINES + "/" + DETAIL + "ContractLineItemCode"),
                      texts(before, LINES + "/" + DETAIL + "Timestamp"), strict=True))
    moved = move(pws, project, f"<com:ContractLineItemIdentity>{cli_ref(retainer)}</com:ContractLineItemIdentity>")
    assert moved.status == "Ok", moved.content
    after = get_engagement(pws, engagement)
    assert layout(after) == {f"{engagement}-CL1": [], retainer: [project]}
    # The move is a write to the project and to the engagement graph, not to the contract line items.
    assert dict(zip(texts(after, LINES + "/" + DETAIL + "ContractLineItemCode"),
                    texts(after, LINES + "/" + DETAIL + "Timestamp"), strict=True)) == stamps
    assert (after.text(".//com:EngagementDetail/com:EngagementTimestamp")
            == moved.text(".//sch:EngagementTimestamp")
            != before.text(".//com:EngagementDetail/com:EngagementTimestamp"))
    # An update that names none leaves the project where it is.
    renamed = pws.call("PwsSaveProject", f"<sch:Mode>R</sch:Mode><sch:Project>{ref('Project', project)}"
                       "<com:ProjectName>Build 2</com:ProjectName></sch:Project>")
    assert renamed.status == "Ok"
    assert project_cli(pws, project) == retainer
    back = move(pws, project, cli_by_name("Platform"))
    assert back.status == "Ok" and project_cli(pws, project) == f"{engagement}-CL1"
    # An xsi:type that is not the ref's own type or one derived from it changes nothing.
    other = move(pws, project, f'<com:ContractLineItemIdentity xmlns:i="{ns.XSI}" i:type="com:PwsProjectRef">'
                               f"{cli_ref(retainer)}<com:ContractLineItemName>Platform</com:ContractLineItemName>"
                               "</com:ContractLineItemIdentity>")
    assert other.status == "Ok" and project_cli(pws, project) == retainer


def test_a_project_cannot_name_a_missing_or_foreign_contract_line_item(pws: Pws) -> None:
    client = pws.client("Acme")
    engagement = pws.engagement(client, "Platform")
    other = pws.engagement(client, "Other")
    project = pws.project(engagement, "Build")
    unknown = move(pws, project, f"<com:ContractLineItemIdentity>{cli_ref('NOPE-CL9')}</com:ContractLineItemIdentity>")
    assert unknown.status == "Fail" and unknown.error_numbers() == [50024]
    assert "PwsContractLineItemRef" in (unknown.messages()[0]["ErrorText"] or "")
    assert "ContractLineItemCode=NOPE-CL9" in (unknown.messages()[0]["AdditionalErrorText"] or "")
    empty = move(pws, project, "<com:ContractLineItemIdentity><com:ContractLineItemId>7</com:ContractLineItemId>"
                               "</com:ContractLineItemIdentity>")
    assert empty.error_numbers() == [990090]
    assert move(pws, project, "<com:ContractLineItemIdentity/>").error_numbers() == [990090]
    assert move(pws, project, f'<com:ContractLineItemIdentity xmlns:i="{ns.XSI}" i:nil="true"/>').status == "Ok"
    foreign = move(pws, project, f"<com:ContractLineItemIdentity>{cli_ref(other + '-CL1')}"
                                 "</com:ContractLineItemIdentity>")
    assert foreign.error_numbers() == [990093]
    nameless = move(pws, project, cli_by_name("Other"))  # a name is looked for in the project's engagement
    assert nameless.error_numbers() == [50024]
    [line] = get_clis(pws, cli_ref(other + "-CL1")).root.findall(LINES, NS)
    uid = line.findtext(DETAIL + "ContractLineItemUid", namespaces=NS)
    disagree = move(pws, project, f"<com:ContractLineItemIdentity>{cli_ref(engagement + '-CL1', uid)}"
                                  "</com:ContractLineItemIdentity>")
    assert disagree.error_numbers() == [50024]
    inserted = pws.call("PwsSaveProject", "<sch:Mode>R</sch:Mode><sch:Project><com:EngagementIdentity>"
                        f"{ref('Engagement', engagement)}</com:EngagementIdentity>"
                        "<com:ProjectName>Never</com:ProjectName><com:ContractLineItemIdentity>"
                        f"{cli_ref(other + '-CL1')}</com:ContractLineItemIdentity></sch:Project>")
    assert inserted.error_numbers() == [990093]
    assert layout(get_engagement(pws, engagement)) == {f"{engagement}-CL1": [project]}


def test_list_queries_match_contract_line_item_codes_and_names(pws: Pws) -> None:
    client = pws.client("Acme")
    engagement = pws.engagement(client, "Platform")
    quiet = pws.engagement(client, "Quiet")
    pws.project(quiet, "Unrelated")
    retainer = new_cli(pws, engagement, "Zebra retainer")
    on_retainer = pws.project(engagement, "Support", f"<com:ContractLineItemIdentity>{cli_ref(retainer)}"
                                                    "</com:ContractLineItemIdentity>")
    pws.project(engagement, "Build")
    projects = pws.ok("PwsGetProjectList", tag("QueryString", "zebra"))
    assert texts(projects, ".//com:PwsProjectSummary/com:ProjectCode") == [on_retainer]
    by_code = pws.ok("PwsGetProjectList", tag("QueryString", retainer.lower()))
    assert texts(by_code, ".//com:PwsProjectSummary/com:ProjectCode") == [on_retainer]
    engagements = pws.ok("PwsGetEngagementList", tag("QueryString", "ZEBRA"))
    assert texts(engagements, ".//com:PwsEngagementSummary/com:EngagementCode") == [engagement]
    # An engagement matches by its contract line items even when no project is on them.
    new_cli(pws, quiet, "Walrus terms")
    engagements = pws.ok("PwsGetEngagementList", tag("QueryString", "walrus"))
    assert texts(engagements, ".//com:PwsEngagementSummary/com:EngagementCode") == [quiet]
    assert texts(pws.ok("PwsGetProjectList", tag("QueryString", "walrus")), ".//com:ProjectCode") == []


def test_contract_line_items_go_with_their_engagement_never_with_a_project(pws: Pws) -> None:
    client = pws.client("Acme")
    engagement = pws.engagement(client, "Platform")
    keep = pws.project(engagement, "Keep")
    retainer = new_cli(pws, engagement, "Retainer")
    goes = pws.project(engagement, "Goes", f"<com:ContractLineItemIdentity>{cli_ref(retainer)}"
                                          "</com:ContractLineItemIdentity>")
    stamp = get_clis(pws, cli_ref(retainer)).text(LINES + "/" + DETAIL + "Timestamp")
    deleted = pws.call("PwsDeleteProject", f"<sch:ProjectIdentity>{ref('Project', goes)}</sch:ProjectIdentity>")
    assert deleted.status == "Ok", deleted.content
    after = get_clis(pws, cli_ref(retainer))
    assert after.status == "Ok" and layout(after) == {retainer: []}
    assert after.text(LINES + "/" + DETAIL + "Timestamp") == stamp
    cascade = pws.call("PwsDeleteEngagement", f"<sch:EngagementIdentity>{ref('Engagement', engagement)}"
                       "</sch:EngagementIdentity>" + tag("CascadeDeleteFlag", True))
    assert cascade.status == "Ok", cascade.content
    gone = get_clis(pws, cli_ref(retainer), cli_ref(f"{engagement}-CL1"))
    assert gone.status == "OkWithWarnings" and gone.error_numbers() == [105] and layout(gone) == {}
    assert texts(pws.ok("PwsGetProjectList", tag("QueryString", keep)), ".//com:ProjectCode") == []
    # Without projects, no cascade is needed: the contract line items go all the same.
    empty = pws.engagement(client, "Empty")
    new_cli(pws, empty, "Second")
    assert pws.call("PwsDeleteEngagement", f"<sch:EngagementIdentity>{ref('Engagement', empty)}"
                    "</sch:EngagementIdentity>").status == "Ok"
    assert get_clis(pws, cli_ref(f"{empty}-CL1"), cli_ref(f"{empty}-CL2")).error_numbers() == [105]
    # The codes of deleted contract line items can be used again.
    again = pws.engagement(client, "Again", f"<com:NewEngagementCode>{empty}</com:NewEngagementCode>")
    assert layout(get_engagement(pws, again)) == {f"{empty}-CL1": []}


def test_getting_contract_line_items(pws: Pws, soap: SoapClient, account: AccountFixture) -> None:
    client = pws.client("Acme")
    engagement = pws.engagement(client, "Platform")
    second = new_cli(pws, engagement, "Second")
    got = get_clis(pws, cli_ref(second), cli_ref("MISSING"), cli_ref(f"{engagement.lower()}-cl1"))
    assert got.status == "OkWithWarnings" and got.error_numbers() == [105]
    assert "ContractLineItemCode=MISSING" in (got.messages()[0]["AdditionalErrorText"] or "")
    assert list(layout(got)) == [second, f"{engagement}-CL1"]
    assert get_clis(pws).error_numbers() == [990091]
    assert get_clis(pws, *[cli_ref(f"X{n}") for n in range(101)]).error_numbers() == [990092]
    viewer = Pws(soap, account, account.viewer)
    assert viewer.call("PwsGetContractLineItem", "<sch:ContractLineItemIdentities><com:PwsContractLineItemRef>"
                       f"{cli_ref(second)}</com:PwsContractLineItemRef></sch:ContractLineItemIdentities>"
                       ).status == "Ok"
    refused = viewer.call("PwsSaveContractLineItem", f"<sch:ContractLineItem>{cli_ref(second)}"
                          "<com:ContractLineItemName>Mine</com:ContractLineItemName></sch:ContractLineItem>")
    assert refused.error_numbers() == [50046]
    # A summary standing for the ref names it by its name within the engagement it names.
    summary = pws.call("PwsGetContractLineItem", f'<sch:ContractLineItemIdentities xmlns:i="{ns.XSI}">'
                       '<com:PwsContractLineItemRef i:type="com:PwsContractLineItemSummary">'
                       "<com:ContractLineItemName>second</com:ContractLineItemName><com:EngagementIdentity>"
                       f"{ref('Engagement', engagement)}</com:EngagementIdentity></com:PwsContractLineItemRef>"
                       "</sch:ContractLineItemIdentities>")
    assert summary.status == "Ok" and list(layout(summary)) == [second]


def test_zeep_reads_and_writes_contract_line_items(soap: SoapClient, account: AccountFixture) -> None:
    ok = ZeepSession(soap, account).ok

    client = ok("PwsSaveClient", Client={"ClientName": "Zeep Holdings"}).ClientIdentity
    engagement = ok("PwsSaveEngagement", Engagement={"ClientIdentity": {"ClientNumber": client.ClientNumber},
                                                    "EngagementName": "Zeep rollout"}).EngagementIdentity
    cli = ok("PwsSaveContractLineItem", ContractLineItem={
        "ContractLineItemName": "Zeep retainer", "EngagementIdentity": {"EngagementUid": engagement.EngagementUid},
        "TimeContractTerms": "F"}).ContractLineItemIdentity
    assert cli.ContractLineItemCode == engagement.EngagementCode + "-CL2" and cli.ContractLineItemUid > 2**60
    project = ok("PwsSaveProject", Mode="R", Project={
        "EngagementIdentity": {"EngagementCode": engagement.EngagementCode}, "ProjectName": "Zeep phase 1",
        "ContractLineItemIdentity": {"ContractLineItemUid": cli.ContractLineItemUid}}).ProjectIdentity
    [element] = ok("PwsGetEngagement", EngagementIdentities={"PwsEngagementRef": [
        {"EngagementCode": engagement.EngagementCode}]}).Engagements.PwsEngagementElement
    first, second = element.ContractLineItems.PwsContractLineItemElement
    assert first.ContractLineItemDetail.ContractLineItemName == "Zeep rollout"
    assert first.Projects is None or first.Projects.PwsProjectSummary == []
    assert second.ContractLineItemDetail.ContractLineItemUid == cli.ContractLineItemUid  # exact Int64
    assert second.ContractLineItemDetail.TimeContractTerms == "F"
    [summary] = second.Projects.PwsProjectSummary
    assert (summary.ProjectCode, summary.ProjectName) == (project.ProjectCode, "Zeep phase 1")
    [read] = ok("PwsGetProject", Mode="R", ProjectIdentities={"PwsProjectRef": [
        {"ProjectUid": project.ProjectUid}]}).Projects.PwsProjectElement
    assert read.ProjectDetail.ContractLineItemIdentity.ContractLineItemCode == cli.ContractLineItemCode
    [line] = ok("PwsGetContractLineItem", ContractLineItemIdentities={"PwsContractLineItemRef": [
        {"ContractLineItemCode": cli.ContractLineItemCode}]}).ContractLineItems.PwsContractLineItemElement
    assert line.ContractLineItemDetail.EngagementIdentity.EngagementUid == engagement.EngagementUid

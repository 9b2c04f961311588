"""Production's member order over HTTP (SPEC "Member order"): with OPENPWS_MEMBER_ORDER=strict, the
default, a request member that production would not read, because it comes after a member it
precedes in the contract's order, is an ``s:Client`` fault that names it, says the order and the
setting, and changes nothing; ``lenient`` reads any order. Every documented request example is read
as written, and a reordered copy of each is refused. ``tests/member_order.first_misplaced`` is the
oracle, written apart from the codec."""

from __future__ import annotations

import copy
from collections.abc import Callable

import pytest
from lxml import etree

from openpws.contract import compile_schema, ns
from openpws.store.transactions import Store
from tests import deletes_model as wire
from tests.conftest import AccountFixture
from tests.examples import (
    CLIENT_FRAGMENT,
    ENGAGEMENT_REQUEST,
    PROJECT_REQUEST,
    ROLE_REQUEST,
    SAVE_CLIENT_MEMBERS,
    client_envelope,
)
from tests.member_order import first_misplaced
from tests.pws import Answer, SoapClient, envelope
from tests.tree import Pws, ref, tag

REQ, COM, SCH = f"{{{ns.REQUESTS}}}", f"{{{ns.COMMON}}}", f"{{{ns.SCHEDULING}}}"
XSI = f'xmlns:i="{ns.XSI}"'

# Each documented request example as written, given a live ticket for the one it carries.
EXAMPLES: dict[str, Callable[[str], bytes]] = {
    "seed 002 PwsDeleteProjectRole": lambda t: ROLE_REQUEST.replace("AZ2QD+hg1Hm7vSa7Y3Lm3w==", t).encode(),
    "seed 003 PwsDeleteClient":
        lambda t: client_envelope(CLIENT_FRAGMENT.replace("AVWN2cthcvkr13Vtxbkl4Q==", t)).encode(),
    "pws-core 4.2 PwsDeleteEngagement": lambda t: ENGAGEMENT_REQUEST.replace("AWYoWMBC/cjl/RFPrykteA==", t).encode(),
    "pws-core 4.3 PwsDeleteProject": lambda t: PROJECT_REQUEST.replace("ARM5cmQi4CD5BoGl6bHk4w==", t).encode(),
    "pws-entities 3.5 PwsSaveClient": lambda t: envelope(
        "PwsSaveClient", f"<req:SessionTicket>{t}</req:SessionTicket>{SAVE_CLIENT_MEMBERS}"),
}


def reversed_members(body: bytes) -> bytes:
    """``body`` with the members of every value in its serviceRequest in reverse order."""
    root = etree.fromstring(body)
    request = root.find(f".//{{{ns.PWS}}}serviceRequest")
    assert request is not None
    for element in request.iter(etree.Element):
        element[:] = list(reversed(element))
    return etree.tostring(root)


def order_fault(answer: Answer) -> bool:
    return answer.faultcode == "s:Client" and " comes after " in answer.faultstring


def assert_refused(answer: Answer, misplaced: str, after: str) -> None:
    assert answer.status_code == 500 and answer.faultcode == "s:Client", answer.content
    assert answer.faultstring.startswith(f"Element {misplaced} comes after {after}, "), answer.faultstring
    assert "would not read" in answer.faultstring and "The order: " in answer.faultstring
    assert answer.faultstring.endswith("(OPENPWS_MEMBER_ORDER=lenient reads members in any order.)")


@pytest.fixture
def pws(soap: SoapClient, account: AccountFixture) -> Pws:
    return Pws(soap, account)


@pytest.mark.parametrize("example", sorted(EXAMPLES))
def test_documented_examples_are_read_as_written_and_refused_reordered(
        example: str, pws: Pws, lenient_soap: SoapClient, store: Store) -> None:
    written = EXAMPLES[example](pws.ticket)
    assert first_misplaced(written) is None
    before = wire.snapshot(store, pws.account.code)
    reordered = reversed_members(written)
    misplaced = first_misplaced(reordered)
    assert misplaced is not None
    refused = pws.soap.post(reordered)
    assert refused.faultstring.startswith(f"Element {misplaced} comes after "), refused.content
    assert_refused(refused, misplaced, refused.faultstring.split(" comes after ")[1].split(",")[0])
    assert wire.snapshot(store, pws.account.code) == before
    # Lenient reads the reordered copy.
    relaxed = lenient_soap.post(reordered)
    assert not order_fault(relaxed) and relaxed.faultcode is None, relaxed.content
    # Strict reads the example as written (what it then answers: tests/messages/test_deletes_seeds.py).
    answer = pws.soap.post(written)
    assert answer.status_code == 200 and answer.status in ("Ok", "OkWithWarnings", "Fail"), answer.content


def test_the_save_client_example_saves_a_client(pws: Pws) -> None:
    answer = pws.soap.post(EXAMPLES["pws-entities 3.5 PwsSaveClient"](pws.ticket))
    assert answer.status == "Ok", answer.content
    number = answer.text(".//rs:ClientIdentity/com:ClientNumber")
    got = pws.ok("PwsGetClient", f"<req:ClientIdentities><com:PwsClientRef>{ref('Client', number)}</com:PwsClientRef>"
                 "</req:ClientIdentities>")
    assert got.text(".//com:ClientDetail/com:ClientName") == "…"
    assert got.text(".//com:ClientDetail/com:InactiveFlag") == "false"


def test_a_ref_out_of_order_names_its_member_and_changes_nothing(pws: Pws, store: Store) -> None:
    number = pws.client("Ordered")
    uid = pws.ok("PwsGetClient", f"<req:ClientIdentities><com:PwsClientRef>{ref('Client', number)}"
                 "</com:PwsClientRef></req:ClientIdentities>").text(".//com:ClientDetail/com:ClientUid")
    before = wire.snapshot(store, pws.account.code)
    answer = pws.call("PwsDeleteClient", f"{tag('req:CascadeDeleteFlag', True)}<req:ClientIdentity><com:ClientUid>{uid}"
                      f"</com:ClientUid><com:ClientNumber>{number}</com:ClientNumber></req:ClientIdentity>"
                      f"{tag('req:InactivateIfInuseFlag', True)}")
    assert_refused(answer, f"{COM}ClientNumber", f"{COM}ClientUid")
    assert "PwsClientRef orders ClientNumber before ClientUid" in answer.faultstring
    assert "The order: ClientId, ClientNumber, ClientUid." in answer.faultstring
    assert wire.snapshot(store, pws.account.code) == before
    # Sent in production's order (which for these three members is also alphabetical), it is read.
    assert wire.delete_client(pws, number, cascade=True, inactivate=True).status == "Ok"


def test_the_first_member_production_skips_is_named_not_the_one_before_it(pws: Pws) -> None:
    # RequestId, SessionTicket, CascadeDeleteFlag, ClientIdentity, InactivateIfInuseFlag: after
    # InactivateIfInuseFlag is read, CascadeDeleteFlag is the first member production skips.
    answer = pws.call("PwsDeleteClient", f"<req:ClientIdentity>{ref('Client', 'C1')}</req:ClientIdentity>"
                      f"{tag('req:InactivateIfInuseFlag', True)}{tag('req:CascadeDeleteFlag', True)}")
    assert_refused(answer, f"{REQ}CascadeDeleteFlag", f"{REQ}InactivateIfInuseFlag")
    # The base type's members come first: a RequestId after the SessionTicket is skipped.
    late = pws.soap.call("PwsUnauthenticate", f"<req:SessionTicket>{pws.ticket}</req:SessionTicket>"
                         "<req:RequestId>7</req:RequestId>")
    assert_refused(late, f"{REQ}RequestId", f"{REQ}SessionTicket")


def test_a_nil_member_holds_its_place(pws: Pws) -> None:
    answer = pws.call("PwsDeleteClient", f"<req:ClientIdentity>{ref('Client', 'C1')}</req:ClientIdentity>"
                      f'<req:CascadeDeleteFlag {XSI} i:nil="true"/>')
    assert_refused(answer, f"{REQ}CascadeDeleteFlag", f"{REQ}ClientIdentity")


def test_unknown_elements_do_not_move_the_reader(pws: Pws) -> None:
    number = pws.client("Unknowns around")
    answer = pws.call("PwsDeleteClient", f"<req:Zebra>1</req:Zebra>{tag('req:CascadeDeleteFlag', True)}<com:Aardvark/>"
                      f"<req:ClientIdentity><req:Yak/>{ref('Client', number)}</req:ClientIdentity><req:Ant/>"
                      f"{tag('req:InactivateIfInuseFlag', False)}")
    assert answer.status == "Ok", answer.content


def test_members_whose_place_is_guessed_are_read_anywhere(pws: Pws) -> None:
    """EngagementTimestamp is not in any stored copy of PwsEngagementDetail's format list, and
    PwsSaveProjectRoleRq's last three members are cut off from every copy of its list: openpws
    guesses their place (member-order.json "guessed"), so strict reading takes them anywhere."""
    client = pws.client("Guesses")
    code = pws.engagement(client, "Guessed places")
    got = pws.ok("PwsGetEngagement", f"<sch:EngagementIdentities><com:PwsEngagementRef>{ref('Engagement', code)}"
                 "</com:PwsEngagementRef></sch:EngagementIdentities>")
    token = got.text(".//com:EngagementDetail/com:EngagementTimestamp")
    saved = pws.call("PwsSaveEngagement", f"<sch:Engagement><com:EngagementTimestamp>{token}</com:EngagementTimestamp>"
                     f"<com:EngagementCode>{code}</com:EngagementCode><com:EngagementName>Renamed</com:EngagementName>"
                     "</sch:Engagement>")
    assert saved.status == "Ok", saved.content
    project = pws.project(code, "P")
    role = pws.call("PwsSaveProjectRole", f"{tag('RoleTypeClearFlag', False)}{tag('RetrievalMode', 'R')}"
                    f"{tag('Mode', 'R')}"
                    f"<sch:ProjectIdentity>{ref('Project', project)}</sch:ProjectIdentity>"
                    "<sch:ProjectRole><com:RoleName>Anywhere</com:RoleName></sch:ProjectRole>")
    assert not order_fault(role) and role.status == "Ok", role.content


def test_each_item_of_a_list_is_read_in_order_on_its_own(pws: Pws) -> None:
    client = pws.client("Items")
    project = pws.project(pws.engagement(client, "E"), "P")
    first, second = pws.role(project, "First"), pws.role(project, "Second")

    def hours(uid: int, identity_first: bool) -> str:
        buckets = ("<com:HoursBuckets><com:PwsProjectRoleHoursBucket><com:BucketStartDate>2030-01-07T00:00:00Z"
                   "</com:BucketStartDate><com:SchedulingMode>W</com:SchedulingMode><com:WeeklyMinutes>60"
                   "</com:WeeklyMinutes></com:PwsProjectRoleHoursBucket></com:HoursBuckets>")
        identity = f"<com:ProjectRoleIdentity>{ref('ProjectRole', uid=uid)}</com:ProjectRoleIdentity>"
        members = identity + buckets if identity_first else buckets + identity
        return f"<com:PwsProjectRoleHours>{members}</com:PwsProjectRoleHours>"

    both = pws.call("PwsRequestOrBookRoleHours", f"{tag('Mode', 'R')}<sch:ProjectRoles>{hours(first, False)}"
                    f"{hours(second, False)}</sch:ProjectRoles>")
    assert both.status == "Ok", both.content
    # PwsProjectRoleHours orders HoursBuckets before ProjectRoleIdentity: in the second item, the
    # buckets after the identity are what production would not read.
    mixed = pws.call("PwsRequestOrBookRoleHours", f"{tag('Mode', 'R')}<sch:ProjectRoles>{hours(first, False)}"
                     f"{hours(second, True)}</sch:ProjectRoles>")
    assert_refused(mixed, f"{COM}HoursBuckets", f"{COM}ProjectRoleIdentity")


def test_the_wikis_misspelt_flag_is_read_in_the_place_of_the_flag(pws: Pws) -> None:
    project = pws.project(pws.engagement(pws.client("Alias"), "E"), "P")
    identities = (f"<sch:ProjectIdentities><com:PwsProjectRef>{ref('Project', project)}</com:PwsProjectRef>"
                  "</sch:ProjectIdentities>")
    placed = pws.call("PwsGetProject", f"{tag('Mode', 'R')}{identities}{tag('IncludeDeletedRolesFla', True)}")
    assert placed.status == "Ok", placed.content
    early = pws.call("PwsGetProject", f"{tag('IncludeDeletedRolesFla', True)}{tag('Mode', 'R')}{identities}")
    assert_refused(early, f"{SCH}Mode", f"{SCH}IncludeDeletedRolesFlag")


def test_lenient_reads_every_order(lenient_soap: SoapClient, account: AccountFixture) -> None:
    pws = Pws(lenient_soap, account)
    number = pws.client("Lenient")
    answer = pws.call("PwsDeleteClient", f"{tag('req:InactivateIfInuseFlag', True)}<req:ClientIdentity>"
                      f"<com:ClientUid>0</com:ClientUid><com:ClientNumber>{number}</com:ClientNumber>"
                      f"</req:ClientIdentity>{tag('req:CascadeDeleteFlag', True)}<req:RequestId>5</req:RequestId>")
    # Read in full: the ClientUid 0 and the number disagree, which is the not-found the keys give.
    assert answer.status == "Fail" and answer.text(".//cs:ResponseId") == "5", answer.content


def test_responses_are_written_in_the_contracts_order(pws: Pws) -> None:
    """Every response the helpers read is validated against the contract's schema, whose sequences
    fix the order (tests/tree.py); a response with two members swapped is not valid."""
    project = pws.project(pws.engagement(pws.client("Written"), "E"), "P")
    pws.role(project, "R")
    answer = pws.ok("PwsGetProject", f"{tag('Mode', 'R')}<sch:ProjectIdentities><com:PwsProjectRef>"
                    f"{ref('Project', project)}</com:PwsProjectRef></sch:ProjectIdentities>"
                    f"{tag('IncludeDeletedRolesFlag', True)}")
    result = copy.deepcopy(answer.result.getparent())
    schema = compile_schema()
    schema.assertValid(result)
    detail = result.find(f".//{COM}ProjectDetail")
    assert detail is not None
    code, name = detail.find(f"{COM}ProjectCode"), detail.find(f"{COM}ProjectName")
    assert code is not None and name is not None
    code.addprevious(copy.deepcopy(name))
    detail.remove(name)
    assert not schema.validate(result)

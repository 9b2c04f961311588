"""The request examples of the seeds and of pws-core §4 (tests/examples.py), sent verbatim (a live
ticket substituted, and the Uids they name, which cannot name our entities), answered in the
documented shape, byte for byte.

Each test builds the demo-like tree in a fresh account: client C000117 with a child C000118,
engagement P001323 of C000117, project P001053-WS5 in it, role Role-301 on that project with
requested and booked hours. An answer is compared with the documented response after both are
canonicalised: parsed, whitespace between elements dropped, the values that must differ (Uids,
timestamps) replaced by their name when they have the documented shape, unused namespace
declarations removed, and written as C14N, so that element
names, namespaces, prefixes, order and nil-ness must all agree. Then the bytes themselves
(``as_written``): the same values replaced, whitespace between elements dropped, and every
namespace declaration, prefix and attribute as the example writes it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import pytest
from lxml import etree

from openpws.contract import ns
from openpws.services.permissions import ALL
from openpws.store.transactions import Store
from tests import deletes_model as wire
from tests.conftest import AccountFixture, make_user
from tests.examples import (
    CLIENT_FRAGMENT,
    CLIENT_RESPONSE,
    ENGAGEMENT_REQUEST,
    ENGAGEMENT_RESPONSE,
    PROJECT_REQUEST,
    PROJECT_RESPONSE,
    ROLE_REQUEST,
    ROLE_RESPONSE,
    client_envelope,
)
from tests.pws import NAMESPACES, Answer, SoapClient
from tests.tree import Pws, ref

WIKI_ROLE_UID, WIKI_ENGAGEMENT_UID = "1152921504609594607", "1152921504607326487"
# The values that must differ, and the shape each must still have (SPEC "Identity, tokens, tickets").
UID = re.compile(r"11529215046\d{8}")  # 2^60 + n
SHAPES = {"ServerTimestampUtc": re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{7}Z"),
          "EngagementTimestamp": re.compile(r"[A-Za-z0-9+/]{11}="),  # 8 bytes of Base64
          "ClientUid": UID, "EngagementUid": UID, "ProjectUid": UID, "ProjectRoleUid": UID}
NIL = f"{{{ns.XSI}}}nil"


def substitute(text: str, **values: str) -> str:
    """``text`` with each example value (a keyword's value) replaced by ours; each must occur once."""
    for ours, theirs in values.items():
        assert text.count(theirs) == 1, theirs
        text = text.replace(theirs, ours)
    return text


def canonical(xml: str | bytes, operation: str) -> str:
    """The ``<operation>Response`` element of ``xml`` in canonical form (see the module docstring)."""
    root = etree.fromstring(xml.encode() if isinstance(xml, str) else xml)
    response = root if root.tag == f"{{{ns.PWS}}}{operation}Response" else root.find(
        f".//{{{ns.PWS}}}{operation}Response")
    assert response is not None, xml
    standalone = etree.fromstring(etree.tostring(response))
    for element in standalone.iter(etree.Element):
        element.tail = None
        if len(element):
            element.text = None
        elif (shape := SHAPES.get(etree.QName(element).localname)) and shape.fullmatch(element.text or ""):
            element.text = f"({etree.QName(element).localname})"
    # Seed 003's one PwsMessage whose members are all nil is a documentation artifact (pws-core
    # §1.5): "no messages" is the empty Messages element, as in seed 004.
    for message in standalone.iterfind(f".//{{{ns.COMMON}}}PwsMessage"):
        if all(child.get(NIL) == "true" for child in message):
            message.getparent().remove(message)
    etree.cleanup_namespaces(standalone)
    return str(etree.tostring(standalone, method="c14n").decode())


def as_written(xml: str | bytes, operation: str) -> str:
    """The ``<operation>Response`` element of ``xml`` as text: whitespace between elements dropped,
    the values that must differ replaced by their name when they have the documented shape, and
    seed 003's all-nil PwsMessage (see ``canonical``) removed, leaving Messages empty as seed 004
    writes it."""
    text = xml.decode() if isinstance(xml, bytes) else xml
    text = re.sub(r">\s+<", "><", text[text.index(f"<{operation}Response"):])
    text = text[:text.index(f"</{operation}Response>") + len(f"</{operation}Response>")]

    def value(match: re.Match[str]) -> str:
        shape = SHAPES[match["name"]]
        return match[0] if not shape.fullmatch(match["value"]) else f"{match['open']}({match['name']})</"

    names = "|".join(SHAPES)
    text = re.sub(rf"(?P<open><(?:\w+:)?(?P<name>{names})(?: [^>]*)?>)(?P<value>[^<]*)</", value, text)
    text = re.sub(r"<b:PwsMessage>(?:<b:\w+ i:nil=\"true\"/>)+</b:PwsMessage>", "", text)
    return re.sub(r"(<Messages [^>]*)></Messages>", r"\1/>", text)


def message_tags(xml: str | bytes) -> list[str]:
    text = xml.decode() if isinstance(xml, bytes) else xml
    return re.findall(r"<[\w:]+", text[text.index("<Messages "):text.index("</Messages>")])


# --- the tree --------------------------------------------------------------------------------------

@dataclass
class DemoTree:
    pws: Pws
    store: Store
    engagement_uid: str
    role_uid: str

    def send(self, request: str, ticket: str, **uids: str) -> Answer:
        return self.pws.soap.post(substitute(request, **{self.pws.ticket: ticket}, **uids).encode())

    def view(self) -> wire.View:
        return wire.observe(self.pws, self.store)

    def snapshot(self) -> list[tuple[object, ...]]:
        return wire.snapshot(self.store, self.pws.account.code)


def client(pws: Pws, number: str, name: str, parent: str | None = None) -> None:
    under = f"<com:ParentClientIdentity>{ref('Client', parent)}</com:ParentClientIdentity>" if parent else ""
    pws.ok("PwsSaveClient", f"<req:Client><com:ClientNumber>{number}</com:ClientNumber><com:ClientName>{name}"
                            f"</com:ClientName>{under}</req:Client>")


@pytest.fixture
def tree(soap: SoapClient, store: Store, account: AccountFixture) -> DemoTree:
    pws = Pws(soap, account)
    client(pws, "C000117", "Revcorp Holdings")
    client(pws, "C000118", "Revcorp Labs", parent="C000117")
    engagement = pws.engagement("C000117", "Revcorp platform", code="P001323")
    project = pws.project(engagement, "Workshop series", code="P001053-WS5")
    role = pws.role(project, "Project Manager", external_id="Role-301")
    for mode in ("R", "A"):
        assert wire.request_hours(pws, role, mode).status == "Ok"
    got = pws.ok("PwsGetEngagement", f"<sch:EngagementIdentities><com:PwsEngagementRef>{ref('Engagement', engagement)}"
                 "</com:PwsEngagementRef></sch:EngagementIdentities>")
    assert engagement == "P001323"
    return DemoTree(pws, store, got.text(".//com:EngagementDetail/com:EngagementUid") or "", str(role))


def role_deleted_first(tree: DemoTree) -> None:
    assert wire.delete_role(tree.pws, int(tree.role_uid), zero_out_hours=True).status == "Ok"


def project_deleted_first(tree: DemoTree) -> None:
    assert wire.delete_project(tree.pws, "P001053-WS5", cascade=True, delete_empty_engagement=False).status == "Ok"


# --- the examples ----------------------------------------------------------------------------------

def test_delete_project_role_example(tree: DemoTree) -> None:
    answer = tree.send(ROLE_REQUEST, "AZ2QD+hg1Hm7vSa7Y3Lm3w==", **{tree.role_uid: WIKI_ROLE_UID})
    assert canonical(answer.content, "PwsDeleteProjectRole") == canonical(ROLE_RESPONSE, "PwsDeleteProjectRole")
    assert as_written(answer.content, "PwsDeleteProjectRole") == as_written(ROLE_RESPONSE, "PwsDeleteProjectRole")
    assert answer.text(".//sch:ProjectRoleIdentity/com:ProjectRoleUid") == tree.role_uid
    # ZeroOutHoursFlag=true: the requested and booked hours went with it; the row stays, deleted.
    assert tree.view().roles == {int(tree.role_uid): ("P001053-WS5", "Project Manager", True, False, False)}


def test_delete_project_example(tree: DemoTree) -> None:
    # The example leaves CascadeDeleteFlag commented out: the live role Role-301 blocks it.
    before = tree.snapshot()
    refused = tree.send(PROJECT_REQUEST, "ARM5cmQi4CD5BoGl6bHk4w==")
    assert (refused.status, refused.error_numbers()) == ("Fail", [wire.PROJECT_HAS_ROLES])
    assert tree.snapshot() == before
    role_deleted_first(tree)
    answer = tree.send(PROJECT_REQUEST, "ARM5cmQi4CD5BoGl6bHk4w==")
    assert canonical(answer.content, "PwsDeleteProject") == canonical(PROJECT_RESPONSE, "PwsDeleteProject")
    assert as_written(answer.content, "PwsDeleteProject") == as_written(PROJECT_RESPONSE, "PwsDeleteProject")
    assert answer.text(".//sch:ProjectIdentity/com:ProjectCode") == "P001053-WS5"
    view = tree.view()
    assert view.projects == {} and view.roles == {} and list(view.engagements) == ["P001323"]
    # The EngagementTimestamp answered is the engagement's version after the delete.
    got = tree.pws.ok("PwsGetEngagement", "<sch:EngagementIdentities><com:PwsEngagementRef>"
                      f"{ref('Engagement', 'P001323')}</com:PwsEngagementRef></sch:EngagementIdentities>")
    assert answer.text(".//sch:EngagementTimestamp") == got.text(".//com:EngagementDetail/com:EngagementTimestamp")


def test_delete_engagement_example(tree: DemoTree) -> None:
    # Without CascadeDeleteFlag the example fails while the engagement has a project (seed 001's 54537).
    before = tree.snapshot()
    refused = tree.send(ENGAGEMENT_REQUEST, "AWYoWMBC/cjl/RFPrykteA==", **{tree.engagement_uid: WIKI_ENGAGEMENT_UID})
    assert (refused.status, refused.error_numbers()) == ("Fail", [wire.ENGAGEMENT_HAS_PROJECTS])
    assert refused.text(".//cs:ResponseId") == "1"
    assert tree.snapshot() == before
    project_deleted_first(tree)
    answer = tree.send(ENGAGEMENT_REQUEST, "AWYoWMBC/cjl/RFPrykteA==", **{tree.engagement_uid: WIKI_ENGAGEMENT_UID})
    assert canonical(answer.content, "PwsDeleteEngagement") == canonical(ENGAGEMENT_RESPONSE, "PwsDeleteEngagement")
    assert as_written(answer.content, "PwsDeleteEngagement") == as_written(ENGAGEMENT_RESPONSE, "PwsDeleteEngagement")
    assert answer.text(".//sch:EngagementIdentity/com:EngagementUid") == tree.engagement_uid
    assert tree.view().engagements == {}


@pytest.mark.parametrize(("request_xml", "ticket", "number"), [
    (ENGAGEMENT_REQUEST, "AWYoWMBC/cjl/RFPrykteA==", wire.ENGAGEMENT_NOT_FOUND),
    (ROLE_REQUEST, "AZ2QD+hg1Hm7vSa7Y3Lm3w==", wire.ROLE_NOT_FOUND),
], ids=["PwsDeleteEngagement", "PwsDeleteProjectRole"])
def test_an_example_with_the_wiki_uid_names_nothing(tree: DemoTree, request_xml: str, ticket: str, number: int) -> None:
    """Why the Uids are substituted: sent as written, the example's code and Uid name different
    entities (ours has the code, no entity has the Uid), which is the entity's NotFound error."""
    if request_xml is ENGAGEMENT_REQUEST:
        project_deleted_first(tree)  # so that only the keys can refuse it
    before = tree.snapshot()
    answer = tree.send(request_xml, ticket)
    assert (answer.status, answer.error_numbers()) == ("Fail", [number])
    assert tree.snapshot() == before


def test_delete_client_example(tree: DemoTree) -> None:
    request = client_envelope(CLIENT_FRAGMENT)
    # C000117 has an engagement: with both flags its child goes and it is itself marked inactive.
    first = tree.send(request, "AVWN2cthcvkr13Vtxbkl4Q==")
    assert (first.status, first.error_numbers()) == ("OkWithWarnings", [wire.CLIENT_INACTIVATED])
    assert "C000117" in (first.messages()[0]["AdditionalErrorText"] or "")
    assert first.text(".//rs:ClientIdentity/com:ClientNumber") == "C000117"
    assert tree.view().clients == {"C000117": (None, True)}
    # The warning is written as seed 003 writes its PwsMessage: b: on Messages, the members in order.
    assert message_tags(first.content) == message_tags(CLIENT_RESPONSE) == [
        "<Messages", "<b:PwsMessage", "<b:AdditionalErrorText", "<b:ErrorCode", "<b:ErrorNumber", "<b:ErrorText",
        "<b:Type", "<b:ReferenceId1", "<b:ReferenceId2"]
    # Once its engagement is gone the same request deletes it, answered as documented.
    assert wire.delete_engagement(tree.pws, "P001323", cascade=True).status == "Ok"
    answer = tree.send(request, "AVWN2cthcvkr13Vtxbkl4Q==")
    assert canonical(answer.content, "PwsDeleteClient") == canonical(CLIENT_RESPONSE, "PwsDeleteClient")
    assert as_written(answer.content, "PwsDeleteClient") == as_written(CLIENT_RESPONSE, "PwsDeleteClient")
    assert tree.view().clients == {}


def test_the_client_fragment_is_only_completed_not_rewritten() -> None:
    """What the envelope adds to seed 003's fragment is prefixes and declarations, nothing else."""
    sent = etree.fromstring(client_envelope(CLIENT_FRAGMENT).encode())
    wrapper = sent.find(f".//{{{ns.PWS}}}PwsDeleteClient/{{{ns.PWS}}}serviceRequest")
    assert wrapper is not None
    assert [(etree.QName(e).namespace, etree.QName(e).localname, (e.text or "").strip())
            for e in wrapper if isinstance(e.tag, str)] == [
        (ns.REQUESTS, "RequestId", "1"), (ns.REQUESTS, "SessionTicket", "AVWN2cthcvkr13Vtxbkl4Q=="),
        (ns.REQUESTS, "CascadeDeleteFlag", "true"), (ns.REQUESTS, "ClientIdentity", ""),
        (ns.REQUESTS, "InactivateIfInuseFlag", "true")]
    identity = wrapper.find(f"{{{ns.REQUESTS}}}ClientIdentity")
    assert identity is not None and [etree.QName(e).text for e in identity if isinstance(e.tag, str)] == [
        f"{{{ns.COMMON}}}ClientNumber"]
    assert len([e for e in identity if not isinstance(e.tag, str)]) == 2  # the two comments stay


# The three examples that send the deprecated StealLockFlag=true, with what must go first.
STEALING = {
    "PwsDeleteProjectRole": (ROLE_REQUEST, "AZ2QD+hg1Hm7vSa7Y3Lm3w==", None),
    "PwsDeleteProject": (PROJECT_REQUEST, "ARM5cmQi4CD5BoGl6bHk4w==", role_deleted_first),
    "PwsDeleteEngagement": (ENGAGEMENT_REQUEST, "AWYoWMBC/cjl/RFPrykteA==", project_deleted_first),
}


@pytest.mark.parametrize("operation", sorted(STEALING))
def test_steal_lock_flag_steals_another_users_lock(tree: DemoTree, store: Store, operation: str) -> None:
    """As the seeds describe StealLockFlag: a lock another user holds on the engagement is stolen."""
    request, ticket, first = STEALING[operation]
    if first is not None:
        first(tree)
    account = tree.pws.account
    login = f"holder@{account.code}"
    make_user(store, account.code, login, ALL, reference_id="HOLDER")
    holder = Pws(tree.pws.soap, account, login)
    locked = holder.call("PwsAcquireProjectorLocks", "<req:LockDurationSeconds>600</req:LockDurationSeconds>"
                         "<req:Locks><com:PwsProjectorLockRequest><com:EntityIdentity><com:EntityCode>P001323"
                         "</com:EntityCode><com:LockType>E</com:LockType></com:EntityIdentity>"
                         "</com:PwsProjectorLockRequest></req:Locks>")
    assert locked.status == "Ok", locked.content
    uids = {"PwsDeleteProjectRole": {tree.role_uid: WIKI_ROLE_UID},
            "PwsDeleteEngagement": {tree.engagement_uid: WIKI_ENGAGEMENT_UID}}.get(operation, {})
    answer = tree.send(request, ticket, **uids)
    assert answer.status == "Ok", answer.content
    victim = answer.result.find("sch:LockStolenFromUserIdentity", NAMESPACES)
    assert victim is not None and victim.findtext("com:UserReferenceSystemId", namespaces=NAMESPACES) == "HOLDER"
    stolen = answer.result.findall("sch:StolenLocks/com:PwsEntityLockSummary/com:EntityIdentity", NAMESPACES)
    assert [(e.findtext("com:EntityCode", namespaces=NAMESPACES), e.findtext("com:LockType", namespaces=NAMESPACES))
            for e in stolen] == [("P001323", "E")]

"""The request examples of the seeds and of pws-core §4, sent verbatim (a live ticket substituted,
and the Uids they name, which cannot name our entities), answered in the documented shape.

Each test builds the demo-like tree in a fresh account: client C000117 with a child C000118,
engagement P001323 of C000117, project P001053-WS5 in it, role Role-301 on that project with
requested and booked hours. An answer is compared with the documented response after both are
canonicalised: parsed, whitespace between elements dropped, the values that must differ (Uids,
timestamps) replaced by their name when they have the documented shape, unused namespace
declarations removed, and written as C14N, so that element
names, namespaces, prefixes, order and nil-ness must all agree.
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
from tests.pws import NAMESPACES, Answer, SoapClient
from tests.tree import Pws, ref

# --- the examples, as written --------------------------------------------------------------------

# Seed 002 (PwsDeleteProjectRole, "Example 01"): a full envelope.
ROLE_REQUEST = """<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" xmlns:pws="http://projectorpsa.com/PwsProjectorServices/" xmlns:req="http://projectorpsa.com/DataContracts/Requests/" xmlns:sch="http://projectorpsa.com/DataContracts/Shared/Scheduling/" xmlns:com="http://projectorpsa.com/DataContracts/Shared/Common/">
   <soapenv:Header/>
   <soapenv:Body>
      <pws:PwsDeleteProjectRole>
         <pws:serviceRequest>
            <req:SessionTicket>AZ2QD+hg1Hm7vSa7Y3Lm3w==</req:SessionTicket>
            <sch:ProjectRoleIdentity>
               <com:ExternalSystemIdentifier>Role-301</com:ExternalSystemIdentifier>
               <com:ProjectRoleUid>1152921504609594607</com:ProjectRoleUid>
            </sch:ProjectRoleIdentity>
            <sch:StealLockFlag>true</sch:StealLockFlag>
            <sch:ZeroOutHoursFlag>true</sch:ZeroOutHoursFlag>
         </pws:serviceRequest>
      </pws:PwsDeleteProjectRole>
   </soapenv:Body>
</soapenv:Envelope>"""

# Seed 003 (PwsDeleteClient): a fragment whose prefixes and namespace declarations the wiki cut off.
CLIENT_FRAGMENT = """<PwsDeleteClient>
<serviceRequest>
<RequestId>1</RequestId>
<SessionTicket>AVWN2cthcvkr13Vtxbkl4Q==</SessionTicket>
<CascadeDeleteFlag>true</CascadeDeleteFlag>
<ClientIdentity>
<!--com:ClientId>?</com:ClientId-->
<com:ClientNumber>C000117</com:ClientNumber>
<!--com:ClientUid>?</com:ClientUid-->
</ClientIdentity>
<InactivateIfInuseFlag>true</InactivateIfInuseFlag>
</serviceRequest>
</PwsDeleteClient>"""

# Seed 003's response example.
CLIENT_RESPONSE = """<PwsDeleteClientResponse xmlns="http://projectorpsa.com/PwsProjectorServices/">
<PwsDeleteClientResult xmlns:a="http://projectorpsa.com/DataContracts/Responses/" xmlns:i="http://www.w3.org/2001/XMLSchema-instance">
<Messages xmlns="http://projectorpsa.com/CommonServices/" xmlns:b="http://projectorpsa.com/DataContracts/Shared/Common/">
<b:PwsMessage>
<b:AdditionalErrorText i:nil="true"/>
<b:ErrorCode i:nil="true"/>
<b:ErrorNumber i:nil="true"/>
<b:ErrorText i:nil="true"/>
<b:Type i:nil="true"/>
<b:ReferenceId1 i:nil="true"/>
<b:ReferenceId2 i:nil="true"/>
</b:PwsMessage>
</Messages>
<ResponseId xmlns="http://projectorpsa.com/CommonServices/">1</ResponseId>
<Status xmlns="http://projectorpsa.com/CommonServices/">Ok</Status>
<ServerTimestampUtc xmlns="http://projectorpsa.com/CommonServices/">2017-12-21T16:14:01.7558585Z</ServerTimestampUtc>
<a:ClientIdentity xmlns:b="http://projectorpsa.com/DataContracts/Shared/Common/">
<b:ClientId i:nil="true"/>
<b:ClientNumber>C000117</b:ClientNumber>
<b:ClientUid>1152921504606989806</b:ClientUid>
</a:ClientIdentity>
</PwsDeleteClientResult>
</PwsDeleteClientResponse>"""

# Seed 004's response example (PwsDeleteProject).
PROJECT_RESPONSE = """<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/">
   <s:Body>
      <PwsDeleteProjectResponse xmlns="http://projectorpsa.com/PwsProjectorServices/">
         <PwsDeleteProjectResult xmlns:a="http://projectorpsa.com/DataContracts/Shared/Scheduling/" xmlns:i="http://www.w3.org/2001/XMLSchema-instance">
            <Messages xmlns="http://projectorpsa.com/CommonServices/" xmlns:b="http://projectorpsa.com/DataContracts/Shared/Common/"/>
            <ResponseId xmlns="http://projectorpsa.com/CommonServices/">0</ResponseId>
            <Status xmlns="http://projectorpsa.com/CommonServices/">Ok</Status>
            <ServerTimestampUtc xmlns="http://projectorpsa.com/CommonServices/">2018-02-01T15:16:43.8444098Z</ServerTimestampUtc>
            <a:ProjectIdentity xmlns:b="http://projectorpsa.com/DataContracts/Shared/Common/">
               <b:ProjectCode>P001053-WS5</b:ProjectCode>
               <b:ProjectId i:nil="true"/>
               <b:ProjectUid>1152921504607411807</b:ProjectUid>
            </a:ProjectIdentity>
            <a:EngagementTimestamp>AAAAAA+K6i4=</a:EngagementTimestamp>
            <a:LockStolenFromUserIdentity i:nil="true" xmlns:b="http://projectorpsa.com/DataContracts/Shared/Common/"/>
         </PwsDeleteProjectResult>
      </PwsDeleteProjectResponse>
   </s:Body>
</s:Envelope>"""

# pws-core §4.2 and §4.3 give these two requests as structure, not XML: written out here in the
# envelope of seed 002 (the same wiki family), with their members, values and comment as given.
ENGAGEMENT_REQUEST = """<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" xmlns:pws="http://projectorpsa.com/PwsProjectorServices/" xmlns:req="http://projectorpsa.com/DataContracts/Requests/" xmlns:sch="http://projectorpsa.com/DataContracts/Shared/Scheduling/" xmlns:com="http://projectorpsa.com/DataContracts/Shared/Common/">
   <soapenv:Header/>
   <soapenv:Body>
      <pws:PwsDeleteEngagement>
         <pws:serviceRequest>
            <req:RequestId>1</req:RequestId>
            <req:SessionTicket>AWYoWMBC/cjl/RFPrykteA==</req:SessionTicket>
            <sch:EngagementIdentity>
               <com:EngagementCode>P001323</com:EngagementCode>
               <com:EngagementUid>1152921504607326487</com:EngagementUid>
            </sch:EngagementIdentity>
            <sch:StealLockFlag>true</sch:StealLockFlag>
         </pws:serviceRequest>
      </pws:PwsDeleteEngagement>
   </soapenv:Body>
</soapenv:Envelope>"""

PROJECT_REQUEST = """<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" xmlns:pws="http://projectorpsa.com/PwsProjectorServices/" xmlns:req="http://projectorpsa.com/DataContracts/Requests/" xmlns:sch="http://projectorpsa.com/DataContracts/Shared/Scheduling/" xmlns:com="http://projectorpsa.com/DataContracts/Shared/Common/">
   <soapenv:Header/>
   <soapenv:Body>
      <pws:PwsDeleteProject>
         <pws:serviceRequest>
            <req:SessionTicket>ARM5cmQi4CD5BoGl6bHk4w==</req:SessionTicket>
            <!--<sch:CascadeDeleteFlag>false</sch:CascadeDeleteFlag>-->
            <sch:ProjectIdentity>
               <com:ProjectCode>P001053-WS5</com:ProjectCode>
            </sch:ProjectIdentity>
            <sch:StealLockFlag>true</sch:StealLockFlag>
         </pws:serviceRequest>
      </pws:PwsDeleteProject>
   </soapenv:Body>
</soapenv:Envelope>"""

# The two delete responses the wiki shows no example of, in the shape of seed 004's (same service
# family), with the members and sample values of their documented tables: seed 001's response
# table for PwsDeleteEngagement, pws-core §4.4's for PwsDeleteProjectRole. The role's
# ExternalSystemIdentifier is filled: refs in responses carry both keys (SPEC), although the
# wiki's example showed it nil.
ENGAGEMENT_RESPONSE = """<PwsDeleteEngagementResponse xmlns="http://projectorpsa.com/PwsProjectorServices/">
   <PwsDeleteEngagementResult xmlns:a="http://projectorpsa.com/DataContracts/Shared/Scheduling/" xmlns:i="http://www.w3.org/2001/XMLSchema-instance">
      <Messages xmlns="http://projectorpsa.com/CommonServices/" xmlns:b="http://projectorpsa.com/DataContracts/Shared/Common/"/>
      <ResponseId xmlns="http://projectorpsa.com/CommonServices/">1</ResponseId>
      <Status xmlns="http://projectorpsa.com/CommonServices/">Ok</Status>
      <ServerTimestampUtc xmlns="http://projectorpsa.com/CommonServices/">2018-01-19T19:32:35.9700152Z</ServerTimestampUtc>
      <a:EngagementIdentity xmlns:b="http://projectorpsa.com/DataContracts/Shared/Common/">
         <b:EngagementCode>P001323</b:EngagementCode>
         <b:EngagementId i:nil="true"/>
         <b:EngagementUid>1152921504607326487</b:EngagementUid>
      </a:EngagementIdentity>
      <a:EngagementTimestamp>AAAAAA99vU0=</a:EngagementTimestamp>
      <a:LockStolenFromUserIdentity i:nil="true" xmlns:b="http://projectorpsa.com/DataContracts/Shared/Common/"/>
   </PwsDeleteEngagementResult>
</PwsDeleteEngagementResponse>"""

ROLE_RESPONSE = """<PwsDeleteProjectRoleResponse xmlns="http://projectorpsa.com/PwsProjectorServices/">
   <PwsDeleteProjectRoleResult xmlns:a="http://projectorpsa.com/DataContracts/Shared/Scheduling/" xmlns:i="http://www.w3.org/2001/XMLSchema-instance">
      <Messages xmlns="http://projectorpsa.com/CommonServices/" xmlns:b="http://projectorpsa.com/DataContracts/Shared/Common/"/>
      <ResponseId xmlns="http://projectorpsa.com/CommonServices/">0</ResponseId>
      <Status xmlns="http://projectorpsa.com/CommonServices/">Ok</Status>
      <ServerTimestampUtc xmlns="http://projectorpsa.com/CommonServices/">2018-02-28T16:41:27.5122259Z</ServerTimestampUtc>
      <a:ProjectRoleIdentity xmlns:b="http://projectorpsa.com/DataContracts/Shared/Common/">
         <b:ExternalSystemIdentifier>Role-301</b:ExternalSystemIdentifier>
         <b:ProjectRoleId i:nil="true"/>
         <b:ProjectRoleUid>1152921504609594607</b:ProjectRoleUid>
      </a:ProjectRoleIdentity>
      <a:EngagementTimestamp>AAAAAA+vLyM=</a:EngagementTimestamp>
      <a:LockStolenFromUserIdentity i:nil="true" xmlns:b="http://projectorpsa.com/DataContracts/Shared/Common/"/>
   </PwsDeleteProjectRoleResult>
</PwsDeleteProjectRoleResponse>"""

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


def client_envelope(fragment: str) -> str:
    """Seed 003's fragment in an envelope with the documented namespaces (SPEC): the prefixes the wiki
    cut off put back, pws on the wrapper and serviceRequest, req on the members (com: is written)."""
    def prefixed(match: re.Match[str]) -> str:
        slash, name = match.groups()
        return f"<{slash}{'pws' if name in ('PwsDeleteClient', 'serviceRequest') else 'req'}:{name}>"

    return (f'<soapenv:Envelope xmlns:soapenv="{ns.SOAP_ENV}" xmlns:pws="{ns.PWS}" xmlns:req="{ns.REQUESTS}" '
            f'xmlns:com="{ns.COMMON}"><soapenv:Header/><soapenv:Body>'
            f"{re.sub(r'<(/?)([A-Za-z]+)>', prefixed, fragment)}</soapenv:Body></soapenv:Envelope>")


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
    # Once its engagement is gone the same request deletes it, answered as documented.
    assert wire.delete_engagement(tree.pws, "P001323", cascade=True).status == "Ok"
    answer = tree.send(request, "AVWN2cthcvkr13Vtxbkl4Q==")
    assert canonical(answer.content, "PwsDeleteClient") == canonical(CLIENT_RESPONSE, "PwsDeleteClient")
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

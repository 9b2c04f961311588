"""The documented request and response examples, as written: the seeds' (seed 002's
PwsDeleteProjectRole envelope, seed 003's PwsDeleteClient fragment and response, seed 004's
PwsDeleteProject response) and those of the reference notes (pws-core §4.2 and §4.3, pws-entities
§3.5), with the envelope the SPEC puts around a fragment. Tests send them verbatim (a live ticket
substituted, and where needed Uids): tests/messages/test_deletes_seeds.py for the answers they get,
tests/messages/test_member_order.py for their member order."""

from __future__ import annotations

import re

from openpws.contract import ns

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

# pws-entities §3.5 (PwsSaveClient page): the minimal insert, a fragment of the serviceRequest's
# members ("…" the page's elisions). Address is production's and unknown to openpws's contract.
SAVE_CLIENT_MEMBERS = ("<req:Client><com:ClientName>…</com:ClientName><com:InactiveFlag>false</com:InactiveFlag>"
                       "<com:Address>…</com:Address></req:Client>")


def client_envelope(fragment: str) -> str:
    """Seed 003's fragment in an envelope with the documented namespaces (SPEC): the prefixes the wiki
    cut off put back, pws on the wrapper and serviceRequest, req on the members (com: is written)."""
    def prefixed(match: re.Match[str]) -> str:
        slash, name = match.groups()
        return f"<{slash}{'pws' if name in ('PwsDeleteClient', 'serviceRequest') else 'req'}:{name}>"

    return (f'<soapenv:Envelope xmlns:soapenv="{ns.SOAP_ENV}" xmlns:pws="{ns.PWS}" xmlns:req="{ns.REQUESTS}" '
            f'xmlns:com="{ns.COMMON}"><soapenv:Header/><soapenv:Body>'
            f"{re.sub(r'<(/?)([A-Za-z]+)>', prefixed, fragment)}</soapenv:Body></soapenv:Envelope>")

"""serve --demo loads a tree to try every rule on by hand, once."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from openpws.contract import ns
from tests.conftest import start_server, stop_server
from tests.pws import Answer, SoapClient

pytestmark = [pytest.mark.serve, pytest.mark.slow]

NS = {"sch": ns.SCHEDULING, "com": ns.COMMON, "rs": ns.RESPONSES, "bil": ns.BILLING}


def texts(answer: Answer, path: str) -> list[str]:
    return [e.text or "" for e in answer.root.iterfind(path, NS)]


def test_demo_tree(tmp_path: Path, database_url: str) -> None:
    first = start_server(database_url, tmp_path, "--demo")
    try:
        client = SoapClient(first.base_url)
        ticket = f"<req:SessionTicket>{client.login('demo', 'viewer@demo', 'demo')}</req:SessionTicket>"

        def call(operation: str, members: str) -> Answer:
            answer = client.call(operation, ticket + members)
            assert answer.status == "Ok", answer.content
            return answer

        clients = call("PwsGetClientList", "<req:QueryString>revcorp</req:QueryString>")
        assert texts(clients, ".//com:PwsClientSummary/com:ClientNumber") == ["C000117", "C000118"]
        assert texts(clients, ".//com:PwsClientSummary/com:ParentClientIdentity/com:ClientNumber") == ["C000117"]
        engagements = call("PwsGetEngagementList", "<sch:QueryString>Revcorp Holdings</sch:QueryString>")
        # C000118 is a child of C000117: its engagements match through their parent client.
        assert texts(engagements, ".//com:PwsEngagementSummary/com:EngagementCode") == [
            "E001395", "E001400", "P001053", "P001323"]
        project = call("PwsGetProject", "<sch:Mode>R</sch:Mode><sch:ProjectIdentities><com:PwsProjectRef>"
                       "<com:ProjectCode>P001323-001</com:ProjectCode></com:PwsProjectRef></sch:ProjectIdentities>")
        roles = ".//com:Roles/com:PwsProjectRoleElement"
        assert texts(project, roles + "/com:ProjectRoleDetail/com:ExternalSystemIdentifier") == [
            "Role-301", "Role-302", "Role-303"]
        requested = [len(e.findall("com:HoursBuckets/com:PwsProjectRoleHoursBucket", NS))
                     for e in project.root.iterfind(roles, NS)]
        assert requested == [4, 1, 0]
        booked = call("PwsGetProjectRoles", "<sch:Mode>A</sch:Mode><sch:ProjectIdentities><com:PwsProjectRef>"
                      "<com:ProjectCode>P001323-001</com:ProjectCode></com:PwsProjectRef><com:PwsProjectRef>"
                      "<com:ProjectCode>P001053-001</com:ProjectCode></com:PwsProjectRef></sch:ProjectIdentities>")
        assert texts(booked, ".//com:ProjectRoleDetail/com:ResourceIdentity/com:ResourceReferenceSystemId") == [
            "ADMIN", "ADMIN"]
        assert len(booked.root.findall(".//com:HoursBuckets/com:PwsProjectRoleHoursBucket", NS)) == 5
        resources = call("PwsGetResourceList", "")
        assert texts(resources, ".//com:PwsResourceSummary/com:ResourceReferenceSystemId") == [
            "DEV", "ADMIN", "VIEWER"]
        assert texts(resources, ".//com:PwsResourceSummary/com:EmailAddress")[0] == "dana@demo.example"
        platform = call("PwsGetEngagement", "<sch:EngagementIdentities><com:PwsEngagementRef><com:EngagementCode>"
                        "P001323</com:EngagementCode></com:PwsEngagementRef></sch:EngagementIdentities>")
        lines = ".//com:ContractLineItems/com:PwsContractLineItemElement"
        assert texts(platform, lines + "/com:ContractLineItemDetail/com:ContractLineItemCode") == [
            "P001323-CL1", "P001323-CL2"]
        assert [texts(platform, f"{lines}[{n}]/com:Projects/com:PwsProjectSummary/com:ProjectCode") for n in (1, 2)] \
            == [["P001323-001"], ["P001323-002"]]
        invoice = call("PwsGetInvoice", '<bil:InvoiceIdentity xmlns:bil="http://projectorpsa.com/DataContracts/'
                       'Shared/Billing/"><com:InvoiceNumber>DRAFT00001</com:InvoiceNumber></bil:InvoiceIdentity>')
        assert texts(invoice, ".//bil:Engagement/com:EngagementCode") == ["E001395"]
        assert texts(invoice, ".//bil:ProjectIdentity/com:ProjectCode") == ["E001395-001"]
        admin = f"<req:SessionTicket>{client.login('demo', 'admin@demo', 'demo')}</req:SessionTicket>"
        schedule = client.call("PwsGetResourceSchedulingRoleData", admin + "<sch:ProjectRoleIdentities>"
                               "<com:PwsProjectRoleRef><com:ExternalSystemIdentifier>Role-302</com:ExternalSystemIdentifier>"
                               "</com:PwsProjectRoleRef></sch:ProjectRoleIdentities>"
                               "<sch:RequestOrScheduleMode>R</sch:RequestOrScheduleMode>"
                               f"<sch:StartDate>{datetime.now(UTC):%Y-%m-%d}T00:00:00Z</sch:StartDate>")
        assert schedule.status == "Ok", schedule.content
        assert texts(schedule, ".//com:PwsProjectRoleSchedule/com:ResourceIdentity/com:ResourceReferenceSystemId") == [
            "DEV"]
        assert texts(schedule, ".//com:RequestedBuckets/com:PwsProjectRoleHoursBucket/com:SchedulingMode") == ["D"]
        client.close()
    finally:
        stop_server(first)
    again = start_server(database_url, tmp_path, "--demo")
    try:
        output = again.output.read_text()
        assert "Using demo account 'demo'" in output and "Loaded the demo tree" not in output
    finally:
        stop_server(again)

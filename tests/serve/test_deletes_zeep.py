"""An independent SOAP client (zeep, from the served WSDL) drives the delete services, including
the two-step steal: catch the Fault, read LockHolders from its PwsFault, send them back."""

from __future__ import annotations

from typing import Any

import pytest
import zeep
from zeep.exceptions import Fault

from openpws.contract import ns
from openpws.store.transactions import Store
from tests.conftest import AccountFixture, Server
from tests.messages.deletes_common import acquire, engagement_state, hours, other_user, project_exists
from tests.pws import SERVICE_PATH, SoapClient
from tests.tree import Pws

pytestmark = pytest.mark.serve


@pytest.fixture(scope="module")
def client(server: Server) -> zeep.Client:
    return zeep.Client(server.base_url + SERVICE_PATH + "?singleWsdl")


def ticket(client: zeep.Client, account: AccountFixture) -> str:
    answer = client.service.PwsAuthenticate(serviceRequest={
        "AccountCode": account.code, "UserName": account.admin, "Password": account.password})
    return str(answer.SessionTicket)


def pws_fault(client: zeep.Client, fault: Fault) -> Any:
    """The PwsFault a lock conflict carries, read with the WSDL's own type."""
    assert fault.detail is not None
    [detail] = list(fault.detail)
    return client.get_element(f"{{{ns.COMMON}}}PwsFault").parse(detail, client.wsdl.types)


def steal(client: zeep.Client, operation: str, request: dict[str, Any]) -> Any:
    """Call; on a lock conflict, call again with the PwsFault's LockHolders as LocksToSteal."""
    call = getattr(client.service, operation)
    try:
        call(serviceRequest=request)
    except Fault as fault:
        found = pws_fault(client, fault)
        assert found.AllowLocksToBeStolenFlag is True
        assert found.Messages.PwsMessage[0].ErrorNumber in (54076, 50469)
        return call(serviceRequest={**request, "LocksToSteal": found.LockHolders})
    raise AssertionError(f"{operation} was not refused")


def test_zeep_deletes_roles_projects_and_engagements_stealing_locks(
        client: zeep.Client, soap: SoapClient, store: Store, account: AccountFixture) -> None:
    pws = Pws(soap, account)
    client_number = pws.client("Zeep client")
    engagement = pws.engagement(client_number, "Zeep engagement")
    first, second = pws.project(engagement, "First"), pws.project(engagement, "Second")
    role = pws.role(first, "Zeep role", external_id="ZEEP-R")
    hours(pws, role, "R")
    holder = other_user(soap, store, account)
    session = ticket(client, account)

    acquire(holder, "R", uid=role)
    deleted = steal(client, "PwsDeleteProjectRole", {
        "SessionTicket": session, "ProjectRoleIdentity": {"ExternalSystemIdentifier": "ZEEP-R"},
        "ZeroOutHoursFlag": True})
    assert deleted.Status == "Ok"
    assert deleted.ProjectRoleIdentity.ProjectRoleUid == role
    assert deleted.LockStolenFromUserIdentity.UserDisplayName == f"User holder@{account.code}"
    assert deleted.StolenLocks.PwsEntityLockSummary[0].EntityIdentity.LockType == "R"

    undeleted = client.service.PwsUndeleteProjectRole(serviceRequest={
        "SessionTicket": session, "ProjectRoleIdentity": {"ProjectRoleUid": role}})
    assert undeleted.Status == "Ok" and undeleted.ProjectRoleIdentity.ExternalSystemIdentifier == "ZEEP-R"
    assert undeleted.EngagementTimestamp == engagement_state(pws, engagement).timestamp  # type: ignore[union-attr]

    acquire(holder, "P", first)
    project = steal(client, "PwsDeleteProject", {
        "SessionTicket": session, "ProjectIdentity": {"ProjectCode": first}, "CascadeDeleteFlag": True})
    assert project.Status == "Ok" and project.ProjectIdentity.ProjectCode == first
    assert project.EngagementTimestamp == engagement_state(pws, engagement).timestamp  # type: ignore[union-attr]
    assert not project_exists(pws, first)

    acquire(holder, "E", engagement)
    gone = steal(client, "PwsDeleteEngagement", {
        "SessionTicket": session, "EngagementIdentity": {"EngagementCode": engagement}, "CascadeDeleteFlag": True})
    assert gone.Status == "Ok" and gone.EngagementIdentity.EngagementCode == engagement
    assert gone.StolenLocks.PwsEntityLockSummary[0].EntityIdentity.EntityCode == engagement
    assert engagement_state(pws, engagement) is None and not project_exists(pws, second)

    removed = client.service.PwsDeleteClient(serviceRequest={
        "SessionTicket": session, "ClientIdentity": {"ClientNumber": client_number}, "CascadeDeleteFlag": True,
        "InactivateIfInuseFlag": True})
    assert removed.Status == "Ok" and removed.ClientIdentity.ClientNumber == client_number


def test_zeep_sees_business_errors_and_warnings_in_band(client: zeep.Client, soap: SoapClient,
                                                        account: AccountFixture) -> None:
    pws = Pws(soap, account)
    number = pws.client("Busy")
    engagement = pws.engagement(number, "Work")
    pws.project(engagement, "Phase")
    session = ticket(client, account)
    refused = client.service.PwsDeleteEngagement(serviceRequest={
        "SessionTicket": session, "EngagementIdentity": {"EngagementCode": engagement}})
    assert refused.Status == "Fail"
    assert [m.ErrorNumber for m in refused.Messages.PwsMessage] == [54537]
    inactivated = client.service.PwsDeleteClient(serviceRequest={
        "SessionTicket": session, "ClientIdentity": {"ClientNumber": number}, "InactivateIfInuseFlag": True})
    assert inactivated.Status == "OkWithWarnings"
    [warning] = inactivated.Messages.PwsMessage
    assert (warning.ErrorNumber, warning.Type) == (101, "Warning") and number in warning.AdditionalErrorText

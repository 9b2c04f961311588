"""X-Openpws-Not-Modelled: a member the contract accepts and openpws does not model is never dropped
in silence. The response names every such member the request sent; docs/operations.md lists them."""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path

import pytest

from openpws.contract import load_contract
from openpws.messages.modelled import NotModelled, UnknownMember
from openpws.messages.operations import OPERATIONS
from tests.conftest import AccountFixture
from tests.pws import SoapClient
from tests.tree import Pws, ref, tag

OPERATIONS_DOC = Path(__file__).resolve().parents[2] / "docs" / "operations.md"


def documented() -> dict[str, set[str]]:
    """Each operation's "Not modelled:" paragraph, as the set of members it names."""
    found = {}
    for section in re.split(r"(?m)^## ", OPERATIONS_DOC.read_text())[1:]:
        name, _, body = section.partition("\n")
        paragraph = re.search(r"(?ms)^Not modelled: (.*?)(?:\n\n|\Z)", body)
        assert paragraph is not None, f"{name} has no Not modelled paragraph"
        found[name] = set(re.findall(r"`([^`]+)`", paragraph.group(1)))
    return found


def test_the_operations_doc_lists_every_operations_members() -> None:
    assert documented() == {name: set(binding.not_modelled) for name, binding in OPERATIONS.items()}


def test_every_declared_member_is_a_member_of_the_request() -> None:
    contract = load_contract()
    NotModelled(contract, OPERATIONS)  # checks every path
    broken = {"PwsGetProject": replace(OPERATIONS["PwsGetProject"], not_modelled=("ProjectIdentities/Keywords",))}
    with pytest.raises(UnknownMember, match="ProjectIdentities/Keywords"):
        NotModelled(contract, broken)


def test_internal_ids_are_read_off_the_contract() -> None:
    paths = NotModelled(load_contract(), OPERATIONS).paths
    assert "ProjectIdentities/ProjectId" in paths["PwsGetProject"]
    assert "ProjectRole/ResourceIdentity/ResourceId" in paths["PwsSaveProjectRole"]
    assert "LocksToSteal/EntityLockSummary/LockHolderUserIdentity/UserId" in paths["PwsDeleteProject"]
    assert "ResourceIdentities/ResourceId" in paths["PwsGetResource"]
    assert paths["PwsUnauthenticate"] == ()


@pytest.fixture
def pws(soap: SoapClient, account: AccountFixture) -> Pws:
    return Pws(soap, account)


def test_the_header_names_what_a_request_sent_and_nothing_else(pws: Pws) -> None:
    project = pws.project(pws.engagement(pws.client("Acme"), "Rollout"), "Phase 1")
    detail = (tag("com:CandidateIdentities", "") + tag("com:Keywords", "python")
              + "<com:ResourceIdentity><com:ResourceId>7</com:ResourceId><com:ResourceReferenceSystemId>E1"
              "</com:ResourceReferenceSystemId></com:ResourceIdentity>" + tag("com:RoleName", "Dev"))
    saved = pws.call("PwsSaveProjectRole", "<sch:InitialAllocation><com:HoursBucketCount>4</com:HoursBucketCount>"
                     "</sch:InitialAllocation>" + tag("KeywordsClearFlag", False) + tag("Mode", "R")
                     + f"<sch:ProjectIdentity>{ref('Project', project)}</sch:ProjectIdentity>"
                     f"<sch:ProjectRole>{detail}</sch:ProjectRole>"
                     '<sch:WarnOnPermissionErrorFlag xmlns:i="http://www.w3.org/2001/XMLSchema-instance" i:nil="true"/>')
    assert saved.status == "Ok", saved.content
    # The work is done; what was not modelled is named, nil members are not.
    assert saved.not_modelled == ["InitialAllocation", "KeywordsClearFlag", "ProjectRole/CandidateIdentities",
                                  "ProjectRole/Keywords", "ProjectRole/ResourceIdentity/ResourceId"]
    plain = pws.call("PwsSaveProjectRole", tag("Mode", "R") + f"<sch:ProjectIdentity>{ref('Project', project)}"
                     f"</sch:ProjectIdentity><sch:ProjectRole>{tag('com:RoleName', 'Tester')}</sch:ProjectRole>")
    assert plain.status == "Ok" and plain.not_modelled == []
    assert "x-openpws-not-modelled" not in plain.headers


def test_array_items_are_named_once_and_failures_carry_the_header_too(pws: Pws) -> None:
    refs = "".join(f"<com:PwsProjectRef><com:ProjectCode>{code}</com:ProjectCode><com:ProjectId>{n}</com:ProjectId>"
                   "</com:PwsProjectRef>" for n, code in enumerate(("NOPE-1", "NOPE-2")))
    answer = pws.call("PwsGetProject", tag("Mode", "Z") + f"<sch:ProjectIdentities>{refs}</sch:ProjectIdentities>"
                      + tag("ExcludeReadNotesFlag", True))
    assert answer.status == "Fail" and answer.error_numbers() == [10126]
    assert answer.not_modelled == ["ProjectIdentities/ProjectId"]  # ExcludeReadNotesFlag is modelled


def test_a_request_refused_before_it_is_read_has_no_header(pws: Pws) -> None:
    answer = pws.call("PwsGetProject", tag("Mode", "R") + tag("ExcludeReadNotesFlag", "perhaps"))
    assert answer.faultcode == "s:Client" and "x-openpws-not-modelled" not in answer.headers


def test_authentication_names_what_it_does_not_use(soap: SoapClient, account: AccountFixture) -> None:
    answer = soap.call("PwsAuthenticate", f"<req:AccountCode>{account.code}</req:AccountCode>"
                       "<req:CultureName>en-US</req:CultureName><req:Password>wrong</req:Password>"
                       f"<req:UserName>{account.admin}</req:UserName>")
    assert answer.error_numbers() == [10002] and answer.not_modelled == ["CultureName"]


def test_modelled_members_are_not_named(pws: Pws) -> None:
    engagement = pws.engagement(pws.client("Acme"), "Rollout")
    answer = pws.call("PwsSaveEngagement", f"<sch:Engagement>{ref('Engagement', engagement)}"
                      f"{tag('com:EngagementName', 'Renamed')}{tag('com:HoldbackPercent', 5)}</sch:Engagement>")
    assert answer.status == "Ok", answer.content
    assert answer.not_modelled == ["Engagement/HoldbackPercent"]
    role = pws.role(pws.project(engagement, "Phase 1"), "Dev")
    # The lock members, in the wiki's order (PwsDeleteProjectRole), are modelled.
    deleted = pws.call("PwsDeleteProjectRole", f"<sch:ProjectRoleIdentity>{ref('ProjectRole', uid=role)}"
                       "</sch:ProjectRoleIdentity>" + tag("StealLockFlag", False) + tag("ZeroOutHoursFlag", True)
                       + tag("LocksToSteal", ""))
    assert deleted.status == "Ok", deleted.content
    assert deleted.not_modelled == []

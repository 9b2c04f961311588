"""Two more independent SOAP stacks beside zeep, node-soap and PHP's SoapClient, drive a real
``openpws serve`` process from its served ``?wsdl``: each runs a scenario written in its own
language (scenario.js, scenario.php) that calls every operation of the contract, with requests the
stack builds from the WSDL. Both scenarios make the same calls in the same order, so one transcript
(CALLS) holds what each answered; the Uids they report are looked up again here, over plain HTTP.

The stacks are installed by scripts/setup-test-deps, which the session fixture below runs (quick
when they are there already)."""

from __future__ import annotations

import fcntl
import json
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from openpws.contract import load_contract, ns
from openpws.services.permissions import ALL
from openpws.store.transactions import Store
from tests.conftest import PASSWORD, Server, make_account, make_user
from tests.pws import NAMESPACES, SERVICE_PATH, SoapClient
from tests.tree import Pws, ref

pytestmark = pytest.mark.serve

HERE = Path(__file__).parent
SETUP = HERE.parents[1] / "scripts" / "setup-test-deps"
# Each stack's command, run in this folder with the scenario's configuration as its one argument.
STACKS = {"node-soap": ["node", "scenario.js"], "php-soapclient": ["php", "scenario.php"]}

# What each call of the scenarios answered, in order: (operation, user, outcome), the outcome being
# the Status with the error numbers of its messages, or "PwsFault" with the fault's. A new operation
# is one more line here and one more step in each scenario.
CALLS = [
    ("PwsAuthenticate", "first", "Ok"),
    ("PwsAuthenticate", "second", "Ok"),
    ("PwsSaveClient", "first", "Ok"),
    ("PwsSaveClient", "first", "Ok"),
    ("PwsGetClient", "first", "Ok"),
    ("PwsGetClientList", "first", "Ok"),
    ("PwsSaveEngagement", "first", "Ok"),
    ("PwsGetEngagement", "first", "Ok"),
    ("PwsGetEngagementList", "first", "Ok"),
    ("PwsSaveProject", "first", "Ok"),
    ("PwsGetProjectList", "first", "Ok"),
    ("PwsSaveContractLineItem", "first", "Ok"),
    ("PwsSaveProject", "first", "Ok"),  # onto that contract line item
    ("PwsGetContractLineItem", "first", "Ok"),
    ("PwsGetResourceList", "first", "Ok"),
    ("PwsGetResource", "first", "Ok"),
    ("PwsSaveProjectRole", "first", "Ok"),
    ("PwsRequestOrBookRoleHours", "first", "Ok"),
    ("PwsGetResourceSchedulingRoleData", "first", "Ok"),
    ("PwsGetProjectRoles", "first", "Ok"),
    ("PwsGetProject", "first", "Ok"),
    ("PwsDeleteProjectRole", "first", "Fail 54074"),  # RoleHasHoursBookedOrRequested
    ("PwsDeleteProjectRole", "first", "Ok"),  # with ZeroOutHoursFlag
    ("PwsUndeleteProjectRole", "first", "Ok"),
    ("PwsAcquireProjectorLocks", "second", "Ok"),
    ("PwsCheckProjectorLocks", "second", "Ok"),
    ("PwsRenewProjectorLocks", "second", "Ok"),
    ("PwsSaveProject", "first", "PwsFault 54076"),  # EngagementIsLocked, by the second user
    ("PwsSaveProject", "first", "Ok"),  # the fault's LockHolders sent back as LocksToSteal
    ("PwsReleaseProjectorLocks", "second", "Ok"),
    ("PwsCreateInvoice", "first", "Ok"),
    ("PwsGetInvoice", "first", "Ok"),
    ("PwsDeleteEngagement", "first", "Fail 54556"),  # EngagementHasInvoices
    ("PwsSaveEngagement", "first", "Ok"),
    ("PwsSaveProject", "first", "Ok"),
    ("PwsDeleteProject", "first", "Ok"),
    ("PwsDeleteEngagement", "first", "Ok"),
    ("PwsSaveClient", "first", "Ok"),
    ("PwsDeleteClient", "first", "Ok"),
    ("PwsTestRateLimiter", "second", "Ok"),
    ("PwsUnauthenticate", "second", "Ok"),
    ("PwsUnauthenticate", "first", "Ok"),
    ("PwsGetClient", "first", "FailSessionInvalid -101"),  # InvalidSession: the ticket was ended
]



def server_uid(pws: Pws, kind: str, code: str, project: str) -> str | None:
    """The Uid the server itself gives the entity of this kind and code (a role by its project)."""
    if kind == "client":
        answer = pws.ok("PwsGetClient", f"<req:ClientIdentities><com:PwsClientRef>{ref('Client', code)}"
                        "</com:PwsClientRef></req:ClientIdentities>")
        return answer.text(".//com:ClientDetail/com:ClientUid")
    if kind == "engagement":
        answer = pws.ok("PwsGetEngagement", f"<sch:EngagementIdentities><com:PwsEngagementRef>{ref('Engagement', code)}"
                        "</com:PwsEngagementRef></sch:EngagementIdentities>")
        return answer.text(".//com:EngagementDetail/com:EngagementUid")
    if kind == "contract line item":
        answer = pws.ok("PwsGetContractLineItem", "<sch:ContractLineItemIdentities><com:PwsContractLineItemRef>"
                        f"{ref('ContractLineItem', code)}</com:PwsContractLineItemRef></sch:ContractLineItemIdentities>")
        return answer.text(".//com:ContractLineItemDetail/com:ContractLineItemUid")
    if kind == "invoice":
        answer = pws.ok("PwsGetInvoice", f'<bil:InvoiceIdentity xmlns:bil="{ns.BILLING}"><com:InvoiceNumber>{code}'
                        "</com:InvoiceNumber></bil:InvoiceIdentity>")
        return answer.text(".//{*}Invoice/{*}InvoiceIdentity/com:InvoiceUid")
    answer = pws.ok("PwsGetProject", f"<sch:Mode>A</sch:Mode><sch:ProjectIdentities><com:PwsProjectRef>"
                    f"{ref('Project', project)}</com:PwsProjectRef></sch:ProjectIdentities>")
    if kind == "project":
        return answer.text(".//com:ProjectDetail/com:ProjectUid")
    roles = answer.root.iterfind(".//com:ProjectRoleDetail", NAMESPACES)
    return next(r.findtext("com:ProjectRoleUid", namespaces=NAMESPACES) for r in roles
                if r.findtext("com:ExternalSystemIdentifier", namespaces=NAMESPACES) == code)


@pytest.fixture(scope="session")
def stacks_installed() -> None:
    """node-soap and PHP's SoapClient, installed if they are not (one xdist worker at a time)."""
    with SETUP.open() as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        installed = subprocess.run([str(SETUP)], capture_output=True, text=True, timeout=600)
    if installed.returncode != 0:
        pytest.fail(f"scripts/setup-test-deps could not install the SOAP stacks:\n{installed.stderr}")


def this_monday() -> str:
    today = datetime.now(UTC).date()
    return (today - timedelta(days=today.weekday())).isoformat()


@pytest.mark.usefixtures("stacks_installed")
@pytest.mark.parametrize("stack", sorted(STACKS))
def test_stack_calls_every_operation_from_the_served_wsdl(
        stack: str, server: Server, store: Store, soap: SoapClient) -> None:
    account = make_account(store, prefix="stack")
    second = f"second@{account.code}"
    make_user(store, account.code, second, ALL, reference_id="E3")
    config = {"wsdl": server.base_url + SERVICE_PATH + "?wsdl", "account": account.code,
              "first": {"login": account.admin, "password": PASSWORD}, "second": {"login": second, "password": PASSWORD},
              "monday": this_monday()}
    ran = subprocess.run([*STACKS[stack], json.dumps(config)], cwd=HERE, capture_output=True, text=True, timeout=120)
    assert ran.returncode == 0, f"{stack} scenario exited {ran.returncode}:\n{ran.stderr}"
    report = json.loads(ran.stdout)
    assert report["error"] is None, f"{report['error']}\nafter the calls:\n{json.dumps(report['calls'], indent=1)}"

    # The stack read every operation of the contract from the WSDL, and the scenario called each.
    assert report["operations"] == sorted(load_contract().operations)
    assert report["uncalled"] == []
    assert [(c["operation"], c["user"], c["outcome"]) for c in report["calls"]] == CALLS
    # What the scenario checked in the stack's own terms: Uids exact in answers and fault details,
    # the PwsFault's members, the steal that sent them back.
    assert report["failures"] == [], ran.stderr

    # The Uids the stack saw are the server's, digit for digit, and not all of them fit in a double
    # (so a stack that read them as floating point would have been caught).
    reported = {(e["kind"], e["code"]): int(e["uid"]) for e in report["entities"]}
    assert {kind for kind, _ in reported} == {
        "client", "engagement", "contract line item", "project", "role", "invoice"}
    assert any(float(uid) != uid for uid in reported.values())
    pws = Pws(soap, account)
    [project] = [code for kind, code in reported if kind == "project"]
    for (kind, code), uid in reported.items():
        assert server_uid(pws, kind, code, project) == str(uid), (kind, code)

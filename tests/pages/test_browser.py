"""The admin pages in a real browser: headless Chromium (Debian's, driven by Playwright) against a
real ``openpws serve``, with zeep as the integrator's code beside it. Each page is written as a
screenshot to build/screenshots/<store>/ (not committed) for a person to look at.

Chromium is installed by scripts/setup-test-deps (run by the fixture below, as tests/stacks does);
when it cannot be, these tests fail, saying why: they are never skipped."""

from __future__ import annotations

import fcntl
import re
import secrets
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import zeep
from playwright.sync_api import Browser, Page, expect, sync_playwright
from zeep.exceptions import Fault

from openpws.contract import ns
from tests.conftest import Server, start_server, stop_server
from tests.pws import SERVICE_PATH

pytestmark = pytest.mark.serve

ROOT = Path(__file__).resolve().parents[2]
SETUP = ROOT / "scripts" / "setup-test-deps"
CHROMIUM = Path("/usr/bin/chromium")
SCREENSHOTS = ROOT / "build" / "screenshots"
TOKEN = "browser-admin-token"


@pytest.fixture(scope="module")
def chromium() -> Path:
    """Debian's chromium, installed if it is not (one xdist worker at a time)."""
    with SETUP.open() as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        installed = subprocess.run([str(SETUP)], capture_output=True, text=True, timeout=900)
    if installed.returncode != 0:
        pytest.fail(f"scripts/setup-test-deps could not install what the browser tests need:\n{installed.stderr}")
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing after scripts/setup-test-deps")
    return CHROMIUM


@pytest.fixture(scope="module")
def pages_server(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    running = start_server(database_url, tmp_path_factory.mktemp("pages"), env={"OPENPWS_ADMIN_TOKEN": TOKEN})
    yield running
    stop_server(running)


@pytest.fixture(scope="module")
def browser(chromium: Path) -> Iterator[Browser]:
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(chromium), headless=True)
        yield launched
        launched.close()


@pytest.fixture
def page(browser: Browser, pages_server: Server) -> Iterator[Page]:
    context = browser.new_context(base_url=pages_server.base_url, viewport={"width": 1280, "height": 900})
    opened = context.new_page()
    dialogs: list[str] = []
    opened.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.accept()))
    opened.set_default_timeout(15_000)
    yield opened
    context.close()
    assert not [d for d in dialogs if "alert" in d or d == "1"], dialogs


class Shots:
    """Screenshots of the pages, numbered in the order the scenario saw them."""

    def __init__(self, database_url: str) -> None:
        self.folder = SCREENSHOTS / ("postgres" if database_url.startswith("postgresql") else "sqlite")
        self.folder.mkdir(parents=True, exist_ok=True)
        for old in self.folder.glob("*.png"):
            old.unlink()
        self.count = 0

    def __call__(self, page: Page, name: str) -> None:
        self.count += 1
        page.screenshot(path=str(self.folder / f"{self.count:02d}-{name}.png"), full_page=True)


def pws_fault(client: zeep.Client, fault: Fault) -> Any:
    assert fault.detail is not None
    [detail] = list(fault.detail)
    return client.get_element(f"{{{ns.COMMON}}}PwsFault").parse(detail, client.wsdl.types)


def sign_in(page: Page) -> None:
    page.goto("/_openpws/")
    page.get_by_label("Admin token").fill(TOKEN)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Accounts")).to_be_visible()


def test_the_sandbox_seen_and_steered_in_a_browser(page: Page, pages_server: Server, database_url: str) -> None:
    shot = Shots(database_url)
    # --- sign in: a wrong token first --------------------------------------------------------------
    page.goto("/_openpws/")
    expect(page).to_have_url(re.compile(r"/_openpws/login\?next="))
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    shot(page, "sign-in")
    page.get_by_label("Admin token").fill("not-the-token")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("alert")).to_contain_text("that is not the admin token")
    shot(page, "wrong-token")
    page.get_by_label("Admin token").fill(TOKEN)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Accounts")).to_be_visible()
    shot(page, "accounts")

    # --- an account from the demo fixture --------------------------------------------------------
    code = f"web-{secrets.token_hex(3)}"
    form = page.locator("#new-account")
    form.get_by_label("Code").fill(code)
    form.get_by_label("Packaged fixture").select_option("demo")
    form.get_by_role("button", name="Create account").click()
    expect(page.get_by_role("heading", name=f"Account {code} created")).to_be_visible()
    users = page.locator("#users tbody tr")
    expect(users).to_have_count(3)
    admin_password = users.nth(0).locator("td").nth(1).locator("code").inner_text()
    # The copy buttons are shown once the page's script runs.
    expect(users.nth(0).locator("button.copy").first).to_be_visible()
    shot(page, "account-created")
    page.get_by_role("link", name="Go to the account").click()
    expect(page.locator("#counts")).to_contain_text("4")
    shot(page, "account")

    # --- find P001323 in the tree ------------------------------------------------------------------
    page.get_by_role("link", name="Tree", exact=True).click()
    expect(page.locator("#clients")).to_contain_text("Revcorp Holdings")
    expect(page.locator("#clients")).to_contain_text("Globex")
    shot(page, "tree")
    page.get_by_role("searchbox", name="Search codes and names").fill("P001323")
    page.get_by_role("button", name="Search").click()
    results = page.locator("#results")
    expect(results).to_contain_text("P001323-001")
    shot(page, "search")
    results.get_by_role("link", name="P001323", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Engagement P001323: Revcorp platform")
    shot(page, "engagement")
    page.locator("#projects").get_by_role("link", name="P001323-001").click()
    expect(page.locator("#roles")).to_contain_text("Role-301")
    expect(page.locator("#roles")).to_contain_text("40:00")
    shot(page, "project")

    # --- viewer@ takes a lock; zeep's PwsDeleteEngagement then fails with the PwsFault ------------
    page.get_by_role("link", name="Locks", exact=True).click()
    take = page.locator("#take-lock")
    take.get_by_label("User").select_option(f"viewer@{code}")
    take.get_by_label("What").select_option("E")
    take.get_by_label("Code", exact=True).fill("P001323")
    take.get_by_role("button", name="Take the lock").click()
    expect(page.get_by_role("status")).to_contain_text(f"viewer@{code} holds E:P001323")
    expect(page.locator("#lock-sets")).to_contain_text("Demo Viewer")
    shot(page, "locks")

    client = zeep.Client(pages_server.base_url + SERVICE_PATH + "?singleWsdl")
    login = client.service.PwsAuthenticate(serviceRequest={
        "AccountCode": code, "UserName": f"admin@{code}", "Password": admin_password})
    assert login.Status == "Ok"
    ticket = login.SessionTicket
    with pytest.raises(Fault) as refused:
        client.service.PwsDeleteEngagement(serviceRequest={
            "SessionTicket": ticket, "EngagementIdentity": {"EngagementCode": "P001323"}, "CascadeDeleteFlag": True})
    fault = pws_fault(client, refused.value)
    [summary] = fault.LockHolders.PwsEntityLockSummary
    assert summary.EntityIdentity.LockType == "E"
    [item] = summary.EntityLockSummary.PwsEntityLockSummaryItem
    assert item.LockHolderUserIdentity.UserDisplayName == "Demo Viewer"

    # --- that request in the journal ---------------------------------------------------------------
    page.get_by_role("link", name="Requests", exact=True).click()
    page.get_by_label("Operation").select_option("PwsDeleteEngagement")
    page.get_by_role("button", name="Filter").click()
    rows = page.locator("#requests tbody tr")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("PwsFault")
    expect(rows.first).to_contain_text("500")
    shot(page, "requests")
    rows.first.locator("a").click()
    expect(page.locator("#request-xml")).to_contain_text(re.compile(r'<ns\d:SessionTicket xmlns:ns\d="[^"]+">\*\*\*<'))
    expect(page.locator("#request-xml")).not_to_contain_text(ticket)
    expect(page.locator("#request-xml")).to_contain_text("P001323")
    expect(page.locator("#response-xml")).to_contain_text("PwsFault")
    expect(page.locator("#response-xml .x-tag").first).to_be_visible()
    shot(page, "request")

    # --- the live view follows new requests --------------------------------------------------------
    page.goto(f"/_openpws/accounts/{code}/requests/live")
    expect(page.locator("#live-state")).to_contain_text("Following (checked")
    client.service.PwsGetClientList(serviceRequest={"SessionTicket": ticket})
    expect(page.locator("#requests tbody tr.new").first).to_contain_text("PwsGetClientList", timeout=10_000)
    shot(page, "requests-live")

    # --- a fault rule added from the form, and removed ---------------------------------------------
    page.get_by_role("link", name="Faults and rate limits", exact=True).click()
    add = page.locator("#add-fault")
    add.get_by_label("Operation").select_option("PwsGetClientList")
    add.get_by_label("Answer with").select_option("error")
    add.get_by_label("Value").fill("50046")
    add.get_by_role("button", name="Add the rule").click()
    expect(page.locator("#fault-rules")).to_contain_text("error=50046")
    shot(page, "faults")
    failed = client.service.PwsGetClientList(serviceRequest={"SessionTicket": ticket})
    assert failed.Status == "Fail" and failed.Messages.PwsMessage[0].ErrorNumber == 50046
    page.locator("#fault-rules").get_by_role("button", name="Remove").click()
    expect(page.locator("#no-faults")).to_be_visible()
    assert client.service.PwsGetClientList(serviceRequest={"SessionTicket": ticket}).Status == "Ok"

    # --- preview the cascade delete (the lock blocks it), delete it, preview its undo, undo it ------
    page.get_by_role("navigation", name="Account").get_by_role("link", name="Changes").click()
    page.get_by_role("link", name="Preview a request").click()
    page.get_by_label("Envelope").fill(
        '<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/" '
        'xmlns:pws="http://projectorpsa.com/PwsProjectorServices/" '
        'xmlns:req="http://projectorpsa.com/DataContracts/Requests/" '
        'xmlns:sch="http://projectorpsa.com/DataContracts/Shared/Scheduling/" '
        'xmlns:com="http://projectorpsa.com/DataContracts/Shared/Common/"><s:Body><pws:PwsDeleteEngagement>'
        f'<pws:serviceRequest><req:SessionTicket>{ticket}</req:SessionTicket><sch:EngagementIdentity>'
        '<com:EngagementCode>P001323</com:EngagementCode></sch:EngagementIdentity>'
        '<sch:CascadeDeleteFlag>true</sch:CascadeDeleteFlag></pws:serviceRequest></pws:PwsDeleteEngagement>'
        '</s:Body></s:Envelope>')
    page.get_by_role("button", name="Preview").click()
    expect(page.locator("#blockers")).to_contain_text("LocksToSteal")
    expect(page.locator("#blockers")).to_contain_text("Demo Viewer")
    expect(page.locator("#preview-response")).to_contain_text("PwsFault")
    shot(page, "preview-blocked")
    page.get_by_role("link", name="Locks", exact=True).click()
    page.locator("#lock-sets").get_by_role("button", name="Release").click()
    deleted = client.service.PwsDeleteEngagement(serviceRequest={
        "SessionTicket": ticket, "EngagementIdentity": {"EngagementCode": "P001323"}, "CascadeDeleteFlag": True})
    assert deleted.Status == "Ok"
    page.get_by_role("navigation", name="Account").get_by_role("link", name="Changes").click()
    newest = page.locator("section.change-entry").first
    expect(newest).to_contain_text("PwsDeleteEngagement")
    expect(newest).to_contain_text("P001323-001")
    shot(page, "changes")
    newest.get_by_role("link", name=re.compile(r"Request \d+")).click()
    page.get_by_role("button", name="Preview the undo").click()
    expect(page.locator("#undo-tree")).to_contain_text("P001323")
    shot(page, "undo-preview")
    page.get_by_role("button", name="Undo this delete").click()
    expect(page.get_by_role("status")).to_contain_text("put back what request")
    shot(page, "undone")
    back = client.service.PwsGetEngagement(serviceRequest={
        "SessionTicket": ticket, "EngagementIdentities": {"PwsEngagementRef": [{"EngagementCode": "P001323"}]}})
    assert back.Status == "Ok" and back.Engagements.PwsEngagementElement[0].EngagementDetail.EngagementCode == "P001323"

    # --- a client named <script> is text -----------------------------------------------------------
    saved = client.service.PwsSaveClient(serviceRequest={
        "SessionTicket": ticket, "Client": {"ClientName": "<script>alert(1)</script>"}})
    assert saved.Status == "Ok"
    page.get_by_role("link", name="Tree", exact=True).click()
    expect(page.locator("#clients")).to_contain_text("<script>alert(1)</script>")
    shot(page, "tree-escaped")

    # --- freeze the clock --------------------------------------------------------------------------
    page.get_by_role("link", name="Overview", exact=True).click()
    freeze = page.locator("#clock-freeze")
    freeze.get_by_label("Freeze at").fill("2030-01-05T09:00:00Z")
    freeze.get_by_role("button", name="Freeze").click()
    expect(page.locator("#clock")).to_contain_text("2030-01-05 09:00:00Z")
    expect(page.locator("#clock")).to_contain_text("frozen")
    # The account's time is now 2030 (session lifetimes count on it too): a new login answers at it.
    again = client.service.PwsAuthenticate(serviceRequest={
        "AccountCode": code, "UserName": f"admin@{code}", "Password": admin_password})
    answer = client.service.PwsGetClientList(serviceRequest={"SessionTicket": again.SessionTicket})
    assert answer.ServerTimestampUtc.isoformat().startswith("2030-01-05T09:00:00")
    shot(page, "clock-frozen")

    # --- sign out ----------------------------------------------------------------------------------
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    page.goto(f"/_openpws/accounts/{code}")
    expect(page).to_have_url(re.compile(r"/_openpws/login"))
    # The pages' cookie is theirs alone: the JSON API still wants its bearer token.
    assert httpx.get(pages_server.base_url + f"/_openpws/api/accounts/{code}").status_code == 401

"""The admin pages over HTTP (in-process): signing in, every page, every form, the errors they
show, escaping, and paging. The same pages in a real browser are tests/pages/test_browser.py."""

from __future__ import annotations

import re
import secrets
from html import unescape
from typing import Any

import httpx
import pytest

from openpws.store.transactions import Store
from tests.asgi import AsgiTransport
from tests.conftest import ADMIN_TOKEN, IN_PROCESS_URL
from tests.pages.signed_in import PAGES, Pages, csrf_of, flash_of, problem_of, signed_in
from tests.pws import SoapClient
from tests.sandbox.rows import API, account_id, create, password_of, rows_of


@pytest.fixture
def pages(app_transport: AsgiTransport) -> Any:
    with signed_in(app_transport) as client:
        yield client


def demo(api: httpx.Client) -> tuple[str, dict[str, Any]]:
    created = create(api, fixture_name="demo", code=f"pg-{secrets.token_hex(4)}")
    return created["code"], created


def texts(html: str, pattern: str) -> list[str]:
    return [unescape(re.sub(r"<[^>]+>", "", found)).strip() for found in re.findall(pattern, html, re.DOTALL)]


# --- signing in -------------------------------------------------------------------------------------

def test_signing_in_with_the_admin_token_and_out(app_transport: AsgiTransport) -> None:
    with httpx.Client(base_url=IN_PROCESS_URL, transport=app_transport) as client:
        # Not signed in: a page sends the browser to the sign-in page, and back afterwards.
        answer = client.get(f"{PAGES}/accounts/demo/tree?after=C1")
        assert answer.status_code == 303
        assert answer.headers["location"] == f"{PAGES}/login?next=%2F_openpws%2Faccounts%2Fdemo%2Ftree%3Fafter%3DC1"
        assert client.post(f"{PAGES}/accounts", data={"code": "x"}).status_code == 401
        form = client.get(answer.headers["location"])
        assert form.status_code == 200 and 'name="token"' in form.text

        for wrong in ("wrong", "", ADMIN_TOKEN + "x", ADMIN_TOKEN[:-1]):
            refused = client.post(f"{PAGES}/login", data={"token": wrong})
            assert refused.status_code == 401
            assert "that is not the admin token" in problem_of(refused.text)
            assert "set-cookie" not in refused.headers
        assert client.get(f"{PAGES}/").status_code == 303

        signed = client.post(f"{PAGES}/login", data={"token": ADMIN_TOKEN, "next": "/_openpws/accounts/demo/tree"})
        assert signed.status_code == 303 and signed.headers["location"] == "/_openpws/accounts/demo/tree"
        cookie = signed.headers["set-cookie"]
        for attribute in ("openpws_admin=", "HttpOnly", "Path=/_openpws/", "SameSite=strict", "Max-Age=43200"):
            assert attribute in cookie, cookie
        home = client.get(f"{PAGES}/")
        assert home.status_code == 200 and "<h1>Accounts</h1>" in home.text
        # Only a page of the pages is gone to after signing in.
        for elsewhere in ("https://example.com/", "//example.com/", "/_openpws/api/accounts", "/metrics"):
            again = client.post(f"{PAGES}/login", data={"token": ADMIN_TOKEN, "next": elsewhere})
            assert again.headers["location"] == f"{PAGES}/"

        # Each sign-in is a session of its own: a form carries the token of the newest.
        assert client.post(f"{PAGES}/logout", data={"csrf": csrf_of(home.text)}).status_code == 403
        out = client.post(f"{PAGES}/logout", data={"csrf": csrf_of(client.get(f"{PAGES}/").text)})
        assert out.status_code == 303 and out.headers["location"] == f"{PAGES}/login"
        assert 'openpws_admin=""' in out.headers["set-cookie"] or "Max-Age=0" in out.headers["set-cookie"]
        assert client.get(f"{PAGES}/").status_code == 303


def test_a_forged_or_old_cookie_signs_nobody_in(app_transport: AsgiTransport) -> None:
    with signed_in(app_transport) as pages:
        good = pages.client.cookies["openpws_admin"]
    version, issued, nonce, signature = good.split(".")
    for forged in (f"{version}.{int(issued) + 10}.{nonce}.{signature}", f"{version}.{issued}.{nonce}.x" + signature,
                   f"{version}.{int(issued) - 13 * 3600}.{nonce}.{signature}", "v1.1.2", "", "garbage"):
        with httpx.Client(base_url=IN_PROCESS_URL, transport=app_transport,
                          cookies={"openpws_admin": forged}) as client:
            assert client.get(f"{PAGES}/").status_code == 303, forged
    # The JSON API takes the bearer token, never the pages' cookie.
    with httpx.Client(base_url=IN_PROCESS_URL, transport=app_transport, cookies={"openpws_admin": good}) as client:
        assert client.get(f"{API}/accounts").status_code == 401


def test_the_admin_cookie_and_pws_tickets_share_nothing(app_transport: AsgiTransport, api: httpx.Client,
                                                        soap: SoapClient) -> None:
    code, created = demo(api)
    ticket = soap.login(code, f"admin@{code}", password_of(created, f"admin@{code}"))
    with signed_in(app_transport) as pages:
        cookie = pages.client.cookies["openpws_admin"]
        # The cookie is no ticket, and a ticket is no cookie.
        answer = soap.call("PwsGetClientList", f"<req:SessionTicket>{cookie}</req:SessionTicket>")
        assert answer.status == "FailSessionInvalid"
        assert pages.get(f"/accounts/{code}").status_code == 200
    with httpx.Client(base_url=IN_PROCESS_URL, transport=app_transport, cookies={"openpws_admin": ticket}) as client:
        assert client.get(f"{PAGES}/accounts/{code}").status_code == 303
    # The PWS endpoint sets no cookie, and reads none: the admin cookie does not make a request succeed.
    login = soap.authenticate(code, f"admin@{code}", password_of(created, f"admin@{code}"))
    assert "set-cookie" not in {k.lower() for k in login.headers}


def test_a_form_without_its_sessions_token_is_refused(app_transport: AsgiTransport, pages: Pages,
                                                      api: httpx.Client) -> None:
    code = f"csrf-{secrets.token_hex(3)}"
    with signed_in(app_transport) as other:
        foreign = other.form_token()
    for token in ("", "forged", foreign):
        refused = pages.post("/accounts", {"code": code}, token=token)
        assert refused.status_code == 403, refused.text
        assert "not sent from a page of this session" in problem_of(refused.text)
    assert api.get(f"{API}/accounts/{code}").status_code == 404


def test_every_page_carries_a_strict_content_security_policy(pages: Pages, api: httpx.Client) -> None:
    code, _ = demo(api)
    for path in ("/", f"/accounts/{code}", f"/accounts/{code}/tree", "/login"):
        answer = pages.get(path)
        policy = answer.headers["content-security-policy"]
        assert "script-src 'self'" in policy and "frame-ancestors 'none'" in policy
        assert answer.headers["x-frame-options"] == "DENY" and answer.headers["cache-control"] == "no-store"
        assert "<script>" not in answer.text  # no inline script: the policy would refuse it


# --- escaping ---------------------------------------------------------------------------------------

def test_a_client_named_script_shows_as_text(pages: Pages, api: httpx.Client, soap: SoapClient) -> None:
    code, created = demo(api)
    ticket = soap.login(code, f"admin@{code}", password_of(created, f"admin@{code}"))
    name = "<script>alert(1)</script>"
    saved = soap.call("PwsSaveClient", f"<req:SessionTicket>{ticket}</req:SessionTicket><req:Client>"
                      "<com:ClientName>&lt;script&gt;alert(1)&lt;/script&gt;</com:ClientName></req:Client>")
    assert saved.status == "Ok", saved.content
    number = saved.text(".//{*}ClientIdentity/com:ClientNumber")
    for path in (f"/accounts/{code}/tree", f"/accounts/{code}/clients/{number}",
                 f"/accounts/{code}/search?q=script"):
        html = pages.page(path)
        assert name not in html and "alert(1)" in html
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    # What the request journal kept is shown as text too, the XML's own escaping escaped again.
    journal = pages.page(f"/accounts/{code}/requests", params={"operation": "PwsSaveClient"})
    [ident] = re.findall(r'requests/(\d+)">', journal)
    detail = pages.page(f"/accounts/{code}/requests/{ident}")
    assert name not in detail and "&amp;lt;script&amp;gt;alert(1)" in detail


# --- accounts ---------------------------------------------------------------------------------------

def test_an_account_from_the_demo_fixture(pages: Pages, api: httpx.Client, soap: SoapClient) -> None:
    code = f"page-{secrets.token_hex(3)}"
    answer = pages.post("/accounts", {"code": code, "fixture_name": "demo", "ttl_seconds": "600"})
    assert answer.status_code == 201, answer.text
    shown = texts(answer.text, r'<td><code class="copyable">([^<]*)</code>')
    assert shown[0::2] == [f"admin@{code}", f"viewer@{code}", f"dev@{code}"]
    # The passwords shown are the users' own.
    assert soap.authenticate(code, f"viewer@{code}", shown[3]).status == "Ok"
    account = api.get(f"{API}/accounts/{code}").json()
    assert account["fixture_name"] == "demo" and account["expires_at"] is not None

    home = pages.page("/")
    assert f'href="/_openpws/accounts/{code}"' in home
    overview = pages.page(f"/accounts/{code}")
    counts = re.findall(r'<table class="list counts" id="counts">(.*?)</table>', overview, re.DOTALL)[0]
    assert re.findall(r'<td class="num">(\d+)</td>', counts) == ["3", "3", "4", "5", "4", "1", "0"]


def test_an_account_from_an_uploaded_fixture_and_its_export(pages: Pages, api: httpx.Client) -> None:
    code = f"up-{secrets.token_hex(3)}"
    document = ("version: 1\nsettings:\n  name: Uploaded\nusers:\n  - login: pm\n    display_name: Pat Manager\n"
                "    permissions: all\nclients:\n  - number: C1\n    name: First client\n")
    answer = pages.post("/accounts", {"code": code}, files={"fixture": ("acct.yaml", document.encode(),
                                                                        "application/yaml")})
    assert answer.status_code == 201, answer.text
    assert '<code class="copyable">pm</code>' in answer.text
    exported = pages.get(f"/accounts/{code}/fixture.yaml")
    assert exported.status_code == 200
    assert exported.headers["content-disposition"] == f'attachment; filename="{code}.yaml"'
    assert "First client" in exported.text and "Uploaded" in exported.text
    as_json = pages.get(f"/accounts/{code}/fixture.json")
    assert as_json.json() == api.get(f"{API}/accounts/{code}/fixture").json()


@pytest.mark.parametrize(("form", "body"), [
    ({"ttl_seconds": "-5"}, {"ttl_seconds": -5}),
    ({"ttl_seconds": "soon"}, {"ttl_seconds": "soon"}),
    ({"code": "bad code!"}, {"code": "bad code!"}),
    ({"fixture_name": "nope"}, {"fixture_name": "nope"}),
])
def test_a_refused_account_shows_the_apis_error(pages: Pages, api: httpx.Client, form: dict[str, str],
                                                body: dict[str, Any]) -> None:
    expected = api.post(f"{API}/accounts", json=body)
    answer = pages.post("/accounts", form)
    assert answer.status_code == expected.status_code, answer.text
    error = expected.json()["error"]
    shown = problem_of(answer.text)
    assert shown.startswith(f"{error['code']}: {error['message']}")
    if error["path"]:
        assert shown.endswith(f"(at {error['path']})")


def test_a_refused_fixture_document_names_the_item_at_fault(pages: Pages) -> None:
    document = b"version: 1\nclients:\n  - number: C1\n"
    answer = pages.post("/accounts", {}, files={"fixture": ("bad.yaml", document, "application/yaml")})
    assert answer.status_code == 422
    assert problem_of(answer.text).endswith("(at clients[0].name)")
    not_yaml = pages.post("/accounts", {}, files={"fixture": ("bad.yaml", b"\xff\xfe", "application/yaml")})
    assert not_yaml.status_code == 422 and "UTF-8" in problem_of(not_yaml.text)


def test_clock_snapshots_reset_and_delete(pages: Pages, api: httpx.Client, store: Store) -> None:
    code, _ = demo(api)
    base = f"/accounts/{code}"
    frozen = pages.post(f"{base}/clock", {"action": "freeze", "at": "2030-01-05T09:00:00Z"})
    assert frozen.status_code == 303 and frozen.headers["location"] == f"{PAGES}{base}"
    assert "frozen at 2030-01-05 09:00:00Z" in flash_of(pages.page(base))
    assert api.get(f"{API}/accounts/{code}/clock").json()["now"].startswith("2030-01-05T09:00:00")
    pages.post(f"{base}/clock", {"action": "advance", "amount": "2", "unit": "hours"})
    assert api.get(f"{API}/accounts/{code}/clock").json()["now"].startswith("2030-01-05T11:00:00")
    for form, body in (({"action": "set", "at": "yesterday"}, {"set": "yesterday"}),
                       ({"action": "advance", "amount": "-1", "unit": "seconds"}, {"advance_seconds": -1}),
                       ({"action": "freeze", "at": "12000-01-01T00:00:00Z"}, {"frozen_at": "12000-01-01T00:00:00Z"})):
        refused = pages.post(f"{base}/clock", form)
        error = api.put(f"{API}/accounts/{code}/clock", json=body).json()["error"]
        assert refused.status_code == 422 and problem_of(refused.text).startswith(f"invalid: {error['message']}")
    pages.post(f"{base}/clock", {"action": "real"})
    assert api.get(f"{API}/accounts/{code}/clock").json()["frozen"] is False

    before = rows_of(store, account_id(store, code) or 0)
    taken = pages.post(f"{base}/snapshots", {"name": "before the change"})
    assert taken.status_code == 303
    overview = pages.page(base)
    assert "Snapshot" in flash_of(overview) and "before the change" in overview
    [snapshot] = [s for s in api.get(f"{API}/accounts/{code}/snapshots").json()["items"] if not s["creation"]]
    api.delete(f"{API}/accounts/{code}/faults")  # (nothing)
    pages.post(f"{base}/locks", {"user": f"viewer@{code}", "type": "E", "entity": "P001323"})
    assert api.get(f"{API}/accounts/{code}").json()["counts"]["locks"] == 1
    assert pages.post(f"{base}/snapshots/{snapshot['id']}/restore").status_code == 303
    assert api.get(f"{API}/accounts/{code}").json()["counts"]["locks"] == 0
    assert pages.post(f"{base}/snapshots/999999/restore").status_code == 404
    assert pages.post(f"{base}/reset").status_code == 303
    assert rows_of(store, account_id(store, code) or 0).keys() == before.keys()

    deleted = pages.post(f"{base}/delete")
    assert deleted.status_code == 303 and deleted.headers["location"] == f"{PAGES}/"
    assert f"Account {code} was deleted." in flash_of(pages.page("/"))
    assert api.get(f"{API}/accounts/{code}").status_code == 404
    gone = pages.get(base)
    assert gone.status_code == 404 and f"there is no account '{code}'" in problem_of(gone.text)


# --- the tree ---------------------------------------------------------------------------------------

def test_the_demo_tree_from_clients_to_hours(pages: Pages, api: httpx.Client) -> None:
    code, _ = demo(api)
    base = f"/accounts/{code}"
    tree = pages.page(f"{base}/tree")
    assert texts(tree, r'<a href="/_openpws/accounts/[^/]+/clients/[^"]+">([^<]+)</a>') == [
        "C000117", "C000118", "C000121"]  # C000118 as the child of C000117
    assert "child client" in tree

    found = pages.page(f"{base}/search", params={"q": "p001323"})
    links = re.findall(r'href="(/_openpws/accounts/[^"]+)">([^<]+)</a>', found.split('id="results"')[1])
    assert links[:2] == [(f"{PAGES}{base}/engagements/P001323", "P001323"),
                         (f"{PAGES}{base}/contract-line-items/P001323-CL1", "P001323-CL1")]
    assert (f"{PAGES}{base}/projects/P001323-001", "P001323-001") in links

    engagement = pages.page(f"{base}/engagements/P001323")
    assert "Revcorp Holdings" in engagement
    assert texts(engagement, r'<table class="list" id="projects">.*?</table>')[0].count("P001323-00") == 2
    project = pages.page(f"{base}/projects/P001323-001")
    assert '<table class="list roles" id="roles">' in project
    assert "Role-301" in project and "40:00" in project and "Dana Developer" in project
    uid = re.search(r'/roles/(\d+)">Project Manager', project)
    assert uid is not None
    role = pages.page(f"{base}/roles/{uid.group(1)}")
    assert "Role-301" in role and "ProjectRoleUid" in role
    invoice = pages.page(f"{base}/invoices/DRAFT00001")
    assert "E001395" in invoice
    assert pages.page(f"{base}/contract-line-items/P001323-CL2").count("P001323-002") >= 1
    for missing in (f"{base}/engagements/NOPE", f"{base}/projects/NOPE", f"{base}/roles/12",
                    f"{base}/clients/NOPE", f"{base}/invoices/NOPE", f"{base}/contract-line-items/NOPE"):
        answer = pages.get(missing)
        assert answer.status_code == 404 and "there is no" in problem_of(answer.text)
    assert pages.get(f"{base}/roles/abc").status_code == 422
    empty = pages.get(f"{base}/search", params={"q": "  "})
    assert empty.status_code == 422 and "give some text" in problem_of(empty.text)


def test_deleted_roles_are_shown_apart(pages: Pages, api: httpx.Client, soap: SoapClient) -> None:
    code, created = demo(api)
    ticket = soap.login(code, f"admin@{code}", password_of(created, f"admin@{code}"))
    deleted = soap.call("PwsDeleteProjectRole", f"<req:SessionTicket>{ticket}</req:SessionTicket>"
                        "<sch:ProjectRoleIdentity><com:ExternalSystemIdentifier>Role-303</com:ExternalSystemIdentifier>"
                        "</sch:ProjectRoleIdentity>")
    assert deleted.status == "Ok", deleted.content
    project = pages.page(f"/accounts/{code}/projects/P001323-001")
    live, gone = project.split('id="deleted-roles"')
    assert "Role-303" not in live and "Role-303" in gone and "Role-301" in live


def test_lists_are_paged(pages: Pages, api: httpx.Client) -> None:
    clients: list[dict[str, Any]] = [{"number": f"C{n:04d}", "name": f"Client {n}"} for n in range(73)]
    clients[0]["engagements"] = [{"code": f"E{n:03d}", "name": f"Engagement {n}"} for n in range(3)]
    document = {"version": 1, "users": [{"login": "pm", "display_name": "PM", "permissions": "all"}],
                "clients": clients}
    code = create(api, fixture=document)["code"]
    first = pages.page(f"/accounts/{code}/tree")
    shown = texts(first, r'/clients/[^"]+">([^<]+)</a>')
    assert shown == [f"C{n:04d}" for n in range(50)]
    more = re.search(r'<a href="([^"]+)" rel="next">', first)
    assert more is not None
    second = pages.client.get(unescape(more.group(1)))
    assert texts(second.text, r'/clients/[^"]+">([^<]+)</a>') == [f"C{n:04d}" for n in range(50, 73)]
    assert 'rel="next"' not in second.text
    assert "3 engagements" in first
    # Searching names matches in any case.
    found = pages.page(f"/accounts/{code}/search", params={"q": "CLIENT 7"})
    assert texts(found, r'/clients/[^"]+">([^<]+)</a>') == ["C0007", "C0070", "C0071", "C0072"]


# --- locks ------------------------------------------------------------------------------------------

def test_take_a_lock_as_another_user_and_release_it(pages: Pages, api: httpx.Client) -> None:
    code, _ = demo(api)
    base = f"/accounts/{code}"
    assert 'id="no-locks"' in pages.page(f"{base}/locks")
    taken = pages.post(f"{base}/locks", {"user": f"viewer@{code}", "type": "E", "entity": "P001323",
                                          "seconds": "600", "internal": "on"})
    assert taken.status_code == 303
    listing = pages.page(f"{base}/locks")
    assert f"viewer@{code} holds E:P001323" in flash_of(listing)
    row = texts(listing, r'<table class="list" id="lock-sets">.*?<tbody>(.*?)</tbody>')[0]
    assert "Demo Viewer" in row and "E:P001323" in row and "internal (not stealable)" in row
    set_id = re.search(r"/locks/(\d+)/release", listing)
    assert set_id is not None

    for form, says, path in (
            ({"user": f"viewer@{code}", "type": "P", "entity": "NOPE"}, "", "entity"),
            ({"user": "nobody", "type": "E", "entity": "P001323"}, "there is no user 'nobody'", "user"),
            ({"user": f"viewer@{code}", "type": "E", "entity": "P001323", "seconds": "0"}, "1 to 86400", "seconds"),
            ({"type": "E", "entity": "P001323"}, "choose the user", "user")):
        refused = pages.post(f"{base}/locks", form)
        assert refused.status_code == 422, refused.text
        shown = problem_of(refused.text)
        assert says in shown and shown.endswith(f"(at {path})"), shown
    released = pages.post(f"{base}/locks/{set_id.group(1)}/release")
    assert released.status_code == 303
    assert f"Released lock set {set_id.group(1)}." in flash_of(pages.page(f"{base}/locks"))
    assert api.get(f"{API}/accounts/{code}").json()["counts"]["locks"] == 0
    assert pages.post(f"{base}/locks/99999/release").status_code == 404


# --- requests ---------------------------------------------------------------------------------------

def test_the_journal_filtered_and_an_exchange_pretty_printed(pages: Pages, api: httpx.Client,
                                                           soap: SoapClient) -> None:
    code, created = demo(api)
    password = password_of(created, f"admin@{code}")
    ticket = soap.login(code, f"admin@{code}", password)
    assert soap.authenticate(code, f"admin@{code}", "wrong").status == "Fail"
    assert soap.call("PwsGetClientList", f"<req:SessionTicket>{ticket}</req:SessionTicket>").status == "Ok"
    base = f"/accounts/{code}/requests"
    listing = pages.page(base)
    operations = texts(listing, r'<tr data-id="\d+"[^>]*>\s*<td>.*?</td>\s*<td>.*?</td>\s*<td>.*?</td>\s*<td>(.*?)</td>')
    assert operations == ["PwsGetClientList", "PwsAuthenticate", "PwsAuthenticate"]  # newest first
    failed = pages.page(base, params={"status": "Fail", "operation": "", "error": ""})
    assert len(re.findall(r"<tr data-id=", failed)) == 1, failed
    errors = api.get(f"{API}/accounts/{code}/requests", params={"status": "Fail"}).json()["items"][0]["errors"]
    by_error = pages.page(base, params={"error": str(errors[0])})
    assert len(re.findall(r"<tr data-id=", by_error)) == 1
    bad = pages.get(base, params={"error": "abc"})
    assert bad.status_code == 422 and problem_of(bad.text).startswith("invalid: error: Input should be a valid integer")

    ident = re.findall(r'requests/(\d+)">', listing)[0]
    detail = pages.page(f"{base}/{ident}")
    request_xml = texts(detail, r'<pre class="xml" id="request-xml">(.*?)</pre>')[0]
    assert "<req:SessionTicket>***</req:SessionTicket>" in request_xml and ticket not in detail
    lines = request_xml.splitlines()
    assert lines[0].startswith("<soapenv:Envelope") and any(line.startswith("    ") for line in lines)
    assert re.search(r'<span class="x-tag">&lt;Status</span> <span class="x-attr">xmlns</span>=<span class="x-value">'
                     r'[^<]*</span><span class="x-tag">&gt;</span><span class="x-text">Ok</span>', detail)
    assert pages.get(f"{base}/99999999").status_code == 404

    live = pages.page(f"{base}/live")
    assert 'data-feed="/_openpws/accounts/' in live and '<meta http-equiv="refresh"' in live
    soap.call("PwsGetResourceList", f"<req:SessionTicket>{ticket}</req:SessionTicket>")
    feed = pages.page(f"{base}/feed")
    assert feed.lstrip().startswith("<tr") and "PwsGetResourceList" in feed.split("</tr>")[0]
    # The server-wide journal: requests that named no account.
    soap.call("PwsGetClientList", "<req:SessionTicket>no-such-ticket</req:SessionTicket>")
    assert "PwsGetClientList" in pages.page("/requests")


def test_journal_pages_go_on_from_the_last_shown(pages: Pages, api: httpx.Client, soap: SoapClient) -> None:
    code, _ = demo(api)
    for _ in range(55):
        soap.authenticate(code, f"admin@{code}", "wrong")
    first = pages.page(f"/accounts/{code}/requests")
    older = re.search(r'<a href="([^"]+)" rel="next">Older', first)
    assert older is not None and len(re.findall("<tr data-id=", first)) == 50
    second = pages.client.get(unescape(older.group(1))).text
    ids = [int(i) for i in re.findall(r'<tr data-id="(\d+)"', first + second)]
    assert len(ids) == 55 and ids == sorted(ids, reverse=True)
    bad = pages.get(f"/accounts/{code}/requests", params={"before": "yesterday"})
    assert bad.status_code == 422


# --- faults -----------------------------------------------------------------------------------------

def test_fault_rules_added_from_the_form_and_removed(pages: Pages, api: httpx.Client, soap: SoapClient) -> None:
    code, created = demo(api)
    base = f"/accounts/{code}/faults"
    assert 'id="no-faults"' in pages.page(base)
    added = pages.post(base, {"operation": "PwsGetClientList", "then": "error", "value": "50046", "times": "1"})
    assert added.status_code == 303
    listing = pages.page(base)
    assert "answers PwsGetClientList" in flash_of(listing) and "error=50046" in listing
    [rule] = api.get(f"{API}/accounts/{code}/faults").json()["items"]
    assert rule["then"] == {"error": 50046} and rule["times"] == 1
    ticket = soap.login(code, f"admin@{code}", password_of(created, f"admin@{code}"))
    assert soap.call("PwsGetClientList", f"<req:SessionTicket>{ticket}</req:SessionTicket>").status == "Fail"

    held = pages.post(base, {"operation": "PwsSaveClient", "then": "lock_held_by", "value": f"viewer@{code}"})
    assert held.status_code == 303
    rules = api.get(f"{API}/accounts/{code}/faults").json()["items"]
    assert rules[0]["then"] == {"lock_held_by": f"viewer@{code}", "stealable": False}

    for form, body in (
            ({"operation": "PwsNope", "then": "error", "value": "50046"}, {"operation": "PwsNope", "then": {"error": 50046}}),
            ({"operation": "PwsGetClient", "then": "http_status", "value": "200"},
             {"operation": "PwsGetClient", "then": {"http_status": 200}}),
            ({"operation": "PwsGetClient", "then": "error", "value": "12"}, {"operation": "PwsGetClient", "then": {"error": 12}}),
            ({"operation": "PwsGetClient", "then": "error", "value": "1", "probability": "2"},
             {"operation": "PwsGetClient", "then": {"error": 1}, "probability": 2}),
            ({"operation": "", "then": "delay_ms", "value": "x"}, {"then": {"delay_ms": "x"}})):
        refused = pages.post(base, form)
        error = api.post(f"{API}/accounts/{code}/faults", json=body).json()["error"]
        assert refused.status_code == 422, refused.text
        assert problem_of(refused.text).startswith(f"invalid: {error['message']}"), (problem_of(refused.text), error)
    for rule in api.get(f"{API}/accounts/{code}/faults").json()["items"]:
        assert pages.post(f"{base}/{rule['id']}/remove").status_code == 303
    assert api.get(f"{API}/accounts/{code}/faults").json()["items"] == []
    assert pages.post(f"{base}/12345/remove").status_code == 404
    pages.post(base, {"operation": "PwsGetClient", "then": "drop_connection"})
    assert pages.post(f"{base}/clear").status_code == 303
    assert api.get(f"{API}/accounts/{code}/faults").json()["items"] == []


def test_rate_limits_set_from_the_form(pages: Pages, api: httpx.Client, soap: SoapClient) -> None:
    code, created = demo(api)
    base = f"/accounts/{code}/faults"
    shown = pages.page(base)
    assert 'id="rate-limit-settings"' in shown and "<code>off</code>" in shown
    answer = pages.post(f"/accounts/{code}/rate-limits", {
        "mode": "error", "installation": "", "user": "2", "session": "", "weights": "PwsGetClientList=2\n"})
    assert answer.status_code == 303
    assert "Rate limiting is error" in flash_of(pages.page(base))
    assert api.get(f"{API}/accounts/{code}/rate-limits").json() == {
        "mode": "error", "limits": {"installation": 2400, "user": 2, "session": 1200},
        "weights": {"PwsGetClientList": 2}, "window_seconds": 60}
    ticket = soap.login(code, f"admin@{code}", password_of(created, f"admin@{code}"))
    refused = soap.call("PwsGetClientList", f"<req:SessionTicket>{ticket}</req:SessionTicket>")
    assert refused.status_code == 500 and "RequestExceededRateLimit" in refused.content.decode()
    assert pages.post(f"/accounts/{code}/rate-limits/clear-hits").status_code == 303
    assert soap.call("PwsGetClientList", f"<req:SessionTicket>{ticket}</req:SessionTicket>").status == "Ok"
    for form, body in (
            ({"mode": "sometimes"}, {"mode": "sometimes"}),
            ({"mode": "error", "user": "0"}, {"mode": "error", "limits": {"user": 0}}),
            ({"mode": "error", "weights": "PwsNope=2"}, {"mode": "error", "weights": {"PwsNope": 2}}),
            ({"mode": "error", "weights": "PwsGetClient=x"}, {"mode": "error", "weights": {"PwsGetClient": "x"}})):
        refused_page = pages.post(f"/accounts/{code}/rate-limits", form)
        error = api.put(f"{API}/accounts/{code}/rate-limits", json=body).json()["error"]
        assert refused_page.status_code == 422, refused_page.text
        assert problem_of(refused_page.text).startswith(f"invalid: {error['message']}"), problem_of(refused_page.text)
    not_a_weight = pages.post(f"/accounts/{code}/rate-limits", {"mode": "error", "weights": "just text"})
    assert not_a_weight.status_code == 422 and "OPERATION=HITS" in problem_of(not_a_weight.text)
    assert api.get(f"{API}/accounts/{code}/rate-limits").json()["limits"]["user"] == 2  # refusals changed nothing


def test_preview_a_pasted_envelope_then_undo_the_delete(pages: Pages, api: httpx.Client, soap: SoapClient,
                                                        store: Store) -> None:
    from tests.sandbox.changes import demo as changes_demo
    from tests.sandbox.changes import engagement_delete, request_id, ticket_envelope

    code, pws = changes_demo(api, soap)
    found = account_id(store, code)
    assert found is not None
    before = rows_of(store, found)
    assert 'id="no-changes"' in pages.page(f"/accounts/{code}/changes")
    # Without the cascade: it would fail, and the page lists every blocker with what clears it.
    refused = pages.post(f"/accounts/{code}/preview", {
        "envelope": ticket_envelope(pws, *engagement_delete("P001323")).decode()})
    assert refused.status_code == 200
    assert "It would answer HTTP 200" in refused.text and "Fail" in refused.text
    blockers = texts(refused.text, r'<table class="list" id="blockers">(.*?)</table>')[0]
    assert "CascadeDeleteFlag" in blockers and "P001323-001" in blockers
    shown = pages.post(f"/accounts/{code}/preview", {
        "envelope": ticket_envelope(pws, *engagement_delete("P001323", cascade=True)).decode()})
    tree = texts(shown.text, r'<table class="list changes" id="change-tree">(.*?)</table>')[0]
    assert "P001323" in tree and "Role-301" in tree and "delete" in tree
    assert '<span class="x-tag">' in shown.text  # the response, highlighted
    changed = {table: rows for table, rows in rows_of(store, found).items() if table not in ("journal", "sessions")}
    assert changed == {table: rows for table, rows in before.items() if table not in ("journal", "sessions")}
    bad = pages.post(f"/accounts/{code}/preview", {"envelope": ""})
    assert bad.status_code == 422 and "SOAP envelope" in problem_of(bad.text)

    # The real delete, in the journal; its page previews the undo, then undoes it.
    deleted = request_id(pws.ok(*engagement_delete("P001323", cascade=True)))
    listing = pages.page(f"/accounts/{code}/changes")
    assert f'id="change-{deleted}"' in listing and "PwsDeleteEngagement" in listing
    assert f'id="change-{deleted}"' in pages.page(f"/accounts/{code}/changes", params={"entity": "engagement",
                                                                                          "code_of": "P001323"})
    assert 'id="no-changes"' in pages.page(f"/accounts/{code}/changes", params={"code_of": "P999999"})
    page = pages.page(f"/accounts/{code}/changes/{deleted}")
    assert "Undo this delete" in page and "P001323" in page
    previewed = pages.post(f"/accounts/{code}/changes/{deleted}/undo", {"preview": "1"})
    assert previewed.status_code == 200 and 'id="undo-tree"' in previewed.text
    assert api.get(f"{API}/accounts/{code}/changes/{deleted}").json()["undone_by"] is None  # a preview only
    done = pages.post(f"/accounts/{code}/changes/{deleted}/undo")
    assert done.status_code == 303
    undone = pages.page(done.headers["location"].removeprefix(PAGES))
    assert f"put back what request {deleted} deleted" in flash_of(undone)
    assert pws.ok("PwsGetEngagement", "<sch:EngagementIdentities><com:PwsEngagementRef><com:EngagementCode>"
                  "P001323</com:EngagementCode></com:PwsEngagementRef></sch:EngagementIdentities>")
    again = pages.post(f"/accounts/{code}/changes/{deleted}/undo")
    assert again.status_code == 409 and "undone already" in problem_of(again.text)


def test_an_undo_refused_shows_each_conflict(pages: Pages, api: httpx.Client, soap: SoapClient) -> None:
    from tests.sandbox.changes import demo as changes_demo
    from tests.sandbox.changes import engagement_delete, request_id

    code, pws = changes_demo(api, soap)
    deleted = request_id(pws.ok(*engagement_delete("P001323", cascade=True)))
    pws.engagement("C000121", "Squatter", code="P001323")
    refused = pages.post(f"/accounts/{code}/changes/{deleted}/undo")
    assert refused.status_code == 409
    conflicts = texts(refused.text, r'<table class="list" id="undo-conflicts">(.*?)</table>')[0]
    assert "its code is taken by engagement P001323" in conflicts
    assert problem_of(refused.text).startswith("conflict: ")

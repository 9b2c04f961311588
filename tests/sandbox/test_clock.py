"""An account's clock, over HTTP: its calls, and everything time-dependent in the account following
it (sessions, locks, ServerTimestampUtc, last-updated stamps, invoice dates), while other accounts
keep real time."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from openpws.contract import ns
from openpws.services.permissions import ALL
from openpws.store.transactions import Store
from tests.conftest import PASSWORD, AccountFixture, make_user
from tests.messages.test_locks import NAMESPACES, acquire, check, entity, fault_numbers, set_of
from tests.pws import Answer, SoapClient
from tests.sandbox.rows import API, create
from tests.tree import Pws, tag

FROZEN = "2030-01-02T03:04:05.123456Z"
FROZEN_AT = datetime(2030, 1, 2, 3, 4, 5, 123456, tzinfo=UTC)


def set_clock(api: httpx.Client, code: str, **body: Any) -> dict[str, Any]:
    answer = api.put(f"{API}/accounts/{code}/clock", json=body)
    assert answer.status_code == 200, answer.text
    clock: dict[str, Any] = answer.json()
    return clock


def shown(clock: dict[str, Any]) -> datetime:
    return datetime.fromisoformat(clock["now"])


def server_time(answer: Answer) -> datetime:
    text = answer.text(".//cs:ServerTimestampUtc") or ""
    assert text.endswith("Z") and len(text.rpartition(".")[2]) == 8, text  # 7 fractional digits and Z
    return datetime.fromisoformat(text[:-2] + "Z")  # (Python reads 6)


def real_now() -> datetime:
    return datetime.now(UTC)


def login(soap: SoapClient, code: str, user: str, password: str) -> Pws:
    """A session of ``user`` in the sandbox account ``code``."""
    return Pws(soap, AccountFixture(code, user, "", "", password), user)


def demo(api: httpx.Client) -> tuple[str, str, str]:
    """A new account from the demo fixture: its code, and its administrator's login and password."""
    created = create(api, fixture_name="demo")
    return created["code"], created["users"][0]["login"], created["users"][0]["password"]


def test_the_clock_calls(api: httpx.Client) -> None:
    code = create(api)["code"]
    fresh = api.get(f"{API}/accounts/{code}/clock").json()
    assert fresh["frozen"] is False and fresh["offset_seconds"] == 0
    assert abs(shown(fresh) - real_now()) < timedelta(seconds=5)

    frozen = set_clock(api, code, frozen_at=FROZEN)
    assert frozen["now"] == "2030-01-02T03:04:05.123456Z" and frozen["frozen"] is True
    assert abs(frozen["offset_seconds"] - (FROZEN_AT - real_now()).total_seconds()) < 5
    assert api.get(f"{API}/accounts/{code}/clock").json()["now"] == frozen["now"]  # it stays there
    advanced = set_clock(api, code, advance_seconds=90.5)
    assert shown(advanced) == FROZEN_AT + timedelta(seconds=90.5) and advanced["frozen"] is True

    # An instant with an offset, or with none (taken as UTC).
    running = set_clock(api, code, set="2031-06-01T12:00:00+02:00")
    assert running["frozen"] is False
    assert timedelta(0) <= shown(running) - datetime(2031, 6, 1, 10, tzinfo=UTC) < timedelta(seconds=5)
    later = api.get(f"{API}/accounts/{code}/clock").json()
    assert shown(later) >= shown(running) and later["frozen"] is False
    forward = set_clock(api, code, advance_seconds=3600)
    assert abs(forward["offset_seconds"] - running["offset_seconds"] - 3600) < 5
    assert shown(set_clock(api, code, frozen_at="2030-01-02T03:04:05")) == datetime(2030, 1, 2, 3, 4, 5, tzinfo=UTC)

    back = set_clock(api, code, real=True)
    assert back["frozen"] is False and back["offset_seconds"] == 0
    assert abs(shown(back) - real_now()) < timedelta(seconds=5)
    assert api.get(f"{API}/accounts/{code}").json()["clock"]["offset_seconds"] == 0


def test_a_session_expires_when_the_clock_passes_its_idle_limit(api: httpx.Client, soap: SoapClient) -> None:
    code, admin, password = demo(api)
    elsewhere = login(soap, *demo(api))
    set_clock(api, code, frozen_at=FROZEN)
    session = login(soap, code, admin, password)
    set_clock(api, code, advance_seconds=59 * 60)
    assert session.call("PwsGetClientList").status == "Ok"
    set_clock(api, code, advance_seconds=61 * 60)
    expired = session.call("PwsGetClientList")
    assert expired.status == "FailSessionInvalid" and expired.error_numbers() == [-101]
    assert "idle" in (expired.messages()[0]["AdditionalErrorText"] or "")
    assert server_time(expired) == FROZEN_AT + timedelta(minutes=120)
    # A session of another account, as idle in real time, goes on.
    assert elsewhere.call("PwsGetClientList").status == "Ok"


def test_a_lock_expires_when_the_clock_passes_it(api: httpx.Client, soap: SoapClient, store: Store) -> None:
    code, admin, password = demo(api)
    make_user(store, code, f"other@{code}", ALL, reference_id="OTHER")
    # Sessions opened before a jump of years would be idle for years: log in on the clock first.
    set_clock(api, code, frozen_at=FROZEN)
    mine, other = login(soap, code, admin, password), login(soap.another(), code, f"other@{code}", PASSWORD)

    held = set_of(acquire(other, entity("E", "P001323"), seconds=600))
    assert fault_numbers(acquire(mine, entity("P", "P001323-001"))) == [54076]
    assert api.get(f"{API}/accounts/{code}").json()["counts"]["locks"] == 1
    set_clock(api, code, advance_seconds=599)
    assert fault_numbers(acquire(mine, entity("P", "P001323-001"))) == [54076]
    set_clock(api, code, advance_seconds=2)
    assert api.get(f"{API}/accounts/{code}").json()["counts"]["locks"] == 0
    assert set_of(acquire(mine, entity("P", "P001323-001")))
    assert check(other, held).error_numbers() == [50475]


def test_server_timestamps_show_the_frozen_instant(api: httpx.Client, soap: SoapClient) -> None:
    code, admin, password = demo(api)
    elsewhere = login(soap, *demo(api))
    set_clock(api, code, frozen_at=FROZEN)

    authenticated = soap.authenticate(code, admin, password)
    assert authenticated.text(".//cs:ServerTimestampUtc") == "2030-01-02T03:04:05.1234560Z"
    session = login(soap, code, admin, password)
    read = session.call("PwsGetClientList")
    assert read.status == "Ok" and server_time(read) == FROZEN_AT
    failed = session.call("PwsDeleteClient", "<req:ClientIdentity><com:ClientNumber>NOPE</com:ClientNumber>"
                                             "</req:ClientIdentity>")
    assert failed.status == "Fail" and server_time(failed) == FROZEN_AT
    # A wrong password for the account is refused at the account's time too.
    assert server_time(soap.authenticate(code, admin, "wrong")) == FROZEN_AT
    # Another account, and a request that names no account, keep real time.
    for answer in (elsewhere.call("PwsGetClientList"), soap.authenticate("no-such-account", "x", "y")):
        assert abs(server_time(answer) - real_now()) < timedelta(seconds=5)


def test_stamps_lists_and_invoices_follow_the_clock(api: httpx.Client, soap: SoapClient) -> None:
    code, admin, password = demo(api)
    start = datetime(2030, 1, 1, tzinfo=UTC)
    set_clock(api, code, frozen_at=start.isoformat())
    session = login(soap, code, admin, password)

    def engagement(name: str) -> str:
        saved = session.ok("PwsSaveEngagement", "<sch:Engagement><com:ClientIdentity><com:ClientNumber>C000121"
                                                "</com:ClientNumber></com:ClientIdentity><com:EngagementName>"
                                                f"{name}</com:EngagementName></sch:Engagement>")
        return saved.text(".//sch:EngagementIdentity/com:EngagementCode") or ""

    def since(moment: datetime) -> list[str]:
        answer = session.ok("PwsGetEngagementList", tag("LastUpdatedSinceTimestamp", moment.isoformat()))
        return [e.text or "" for e in answer.root.iterfind(".//com:PwsEngagementSummary/com:EngagementCode",
                                                           NAMESPACES)]

    first = engagement("First")
    set_clock(api, code, advance_seconds=3000)
    second = engagement("Second")
    # The demo tree was saved in real time, before 2030: only what was saved on the frozen clock is newer.
    assert since(start - timedelta(seconds=1)) == sorted([first, second])
    assert since(start + timedelta(minutes=25)) == [second]

    # An invoice is dated on the account's clock.
    invoice = (f'<bil:InvoiceSpec xmlns:bil="{ns.BILLING}"><bil:BillingCultureIdentity><com:CultureName>en-US'
               "</com:CultureName></bil:BillingCultureIdentity><bil:ClientIdentity><com:ClientNumber>C000117"
               "</com:ClientNumber></bil:ClientIdentity><bil:CostCenterIdentity><com:CostCenterName>Head Office"
               "</com:CostCenterName></bil:CostCenterIdentity><bil:EngagementCurrencyIdentity><com:CurrencyCode>USD"
               "</com:CurrencyCode></bil:EngagementCurrencyIdentity><bil:EngagementIdentity><com:EngagementCode>"
               "E001395</com:EngagementCode></bil:EngagementIdentity><bil:InvoiceContent>A</bil:InvoiceContent>"
               "<bil:InvoiceName>Audit fieldwork, first month</bil:InvoiceName></bil:InvoiceSpec>")
    created = session.ok("PwsCreateInvoice", invoice).root.find(".//{*}Invoice/{*}CreatedTimestamp")
    assert created is not None and created.text == "2030-01-01T00:50:00.0000000Z"

"""Admin pages benchmark: how long each page under /_openpws/ takes to answer for an account of
about 10,000 rows, on SQLite and PostgreSQL.

Per store, a scratch database (a temp SQLite file, or ``openpws_pages_<hex>`` on --postgres, dropped
afterwards) gets the account ``big`` of ``snapshots.build`` (clients, engagements with their
contract line items, projects, roles with requested and booked hours, lock sets: ``--rows`` in
all, about), and ``openpws serve`` (one worker) answers on it. Its request journal is filled with
``--journal`` exchanges of the account first (the journal's default bound is 1,000). Then each page
is asked for ``--runs`` times, one request after another on one kept-alive connection, signed in
with the pages' cookie; printed per page: median and p95 latency (wall time at the client, the
whole HTML received) and the page's size. The target: each page well under 100 ms.

    .venv/bin/python bench/pages.py [--stores sqlite,postgres] [--rows 10000] [--runs 50]
        [--journal 1000] [--postgres URL]
"""

from __future__ import annotations

import argparse
import http.client
import os
import re
import time
from collections.abc import Sequence

from _common import PATH, Server, envelope, scratch_database
from snapshots import BIG, build

from openpws.store import migrate
from openpws.store.transactions import Store

TOKEN = "bench-admin-token"  # noqa: S105 - a scratch server on 127.0.0.1
TARGET_MS = 100.0


class Browser:
    """One kept-alive connection with the pages' cookie."""

    def __init__(self, port: int) -> None:
        self.connection = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
        self.connection.request("POST", "/_openpws/login", body=f"token={TOKEN}",
                                headers={"Content-Type": "application/x-www-form-urlencoded"})
        answer = self.connection.getresponse()
        answer.read()
        cookie = answer.getheader("set-cookie") or ""
        if answer.status != 303 or "openpws_admin=" not in cookie:
            raise SystemExit(f"signing in failed: {answer.status}")
        self.cookie = cookie.split(";")[0]

    def get(self, path: str) -> tuple[int, bytes]:
        self.connection.request("GET", path, headers={"Cookie": self.cookie})
        answer = self.connection.getresponse()
        return answer.status, answer.read()


def fill_journal(port: int, exchanges: int) -> int:
    """``exchanges`` PWS requests of the account (small answers), then a cascade delete of the
    engagement E000101 (stealing its lock), on one connection; the delete's request id, which its
    change tree is listed under."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    login = envelope("PwsAuthenticate", f"<req:AccountCode>{BIG}</req:AccountCode><req:Password>pw</req:Password>"
                                        "<req:UserName>user0@big</req:UserName>")
    connection.request("POST", PATH, body=login, headers={"Content-Type": "text/xml; charset=utf-8"})
    body = connection.getresponse().read()
    found = re.search(rb"SessionTicket>([^<]+)<", body)
    if found is None:
        raise SystemExit(f"logging in as user0@big failed: {body[:300]!r}")
    request = envelope("PwsGetResourceList", f"<req:SessionTicket>{found.group(1).decode()}</req:SessionTicket>")
    for _ in range(exchanges):
        connection.request("POST", PATH, body=request, headers={"Content-Type": "text/xml; charset=utf-8"})
        connection.getresponse().read()
    delete = envelope("PwsDeleteEngagement", f"<req:SessionTicket>{found.group(1).decode()}</req:SessionTicket>"
                      "<sch:EngagementIdentity><com:EngagementCode>E000101</com:EngagementCode>"
                      "</sch:EngagementIdentity><sch:StealLockFlag>true</sch:StealLockFlag>"
                      "<sch:CascadeDeleteFlag>true</sch:CascadeDeleteFlag>")
    connection.request("POST", PATH, body=delete, headers={"Content-Type": "text/xml; charset=utf-8"})
    answer = connection.getresponse()
    body = answer.read()
    if b">Ok<" not in body:
        raise SystemExit(f"the cascade delete of E000101 failed: {body[:500]!r}")
    connection.close()
    return int(answer.headers["X-Openpws-Request-Id"])


def percentile(values: Sequence[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def pages_of(browser: Browser, deleted: int) -> list[tuple[str, str]]:
    """The pages to time: (name, path); a role's and an exchange's ids are read off other pages."""
    base = f"/_openpws/accounts/{BIG}"
    _, project = browser.get(f"{base}/projects/E000100-002")
    role = re.search(rb"/roles/(\d+)\"", project)
    _, journal = browser.get(f"{base}/requests")
    exchange = re.search(rb"/requests/(\d+)\"", journal)
    if role is None or exchange is None:
        raise SystemExit("the project page shows no role, or the journal no exchange")
    return [
        ("accounts", "/_openpws/"),
        ("account overview", base),
        ("tree, first page", f"{base}/tree"),
        ("tree, a later page", f"{base}/tree?after=C000040"),
        ("client", f"{base}/clients/C000040"),
        ("engagement", f"{base}/engagements/E000100"),
        ("contract line item", f"{base}/contract-line-items/E000100-CL1"),
        ("project (roles, hours)", f"{base}/projects/E000100-002"),
        ("role", f"{base}/roles/{role.group(1).decode()}"),
        ("search 'E00010' (many)", f"{base}/search?q=E00010"),
        ("search 'client c000041'", f"{base}/search?q=client+c000041"),
        ("locks (every live set)", f"{base}/locks"),
        ("requests, first page", f"{base}/requests"),
        ("requests, filtered", f"{base}/requests?operation=PwsGetResourceList&status=Ok"),
        ("requests, live feed", f"{base}/requests/feed"),
        ("request (XML shown)", f"{base}/requests/{exchange.group(1).decode()}"),
        ("faults and rate limits", f"{base}/faults"),
        ("changes", f"{base}/changes"),
        ("changes of a cascade delete", f"{base}/changes/{deleted}"),
        ("preview form", f"{base}/preview"),
    ]


def measure(kind: str, postgres: str, rows: int, runs: int, journal: int) -> list[tuple[str, float, float, int]]:
    with scratch_database(kind, postgres, "pages") as database:
        store = Store.open(database)
        migrate.upgrade(store.engine)
        held = build(store, rows)
        store.dispose()
        print(f"[{kind}] account {BIG}: {held} rows", flush=True)
        server = Server(database, 1)
        try:
            deleted = fill_journal(server.port, journal)
            time.sleep(0.5)  # the journal's writer
            browser = Browser(server.port)
            results = []
            for name, path in pages_of(browser, deleted):
                status, body = browser.get(path)  # once unmeasured: the first of each is not the point
                if status != 200:
                    raise SystemExit(f"{path}: HTTP {status}: {body[:300]!r}")
                times = []
                for _ in range(runs):
                    began = time.perf_counter()
                    browser.get(path)
                    times.append((time.perf_counter() - began) * 1000)
                results.append((name, percentile(times, 0.5), percentile(times, 0.95), len(body)))
            return results
        finally:
            server.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--stores", default="sqlite,postgres")
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=50)
    parser.add_argument("--journal", type=int, default=1000)
    parser.add_argument("--postgres", default=os.environ.get("OPENPWS_TEST_POSTGRES",
                                                             "postgresql://postgres@127.0.0.1:5432/test"))
    args = parser.parse_args()
    os.environ["OPENPWS_ADMIN_TOKEN"] = TOKEN
    for kind in args.stores.split(","):
        results = measure(kind, args.postgres, args.rows, args.runs, args.journal)
        print(f"\n{kind}: {args.runs} requests per page, one after another (ms)")
        print(f"  {'page':<28} {'median':>8} {'p95':>8} {'bytes':>9}")
        for name, p50, p95, size in results:
            flag = "" if p95 < TARGET_MS else "   over the target"
            print(f"  {name:<28} {p50:8.1f} {p95:8.1f} {size:9d}{flag}")
        worst = max(p95 for _, _, p95, _ in results)
        print(f"  worst p95: {worst:.1f} ms (target: well under {TARGET_MS:.0f} ms)", flush=True)


if __name__ == "__main__":
    main()

"""Change journal benchmark: what recording a cascade's changes costs the delete, and how long a
preview and an undo of it take, on SQLite and PostgreSQL.

Per store, a scratch database (a temp SQLite file, or ``openpws_changes_<hex>`` on --postgres,
dropped afterwards) gets trees of --projects projects x --roles roles, each role with --weeks
weeks of requested and of booked hours (the trees of ``delete_load.py``, inserted through the store
layer). Two ``openpws serve`` processes run on it, one worker each: one with the change journal
(the default), one with OPENPWS_CHANGE_JOURNAL=off. Each run, over HTTP, wall time from sending
the request to the whole answer:

- **delete, journal off**: a cascade PwsDeleteEngagement of one tree on the server without it;
- **preview**: ``POST …/preview`` of the same delete of a second tree (rolled back; the answer
  holds the whole change tree);
- **delete, journal on**: that delete of the second tree, for real, on the server with it;
- **undo**: ``POST …/changes/{id}/undo`` of that delete (the tree comes back: checked; its answer
  counts the rows, its change tree is in the journal), after which the tree is deleted again,
  unmeasured.

Which delete goes first alternates between runs. Printed: the medians, and per run the ratios
journal on / off (target <= 1.25), preview / delete (target <= 2) and undo / delete (target <= 3),
the delete being the one with the journal; their medians are what the targets are judged on.

    .venv/bin/python bench/changes.py [--stores sqlite,postgres] [--runs 5] [--projects 1000]
        [--roles 10] [--weeks 2] [--postgres URL]
"""

from __future__ import annotations

import argparse
import http.client
import json
import time
from collections.abc import Sequence

from _common import ACCOUNT, PATH, Server, envelope, median, over_stores, prepare, scratch_database
from delete_load import add_client, add_tree, analyze, owner_of, projects_left

TOKEN = "bench-admin-token"  # noqa: S105 - a scratch server on 127.0.0.1
TARGETS = {"journal": 1.25, "preview": 2.0, "undo": 3.0}


def _post(server: Server, path: str, body: bytes, headers: dict[str, str]) -> tuple[float, int, bytes, dict[str, str]]:
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=600)
    began = time.perf_counter()
    connection.request("POST", path, body, headers)
    response = connection.getresponse()
    data = response.read()
    elapsed = time.perf_counter() - began
    connection.close()
    return elapsed, response.status, data, {k.lower(): v for k, v in response.getheaders()}


def delete_body(ticket: str, code: str) -> bytes:
    return envelope("PwsDeleteEngagement", f"<req:SessionTicket>{ticket}</req:SessionTicket><sch:EngagementIdentity>"
                    f"<com:EngagementCode>{code}</com:EngagementCode></sch:EngagementIdentity>"
                    "<sch:CascadeDeleteFlag>true</sch:CascadeDeleteFlag>")


def delete(server: Server, ticket: str, code: str) -> tuple[float, int]:
    """The wall time of the cascade delete of ``code``, and its request id."""
    seconds, status, data, headers = _post(server, PATH, delete_body(ticket, code),
                                           {"Content-Type": "text/xml; charset=utf-8"})
    if status != 200 or b">Ok<" not in data:
        raise RuntimeError(f"PwsDeleteEngagement {code} failed: {data[:2000]!r}")
    return seconds, int(headers["x-openpws-request-id"])


def control(server: Server, path: str, body: bytes = b"", content_type: str = "application/json") -> tuple[float, dict]:
    seconds, status, data, _ = _post(server, f"/_openpws/api/accounts/{ACCOUNT}{path}", body, {
        "Authorization": f"Bearer {TOKEN}", "Content-Type": content_type})
    if status != 200:
        raise RuntimeError(f"POST {path} answered {status}: {data[:2000]!r}")
    return seconds, json.loads(data)


def items(tree: Sequence[dict]) -> int:
    return sum(1 + items(item["children"]) for item in tree)


def bench_store(args: argparse.Namespace, kind: str) -> None:
    with scratch_database(kind, args.postgres, "changes") as database:
        store = prepare(database)
        servers: list[Server] = []
        try:
            with store.write() as tx:
                owner = owner_of(tx, ACCOUNT)
                client_id = add_client(tx, owner, "B000001")
            on = Server(database, 1, {"OPENPWS_ADMIN_TOKEN": TOKEN})
            servers.append(on)
            off = Server(database, 1, {"OPENPWS_ADMIN_TOKEN": TOKEN, "OPENPWS_CHANGE_JOURNAL": "off"})
            servers.append(off)
            ticket = on.login()
            rows = args.projects * (1 + args.roles * (1 + 2 * args.weeks))
            print(f"== {store.dialect}: cascade PwsDeleteEngagement of {args.projects} projects x {args.roles} roles x "
                  f"{2 * args.weeks} hours buckets ({rows} rows), {args.runs} runs")
            times: dict[str, list[float]] = {"off": [], "on": [], "preview": [], "undo": []}
            ratios: dict[str, list[float]] = {"journal": [], "preview": [], "undo": []}
            for run in range(args.runs):
                plain, journalled = f"X{run}", f"J{run}"
                plain_id = add_tree(store, owner, client_id, plain, args.projects, args.roles, args.weeks)
                journalled_id = add_tree(store, owner, client_id, journalled, args.projects, args.roles, args.weeks)
                analyze(store)
                measured: dict[str, float] = {}
                for which in (("off", "on") if run % 2 == 0 else ("on", "off")):
                    if which == "off":
                        measured["off"], _ = delete(off, ticket, plain)
                    else:
                        measured["preview"], answer = control(on, "/preview", delete_body(ticket, journalled),
                                                              "text/xml; charset=utf-8")
                        shown = items(answer["changes"])
                        measured["on"], request_id = delete(on, ticket, journalled)
                        measured["undo"], undone = control(on, f"/changes/{request_id}/undo")
                        if shown < rows or undone["rows"] < rows:
                            raise RuntimeError(f"the preview showed {shown} items, the undo put back "
                                               f"{undone['rows']} rows; the tree has {rows}")
                        if projects_left(store, journalled_id) != args.projects:
                            raise RuntimeError("the undo did not put the tree back")
                        delete(off, ticket, journalled)
                if projects_left(store, plain_id) or projects_left(store, journalled_id):
                    raise RuntimeError("a cascade left projects behind: its timing would mean nothing")
                for name, seconds in measured.items():
                    times[name].append(seconds)
                ratios["journal"].append(measured["on"] / measured["off"])
                ratios["preview"].append(measured["preview"] / measured["on"])
                ratios["undo"].append(measured["undo"] / measured["on"])
                if args.verbose:
                    shown = "   ".join(f"{name} {seconds * 1000:.1f} ms" for name, seconds in measured.items())
                    print(f"  run {shown}")
            print(f"  delete, change journal off {median(times['off']) * 1000:8.1f} ms   [runs {_ms(times['off'])}]")
            print(f"  delete, change journal on  {median(times['on']) * 1000:8.1f} ms   [runs {_ms(times['on'])}]")
            print(f"  preview of the delete      {median(times['preview']) * 1000:8.1f} ms   "
                  f"[runs {_ms(times['preview'])}]")
            print(f"  undo of the delete         {median(times['undo']) * 1000:8.1f} ms   [runs {_ms(times['undo'])}]")
            for name, label in (("journal", "journal on / off"), ("preview", "preview / delete"),
                                ("undo", "undo / delete")):
                value = median(ratios[name])
                print(f"  {label:<18} x{value:.2f} (target <= {TARGETS[name]}x: "
                      f"{'met' if value <= TARGETS[name] else 'NOT met'})   [runs {_x(ratios[name])}]")
        finally:
            for server in servers:
                server.stop()
            store.dispose()


def _ms(values: Sequence[float]) -> str:
    return ",".join(f"{v * 1000:.0f}" for v in values)


def _x(values: Sequence[float]) -> str:
    return ",".join(f"{v:.2f}" for v in values)


def parse(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--stores", default="sqlite,postgres", help="sqlite, postgres or both (default both).")
    parser.add_argument("--postgres", default="postgresql://postgres@127.0.0.1:5432/test",
                        help="PostgreSQL server on which the scratch database is created and dropped.")
    parser.add_argument("--runs", type=int, default=5, help="Runs whose medians are printed (default 5).")
    parser.add_argument("--projects", type=int, default=1000, help="Projects in a tree (default 1000).")
    parser.add_argument("--roles", type=int, default=10, help="Roles per project (default 10).")
    parser.add_argument("--weeks", type=int, default=2, help="Weeks of requested and of booked hours per role "
                        "(default 2: four hours rows per role).")
    parser.add_argument("--verbose", action="store_true", help="Also print every run's figures.")
    return parser.parse_args(argv)


def main() -> None:
    args = parse()
    over_stores("change journal", args.stores, lambda kind: bench_store(args, kind))


if __name__ == "__main__":
    main()

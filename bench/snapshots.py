"""Snapshot and restore benchmark: how long a snapshot and a restore of an account of about 10,000
rows take, on SQLite and PostgreSQL, and what restores of that account do to the PwsGetClient
requests of another account served by the same server at the same time.

Per store, a scratch database (a temp SQLite file, or ``openpws_snapshots_<hex>`` on --postgres,
dropped afterwards) gets the account ``big``, built through the store layer: clients,
engagements with their contract line items, projects, roles with requested hours, and lock sets
of its users (``--rows`` in all, about). The bench account of ``_common.prepare`` is the other
account.

- **in-process**: ``--runs`` snapshots and ``--runs`` restores of ``big`` through the service
  functions the control plane calls, each timed on its own (wall time); medians, min and max. The
  first restore is checked: every row of the account as the snapshot held it.
- **over HTTP**: ``openpws serve`` (one worker) on the database; ``--connections`` connections
  of PwsGetClient of the bench account for ``--seconds`` alone, then again for ``--seconds``
  while another process restores ``big`` through ``POST …/snapshots/{id}/restore``, one restore
  after another with ``--pause`` seconds between. Printed: p50/p99 and rate of PwsGetClient in
  both, and the wall times of the restores over HTTP.

    .venv/bin/python bench/snapshots.py [--stores sqlite,postgres] [--rows 10000] [--runs 7]
        [--seconds 5] [--connections 4] [--pause 0.1] [--postgres URL]
"""

from __future__ import annotations

import argparse
import http.client
import json
import multiprocessing
import os
import statistics
import time
from collections.abc import Sequence
from typing import Any

from _common import (
    ACCOUNT,
    PATH,
    Server,
    Stream,
    drive,
    envelope,
    http_request,
    median,
    now,
    post,
    prepare,
    scratch_database,
)
from delete_load import add_client, add_engagement, add_projects, add_roles, owner_of
from sqlalchemy import func, select

from openpws.clock import real_now
from openpws.config import Settings
from openpws.services import admin, snapshots
from openpws.services.context import Environment
from openpws.services.permissions import ALL
from openpws.store import schema
from openpws.store import snapshots as snapshot_store
from openpws.store.transactions import Store

BIG = "big"
TOKEN = "bench-admin-token"  # noqa: S105 - a scratch server on 127.0.0.1
TARGET_SECONDS = 1.0  # "well under a second"


def build(store: Store, rows: int) -> int:
    """The account BIG of about ``rows`` rows; how many it holds."""
    moment = now()
    with store.write() as tx:
        admin.create_account(tx, BIG, "Big", moment)
        for n in range(4):
            admin.create_user(tx, BIG, login=f"user{n}@big", display_name=f"User {n}", password="pw",  # noqa: S106
                              permissions=ALL, reference_id=f"U{n}", email=None, scrypt_cost=1024, now=moment)
    # Per engagement: its contract line item, 5 projects x 2 roles x 2 weeks of requested and of
    # booked hours (5 + 10 + 40 rows), a lock set with a lock on it, and a client for every two.
    engagements = max(1, rows // 60)
    with store.write() as tx:
        owner = owner_of(tx, BIG)
        for e in range(engagements):
            if e % 2 == 0:
                client_id = add_client(tx, owner, f"C{e // 2:06d}")
            engagement_id = add_engagement(tx, owner, client_id, f"E{e:06d}")
            project_ids = add_projects(tx, owner, engagement_id, [f"E{e:06d}-{p:03d}" for p in range(5)])
            add_roles(tx, owner, project_ids, 2, 2)
    with store.write() as tx:
        for e in range(engagements):
            admin.take_lock(tx, BIG, f"user{e % 4}@big", f"E:E{e:06d}", 86400, internal=e % 10 == 0, now=moment)
    return count(store, BIG)


def count(store: Store, code: str) -> int:
    with store.read() as tx:
        account_id = int(tx.execute(select(schema.accounts.c.id).where(schema.accounts.c.code == code)).scalar_one())
        state = snapshot_store.capture(tx, account_id)
    return state.rows


def image(store: Store, code: str) -> Any:
    with store.read() as tx:
        account_id = int(tx.execute(select(schema.accounts.c.id).where(schema.accounts.c.code == code)).scalar_one())
        return snapshot_store.capture(tx, account_id).tables


def timed(work: Any) -> float:
    began = time.perf_counter()
    work()
    return time.perf_counter() - began


def spread(values: Sequence[float]) -> str:
    return (f"median {median(values) * 1000:7.1f} ms   min {min(values) * 1000:7.1f}   max {max(values) * 1000:7.1f}"
            f"   (n={len(values)})")


def in_process(store: Store, database: str, runs: int) -> tuple[int, list[float], list[float]]:
    environment = Environment(store, Settings(database_url=database))
    takes = [timed(lambda: snapshots.take(environment, BIG, real_now())) for _ in range(runs)]
    taken = snapshots.take(environment, BIG, real_now(), name="restored by the bench")
    before = image(store, BIG)
    with store.write() as tx:  # something to put back: a write to every engagement
        tx.execute(schema.engagements.update().where(schema.engagements.c.code.like("E%")).values(name="changed"))
    restores = [timed(lambda: snapshots.restore(environment, BIG, taken.id, real_now()))]
    if image(store, BIG) != before:
        raise SystemExit("the restore did not put the account back as the snapshot held it")
    restores += [timed(lambda: snapshots.restore(environment, BIG, taken.id, real_now())) for _ in range(runs - 1)]
    return taken.id, takes, restores


def api(port: int, method: str, path: str) -> tuple[int, bytes]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    connection.request(method, "/_openpws/api" + path, headers={"Authorization": f"Bearer {TOKEN}"})
    answer = connection.getresponse()
    body = answer.read()
    connection.close()
    return answer.status, body


def _restorer(port: int, snapshot_id: int, seconds: float, pause: float, queue: Any) -> None:
    """Restore BIG again and again for ``seconds``; the wall time of each."""
    times: list[float] = []
    deadline = time.perf_counter() + seconds
    while time.perf_counter() < deadline:
        began = time.perf_counter()
        status, body = api(port, "POST", f"/accounts/{BIG}/snapshots/{snapshot_id}/restore")
        if status != 200:
            queue.put(RuntimeError(f"restore answered {status}: {body[:300]!r}"))
            return
        times.append(time.perf_counter() - began)
        time.sleep(pause)
    queue.put(times)


def line(label: str, load: Any) -> str:
    return (f"  {label:<34} {load.rate:7.0f} req/s   p50 {load.percentile(0.5) * 1000:6.2f} ms   "
            f"p99 {load.percentile(0.99) * 1000:7.2f} ms   errors {load.errors}")


def over_http(database: str, snapshot_id: int, args: argparse.Namespace) -> None:
    os.environ["OPENPWS_ADMIN_TOKEN"] = TOKEN
    server = Server(database, 1)
    try:
        ticket = server.login()
        saved = post(server.port, envelope("PwsSaveClient", f"<req:SessionTicket>{ticket}</req:SessionTicket>"
                                           "<req:Client><com:ClientName>Other</com:ClientName></req:Client>"))
        number = saved.split(b"ClientNumber>")[1].split(b"<")[0].decode()
        get = http_request("POST", PATH, envelope(
            "PwsGetClient", f"<req:SessionTicket>{ticket}</req:SessionTicket><req:ClientIdentities><com:PwsClientRef>"
            f"<com:ClientNumber>{number}</com:ClientNumber></com:PwsClientRef></req:ClientIdentities>"))
        streams = [Stream([get])] * args.connections
        status, body = api(server.port, "GET", f"/accounts/{BIG}/snapshots")
        assert status == 200 and any(item["id"] == snapshot_id for item in json.loads(body)["items"]), body
        drive(server.port, streams, seconds=1)  # warm up
        alone = drive(server.port, streams, seconds=args.seconds)
        context = multiprocessing.get_context("fork")
        queue: Any = context.Queue()
        restorer = context.Process(target=_restorer, args=(server.port, snapshot_id, args.seconds, args.pause, queue))
        restorer.start()
        during = drive(server.port, streams, seconds=args.seconds)
        times = queue.get()
        restorer.join()
        if isinstance(times, Exception):
            raise times
        print(f"  PwsGetClient of account {ACCOUNT!r} ({args.connections} connections, {args.seconds:g} s each):")
        print(line("alone", alone))
        print(line(f"while {BIG!r} restores ({len(times)} restores)", during))
        print(f"  p99 during restores / alone: x{during.percentile(0.99) / alone.percentile(0.99):.2f}   "
              f"p50: x{during.percentile(0.5) / alone.percentile(0.5):.2f}")
        print(f"  restore over HTTP                 {spread(times)}")
    finally:
        server.stop()


def bench_store(kind: str, args: argparse.Namespace) -> None:
    with scratch_database(kind, args.postgres, "snapshots") as database:
        store = prepare(database)
        try:
            began = time.perf_counter()
            rows = build(store, args.rows)
            with store.read() as tx:
                size = {t.name: int(tx.execute(select(func.count()).select_from(t)).scalar_one())
                        for t in snapshot_store.HELD}
            print(f"{kind}: account {BIG!r} of {rows} rows built in {time.perf_counter() - began:.1f} s "
                  f"(database: {', '.join(f'{name} {n}' for name, n in size.items() if n)})")
            snapshot_id, takes, restores = in_process(store, database, args.runs)
            with store.read() as tx:
                stored = tx.execute(select(func.length(schema.snapshots.c.image))
                                     .where(schema.snapshots.c.id == snapshot_id)).scalar_one()
            print(f"  snapshot (in-process)             {spread(takes)}   image {stored / 1024:.0f} KiB")
            print(f"  restore (in-process)              {spread(restores)}")
            for label, values in (("snapshot", takes), ("restore", restores)):
                verdict = "met" if statistics.median(values) < TARGET_SECONDS / 2 else "NOT met"
                print(f"  target {label} of {rows} rows well under {TARGET_SECONDS:g} s (median < 0.5 s): {verdict}")
        finally:
            store.dispose()
        over_http(database, snapshot_id, args)


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--stores", default="sqlite,postgres")
    parser.add_argument("--postgres", default="postgresql://postgres@127.0.0.1:5432/test")
    parser.add_argument("--rows", type=int, default=10_000, help="Rows of the account, about (default 10,000).")
    parser.add_argument("--runs", type=int, default=7, help="Snapshots and restores timed in-process (default 7).")
    parser.add_argument("--seconds", type=float, default=5, help="Each PwsGetClient load (default 5).")
    parser.add_argument("--connections", type=int, default=4, help="PwsGetClient connections (default 4).")
    parser.add_argument("--pause", type=float, default=0.1, help="Seconds between two restores (default 0.1).")
    args = parser.parse_args()
    print(f"openpws snapshot bench on {os.cpu_count()} CPU(s)")
    for kind in args.stores.split(","):
        bench_store("postgresql" if kind.strip().startswith("postgres") else "sqlite", args)


if __name__ == "__main__":
    main()

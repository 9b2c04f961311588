"""Delete/load benchmark: what the SOAP and store layers cost per request, and what the rules of a
cascade delete cost next to the same raw SQL, on SQLite and PostgreSQL, with 1 and 2 workers.

Per store, one scratch database (a temp SQLite file, or ``openpws_bench_<hex>`` on --postgres,
dropped afterwards) is served by one ``openpws serve`` per worker count at once, so that every
ratio is taken within one run. Each run drives each server with GET /health (the trivial
endpoint), PwsGetClient, PwsSaveProjectRole (each connection updates a role of its own
engagement) and PwsDeleteProjectRole (each connection deletes roles with hours of its own
engagement, ZeroOutHoursFlag=true, each role once). Then, on the 1-worker server: its RSS over
--memory-requests PwsGetClient requests, and the wall time of a cascade PwsDeleteEngagement of a tree
of N projects x R roles with requested and booked hours, next to the plain DELETEs of an identical tree
in one transaction, at two tree sizes. Trees are inserted directly through the store layer.

Figures are medians over --runs; ratios are taken within each run, then their median printed.

    .venv/bin/python bench/delete_load.py [--quick] [--stores sqlite,postgres] [--workers 1,2]
        [--seconds 2] [--runs 3] [--connections 8] [--projects 1000,2000] [--memory-requests 100000]
"""

from __future__ import annotations

import argparse
import http.client
import itertools
import os
import time
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import date, timedelta

from _common import (
    PATH,
    Load,
    Server,
    Stream,
    cpu_seconds,
    drive,
    envelope,
    http_request,
    median,
    now,
    over_stores,
    prepare,
    scratch_database,
)
from sqlalchemy import Connection, insert, select, text, update

from openpws.store import accounts as account_store
from openpws.store import clients as client_store
from openpws.store import contract_line_items as contract_line_item_store
from openpws.store import engagements as engagement_store
from openpws.store import stages as stage_store
from openpws.store.counters import UID_BASE, UID_SEQUENCE, next_rowversion, next_uid
from openpws.store.schema import counters, project_roles, projects, role_hours
from openpws.store.transactions import Store

ENDPOINTS = ("GET /health", "PwsGetClient", "PwsSaveProjectRole", "PwsDeleteProjectRole")
MONDAY = date(2024, 1, 1)
TARGET_GET_CLIENT_CPU_MS = 0.4
TARGET_SCALING = 1.7
TARGET_CASCADE_RATIO = 3.0


# --- rows through the store layer ----------------------------------------------------------------


@dataclass(frozen=True)
class Owner:
    account_id: int
    engagement_stage: int
    project_stage: int


def owner_of(tx: Connection, account_code: str) -> Owner:
    account = account_store.find_account(tx, account_code)
    assert account is not None
    return Owner(account.id, stage_store.of_kind(tx, account.id, "E")[0].id,
                 stage_store.of_kind(tx, account.id, "P")[0].id)


def reserve_uids(tx: Connection, count: int) -> list[int]:
    """``count`` new Uids from the store's Uid sequence in one statement (next_uid takes one per
    statement, which would cost more than the rest of building a tree of 10,000 roles)."""
    if tx.dialect.name == "postgresql":
        return [UID_BASE + int(n) for n in tx.execute(
            text("SELECT nextval(CAST(:seq AS regclass)) FROM generate_series(1, :n)"),
            {"seq": UID_SEQUENCE, "n": count}).scalars()]
    tx.execute(update(counters).where(counters.c.name == UID_SEQUENCE).values(value=counters.c.value + count))
    last = int(tx.execute(select(counters.c.value).where(counters.c.name == UID_SEQUENCE)).scalar_one())
    return [UID_BASE + n for n in range(last - count + 1, last + 1)]


def add_client(tx: Connection, owner: Owner, number: str) -> int:
    return client_store.insert_client(tx, owner.account_id, {
        "uid": next_uid(tx), "number": number, "name": f"Client {number}", "inactive": False,
        "rowversion": next_rowversion(tx), "updated_at": now()})


def add_engagement(tx: Connection, owner: Owner, client_id: int, code: str) -> int:
    """An engagement with the contract line item PwsSaveEngagement would make with it."""
    version = next_rowversion(tx)
    engagement_id = engagement_store.insert_engagement(tx, owner.account_id, {
        "uid": next_uid(tx), "client_id": client_id, "code": code, "name": f"Engagement {code}",
        "stage_id": owner.engagement_stage, "ever_invoiced": False, "rowversion": version, "updated_at": now()})
    contract_line_item_store.insert_contract_line_item(tx, owner.account_id, {
        "uid": next_uid(tx), "engagement_id": engagement_id, "code": f"{code}-CL1", "name": f"Engagement {code}",
        "time_contract_terms": "T", "cost_contract_terms": "T", "rowversion": version, "updated_at": now()})
    return engagement_id


def add_projects(tx: Connection, owner: Owner, engagement_id: int, codes: Sequence[str]) -> list[int]:
    """Projects on the engagement's first contract line item."""
    # One row version for the rows of one bulk insert: no client ever echoes these tokens.
    version, moment = next_rowversion(tx), now()
    [first, *_] = contract_line_item_store.of_engagements(tx, owner.account_id, [engagement_id])
    rows = [{"uid": uid, "account_id": owner.account_id, "engagement_id": engagement_id,
             "contract_line_item_id": first.id, "code": code, "code_key": code.upper(), "name": f"Project {code}",
             "stage_id": owner.project_stage, "ever_invoiced": False, "rowversion": version, "updated_at": moment}
            for code, uid in zip(codes, reserve_uids(tx, len(codes)), strict=True)]
    statement = insert(projects).returning(projects.c.id, sort_by_parameter_order=True)
    return [int(i) for i in tx.execute(statement, rows).scalars()]


def add_roles(tx: Connection, owner: Owner, project_ids: Sequence[int], per_project: int, weeks: int,
              external_ids: Sequence[str] = ()) -> list[int]:
    """``per_project`` roles on each project, each with ``weeks`` weeks of requested and of booked
    hours, the first ones with ``external_ids`` as ESIs; returns the roles' Uids."""
    version, moment = next_rowversion(tx), now()
    rows: list[dict[str, object]] = []
    uids = reserve_uids(tx, len(project_ids) * per_project)
    for project_id in project_ids:
        for n in range(per_project):
            esi = external_ids[len(rows)] if len(rows) < len(external_ids) else None
            rows.append({"uid": uids[len(rows)], "account_id": owner.account_id, "project_id": project_id,
                         "external_id": esi, "external_key": esi.upper() if esi else None, "name": f"Role {n}",
                         "name_key": f"role {n}", "scheduling_mode": "W", "open_request": False, "deleted": False,
                         "rowversion": version, "updated_at": moment})
    statement = insert(project_roles).returning(project_roles.c.id, sort_by_parameter_order=True)
    ids = [int(i) for i in tx.execute(statement, rows).scalars()]
    hours = [{"role_id": role_id, "kind": kind, "bucket_start": MONDAY + timedelta(weeks=w), "scheduling_mode": "W",
              "weekly_minutes": 480} for role_id in ids for kind in ("R", "A") for w in range(weeks)]
    if hours:
        tx.execute(insert(role_hours), hours)
    return uids


def add_tree(store: Store, owner: Owner, client_id: int, code: str, size: int, per_project: int,
             weeks: int) -> int:
    """An engagement of ``size`` projects x ``per_project`` roles with hours; returns its id."""
    with store.write() as tx:
        engagement_id = add_engagement(tx, owner, client_id, code)
        project_ids = add_projects(tx, owner, engagement_id, [f"{code}-{n:04d}" for n in range(size)])
        add_roles(tx, owner, project_ids, per_project, weeks)
    return engagement_id


RAW_DELETES = (
    "DELETE FROM role_hours WHERE role_id IN (SELECT r.id FROM project_roles r JOIN projects p "
    "ON p.id = r.project_id WHERE p.engagement_id = :e)",
    "DELETE FROM project_roles WHERE project_id IN (SELECT id FROM projects WHERE engagement_id = :e)",
    "DELETE FROM locks WHERE account_id = :a AND engagement_id = :e",
    "DELETE FROM projects WHERE engagement_id = :e",
    "DELETE FROM contract_line_items WHERE engagement_id = :e",
    "DELETE FROM engagements WHERE id = :e",
)


def analyze(store: Store) -> None:
    """Fresh planner statistics, as autovacuum keeps them on a live PostgreSQL database (a new
    database would otherwise plan for the tables as they were before the trees were inserted)."""
    if store.dialect == "postgresql":
        with store.write() as tx:
            tx.execute(text("ANALYZE engagements, projects, project_roles, role_hours, locks"))


def raw_delete(store: Store, owner: Owner, engagement_id: int) -> float:
    began = time.perf_counter()
    with store.write() as tx:
        for statement in RAW_DELETES:
            tx.execute(text(statement), {"e": engagement_id, "a": owner.account_id})
    return time.perf_counter() - began


def projects_left(store: Store, engagement_id: int) -> int:
    with store.read() as tx:
        return len(tx.execute(select(projects.c.id).where(projects.c.engagement_id == engagement_id)).all())


# --- measuring -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Sample:
    rate: float
    p50_ms: float
    p99_ms: float
    server_ms: float  # server CPU per request
    db_ms: float | None  # PostgreSQL backends' CPU per request
    loader_ms: float
    errors: int
    short: bool  # a non-cycling load ran out of requests before the time was up
    # With several workers: the busiest one's share of the server CPU. The kernel hands each
    # keep-alive connection to whichever worker accepts it first, so the split can be uneven.
    busiest: float | None = None


@dataclass(frozen=True)
class Bench:
    args: argparse.Namespace
    store: Store
    servers: dict[int, Server]
    ticket: str
    samples: dict[tuple[int, str], list[Sample]] = field(default_factory=dict)

    def backend_cpu(self) -> dict[int, float]:
        """CPU seconds of each PostgreSQL backend serving the scratch database."""
        if self.store.dialect != "postgresql":
            return {}
        with self.store.read() as tx:
            pids = tx.execute(text("SELECT pid FROM pg_stat_activity WHERE datname = current_database()")).scalars()
            return {int(pid): cpu_seconds([int(pid)]) for pid in pids}

    def measure(self, workers: int, label: str, streams: Sequence[Stream]) -> Sample:
        server = self.servers[workers]
        backends_before, cpu_before, workers_before = self.backend_cpu(), server.cpu(), server.cpu_by_worker()
        load = drive(server.port, streams, seconds=self.args.seconds, processes=self.args.load_processes)
        cpu = server.cpu() - cpu_before
        spent = [after - workers_before.get(pid, 0.0) for pid, after in server.cpu_by_worker().items()]
        backends = self.backend_cpu()
        db = sum(cpu - backends_before.get(pid, 0.0) for pid, cpu in backends.items()) if backends else None
        sample = _sample(load, cpu, db, short=load.seconds < self.args.seconds * 0.95)
        if workers > 1 and sum(spent) > 0:
            sample = replace(sample, busiest=max(spent) / sum(spent))
        self.samples.setdefault((workers, label), []).append(sample)
        if self.args.verbose:
            print("  " + line(f"{workers}w {label}", [sample]))
        return sample


def _sample(load: Load, cpu: float, db: float | None, *, short: bool) -> Sample:
    per = 1000 / max(load.requests, 1)
    return Sample(load.rate, load.percentile(0.5) * 1000, load.percentile(0.99) * 1000, cpu * per,
                  db * per if db is not None else None, load.loader_cpu * per, load.errors, short)


def line(label: str, samples: Sequence[Sample]) -> str:
    m = median  # of the runs
    dbs = [s.db_ms for s in samples if s.db_ms is not None]
    db = f"   db CPU {m(dbs):6.3f} ms/req" if dbs else ""
    notes = "   (ran out of roles early)" if any(s.short for s in samples) else ""
    rates = [s.rate for s in samples]
    return (f"{label:<36} {m(rates):7.0f} req/s [{min(rates):5.0f}-{max(rates):<5.0f}]   "
            f"p50 {m([s.p50_ms for s in samples]):7.2f} ms   p99 {m([s.p99_ms for s in samples]):7.2f} ms   "
            f"server CPU {m([s.server_ms for s in samples]):6.3f} ms/req{db}   "
            f"load CPU {m([s.loader_ms for s in samples]):5.3f} ms/req   "
            f"cores busy {m([busy(s) for s in samples]):4.2f}/{os.cpu_count()}   "
            f"errors {sum(s.errors for s in samples)}{notes}{_split(samples)}")


def _split(samples: Sequence[Sample]) -> str:
    shares = [s.busiest for s in samples if s.busiest is not None]
    return f"   busiest worker {median(shares) * 100:.0f}% of server CPU" if shares else ""


def busy(sample: Sample) -> float:
    """Cores kept busy by the server, PostgreSQL and the load generator together: near the
    machine's count, more workers cannot add throughput."""
    return sample.rate * (sample.server_ms + (sample.db_ms or 0.0) + sample.loader_ms) / 1000


def soap_request(ticket: str, operation: str, members: str) -> bytes:
    return http_request("POST", PATH, envelope(operation, f"<req:SessionTicket>{ticket}</req:SessionTicket>{members}"))


def get_client(ticket: str, number: str) -> bytes:
    return soap_request(ticket, "PwsGetClient", "<req:ClientIdentities><com:PwsClientRef><com:ClientNumber>"
                        f"{number}</com:ClientNumber></com:PwsClientRef></req:ClientIdentities>")


def role_ref(uid: int) -> str:
    return f"<sch:ProjectRoleIdentity><com:ProjectRoleUid>{uid}</com:ProjectRoleUid></sch:ProjectRoleIdentity>"


def load_phase(bench: Bench, owner: Owner, client_number: str, lanes: list[int]) -> None:
    """Each run: every endpoint on every server, back to back."""
    args, ticket = bench.args, bench.ticket
    health = [Stream([http_request("GET", "/health")], soap=False)] * args.connections
    get = [Stream([get_client(ticket, client_number)])] * args.connections
    save = [Stream([soap_request(ticket, "PwsSaveProjectRole",
                                 f"<sch:Mode>R</sch:Mode><sch:ProjectRole><com:ExternalSystemIdentifier>save-{c}"
                                 f"</com:ExternalSystemIdentifier><com:Description>pass {n}</com:Description>"
                                 "</sch:ProjectRole>") for n in range(2)]) for c in range(args.connections)]
    for run in range(args.runs):
        for workers in bench.servers:
            bench.measure(workers, "GET /health", health)
            bench.measure(workers, "PwsGetClient", get)
            saved = bench.measure(workers, "PwsSaveProjectRole", save)
            # Enough roles for a delete rate of twice the save rate just measured (each is deleted once).
            per_lane = int(saved.rate * 2 * args.seconds / args.connections) + 50
            deletes = []
            with bench.store.write() as tx:
                for c, engagement_id in enumerate(lanes):
                    [project_id] = add_projects(tx, owner, engagement_id, [f"L{c:03d}-D{run}-{workers}"])
                    uids = add_roles(tx, owner, [project_id], per_lane, 1)
                    deletes.append(Stream([soap_request(ticket, "PwsDeleteProjectRole", role_ref(uid) +
                                                        "<sch:ZeroOutHoursFlag>true</sch:ZeroOutHoursFlag>")
                                           for uid in uids], cycle=False))
            bench.measure(workers, "PwsDeleteProjectRole", deletes)


def report_load(bench: Bench, store_name: str) -> None:
    samples = bench.samples
    for workers in bench.servers:
        for label in ENDPOINTS:
            print(line(f"{store_name} {workers}w {label}", samples[(workers, label)]))
        trivial = samples[(workers, "GET /health")]
        for label in ENDPOINTS[1:]:
            runs = list(zip(samples[(workers, label)], trivial, strict=True))
            print(f"  ratio {label} / trivial ({workers}w): req/s x{median([s.rate / t.rate for s, t in runs]):.3f}, "
                  f"server CPU per request x{median([s.server_ms / t.server_ms for s, t in runs]):.1f}")
        get_ms = median([s.server_ms for s in samples[(workers, "PwsGetClient")]])
        if workers == 1:
            print(f"  target PwsGetClient server CPU <= {TARGET_GET_CLIENT_CPU_MS} ms/req (1 worker): "
                  f"{get_ms:.3f} ms/req -> {'met' if get_ms <= TARGET_GET_CLIENT_CPU_MS else 'NOT met'}")
    if 1 in bench.servers and 2 in bench.servers:
        for label in ENDPOINTS:
            runs = list(zip(samples[(2, label)], samples[(1, label)], strict=True))
            scaling = median([two.rate / one.rate for two, one in runs])
            target = f" (target >= {TARGET_SCALING}x on postgresql)" if store_name == "postgresql" else ""
            # What the machine allows: its cores over the CPU one request takes of all three parties.
            ceiling = median([(os.cpu_count() or 1) * 1000 / (one.server_ms + (one.db_ms or 0.0) + one.loader_ms)
                              / one.rate for _two, one in runs])
            print(f"  scaling {label} 2 workers / 1 worker: x{scaling:.2f}{target}; "
                  f"the cores allow at most x{ceiling:.2f} at 1 worker's CPU per request")


def memory_phase(bench: Bench, client_number: str) -> None:
    total = bench.args.memory_requests
    if total <= 0:
        return
    server = bench.servers[min(bench.servers)]
    step = min(10_000, max(total // 10, 1))
    streams = [Stream([get_client(bench.ticket, client_number)])] * bench.args.connections
    start, samples, served, errors = server.rss_kb(), [], 0, 0
    began = time.perf_counter()
    while served < total and time.perf_counter() - began < 1800:
        load = drive(server.port, streams, seconds=600, processes=bench.args.load_processes,
                     limit=max(1, step // len(streams)))
        served, errors = served + load.requests, errors + load.errors
        samples.append(server.rss_kb())
    mb = [kb / 1024 for kb in samples]
    print(f"memory {min(bench.servers)}w PwsGetClient, RSS every {step} requests over {served} (errors {errors}): "
          f"start {start / 1024:.1f} MB, first {mb[0]:.1f} MB, last {mb[-1]:.1f} MB, max {max(mb):.1f} MB, "
          f"growth first->last {mb[-1] - mb[0]:+.1f} MB")


def cascade_phase(bench: Bench, store_name: str, owner: Owner, client_id: int) -> None:
    args, server = bench.args, bench.servers[min(bench.servers)]
    medians: list[tuple[int, float, float]] = []
    for size in args.projects:
        api_times, raw_times, ratios = [], [], []
        for run in range(args.runs):
            api_tree = add_tree(bench.store, owner, client_id, f"C{size}A{run}", size, args.roles, args.weeks)
            raw_tree = add_tree(bench.store, owner, client_id, f"C{size}R{run}", size, args.roles, args.weeks)
            analyze(bench.store)
            timings: dict[str, float] = {}
            # Alternate which goes first, so neither always meets the colder cache.
            for which in (("api", "raw") if run % 2 == 0 else ("raw", "api")):
                if which == "raw":
                    timings["raw"] = raw_delete(bench.store, owner, raw_tree)
                else:
                    timings["api"] = api_delete(server, bench.ticket, f"C{size}A{run}")
            if projects_left(bench.store, api_tree) or projects_left(bench.store, raw_tree):
                raise RuntimeError("a cascade left projects behind: its timing would mean nothing")
            api_times.append(timings["api"])
            raw_times.append(timings["raw"])
            ratios.append(timings["api"] / timings["raw"])
        rows = size * (1 + args.roles * (1 + 2 * args.weeks))
        api, raw, ratio = median(api_times), median(raw_times), median(ratios)
        medians.append((size, api, raw))
        print(f"{store_name} cascade PwsDeleteEngagement {size} projects x {args.roles} roles x {2 * args.weeks} "
              f"hours buckets ({rows} rows): {api * 1000:8.1f} ms   raw SQL DELETEs {raw * 1000:8.1f} ms   "
              f"ratio x{ratio:.2f} (target <= {TARGET_CASCADE_RATIO}x)   [runs {_ms(api_times)} / {_ms(raw_times)}]")
    for (small, api_small, raw_small), (big, api_big, raw_big) in itertools.pairwise(medians):
        print(f"  growth {small} -> {big} projects (x{big / small:.2f} rows): PwsDeleteEngagement "
              f"x{api_big / api_small:.2f}, raw SQL x{raw_big / raw_small:.2f} (linear: about x{big / small:.2f})")


def _ms(values: Sequence[float]) -> str:
    return ",".join(f"{v * 1000:.0f}" for v in values)


def api_delete(server: Server, ticket: str, code: str) -> float:
    body = envelope("PwsDeleteEngagement", f"<req:SessionTicket>{ticket}</req:SessionTicket><sch:EngagementIdentity>"
                    f"<com:EngagementCode>{code}</com:EngagementCode></sch:EngagementIdentity>"
                    "<sch:CascadeDeleteFlag>true</sch:CascadeDeleteFlag>")
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=600)
    began = time.perf_counter()
    connection.request("POST", PATH, body, {"Content-Type": "text/xml; charset=utf-8"})
    answer = connection.getresponse().read()
    elapsed = time.perf_counter() - began
    connection.close()
    if b">Ok<" not in answer:
        raise RuntimeError(f"PwsDeleteEngagement {code} failed: {answer[:2000]!r}")
    return elapsed


# --- the run -------------------------------------------------------------------------------------


def bench_store(args: argparse.Namespace, kind: str) -> None:
    with scratch_database(kind, args.postgres) as database:
        store = prepare(database)
        servers: dict[int, Server] = {}
        try:
            with store.write() as tx:
                owner = owner_of(tx, "bench")
                client_id = add_client(tx, owner, "B000001")
                lanes = [add_engagement(tx, owner, client_id, f"L{c:03d}") for c in range(args.connections)]
                for c, engagement_id in enumerate(lanes):
                    [project_id] = add_projects(tx, owner, engagement_id, [f"L{c:03d}-S"])
                    add_roles(tx, owner, [project_id], 1, 1, external_ids=[f"save-{c}"])
            for workers in args.workers:
                servers[workers] = Server(database, workers)
            first = servers[min(servers)]
            bench = Bench(args, store, servers, first.login())
            name = store.dialect
            print(f"== {name}: workers {','.join(map(str, servers))}, {args.connections} connections over "
                  f"{args.load_processes} load process(es), {args.seconds:g} s per measurement, {args.runs} run(s)")
            load_phase(bench, owner, "B000001", lanes)
            report_load(bench, name)
            memory_phase(bench, "B000001")
            cascade_phase(bench, name, owner, client_id)
        finally:
            for server in servers.values():
                server.stop()
            store.dispose()


def _ints(value: str) -> list[int]:
    return [int(v) for v in value.split(",") if v.strip()]


def parse(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="A short smoke run: 1 run of 1.5 s per measurement, "
                        "trees of 100 and 200 projects, 5,000 requests for memory.")
    parser.add_argument("--stores", default="sqlite,postgres", help="sqlite, postgres or both (default both).")
    parser.add_argument("--postgres", default="postgresql://postgres@127.0.0.1:5432/test",
                        help="PostgreSQL server on which the scratch database is created and dropped.")
    parser.add_argument("--workers", type=_ints, default=[1, 2], help="Worker counts, e.g. 1,2 (default).")
    parser.add_argument("--seconds", type=float, help="Length of each load measurement (default 2).")
    parser.add_argument("--runs", type=int, help="Runs whose medians are printed (default 3).")
    parser.add_argument("--connections", type=int, default=8, help="Keep-alive connections per load (default 8).")
    parser.add_argument("--load-processes", type=int, default=1, help="Processes the connections are spread "
                        "over (default 1).")
    parser.add_argument("--projects", type=_ints, help="Cascade tree sizes in projects (default 1000,2000).")
    parser.add_argument("--roles", type=int, default=10, help="Roles per project in a cascade tree (default 10).")
    parser.add_argument("--weeks", type=int, default=2, help="Weeks of requested and of booked hours per role "
                        "(default 2: four hours rows per role).")
    parser.add_argument("--memory-requests", type=int, help="PwsGetClient requests of the memory run, RSS sampled "
                        "every 10,000 or every tenth of the run if shorter (default 20,000; 0 skips it; the "
                        "target is stated for 100,000).")
    parser.add_argument("--verbose", action="store_true", help="Also print every run's figures.")
    args = parser.parse_args(argv)
    quick = args.quick
    args.seconds = args.seconds or (1.5 if quick else 2.0)
    args.runs = args.runs or (1 if quick else 3)
    args.projects = args.projects or ([100, 200] if quick else [1000, 2000])
    if args.memory_requests is None:
        args.memory_requests = 5_000 if quick else 20_000
    return args


def main() -> None:
    args = parse()
    over_stores("delete/load", args.stores, lambda kind: bench_store(args, kind))


if __name__ == "__main__":
    main()

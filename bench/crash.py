"""Crash test: SIGKILL the server in the middle of a large cascade delete, restart it, and check
that the delete happened all or nothing.

Per store (SQLite, PostgreSQL) on a scratch database, two kinds of delete, in turn:

- engagement: PwsDeleteEngagement with CascadeDeleteFlag of an engagement of --projects projects x
  --roles roles, each role with --weeks weeks of requested and of booked hours, with a few locks of
  the caller's in its graph;
- client: PwsDeleteClient with CascadeDeleteFlag and InactivateIfInuseFlag of a client tree (a root,
  --children children, --grandchildren grandchildren each), three grandchildren of which have an
  engagement: the call deletes the rest and marks those three and their ancestors inactive.

Trees are inserted directly through the store layer. First each kind of delete is timed
uninterrupted on trees of its own, run as the trials run (--measures times; the longest counts).
Then each trial builds a fresh tree, starts ``openpws serve``, sends the delete, SIGKILLs the
server's process group after a delay drawn across --span times that duration (stratified over the
trials of that kind), waits until PostgreSQL has ended the killed server's sessions, and compares
the database with the snapshot taken before the delete:

- kept whole: every row exactly as before (ids, versions, flags, hours, locks);
- deleted whole: exactly the rows the delete removes are gone (for the client tree, the clients it
  inactivates are inactive and everything else is as before);
- torn: anything else.

Then it restarts the server on the same database and checks that it answers normally and as the
database says: PwsGetEngagement of the tree (the engagement, or 54061/105) or PwsGetClient of the
root (its InactiveFlag), and a new client saved and read back. Exits 1 on any torn tree or
inconsistent answer.

    .venv/bin/python bench/crash.py [--trials 10] [--stores sqlite,postgres] [--projects 1000] [--roles 10]
        [--postgres URL] [--seed N]
"""

from __future__ import annotations

import argparse
import random
import select
import shutil
import socket
import statistics
import sys
import tempfile
import time
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from _common import PATH, now, prepare, scratch_database
from _pws import POSTGRES, LoggedServer, classify, login, soap_body, tracebacks
from delete_load import RAW_DELETES, Owner, add_engagement, add_projects, add_roles, add_tree, analyze, owner_of
from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine
from sqlalchemy.pool import NullPool

from openpws.store import clients as client_store
from openpws.store.counters import next_rowversion, next_uid
from openpws.store.engine import normalise_url
from openpws.store.transactions import Store

KINDS = ("engagement", "client")
IN_USE_GRANDCHILDREN = 3

# What a snapshot holds of each table: its key columns first, then the columns compared.
TABLES: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "clients": (("id",), ("uid", "parent_id", "number", "name", "inactive", "rowversion")),
    "engagements": (("id",), ("uid", "client_id", "code", "rowversion")),
    "contract_line_items": (("id",), ("uid", "engagement_id", "code", "rowversion")),
    "projects": (("id",), ("uid", "engagement_id", "code", "rowversion")),
    "project_roles": (("id",), ("uid", "project_id", "name", "deleted", "rowversion")),
    "role_hours": (("role_id", "kind", "bucket_start"), ("weekly_minutes",)),
    "locks": (("id",), ("lock_set_id", "entity_type", "entity_id", "engagement_id", "project_id")),
    "invoices": (("id",), ("uid", "engagement_id", "rowversion")),
}

Rows = dict[str, dict[tuple[Any, ...], tuple[Any, ...]]]


def snapshot(engine: Engine) -> Rows:
    found: Rows = {}
    with engine.connect() as connection:
        for table, (keys, values) in TABLES.items():
            columns = ", ".join(keys + values)
            found[table] = {tuple(str(v) for v in row[:len(keys)]): tuple(str(v) for v in row[len(keys):])
                            for row in connection.execute(text(f"SELECT {columns} FROM {table}"))}  # noqa: S608
    return found


@dataclass
class Tree:
    """One tree to delete: what the delete must remove (by table, the keys of the rows), the
    clients it must mark inactive instead, and the keys of the root it is sent for."""

    kind: str
    uid: int  # engagement Uid, or the root client's Uid
    removed: dict[str, set[tuple[str, ...]]]
    inactivated: set[tuple[str, ...]]


def tree_rows(before: Rows, kind: str, root_id: int) -> tuple[dict[str, set[tuple[str, ...]]], set[tuple[str, ...]]]:
    """Which rows of the snapshot the delete removes, and which clients it inactivates."""
    removed: dict[str, set[tuple[str, ...]]] = defaultdict(set)
    if kind == "engagement":
        engagements = {str(root_id)}
    else:
        parent_of = {key[0]: value[1] for key, value in before["clients"].items()}
        clients = {str(root_id)}
        while True:
            more = {c for c, p in parent_of.items() if p in clients} - clients
            if not more:
                break
            clients |= more
        used = {value[1] for value in before["engagements"].values() if value[1] in clients}
        blocked = set(used)
        for client in used:  # a client in use keeps its ancestors (inactive) too
            parent = parent_of.get(client)
            while parent not in (None, "None"):
                blocked.add(parent)
                parent = parent_of.get(parent)
        removed["clients"] = {(c,) for c in clients - blocked}
        return removed, {(c,) for c in blocked & clients}
    projects = {k[0] for k, v in before["projects"].items() if v[1] in engagements}
    roles = {k[0] for k, v in before["project_roles"].items() if v[1] in projects}
    removed["engagements"] = {(e,) for e in engagements}
    removed["contract_line_items"] = {k for k, v in before["contract_line_items"].items() if v[1] in engagements}
    removed["projects"] = {(p,) for p in projects}
    removed["project_roles"] = {(r,) for r in roles}
    removed["role_hours"] = {k for k in before["role_hours"] if k[0] in roles}
    removed["locks"] = {k for k, v in before["locks"].items() if v[3] in engagements}
    return removed, set()


def outcome(before: Rows, after: Rows, tree: Tree) -> tuple[str, str]:
    """kept whole / deleted whole / torn, and for a torn tree what differs."""
    if after == before:
        return "kept whole", ""
    problems = []
    for table in TABLES:
        gone = tree.removed.get(table, set())
        for key, value in before[table].items():
            now_value = after[table].get(key)
            if key in gone:
                if now_value is not None:
                    problems.append(f"{table} {key} left")
            elif table == "clients" and key in tree.inactivated:
                if now_value is None or now_value[4] not in ("True", "1") or now_value[:4] != value[:4]:
                    problems.append(f"client {key} not inactivated as expected: {value} -> {now_value}")
            elif now_value != value:
                problems.append(f"{table} {key} changed: {value} -> {now_value}")
        for key in after[table].keys() - before[table].keys():
            problems.append(f"{table} {key} appeared")
    if not problems:
        return "deleted whole", ""
    counts = Counter(p.split(" ")[0] for p in problems)
    return "TORN", f"{len(problems)} rows differ ({', '.join(f'{t} {n}' for t, n in counts.items())}); e.g. " + \
        "; ".join(problems[:3])


# --- building trees ----------------------------------------------------------------------------------


def build(store: Store, owner: Owner, kind: str, label: str, args: argparse.Namespace, bench_client: int) -> int:
    """A fresh tree of ``kind``; returns the id of its engagement or root client."""
    if kind == "engagement":
        return add_tree(store, owner, bench_client, label, args.projects, args.roles, args.weeks)
    moment = now()
    with store.write() as tx:
        def client(number: str, parent: int | None) -> int:
            return client_store.insert_client(tx, owner.account_id, {
                "uid": next_uid(tx), "number": number, "name": f"Client {number}", "inactive": False,
                "parent_id": parent, "rowversion": next_rowversion(tx), "updated_at": moment})

        root = client(f"{label}", None)
        used = 0
        for c in range(args.children):
            child = client(f"{label}-{c:02d}", root)
            for g in range(args.grandchildren):
                grandchild = client(f"{label}-{c:02d}-{g:03d}", child)
                if g == 0 and used < IN_USE_GRANDCHILDREN:
                    used += 1
                    engagement = add_engagement(tx, owner, grandchild, f"{label}-U{used}")
                    [project] = add_projects(tx, owner, engagement, [f"{label}-U{used}-1"])
                    add_roles(tx, owner, [project], 2, 1)
    return root


def uid_of(engine: Engine, kind: str, row_id: int) -> int:
    table = "engagements" if kind == "engagement" else "clients"
    query = text(f"SELECT uid FROM {table} WHERE id = :i")  # noqa: S608
    with engine.connect() as connection:
        return int(connection.execute(query, {"i": row_id}).scalar_one())


def lock_some(port: int, ticket: str, engine: Engine, engagement_id: int) -> None:
    """The caller's own locks on the engagement and a few of its projects and roles (they do not
    block its delete; the delete removes them)."""
    with engine.connect() as connection:
        uids = [("E", int(connection.execute(text("SELECT uid FROM engagements WHERE id = :e"),
                                             {"e": engagement_id}).scalar_one()))]
        uids += [("P", int(u)) for u in connection.execute(text(
            "SELECT uid FROM projects WHERE engagement_id = :e ORDER BY id LIMIT 3"), {"e": engagement_id}).scalars()]
        uids += [("R", int(u)) for u in connection.execute(text(
            "SELECT r.uid FROM project_roles r JOIN projects p ON p.id = r.project_id WHERE p.engagement_id = :e "
            "ORDER BY r.id LIMIT 3"), {"e": engagement_id}).scalars()]
    requests = "".join(f"<com:PwsProjectorLockRequest><com:EntityIdentity><com:EntityUid>{u}</com:EntityUid>"
                       f"<com:LockType>{t}</com:LockType></com:EntityIdentity></com:PwsProjectorLockRequest>"
                       for t, u in uids)
    answer = call(port, ticket, "PwsAcquireProjectorLocks", "<req:LockDurationSeconds>3600</req:LockDurationSeconds>"
                  f"<req:Locks>{requests}</req:Locks>")
    if answer.kind != "Ok":
        raise RuntimeError(f"could not lock the tree: {answer.kind} {answer.detail}")


def clean(store: Store, owner: Owner, engine: Engine) -> None:
    """Remove every engagement and client but the bench client's, with raw SQL, so that each trial
    starts from the same small database."""
    with engine.connect() as connection:
        engagements = list(connection.execute(text("SELECT id FROM engagements")).scalars())
    with store.write() as tx:
        for engagement_id in engagements:
            tx.execute(text("DELETE FROM invoices WHERE engagement_id = :e"), {"e": engagement_id})
            for statement in RAW_DELETES:
                tx.execute(text(statement), {"e": engagement_id, "a": owner.account_id})
        # Children before parents: repeat until only the bench client is left.
        for _ in range(10):
            tx.execute(text("DELETE FROM clients WHERE number <> 'B000001' AND id NOT IN "
                            "(SELECT parent_id FROM clients WHERE parent_id IS NOT NULL)"))


# --- talking to the server ---------------------------------------------------------------------------


def call(port: int, ticket: str, operation: str, members: str, timeout: float = 120) -> Any:
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        sock.sendall(_http(soap_body(ticket, operation, members)))
        data = _read_response(sock, time.monotonic() + timeout)
    status, body = data
    return classify(status, body)


def _http(body: bytes) -> bytes:
    return (f"POST {PATH} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: text/xml; charset=utf-8\r\n"
            f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n").encode() + body


def _read_response(sock: socket.socket, deadline: float) -> tuple[int, bytes]:
    data = b""
    while time.monotonic() < deadline:
        sock.settimeout(max(0.01, deadline - time.monotonic()))
        chunk = sock.recv(1 << 16)
        if not chunk:
            break
        data += chunk
        head, sep, body = data.partition(b"\r\n\r\n")
        if sep:
            length = next((int(line.split(b":")[1]) for line in head.split(b"\r\n")
                           if line.lower().startswith(b"content-length:")), None)
            if length is not None and len(body) >= length:
                return int(head.split()[1]), body[:length]
    if not data:
        raise ConnectionError("no answer")
    head, _, body = data.partition(b"\r\n\r\n")
    return int(head.split()[1]), body


def delete_members(kind: str, uid: int) -> tuple[str, str]:
    if kind == "engagement":
        return "PwsDeleteEngagement", (f"<sch:EngagementIdentity><com:EngagementUid>{uid}</com:EngagementUid>"
                                       "</sch:EngagementIdentity><sch:CascadeDeleteFlag>true</sch:CascadeDeleteFlag>")
    return "PwsDeleteClient", ("<req:CascadeDeleteFlag>true</req:CascadeDeleteFlag><req:ClientIdentity>"
                               f"<com:ClientUid>{uid}</com:ClientUid></req:ClientIdentity>"
                               "<req:InactivateIfInuseFlag>true</req:InactivateIfInuseFlag>")


def warm(port: int, ticket: str) -> None:
    """A read and the delete's first statements' plans: the first request of a fresh server
    pays for imports and connections, which the delete must not."""
    call(port, ticket, "PwsGetClient", "<req:ClientIdentities><com:PwsClientRef><com:ClientNumber>B000001"
         "</com:ClientNumber></com:PwsClientRef></req:ClientIdentities>")


def wait_backends_gone(engine: Engine, seconds: float = 120) -> float:
    """Until PostgreSQL has ended every other session on the database (a killed server's backend
    finishes or aborts its statement, then rolls back): returns how long that took."""
    if engine.dialect.name != "postgresql":
        return 0.0
    began = time.monotonic()
    while time.monotonic() - began < seconds:
        with engine.connect() as connection:
            others = connection.execute(text(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                "AND backend_type = 'client backend' AND pid <> pg_backend_pid()")).scalar_one()
        if not others:
            return time.monotonic() - began
        time.sleep(0.05)
    raise RuntimeError(f"PostgreSQL sessions of the killed server still there after {seconds:g} s")


def consistent(port: int, ticket: str, tree: Tree, result: str) -> tuple[bool, str]:
    """Whether the restarted server answers as the database says."""
    if tree.kind == "engagement":
        answer = call(port, ticket, "PwsGetEngagement", "<sch:EngagementIdentities><com:PwsEngagementRef>"
                      f"<com:EngagementUid>{tree.uid}</com:EngagementUid></com:PwsEngagementRef>"
                      "</sch:EngagementIdentities>")
        shown = answer.text(".//com:EngagementDetail/com:EngagementUid") == str(tree.uid)
        said = f"PwsGetEngagement {answer.kind}{' ' + '+'.join(map(str, answer.numbers)) if answer.numbers else ''}"
        if result == "kept whole":
            ok = answer.kind == "Ok" and shown
        else:
            ok = not shown and answer.kind in ("OkWithWarnings", "error 54061") and bool(
                {54061, 105} & set(answer.numbers))
    else:
        answer = call(port, ticket, "PwsGetClient", "<req:ClientIdentities><com:PwsClientRef>"
                      f"<com:ClientUid>{tree.uid}</com:ClientUid></com:PwsClientRef></req:ClientIdentities>")
        inactive = answer.text(".//com:InactiveFlag")
        said = f"PwsGetClient {answer.kind} InactiveFlag={inactive}"
        ok = answer.kind == "Ok" and inactive == ("false" if result == "kept whole" else "true")
    saved = call(port, ticket, "PwsSaveClient", "<req:Client><com:ClientName>After the crash</com:ClientName>"
                 "</req:Client>")
    number = saved.text(".//{*}ClientIdentity/com:ClientNumber")
    read = call(port, ticket, "PwsGetClient", "<req:ClientIdentities><com:PwsClientRef><com:ClientNumber>"
                f"{number}</com:ClientNumber></com:PwsClientRef></req:ClientIdentities>") if number else None
    wrote = saved.kind == "Ok" and read is not None and read.text(".//com:ClientName") == "After the crash"
    return ok and wrote, f"{said}; a new client saved and read back: {'yes' if wrote else 'NO'}"


# --- the run -----------------------------------------------------------------------------------------


def kill_during(database: str, log: Path, ticket: str, engine: Engine, kind: str, root: int,
                delay: float | None) -> tuple[Rows, Tree, str, float]:
    """Start the server, lock part of an engagement tree (the caller's own locks), snapshot the
    database, send the delete and SIGKILL the server's process group ``delay`` seconds after the
    request went out (None: wait for the answer instead, to time the delete the way the trials
    run it). Returns the snapshot, the tree, a note on whether an answer had begun to arrive
    before the kill, and the seconds from the request to that answer (if one came)."""
    server = LoggedServer(database, 1, log)
    try:
        warm(server.port, ticket)
        if kind == "engagement":
            lock_some(server.port, ticket, engine, root)
        before = snapshot(engine)
        removed, inactivated = tree_rows(before, kind, root)
        tree = Tree(kind, uid_of(engine, kind, root), removed, inactivated)
        operation, members = delete_members(kind, tree.uid)
        sock = socket.create_connection(("127.0.0.1", server.port), timeout=600)
        sock.sendall(_http(soap_body(ticket, operation, members)))
        sent = time.monotonic()
        if delay is None:
            status, body = _read_response(sock, sent + 600)
            elapsed = time.monotonic() - sent
            sock.close()
            answer = classify(status, body)
            if answer.kind not in ("Ok", "OkWithWarnings"):
                raise RuntimeError(f"the uninterrupted {kind} delete failed: {answer.kind} {answer.detail}")
            return before, tree, "", elapsed
        answered = None
        while (left := sent + delay - time.monotonic()) > 0:
            readable, _, _ = select.select([sock], [], [], left)
            if readable:
                answered = time.monotonic() - sent
                break
        time.sleep(max(0.0, sent + delay - time.monotonic()))
        server.kill()
        sock.close()
    finally:
        server.stop()
    note = "" if answered is None else f" (answer began at {answered * 1000:.0f} ms)"
    return before, tree, note, answered or 0.0


def run_store(kind: str, args: argparse.Namespace, rng: random.Random, results: list[dict[str, Any]]) -> None:
    folder = Path(tempfile.mkdtemp(prefix="openpws-crash-"))
    log = folder / "server.log"
    keep_log = False
    with scratch_database(kind, args.postgres, "crash") as database:
        store = prepare(database)
        engine = create_engine(normalise_url(database), poolclass=NullPool)
        try:
            with store.write() as tx:
                owner = owner_of(tx, "bench")
                bench_client = client_store.insert_client(tx, owner.account_id, {
                    "uid": next_uid(tx), "number": "B000001", "name": "Bench", "inactive": False,
                    "rowversion": next_rowversion(tx), "updated_at": now()})
            with LoggedServer(database, 1, log) as server:
                ticket = login(server.port, "b")
            name = store.dialect
            # The longest of a few uninterrupted deletes, each run exactly as a trial runs its own.
            durations: dict[str, float] = {}
            for tree_kind in KINDS:
                times = []
                for n in range(args.measures):
                    root = build(store, owner, tree_kind, f"M{n}{tree_kind[0].upper()}", args, bench_client)
                    analyze(store)
                    times.append(kill_during(database, log, ticket, engine, tree_kind, root, None)[3])
                    clean(store, owner, engine)
                durations[tree_kind] = max(times)
            rows = args.projects * (1 + args.roles * (1 + 2 * args.weeks))
            clients = 1 + args.children * (1 + args.grandchildren)
            print(f"== {name}: uninterrupted (longest of {args.measures}): PwsDeleteEngagement cascade of "
                  f"{args.projects} projects x {args.roles} roles ({rows} rows) "
                  f"{durations['engagement'] * 1000:.0f} ms; "
                  f"PwsDeleteClient cascade+inactivate of {clients} clients {durations['client'] * 1000:.0f} ms",
                  flush=True)
            per_kind = {k: [t for t in range(args.trials) if KINDS[t % 2] == k] for k in KINDS}
            for trial in range(args.trials):
                tree_kind = KINDS[trial % 2]
                slot = per_kind[tree_kind].index(trial)
                span = durations[tree_kind] * args.span
                delay = span * (slot + rng.random()) / len(per_kind[tree_kind])
                root = build(store, owner, tree_kind, f"T{trial}{tree_kind[0].upper()}", args, bench_client)
                analyze(store)
                before, tree, note, _ = kill_during(database, log, ticket, engine, tree_kind, root, delay)
                store.dispose()  # its kept connection is not one of the killed server's sessions
                waited = wait_backends_gone(engine)
                store = Store.open(database)
                result, detail = outcome(before, snapshot(engine), tree)
                with LoggedServer(database, 1, log) as server:
                    fine, said = consistent(server.port, ticket, tree, result)
                size = sum(len(v) for v in tree.removed.values())
                print(f"{name:<10} trial {trial:2d}  {tree_kind:<10} ({size:5d} rows to delete)  kill at "
                      f"{delay * 1000:6.0f} ms of ~{durations[tree_kind] * 1000:.0f} ms{note}  -> {result}"
                      f"{' ' + detail if detail else ''}  | restarted: {said}"
                      f"{' (INCONSISTENT)' if not fine else ''}"
                      f"{f'  [waited {waited:.1f} s for PostgreSQL to end the sessions]' if waited > 0.5 else ''}",
                      flush=True)
                results.append({"store": name, "kind": tree_kind, "delay": delay, "result": result,
                                "consistent": fine})
                keep_log = keep_log or result == "TORN" or not fine
                clean(store, owner, engine)
        finally:
            engine.dispose()
            store.dispose()
    found = tracebacks(log)
    if found:
        keep_log = True
        print(f"tracebacks in the server log ({len(found)} shown):")
        for block in found:
            print(block)
    if keep_log:
        print(f"server log kept: {log}")
    else:
        shutil.rmtree(folder, ignore_errors=True)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--trials", type=int, default=10, help="Kills per store, the two kinds of delete in turn "
                        "(default 10).")
    parser.add_argument("--stores", default="sqlite,postgres", help="sqlite, postgres or both (default both).")
    parser.add_argument("--postgres", default=POSTGRES, help="PostgreSQL server on which the scratch database "
                        "openpws_crash_<hex> is created and dropped.")
    parser.add_argument("--projects", type=int, default=1000, help="Projects of the engagement (default 1000).")
    parser.add_argument("--roles", type=int, default=10, help="Roles per project (default 10).")
    parser.add_argument("--weeks", type=int, default=2, help="Weeks of requested and of booked hours per role "
                        "(default 2).")
    parser.add_argument("--children", type=int, default=20, help="Children of the root client (default 20).")
    parser.add_argument("--grandchildren", type=int, default=50, help="Children of each child (default 50).")
    parser.add_argument("--span", type=float, default=1.5, help="Kill delays are drawn over this multiple of the "
                        "measured duration (default 1.5: some land after the commit).")
    parser.add_argument("--measures", type=int, default=3, help="Uninterrupted deletes timed per kind; the longest "
                        "sets the span of the kills (default 3).")
    parser.add_argument("--seed", type=int, default=1, help="Seed of the kill delays (default 1).")
    args = parser.parse_args(argv)
    rng = random.Random(args.seed)
    results: list[dict[str, Any]] = []
    for kind in args.stores.split(","):
        run_store("postgres" if kind.strip().startswith("postgres") else "sqlite", args, rng, results)
    print("summary:")
    for store in dict.fromkeys(r["store"] for r in results):
        for tree_kind in KINDS:
            mine = [r for r in results if r["store"] == store and r["kind"] == tree_kind]
            counts = Counter(r["result"] for r in mine)
            delays = [r["delay"] * 1000 for r in mine]
            print(f"  {store:<10} {tree_kind:<10} {len(mine):2d} trials (kills at {min(delays, default=0):.0f}-"
                  f"{max(delays, default=0):.0f} ms, median {statistics.median(delays) if delays else 0:.0f}): "
                  f"kept whole {counts['kept whole']}, deleted whole {counts['deleted whole']}, torn {counts['TORN']}; "
                  f"answers after restart consistent {sum(r['consistent'] for r in mine)}/{len(mine)}")
    torn = sum(r["result"] == "TORN" for r in results)
    inconsistent = sum(not r["consistent"] for r in results)
    verdict = "FAILED" if torn or inconsistent else "passed"
    print(f"verdict: {torn} torn, {inconsistent} inconsistent answers -> {verdict}")
    return 1 if torn or inconsistent else 0


if __name__ == "__main__":
    sys.exit(main())

"""Throwaway accounts from a fixture: the wall time of creating one from the packaged fixture demo
(POST /_openpws/api/accounts) and deleting it again (DELETE .../accounts/{code}), over real HTTP
to an ``openpws serve`` on a scratch database, one call at a time; median of --runs pairs after a
few unmeasured ones, on SQLite and PostgreSQL, at each scrypt cost asked for (OPENPWS_SCRYPT_COST:
the passwords the control plane generates are hashed at the lowest cost whatever it is, but a
password a fixture gives is hashed at it, about 70 ms each at the default).

    .venv/bin/python bench/fixtures.py [--runs 100] [--stores sqlite,postgres] [--costs 32768]
        [--fixture FILE] [--postgres URL]
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from _common import free_port, median, scratch_database, wait_ready

TOKEN = "bench-admin-token"  # noqa: S105 - a scratch server on 127.0.0.1
API = "/_openpws/api/accounts"
WARM_UP = 5


def call(connection: http.client.HTTPConnection, method: str, path: str, body: Any = None) -> tuple[int, bytes]:
    headers = {"Authorization": f"Bearer {TOKEN}"}
    payload = None
    if body is not None:
        payload = json.dumps(body).encode()
        headers["Content-Type"] = "application/json"
    connection.request(method, path, payload, headers)
    response = connection.getresponse()
    return response.status, response.read()


def measure(port: int, body: dict[str, Any], runs: int) -> tuple[list[float], list[float], int]:
    """Create and delete ``runs`` accounts (after WARM_UP unmeasured ones): the create and delete
    times in ms, and how many users each account had."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    creates, deletes, users = [], [], 0
    for run in range(WARM_UP + runs):
        started = time.perf_counter()
        status, answer = call(connection, "POST", API, body)
        created = time.perf_counter()
        if status != 201:
            raise RuntimeError(f"creating an account answered {status}: {answer.decode()[:500]}")
        account = json.loads(answer)
        status, answer = call(connection, "DELETE", f"{API}/{account['code']}")
        deleted = time.perf_counter()
        if status != 204:
            raise RuntimeError(f"deleting an account answered {status}: {answer.decode()[:500]}")
        if run >= WARM_UP:
            creates.append((created - started) * 1000)
            deletes.append((deleted - created) * 1000)
            users = len(account["users"])
    connection.close()
    return creates, deletes, users


def serve(database: str, cost: int) -> tuple[subprocess.Popen[bytes], int]:
    port = free_port()
    env = {**os.environ, "OPENPWS_SCRYPT_COST": str(cost), "OPENPWS_ADMIN_TOKEN": TOKEN}
    process = subprocess.Popen([sys.executable, "-m", "openpws", "serve", "--database", database, "--port", str(port)],
                               stdout=subprocess.DEVNULL, env=env)
    try:
        wait_ready(process, port, 1, 60)
    except RuntimeError:
        process.kill()
        process.wait()
        raise
    return process, port


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--runs", type=int, default=100)
    parser.add_argument("--stores", default="sqlite,postgres")
    parser.add_argument("--costs", default="32768", help="scrypt costs (OPENPWS_SCRYPT_COST) to measure at")
    parser.add_argument("--fixture", type=Path, help="a fixture document (JSON) instead of the packaged demo")
    parser.add_argument("--postgres", default="postgresql://postgres@127.0.0.1:5432/test")
    args = parser.parse_args()
    body: dict[str, Any] = {"fixture_name": "demo"}
    if args.fixture:
        body = {"fixture": json.loads(args.fixture.read_text())}
    shown = args.fixture.name if args.fixture else "the packaged fixture demo"
    print(f"openpws bench: an account from {shown} created and deleted over HTTP, one at a time, "
          f"{args.runs} runs (median, p90 in ms)")
    for store in args.stores.split(","):
        for cost in (int(c) for c in args.costs.split(",")):
            with scratch_database(store, args.postgres, "fixtures") as database:
                process, port = serve(database, cost)
                try:
                    creates, deletes, users = measure(port, body, args.runs)
                finally:
                    process.terminate()
                    process.wait(timeout=20)
            both = [c + d for c, d in zip(creates, deletes, strict=True)]
            print(f"{store:<9} scrypt {cost:>6} ({users} users)   create+delete {median(both):7.1f} "
                  f"(p90 {percentile(both, 0.9):7.1f})   create {median(creates):7.1f}   delete {median(deletes):6.1f}")


if __name__ == "__main__":
    main()

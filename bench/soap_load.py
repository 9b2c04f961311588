"""Load benchmark: requests/s, latency percentiles and server CPU per request, over real HTTP.

Starts ``openpws serve`` on a scratch SQLite file (or --database URL), creates an account with
one client, then drives the server from separate load processes with keep-alive connections:
the trivial /health endpoint, then PwsGetClient. Prints one line per endpoint and the ratio, so
what the SOAP and store layers cost is visible in one run.

    .venv/bin/python bench/soap_load.py [--seconds 8] [--connections 16] [--workers 1] [--database URL]
"""

from __future__ import annotations

import argparse
import http.client
import multiprocessing
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

PATH = "/OpsProjectorWcfSvc/PwsProjectorServices.svc"
CLK_TCK = os.sysconf("SC_CLK_TCK")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def envelope(operation: str, members: str) -> bytes:
    return (
        '<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/" '
        'xmlns:pws="http://projectorpsa.com/PwsProjectorServices/" '
        'xmlns:req="http://projectorpsa.com/DataContracts/Requests/" '
        'xmlns:com="http://projectorpsa.com/DataContracts/Shared/Common/"><s:Body>'
        f"<pws:{operation}><pws:serviceRequest>{members}</pws:serviceRequest></pws:{operation}></s:Body></s:Envelope>"
    ).encode()


def post(port: int, body: bytes) -> bytes:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    connection.request("POST", PATH, body, {"Content-Type": "text/xml; charset=utf-8"})
    data = connection.getresponse().read()
    connection.close()
    return data


def between(data: bytes, tag: bytes) -> str:
    start = data.index(b">", data.index(tag)) + 1
    return data[start:data.index(b"<", start)].decode()


def worker(port: int, method: str, path: str, body: bytes | None, seconds: float, queue: multiprocessing.Queue) -> None:  # type: ignore[type-arg]
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    latencies: list[float] = []
    errors = 0
    deadline = time.perf_counter() + seconds
    headers = {"Content-Type": "text/xml; charset=utf-8"}
    while time.perf_counter() < deadline:
        began = time.perf_counter()
        connection.request(method, path, body, headers)
        response = connection.getresponse()
        data = response.read()
        latencies.append(time.perf_counter() - began)
        if response.status != 200 or (body is not None and b">Ok<" not in data):
            errors += 1
    queue.put((latencies, errors))


def server_cpu(pids: list[int]) -> float:
    total = 0
    for pid in pids:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        total += int(fields[11]) + int(fields[12])  # utime + stime
    return total / CLK_TCK


def server_pids(root: int) -> list[int]:
    children = subprocess.run(["pgrep", "-P", str(root)], capture_output=True, text=True).stdout.split()
    pids = [root] + [int(c) for c in children]
    for child in children:
        pids += [int(g) for g in subprocess.run(["pgrep", "-P", child], capture_output=True, text=True).stdout.split()]
    return pids


def run(port: int, pids: list[int], label: str, method: str, path: str, body: bytes | None, seconds: float,
        connections: int) -> float:
    queue: multiprocessing.Queue = multiprocessing.Queue()  # type: ignore[type-arg]
    cpu_before = server_cpu(pids)
    processes = [multiprocessing.Process(target=worker, args=(port, method, path, body, seconds, queue))
                 for _ in range(connections)]
    for process in processes:
        process.start()
    results = [queue.get() for _ in processes]
    for process in processes:
        process.join()
    cpu = server_cpu(pids) - cpu_before
    latencies = sorted(x for r, _ in results for x in r)
    errors = sum(e for _, e in results)
    rate = len(latencies) / seconds
    p50 = statistics.median(latencies) * 1000
    p99 = latencies[int(len(latencies) * 0.99) - 1] * 1000
    print(f"{label:<14} {rate:9.0f} req/s   p50 {p50:7.2f} ms   p99 {p99:7.2f} ms   "
          f"server CPU {cpu / len(latencies) * 1000:6.3f} ms/req   errors {errors}")
    return rate


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=8)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--database")
    args = parser.parse_args()
    scratch = tempfile.mkdtemp()
    database = args.database or f"sqlite:///{scratch}/bench.db"
    port = free_port()
    env = {**os.environ, "OPENPWS_SCRYPT_COST": "1024"}
    subprocess.run([sys.executable, "-m", "openpws", "account", "create", "bench", "--database", database],
                   check=True, capture_output=True, env=env)
    subprocess.run([sys.executable, "-m", "openpws", "user", "create", "--account", "bench", "--login", "b",
                    "--display-name", "Bench", "--permission", "all", "--database", database],
                   input=b"pw\n", check=True, capture_output=True, env=env)
    server = subprocess.Popen([sys.executable, "-m", "openpws", "serve", "--database", database, "--port", str(port),
                               "--workers", str(args.workers)], stdout=subprocess.DEVNULL, env=env)
    try:
        for _ in range(200):
            try:
                http.client.HTTPConnection("127.0.0.1", port, timeout=1).request("GET", "/health")
                break
            except OSError:
                time.sleep(0.1)
        time.sleep(1)
        login = post(port, envelope("PwsAuthenticate", "<req:AccountCode>bench</req:AccountCode>"
                                    "<req:UserName>b</req:UserName><req:Password>pw</req:Password>"))
        ticket = between(login, b"SessionTicket")
        saved = post(port, envelope("PwsSaveClient", f"<req:SessionTicket>{ticket}</req:SessionTicket>"
                                    "<req:Client><com:ClientName>Bench Client</com:ClientName></req:Client>"))
        number = between(saved, b"ClientNumber>")
        get_client = envelope("PwsGetClient", f"<req:SessionTicket>{ticket}</req:SessionTicket><req:ClientIdentities>"
                              f"<com:PwsClientRef><com:ClientNumber>{number}</com:ClientNumber></com:PwsClientRef>"
                              "</req:ClientIdentities>")
        pids = server_pids(server.pid)
        print(f"openpws bench: {database.split('://')[0]}, {args.workers} worker(s), {args.connections} connections, "
              f"{args.seconds:g} s each, request {len(get_client)} bytes")
        trivial = run(port, pids, "GET /health", "GET", "/health", None, args.seconds, args.connections)
        soap = run(port, pids, "PwsGetClient", "POST", PATH, get_client, args.seconds, args.connections)
        print(f"ratio PwsGetClient / trivial: {soap / trivial:.2f}")
    finally:
        server.terminate()
        server.wait()


if __name__ == "__main__":
    main()

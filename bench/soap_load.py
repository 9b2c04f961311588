"""Load benchmark: requests/s, latency percentiles and server CPU per request, over real HTTP.

Starts ``openpws serve`` on a scratch SQLite file (or --database URL), creates an account with
one client, then drives the server from separate load processes with keep-alive connections:
the trivial /health endpoint, then PwsGetClient. Prints one line per endpoint and the ratio, so
what the SOAP and store layers cost is visible in one run.

    .venv/bin/python bench/soap_load.py [--seconds 8] [--connections 16] [--workers 1] [--database URL]
"""

from __future__ import annotations

import argparse
import tempfile

from _common import PATH, Server, Stream, between, drive, envelope, http_request, post, prepare


def run(server: Server, label: str, request: bytes, soap: bool, seconds: float, connections: int,
        processes: int) -> float:
    cpu_before = server.cpu()
    load = drive(server.port, [Stream([request], soap=soap)] * connections, seconds=seconds, processes=processes)
    cpu = server.cpu() - cpu_before
    print(f"{label:<14} {load.rate:9.0f} req/s   p50 {load.percentile(0.5) * 1000:7.2f} ms   "
          f"p99 {load.percentile(0.99) * 1000:7.2f} ms   server CPU {cpu / load.requests * 1000:6.3f} ms/req   "
          f"errors {load.errors}")
    return load.rate


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--seconds", type=float, default=8)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--load-processes", type=int, help="Processes the connections are spread over "
                        "(default: one per connection).")
    parser.add_argument("--database")
    args = parser.parse_args()
    database = args.database or f"sqlite:///{tempfile.mkdtemp()}/bench.db"
    prepare(database).dispose()
    server = Server(database, args.workers)
    try:
        ticket = server.login()
        saved = post(server.port, envelope("PwsSaveClient", f"<req:SessionTicket>{ticket}</req:SessionTicket>"
                                           "<req:Client><com:ClientName>Bench Client</com:ClientName></req:Client>"))
        number = between(saved, b"ClientNumber>")
        get_client = envelope("PwsGetClient", f"<req:SessionTicket>{ticket}</req:SessionTicket><req:ClientIdentities>"
                              f"<com:PwsClientRef><com:ClientNumber>{number}</com:ClientNumber></com:PwsClientRef>"
                              "</req:ClientIdentities>")
        processes = args.load_processes or args.connections
        print(f"openpws bench: {database.split('://')[0]}, {args.workers} worker(s), {args.connections} connections, "
              f"{args.seconds:g} s each, request {len(get_client)} bytes")
        trivial = run(server, "GET /health", http_request("GET", "/health"), False, args.seconds, args.connections,
                      processes)
        soap = run(server, "PwsGetClient", http_request("POST", PATH, get_client), True, args.seconds,
                   args.connections, processes)
        print(f"ratio PwsGetClient / trivial: {soap / trivial:.2f}")
    finally:
        server.stop()


if __name__ == "__main__":
    main()

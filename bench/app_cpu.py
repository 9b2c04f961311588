"""Server CPU per PwsGetClient request, in-process: the ASGI application as ``openpws serve``
builds it, called directly (HTTP edge, dispatcher, services and store; no socket, no load
generator sharing the CPU), so small differences in the hot path are visible above the noise of
a shared machine.

Prints the best of ``--rounds`` rounds of ``--requests`` requests each, in µs of this process's
CPU time per request (the request journal's writer thread included). Environment variables set
the server's settings as for ``openpws serve`` (e.g. OPENPWS_LOG_FORMAT=json, OPENPWS_JOURNAL=off).

    .venv/bin/python bench/app_cpu.py [--requests 10000] [--rounds 5] [--store sqlite|postgres]
        [--postgres URL] [--database URL] [--compare-journal]

``--store postgres`` makes a scratch database on the server ``--postgres`` names and drops it
afterwards; ``--database`` runs on an existing, empty database instead. ``--compare-journal``
builds two applications on the one database, the request journal off in one and on in the other,
and runs their rounds in turn (off, on, off, …): the best of each and what the journal adds are
then measured under the same load of the machine.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import time
from typing import Any

from _common import ACCOUNT, LOGIN, PASSWORD, PATH, envelope, prepare, scratch_database

from openpws.app import create_app, open_store
from openpws.config import load_settings
from openpws.soap.http import SoapApp

# Long enough for the request journal's writer to have written what was answered before it
# (services.journal.FLUSH_DELAY and one transaction), and costs no CPU of its own.
SETTLE = 1.0


async def call(app: SoapApp, body: bytes) -> tuple[int, bytes]:
    sent: list[dict[str, Any]] = []
    delivered = False

    async def receive() -> dict[str, Any]:
        nonlocal delivered
        if delivered:
            return {"type": "http.disconnect"}
        delivered = True
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(event: Any) -> None:
        sent.append(event)

    scope = {"type": "http", "method": "POST", "path": PATH, "query_string": b"", "root_path": "",
             "headers": [(b"content-type", b"text/xml; charset=utf-8"), (b"content-length", str(len(body)).encode())]}
    await app(scope, receive, send)
    return sent[0]["status"], b"".join(event.get("body", b"") for event in sent[1:])


async def prepared_get(app: SoapApp) -> bytes:
    """A PwsGetClient request of a client saved for it, in a session of its own."""
    login = envelope("PwsAuthenticate", f"<req:AccountCode>{ACCOUNT}</req:AccountCode>"
                     f"<req:Password>{PASSWORD}</req:Password><req:UserName>{LOGIN}</req:UserName>")
    _, answer = await call(app, login)
    ticket = answer.split(b"SessionTicket>")[1].split(b"<")[0].decode()
    _, answer = await call(app, envelope("PwsSaveClient", f"<req:SessionTicket>{ticket}</req:SessionTicket>"
                                         "<req:Client><com:ClientName>Bench</com:ClientName></req:Client>"))
    number = answer.split(b"ClientNumber>")[1].split(b"<")[0].decode()
    get = envelope("PwsGetClient", f"<req:SessionTicket>{ticket}</req:SessionTicket><req:ClientIdentities>"
                   f"<com:PwsClientRef><com:ClientNumber>{number}</com:ClientNumber></com:PwsClientRef>"
                   "</req:ClientIdentities>")
    status, answer = await call(app, get)
    assert status == 200 and b">Ok</Status>" in answer, answer
    return get


async def one_round(app: SoapApp, get: bytes, requests: int) -> float:
    """µs of CPU per request over ``requests`` PwsGetClient requests."""
    started = time.process_time()
    for _ in range(requests):
        await call(app, get)
    await asyncio.sleep(SETTLE)  # the round's last exchanges written (their cost is the round's)
    return (time.process_time() - started) / requests * 1e6


async def measure(apps: list[SoapApp], requests: int, rounds: int) -> list[list[float]]:
    """Each of ``apps``' rounds, the apps taking turns."""
    gets = [await prepared_get(app) for app in apps]
    await asyncio.sleep(SETTLE)
    per_request: list[list[float]] = [[] for _ in apps]
    for _ in range(rounds):
        for app, get, figures in zip(apps, gets, per_request, strict=True):
            figures.append(await one_round(app, get, requests))
    return per_request


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--requests", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--store", choices=("sqlite", "postgres"), default="sqlite",
                        help="The store of the scratch database (default sqlite).")
    parser.add_argument("--postgres", default="postgresql://postgres@127.0.0.1:5432/test",
                        help="PostgreSQL server on which --store postgres makes its scratch database.")
    parser.add_argument("--database", help="An existing, empty database to run on instead of a scratch one.")
    parser.add_argument("--compare-journal", action="store_true",
                        help="Rounds with the request journal off and on in turn; print both and the difference.")
    args = parser.parse_args()
    journals: list[bool | None] = [False, True] if args.compare_journal else [None]
    if args.database:
        rounds = run(args.database, args.requests, args.rounds, journals)
    else:
        with scratch_database(args.store, args.postgres, "app_cpu") as database:
            rounds = run(database, args.requests, args.rounds, journals)
    for journal, figures in zip(journals, rounds, strict=True):
        label = "" if journal is None else f" journal {'on ' if journal else 'off'}"
        print(f"PwsGetClient server CPU{label}: best {min(figures):.1f} µs/request "
              f"(rounds: {', '.join(f'{r:.1f}' for r in figures)})")
    if args.compare_journal:
        off, on = min(rounds[0]), min(rounds[1])
        print(f"the journal adds {on - off:.1f} µs/request ({(on / off - 1) * 100:+.1f}%) best to best")


def run(database: str, requests: int, rounds: int, journals: list[bool | None]) -> list[list[float]]:
    """The rounds of an application per entry of ``journals`` (the journal on, off, or as the
    environment says)."""
    prepare(database).dispose()
    settings = load_settings(os.environ).with_changes(database_url=database, threads=2)
    stores = [open_store(settings) for _ in journals]
    apps = [create_app(settings if journal is None else settings.with_changes(journal=journal), store)
            for journal, store in zip(journals, stores, strict=True)]
    # The request lines of OPENPWS_LOG_FORMAT=json go to a file, as a server's stderr would.
    for handler in logging.getLogger("openpws").handlers:
        if isinstance(handler, logging.StreamHandler):
            handler.setStream(open(os.devnull, "w"))  # kept open for the run
    try:
        return asyncio.run(measure(apps, requests, rounds))
    finally:
        for app, store in zip(apps, stores, strict=True):
            app.on_shutdown()
            store.dispose()


if __name__ == "__main__":
    main()

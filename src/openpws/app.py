"""Assembling the server: contract, store, dispatch table and HTTP edge."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager

from openpws.config import Settings, load_settings
from openpws.contract import load_contract
from openpws.contract.record import Record
from openpws.messages.call import Environment, Handler, Reply, execute
from openpws.messages.operations import OPERATIONS
from openpws.soap.dispatch import Dispatcher
from openpws.soap.http import SoapApp
from openpws.store.transactions import Store

log = logging.getLogger("openpws")


def create_app(settings: Settings, store: Store | None = None) -> SoapApp:
    """The ASGI application for ``settings``; the schema must already be migrated."""
    store = store or Store.open(settings.database_url, threads=settings.threads)
    executor = ThreadPoolExecutor(max_workers=settings.threads, thread_name_prefix="openpws")

    def defer(work: Callable[[], None]) -> None:
        # Writes a read leaves behind (a session's last-seen time) go to the pool: never waited for.
        executor.submit(work).add_done_callback(_log_failure)

    environment = Environment(store, settings, defer=defer)

    def run(handler: Handler, request: Record) -> Reply:
        return execute(environment, handler, request)

    # A short write on SQLite, with one server process, runs on the event loop when no other write
    # of the process is running: handing it to a thread cost about as much CPU as the write itself
    # (measured), and it would only wait for the one SQLite write lock there. Long writes, writes
    # that would wait for another one, and every write on PostgreSQL (whose statements are network
    # round trips) go to the pool.
    inline_writes = store.dialect == "sqlite" and settings.workers == 1

    @contextmanager
    def run_inline(handler: Handler) -> Iterator[bool]:
        if not handler.write:
            yield not handler.long
        elif not inline_writes or handler.long:
            yield False
        else:
            with store.writers_turn_if_free() as free:
                yield free

    contract = load_contract()
    dispatcher = Dispatcher(contract, OPERATIONS, run)
    return SoapApp(contract, dispatcher, max_body_bytes=settings.max_body_bytes, executor=executor,
                   run_inline=run_inline)


def _log_failure(done: Future[None]) -> None:
    if done.exception() is not None:
        log.error("deferred work failed", exc_info=done.exception())


def app_from_environment() -> SoapApp:
    """Factory for server worker processes, which receive their settings as OPENPWS_* variables."""
    return create_app(load_settings())

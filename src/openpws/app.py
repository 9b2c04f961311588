"""Assembling the server: contract, store, dispatch table and HTTP edge."""

from __future__ import annotations

import logging
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor

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

    contract = load_contract()
    dispatcher = Dispatcher(contract, OPERATIONS, run)
    return SoapApp(contract, dispatcher, max_body_bytes=settings.max_body_bytes, executor=executor,
                   may_wait=lambda handler: bool(handler.write))


def _log_failure(done: Future[None]) -> None:
    if done.exception() is not None:
        log.error("deferred work failed", exc_info=done.exception())


def app_from_environment() -> SoapApp:
    """Factory for server worker processes, which receive their settings as OPENPWS_* variables."""
    return create_app(load_settings())

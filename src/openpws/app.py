"""Assembling the server: contract, store, dispatch table, runner, control plane and HTTP edge."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from openpws.clock import RequestTime
from openpws.config import STRICT, Settings, load_settings
from openpws.contract import load_contract
from openpws.contract.record import Record
from openpws.exchange import Exchange
from openpws.messages.binding import Binding, Reply
from openpws.messages.modelled import NotModelled
from openpws.messages.operations import OPERATIONS
from openpws.messages.rate_limits import answer_limited
from openpws.observability import logs
from openpws.observability.metrics import PATH as METRICS_PATH
from openpws.observability.metrics import Metrics
from openpws.pages.app import pages_app
from openpws.runner import Runner
from openpws.sandbox.api import PREFIX as API_PREFIX
from openpws.sandbox.api import control_plane
from openpws.sandbox.changes import ChangesControl
from openpws.sandbox.changes_api import changes_router
from openpws.sandbox.control import Control, sweep_forever
from openpws.sandbox.journal import JournalControl
from openpws.sandbox.journal_api import journal_router
from openpws.sandbox.rate_limits_api import rate_limits_router
from openpws.services.context import Environment
from openpws.services.journal import Journals, Recorder
from openpws.soap.dispatch import Dispatcher, Prepared
from openpws.soap.http import SoapApp
from openpws.store.transactions import Store

CONTROL_PREFIX = "/_openpws/"


def open_store(settings: Settings) -> Store:
    """The store ``settings`` name, sized for their threads, with the SQL log if it is switched on."""
    return Store.open(settings.database_url, threads=settings.threads, sql_log=settings.sql_log)


def create_dispatcher(environment: Environment) -> Dispatcher[Binding[Any, Any]]:
    """The dispatcher of the contract's operations, answering in ``environment``."""

    def serve(binding: Binding[Any, Any], request: Record, time: RequestTime, operation: str) -> Reply:
        return answer_limited(environment, binding, request, time, operation)

    contract = load_contract()
    return Dispatcher(contract, OPERATIONS, serve, strict_order=environment.settings.member_order == STRICT,
                      not_modelled=NotModelled(contract, OPERATIONS).sent)


def previewer(dispatcher: Dispatcher[Binding[Any, Any]]) -> Callable[[bytes, str | None], tuple[int, bytes, Exchange]]:
    """Answers a PWS request as a preview (its work rolled back), with the exchange that says what
    it would have changed: the control plane's preview."""

    def preview(body: bytes, soap_action: str | None) -> tuple[int, bytes, Exchange]:
        exchange = Exchange()
        exchange.preview = True
        prepared = dispatcher.prepare(body, soap_action, exchange)
        status, payload = prepared if isinstance(prepared, tuple) else dispatcher.finish(prepared)
        return status, payload, exchange

    return preview


def create_app(settings: Settings, store: Store | None = None) -> SoapApp:
    """The ASGI application for ``settings``; the schema must already be migrated."""
    store = store or open_store(settings)
    runner = Runner(store, threads=settings.threads, workers=settings.workers)
    environment = Environment(store, settings, defer=runner.defer)
    dispatcher = create_dispatcher(environment)
    recorder = Recorder(store, settings)

    async def run(prepared: Prepared[Binding[Any, Any]]) -> tuple[int, bytes]:
        return await runner.run(dispatcher.finish, prepared)

    control = Control(environment, lambda body: dispatcher.handle(body, None))
    # The control plane's reads of the journal see this process's exchanges at once.
    journal = JournalControl(Journals(store, settings, before=recorder.flush))

    async def sweep() -> None:
        await sweep_forever(control, runner.call)

    metrics = Metrics()
    # The observers of each PWS exchange, in turn, once its response is out (on the event loop):
    # each only counts, formats or appends, and none waits for the database.
    observers: list[Callable[[Exchange], None]] = [metrics.record]
    request_log = logs.configure(settings.log_format)
    if request_log is not None:
        observers.append(request_log)
    if settings.journal_on:
        observers.append(recorder.record)

    def observe(exchange: Exchange) -> None:
        for observer in observers:
            observer(exchange)

    def shutdown() -> None:
        recorder.close()
        runner.shutdown()

    changes = ChangesControl(environment, previewer(dispatcher), recorder.next_id,
                             max_body_bytes=settings.max_body_bytes)
    routers = [journal_router(journal, runner.call), rate_limits_router(control, runner.call),
               changes_router(changes, runner.call)]
    # The JSON API under /_openpws/api, and the admin pages everywhere else under /_openpws/.
    api = control_plane(control, runner.call, settings.admin_token, routers)
    pages = pages_app(control, journal, changes, runner.call, settings.admin_token,
                      list(dispatcher.contract.operations))
    return SoapApp(dispatcher.contract, dispatcher, run, max_body_bytes=settings.max_body_bytes,
                   on_shutdown=shutdown, background=[sweep], observe=observe, next_id=recorder.next_id,
                   mounts=[(API_PREFIX, api), (CONTROL_PREFIX, pages), (METRICS_PATH, metrics)])


def app_from_environment() -> SoapApp:
    """Factory for server worker processes, which receive their settings as OPENPWS_* variables."""
    return create_app(load_settings())

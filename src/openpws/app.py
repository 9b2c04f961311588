"""Assembling the server: contract, store, dispatch table, runner, control plane and HTTP edge."""

from __future__ import annotations

from typing import Any

from openpws.clock import RequestTime
from openpws.config import STRICT, Settings, load_settings
from openpws.contract import load_contract
from openpws.contract.record import Record
from openpws.exchange import Exchange
from openpws.messages.binding import Binding, Reply
from openpws.messages.faults import answer_screened
from openpws.messages.modelled import NotModelled
from openpws.messages.operations import OPERATIONS
from openpws.observability import logs
from openpws.observability.metrics import PATH as METRICS_PATH
from openpws.observability.metrics import Metrics
from openpws.runner import Runner
from openpws.sandbox.api import control_plane
from openpws.sandbox.control import Control, sweep_forever
from openpws.services.context import Environment
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
        return answer_screened(environment, binding, request, time, operation)

    contract = load_contract()
    return Dispatcher(contract, OPERATIONS, serve, strict_order=environment.settings.member_order == STRICT,
                      not_modelled=NotModelled(contract, OPERATIONS).sent)


def create_app(settings: Settings, store: Store | None = None) -> SoapApp:
    """The ASGI application for ``settings``; the schema must already be migrated."""
    store = store or open_store(settings)
    runner = Runner(store, threads=settings.threads, workers=settings.workers)
    environment = Environment(store, settings, defer=runner.defer)
    dispatcher = create_dispatcher(environment)

    async def run(prepared: Prepared[Binding[Any, Any]]) -> tuple[int, bytes]:
        return await runner.run(dispatcher.finish, prepared)

    control = Control(environment, lambda body: dispatcher.handle(body, None))

    async def sweep() -> None:
        await sweep_forever(control, runner.call)

    metrics = Metrics()
    request_log = logs.configure(settings.log_format)

    def observe(exchange: Exchange) -> None:
        metrics.record(exchange)
        if request_log is not None:
            request_log(exchange)

    return SoapApp(dispatcher.contract, dispatcher, run, max_body_bytes=settings.max_body_bytes,
                   on_shutdown=runner.shutdown, background=[sweep], observe=observe,
                   mounts=[(CONTROL_PREFIX, control_plane(control, runner.call, settings.admin_token)),
                           (METRICS_PATH, metrics)])


def app_from_environment() -> SoapApp:
    """Factory for server worker processes, which receive their settings as OPENPWS_* variables."""
    return create_app(load_settings())

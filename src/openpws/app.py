"""Assembling the server: contract, store, dispatch table and HTTP edge."""

from __future__ import annotations

from openpws.config import Settings, load_settings
from openpws.contract import load_contract
from openpws.contract.record import Record
from openpws.messages.call import Environment, Handler, Reply, execute
from openpws.messages.operations import OPERATIONS
from openpws.soap.dispatch import Dispatcher
from openpws.soap.http import SoapApp
from openpws.store.transactions import Store


def create_app(settings: Settings, store: Store | None = None) -> SoapApp:
    """The ASGI application for ``settings``; the schema must already be migrated."""
    store = store or Store.open(settings.database_url)
    environment = Environment(store, settings)

    def run(handler: Handler, request: Record) -> Reply:
        return execute(environment, handler, request)

    contract = load_contract()
    dispatcher = Dispatcher(contract, OPERATIONS, run)
    return SoapApp(contract, dispatcher, max_body_bytes=settings.max_body_bytes, threads=settings.threads)


def app_from_environment() -> SoapApp:
    """Factory for server worker processes, which receive their settings as OPENPWS_* variables."""
    return create_app(load_settings())

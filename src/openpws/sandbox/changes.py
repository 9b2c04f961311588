"""The change journal's operations, behind the JSON API (``sandbox.changes_api``) and the
``openpws changes``, ``openpws preview`` and ``openpws undo`` commands: list and read an account's
changes, preview any PWS request, undo a delete. Each reads real time once.

A preview is answered by the dispatcher like any PWS request (``Preview``: the server's own, or
an in-process one for the command line), with its exchange marked as a preview: its work runs in
full and is rolled back (``services.context.perform``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from openpws.clock import real_now
from openpws.exchange import Exchange
from openpws.services import undo
from openpws.services.changes import LIST_LIMIT, ChangeJournal, Entry, Filter
from openpws.services.context import Environment
from openpws.services.sandbox import Invalid, live_account

# (body, SOAPAction) → (HTTP status, response body, its exchange)
Preview = Callable[[bytes, str | None], tuple[int, bytes, Exchange]]

__all__ = ["LIST_LIMIT", "ChangesControl", "Previewed"]


@dataclass(frozen=True)
class Previewed:
    http_status: int
    response: str
    changes: list[dict[str, Any]]
    blockers: list[dict[str, Any]]

    def json(self) -> dict[str, Any]:
        return {"http_status": self.http_status, "response": self.response, "changes": self.changes,
                "blockers": self.blockers}


class ChangesControl:
    def __init__(self, environment: Environment, preview: Preview, next_id: Callable[[], int], *,
                 max_body_bytes: int, clock: Callable[[], datetime] = real_now) -> None:
        self.environment = environment
        self.journal = ChangeJournal(environment.store, environment.settings)
        self._preview = preview
        self.next_id = next_id
        self.max_body_bytes = max_body_bytes
        self.clock = clock

    def entries(self, code: str, *, since: datetime | None = None, entity: str | None = None,
                named: str | None = None, limit: int = 100) -> list[Entry]:
        given = Filter(since=None if since is None else since.replace(tzinfo=None), kind=entity)
        return self.journal.entries(code, given, named, min(limit, LIST_LIMIT), self.clock())

    def entry(self, code: str, ident: int) -> Entry:
        return self.journal.entry(code, ident, self.clock())

    def clear(self, code: str) -> None:
        self.journal.clear(code, self.clock())

    def preview(self, code: str, body: bytes, soap_action: str | None) -> Previewed:
        """Answer ``body`` (a PWS envelope) as the PWS endpoint would, in account ``code``, and roll it back."""
        real = self.clock()
        with self.environment.store.read() as tx:
            account = live_account(tx, code, real)
        if not body.strip():
            raise Invalid("the body must be a PWS request: a SOAP envelope (Content-Type: text/xml)", "body")
        if len(body) > self.max_body_bytes:
            raise Invalid(f"the body is larger than the limit of {self.max_body_bytes} bytes", "body")
        status, payload, exchange = self._preview(body, soap_action)
        if exchange.account_id is not None and exchange.account_id != account.id:
            raise Invalid(f"the request's session is of account {exchange.account!r}, not {account.code!r}", "body")
        return Previewed(status, payload.decode("utf-8", "replace"), exchange.changes, exchange.blockers)

    def undo(self, code: str, ident: int, *, preview: bool = False) -> undo.Undone:
        return undo.undo(self.environment, code, ident, self.clock(), preview=preview, next_id=self.next_id)

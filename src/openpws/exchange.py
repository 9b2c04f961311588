"""One PWS exchange as the HTTP edge saw it: what came in, what went out, how it was answered
and, once the request's work knew it, the account and user it acted as. The edge hands each one
to the request journal (``services.journal``); it sits below every layer because the SOAP layer
makes it and the services keep it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True, slots=True)
class Exchange:
    id: int  # the X-Openpws-Request-Id the response carried
    real: datetime  # aware UTC: when the request was answered, real time
    time: datetime  # aware UTC: the same instant on the account's clock (real time for no account)
    account_id: int | None  # None: the request named no account the server knows
    login: str | None
    operation: str | None  # None: the body named no operation (not XML, not an envelope, unknown)
    request: bytes
    response: bytes
    http_status: int
    # The response's Status (Ok, OkWithWarnings, Fail, FailSessionInvalid), or for a SOAP fault
    # PwsFault (a lock conflict), s:Client or s:Server.
    status: str
    errors: tuple[int, ...]  # the ErrorNumbers of its messages, in order
    duration_ms: float
    not_modelled: tuple[str, ...] = ()
    fault_rule: int | None = None

"""PwsAuthenticate and PwsUnauthenticate as services of a request (the session rules themselves
are ``openpws.services.sessions``)."""

from __future__ import annotations

from openpws.services import sessions
from openpws.services.context import Context
from openpws.services.sessions import Authenticated, Credentials


def log_in(ctx: Context, credentials: Credentials) -> Authenticated:
    return sessions.authenticate(ctx.tx, ctx.settings, ctx.request_time(), credentials)


def log_out(ctx: Context, _request: None) -> None:
    sessions.end(ctx.tx, ctx.user, ctx.now)

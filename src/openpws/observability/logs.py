"""The request log: with ``OPENPWS_LOG_FORMAT=json``, one JSON line per PWS request on the logger
``openpws.requests``, and every other record of the ``openpws`` loggers as a JSON line too, on
stderr. With ``text`` (the default) requests are not logged and records keep their usual form.

A request's line::

    {"time": "2026-01-02T03:04:05.678Z", "request_id": "1042", "account": "demo", "user": "admin@demo",
     "operation": "PwsGetClient", "status": "Ok", "errors": [], "http_status": 200, "duration_ms": 1.234,
     "database_ms": 0.321, "fault_rule": null, "pid": 4242}

``account`` and ``user`` are null until the request named a known account (a bad ticket, a bad
envelope); a failed PwsAuthenticate naming a known account carries the account and the login sent.
``fault_rule`` is the id of the account's fault rule that answered the request (docs/sandbox.md),
if one did; a dropped connection has ``status`` "dropped" and ``http_status`` 0.
"""

from __future__ import annotations

import json
import logging
import os
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from openpws.config import JSON
from openpws.exchange import Exchange

REQUESTS = logging.getLogger("openpws.requests")


def _iso(moment: float) -> str:
    return datetime.fromtimestamp(moment, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


class JsonLines(logging.Formatter):
    """A record as one JSON object: a request's own fields, or time, level, logger and message."""

    def format(self, record: logging.LogRecord) -> str:
        fields: dict[str, Any] | None = getattr(record, "fields", None)
        if fields is None:
            fields = {"time": _iso(record.created), "level": record.levelname, "logger": record.name,
                      "message": record.getMessage()}
            if record.exc_info:
                fields["exception"] = self.formatException(record.exc_info)
        return json.dumps(fields, separators=(", ", ": "), ensure_ascii=False)


def fields_of(exchange: Exchange) -> dict[str, Any]:
    """A request's log line, as a dictionary."""
    return {
        "time": _iso(exchange.wall_time),
        "request_id": str(exchange.request_id),  # as the header carries it
        "account": exchange.account,
        "user": exchange.user,
        "operation": exchange.operation,
        "status": exchange.status,
        "errors": list(exchange.errors),
        "http_status": exchange.http_status,
        "duration_ms": round(exchange.seconds * 1000, 3),
        "database_ms": round(exchange.database_seconds * 1000, 3),
        "fault_rule": exchange.fault_rule,
        "pid": os.getpid(),  # which worker process answered
    }


def log_exchange(exchange: Exchange) -> None:
    """Write a request's line (an observer of the HTTP edge)."""
    if REQUESTS.isEnabledFor(logging.INFO):
        REQUESTS.info("%s %s", exchange.operation, exchange.status, extra={"fields": fields_of(exchange)})


def configure(format_: str) -> Callable[[Exchange], None] | None:
    """Set up the ``openpws`` loggers for ``format_``: the request log's observer for json, None
    for text (nothing changes). Once per process, however many applications it builds."""
    if format_ != JSON:
        return None
    logger = logging.getLogger("openpws")
    if not any(isinstance(handler.formatter, JsonLines) for handler in logger.handlers):
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(JsonLines())
        logger.addHandler(handler)
    if REQUESTS.getEffectiveLevel() > logging.INFO:
        REQUESTS.setLevel(logging.INFO)
    return log_exchange

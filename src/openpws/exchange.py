"""One PWS exchange as the server's observers see it: what was asked, who asked, how it was
answered and what it cost. The HTTP edge makes one per POST, with its request id, and hands it
on; the dispatcher fills in the operation, the answer's Status and error numbers, the account
and user and the account's time; when the response is out, the HTTP edge gives it to the
observers (``/metrics``, the request log and the request journal, ``openpws.observability``). A
plain mutable record, used by one request at a time, below every layer so that each can fill in
its part without importing the others.
"""

from __future__ import annotations

import time
from datetime import datetime
from typing import Any

# Status values beside PWS's RequestStatus (Ok, OkWithWarnings, Fail, FailSessionInvalid): the
# answers that are SOAP faults, by faultcode, and the lock conflict's typed fault.
CLIENT_FAULT = "s:Client"
SERVER_FAULT = "s:Server"
PWS_FAULT = "PwsFault"
# A request a fault rule answered by closing the connection.
DROPPED = "dropped"
# The operation of a request whose body named none the contract knows (not XML, a bad envelope).
NO_OPERATION = "unknown"


class Exchange:
    __slots__ = ("account", "account_id", "account_time", "blockers", "changes", "database_seconds",
                 "delay_seconds", "errors", "fault_rule", "http_status", "not_modelled", "operation", "preview",
                 "real", "request", "request_id", "response", "seconds", "started", "status", "user", "wall_time")

    def __init__(self, request_id: int = 0) -> None:
        # The id of its request-journal entry, which its response's X-Openpws-Request-Id and its
        # log line carry (0: an exchange of the server's own, e.g. loading fixtures).
        self.request_id = request_id
        self.wall_time = time.time()  # when it arrived, for the log line
        self.started = time.perf_counter()
        self.operation = NO_OPERATION
        self.status = SERVER_FAULT  # until the dispatcher says otherwise
        self.errors: tuple[int, ...] = ()  # the answer's error numbers (warnings' too), in its order
        self.account: str | None = None  # the account code, once the request named a known one
        self.account_id: int | None = None  # the same account's id (the journal files it there)
        self.user: str | None = None  # the login of the user it acted as, once known
        # Aware UTC: the real instant its work happened at, and the same on the account's clock
        # (None until it ran: the journal then takes its arrival, in real time).
        self.real: datetime | None = None
        self.account_time: datetime | None = None
        self.not_modelled: tuple[str, ...] = ()  # members it sent that openpws does not model
        self.database_seconds = 0.0  # time its statements took (the database's, round trips included)
        self.request = b""  # the body as received
        self.response = b""  # the body as sent
        self.http_status = 0
        self.fault_rule: int | None = None  # the account's fault rule that answered it (services.faults)
        self.delay_seconds = 0.0  # how long a fault rule holds its answer back
        self.seconds = 0.0  # from its arrival to its response, once answered
        # A preview (X-Openpws-Preview: true, or the control plane's preview): its work is rolled
        # back; what it would have changed (the change tree, services.change_tree) and, for a
        # delete that would fail, what blocks it (services.blockers) are kept here, as JSON values.
        self.preview = False
        self.changes: list[dict[str, Any]] = []
        self.blockers: list[dict[str, Any]] = []

    def answered(self, http_status: int) -> None:
        """Its response is out, with ``http_status``."""
        self.http_status = http_status
        self.seconds = time.perf_counter() - self.started

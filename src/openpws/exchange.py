"""One PWS exchange as the server's observers see it: what was asked, who asked, how it was
answered and what it cost. The HTTP edge makes one per POST and hands it on; the dispatcher
fills in the operation, the answer's Status and error numbers and the account and user; when
the response is out, the HTTP edge gives it to the observers (``/metrics`` and the request log,
``openpws.observability``). A plain mutable record, used by one request at a time, below every
layer so that each can fill in its part without importing the others.
"""

from __future__ import annotations

import random
import time

# Status values beside PWS's RequestStatus (Ok, OkWithWarnings, Fail, FailSessionInvalid): the
# answers that are SOAP faults, by faultcode, and the lock conflict's typed fault.
CLIENT_FAULT = "s:Client"
SERVER_FAULT = "s:Server"
PWS_FAULT = "PwsFault"
# A request a fault rule answered by closing the connection.
DROPPED = "dropped"
# The operation of a request whose body named none the contract knows (not XML, a bad envelope).
NO_OPERATION = "unknown"


def new_request_id() -> str:
    """The id of a request, returned in its X-Openpws-Request-Id header and written in its log
    line: 16 hex digits, random (each process's generator is seeded from the OS), so that ids of
    several processes do not collide. Not a secret: os.urandom cost four times as much."""
    return random.getrandbits(64).to_bytes(8).hex()


class Exchange:
    __slots__ = ("account", "database_seconds", "delay_seconds", "errors", "fault_rule", "http_status", "operation",
                 "request_id", "seconds", "started", "status", "user", "wall_time")

    def __init__(self, request_id: str = "") -> None:
        self.request_id = request_id
        self.wall_time = time.time()  # when it arrived, for the log line
        self.started = time.perf_counter()
        self.operation = NO_OPERATION
        self.status = SERVER_FAULT  # until the dispatcher says otherwise
        self.errors: tuple[int, ...] = ()  # the answer's error numbers (warnings' too), in its order
        self.account: str | None = None  # the account code, once the request named a known one
        self.user: str | None = None  # the login of the user it acted as, once known
        self.database_seconds = 0.0  # time its statements took (the database's, round trips included)
        self.http_status = 0
        self.fault_rule: int | None = None  # the account's fault rule that answered it (services.faults)
        self.delay_seconds = 0.0  # how long a fault rule holds its answer back
        self.seconds = 0.0  # from its arrival to its response, once answered

    def answered(self, http_status: int) -> None:
        """Its response is out, with ``http_status``."""
        self.http_status = http_status
        self.seconds = time.perf_counter() - self.started

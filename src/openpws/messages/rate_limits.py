"""Rate limiting at the edge of every operation (``services.rate_limits``), and PwsTestRateLimiter.

Every request passes ``answer_limited``. While no account has its limiting on, that is one
dictionary lookup. Otherwise the request carries a check that runs as soon as its account is
known (``RequestTime.limit``, called by the session check or PwsAuthenticate): for an account
with limiting on it stops the request, whose transaction rolls back untouched; the request's hits
are counted in a transaction of their own; then the request is refused with the 10016 PwsFault
(error mode, over a limit), or runs again without the check, with a 10016 warning added to its
answer when a count is over its limit (warning mode).

PwsTestRateLimiter is always counted, limiting on or off: the hits it simulates before the
algorithm are counted with its own weight (and can make this very call fail in error mode), those
after it by its service, which then reports the counts.
"""

from __future__ import annotations

from typing import Any

from openpws import errors
from openpws.clock import RequestTime
from openpws.contract.record import Record
from openpws.errors import RequestFault
from openpws.messages.binding import Binding, Reply
from openpws.messages.faults import answer_screened
from openpws.services import rate_limits
from openpws.services.context import Environment
from openpws.services.rate_limits import TEST_OPERATION, Hits, Needed, RateLimitSnapshot, TestRequest

INT32_MAX = 2**31 - 1
_CATEGORIES = ("Installation", "Session", "User")


def answer_limited(environment: Environment, binding: Binding[Any, Any], request: Record, time: RequestTime,
                   operation: str) -> Reply:
    """Answer ``request`` (of ``operation``) at ``time``, within its account's rate limits."""
    gate = environment.rate_limits
    gate.refresh(environment.store)
    test = operation == TEST_OPERATION
    if not gate.any and not test:
        return answer_screened(environment, binding, request, time, operation)

    def check(account_id: int, account: str, user: str | None, session_id: int | None) -> None:
        limits = gate.limits_of(account)
        if limits is not None or test:
            # A test call of an account without limiting on is counted under the defaults.
            raise Needed(account_id, limits or rate_limits.Limits(), user, session_id)

    time.limit = check
    try:
        return answer_screened(environment, binding, request, time, operation)
    except Needed as caught:
        needed = caught
    finally:
        time.limit = None
    limits = needed.limits
    weight = limits.weight(operation)
    before = _simulated(request, "Before") if test else Hits()
    hits = rate_limits.count(environment, needed, time.now, Hits(before.installation + weight, before.user + weight,
                                                                  before.session + weight),
                             preview=time.exchange.preview)
    over = limits.enabled and limits.exceeded(hits)
    if over and limits.mode == rate_limits.ERROR:
        raise errors.PwsFault(rate_limits.exceeded_message(limits, hits, warning=False))
    if not over:
        return answer_screened(environment, binding, request, time, operation)
    warning = rate_limits.exceeded_message(limits, hits, warning=True)
    try:
        reply = answer_screened(environment, binding, request, time, operation)
    except errors.PwsError as error:
        raise errors.PwsError(*error.messages, warning) from None
    return Reply(reply.members, (*reply.messages, warning))


def _simulated(rq: Record, when: str) -> Hits:
    counts = {}
    for category in _CATEGORIES:
        name = f"Simulate{category}Hits{when}"
        value = rq.get(name)
        if value is not None and value < 0:
            raise RequestFault(f"Element {rq.qname_of(name)} is a number of hits: it cannot be negative.")
        counts[category] = value or 0
    return Hits(counts["Installation"], counts["User"], counts["Session"])


# PwsTestRateLimiter: Simulate{Installation,Session,User}Hits{After,Before} (Int32, optional) →
# RateLimitSnapshot (PwsRateLimitSnapshot). The Before hits are counted with the call's own weight
# (``answer_limited``); the After hits by the service.

def decode_test(rq: Record) -> TestRequest:
    return TestRequest(after=_simulated(rq, "After"))


def encode_test(found: RateLimitSnapshot) -> Reply:
    hits, limits = found.hits, found.limits
    return Reply({"RateLimitSnapshot": {
        "EnabledFlag": found.enabled,
        "InstallationHitCount": min(hits.installation, INT32_MAX),
        "InstallationRateLimit": limits.installation,
        "RollingWindowSeconds": found.window_seconds,
        "SessionHitCount": min(hits.session, INT32_MAX),
        "SessionRateLimit": limits.session,
        "UserHitCount": min(hits.user, INT32_MAX),
        "UserRateLimit": limits.user,
    }})

"""Account clocks, and the time of one request.

Every account has a clock (SPEC "The sandbox"): real time by default, or frozen at an instant, or
running at an offset from real time. Everything time-dependent in the account follows it. The
clock is a value kept in the account's row; it sits below every layer, because the dispatcher
reads the time, the services decide with it and the store keeps it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from openpws.exchange import Exchange


def real_now() -> datetime:
    """Real time, as an aware UTC datetime."""
    return datetime.now(UTC)


def utc(moment: datetime) -> datetime:
    """``moment`` as an aware UTC datetime; a naive one is taken to be UTC already (as the store keeps them)."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


@dataclass(frozen=True)
class Clock:
    """An account's clock: frozen at ``frozen_at``, or else running ``offset`` ahead of real time."""

    frozen_at: datetime | None = None  # aware UTC
    offset: timedelta = timedelta(0)

    @property
    def frozen(self) -> bool:
        return self.frozen_at is not None

    def at(self, real: datetime) -> datetime:
        """The account's time when real time is ``real`` (aware UTC in, aware UTC out)."""
        return self.frozen_at if self.frozen_at is not None else real + self.offset

    @classmethod
    def frozen_on(cls, moment: datetime) -> Clock:
        return cls(frozen_at=utc(moment))

    @classmethod
    def running_from(cls, moment: datetime, real: datetime) -> Clock:
        """Running on from ``moment``, which it shows at real time ``real``."""
        return cls(offset=utc(moment) - real)

    def advanced(self, by: timedelta) -> Clock:
        """Moved forward by ``by``, frozen or running as it was."""
        if self.frozen_at is not None:
            return Clock(frozen_at=self.frozen_at + by)
        return Clock(offset=self.offset + by)


REAL = Clock()


class RequestTime:
    """When one request happens: the real instant the dispatcher read once, shown on the clock of
    the account the request acts in. Which account that is becomes known only inside the
    request's work (once its session ticket, or PwsAuthenticate's account code, has been read),
    so the services ``enter`` the account's clock there; until then it is real time. The
    dispatcher reads the clock back for the response's ServerTimestampUtc, on success and failure
    alike. One request's own object, used by one thread at a time.

    It carries the request's ``Exchange`` (``openpws.exchange``), into which the services write who
    the request acts as (account id and code, user login), how long its database transaction took,
    and the fault rule that answered it or the delay one added: the request's log line, metrics
    and journal entry read them there. For the account's fault rules (``services.faults``) and
    rate limits (``services.rate_limits``) it carries the checks that run as soon as the account
    is known (``screen`` and ``limit``, which may raise to answer the request otherwise)."""

    __slots__ = ("clock", "exchange", "limit", "real", "screen")

    def __init__(self, real: datetime, clock: Clock = REAL, exchange: Exchange | None = None) -> None:
        self.real = real
        self.clock = clock
        self.exchange = Exchange() if exchange is None else exchange
        self.screen: Callable[[str, str | None], None] | None = None
        self.limit: Callable[[int, str, str | None, int | None], None] | None = None

    @property
    def now(self) -> datetime:
        """The request's instant on its account's clock."""
        return self.clock.at(self.real)

    def enter(self, clock: Clock) -> datetime:
        """The request acts in an account with ``clock``: its instant is now that account's."""
        self.clock = clock
        return self.clock.at(self.real)

    def acting_as(self, account_id: int, account: str, user: str | None, session_id: int | None = None) -> None:
        """The request acts in account ``account_id`` (code ``account``) as ``user`` (a login; for a
        PwsAuthenticate, the one it claims to be), in the session ``session_id`` (None before one
        exists)."""
        exchange = self.exchange
        exchange.account_id, exchange.account, exchange.user = account_id, account, user
        if self.limit is not None:
            self.limit(account_id, account, user, session_id)
        if self.screen is not None:
            self.screen(account, user)

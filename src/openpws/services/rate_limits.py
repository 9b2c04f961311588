"""Rate limiting as Projector does it (SPEC "The sandbox", Faults; "Control-plane conventions",
Rate limits): each request adds its operation's weight in hits to three counts over a rolling
60-second window — the installation's (the account's), its user's and its session's — and when one
count passes its limit the request is answered, by the account's mode, normally with a 10016
warning, or before any work with the PwsFault carrying a 10016 error. The counts and limits are in
the message, as in production.

Off by default; the control plane turns it on per account (``configure``). Settings and hits live
in the database, so every server process counts the same hits; each process keeps a copy of the
settings of the accounts whose limiting is on, read again at most ``CACHE_SECONDS`` after it was
read (at once after its own changes), so a request of an account without limits costs a
dictionary lookup. The window runs on the account's clock: advancing a frozen clock by a minute
empties it.

Hits are counted in a transaction of their own, before the request's work, so a request that is
then refused or fails still counts (production adds the weight before it compares). With limiting
off, openpws counts nothing, except what PwsTestRateLimiter adds (its own weight and the hits it
simulates), so that its snapshot shows them as the wiki's example does with EnabledFlag false.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import Connection

from openpws import errors
from openpws.services.context import Context, Environment
from openpws.services.copies import AccountCopy
from openpws.services.sandbox import Invalid, live_account
from openpws.store import accounts as account_store
from openpws.store import rate_limits as store
from openpws.store.rate_limits import Hits, SettingsRow

__all__ = ["Hits", "Limits", "Needed", "RateLimitSnapshot", "configure", "count", "current", "snapshot"]

OFF, WARNING, ERROR = "off", "warning", "error"
MODES = (OFF, WARNING, ERROR)
WINDOW_SECONDS = 60
# Projector's sample limits (PwsRateLimitSnapshot's wiki page): installation, user, session.
DEFAULT_LIMITS = (2400, 1800, 1200)
# The largest weight or limit the control plane takes.
MAX_HITS = 1_000_000
CACHE_SECONDS = 1.0
TEST_OPERATION = "PwsTestRateLimiter"


@dataclass(frozen=True)
class Limits:
    """An account's rate limiting: its mode, the three limits and the operations' weights (an
    operation not named weighs 1)."""

    mode: str = OFF
    installation: int = DEFAULT_LIMITS[0]
    user: int = DEFAULT_LIMITS[1]
    session: int = DEFAULT_LIMITS[2]
    weights: Mapping[str, int] = field(default_factory=dict)

    @property
    def enabled(self) -> bool:
        return self.mode != OFF

    def weight(self, operation: str) -> int:
        return self.weights.get(operation, 1)

    def exceeded(self, hits: Hits) -> bool:
        return hits.installation > self.installation or hits.user > self.user or hits.session > self.session


def _limits(row: SettingsRow | None) -> Limits:
    if row is None:
        return Limits()
    return Limits(row.mode, row.installation_limit, row.user_limit, row.session_limit,
                  {str(k): int(v) for k, v in json.loads(row.weights).items()})


# --- the control plane's side ----------------------------------------------------------------------

def _check(limits: Limits) -> None:
    if limits.mode not in MODES:
        raise Invalid(f"mode is one of {', '.join(MODES)}", "mode")
    for name in ("installation", "user", "session"):
        if not 1 <= getattr(limits, name) <= MAX_HITS:
            raise Invalid(f"a limit is a number of hits from 1 to {MAX_HITS}", f"limits.{name}")
    for operation, hits in limits.weights.items():
        if not 0 <= hits <= MAX_HITS:
            raise Invalid(f"a weight is a number of hits from 0 to {MAX_HITS}", f"weights.{operation}")


def configure(environment: Environment, code: str, limits: Limits, real: datetime) -> Limits:
    """Set the account's rate limiting (the operations ``limits.weights`` names are the caller's
    to check against the contract)."""
    _check(limits)
    with environment.store.write() as tx:
        account = live_account(tx, code, real)
        store.put_settings(tx, account.id, mode=limits.mode, installation_limit=limits.installation,
                           user_limit=limits.user, session_limit=limits.session,
                           weights=json.dumps(dict(sorted(limits.weights.items()))))
    environment.rate_limits.forget()
    return limits


def current(environment: Environment, code: str, real: datetime) -> Limits:
    with environment.store.read() as tx:
        return _limits(store.settings_of(tx, live_account(tx, code, real).id))


def clear_hits(environment: Environment, code: str, real: datetime) -> None:
    """Forget every hit counted against the account (a test's fresh start)."""
    with environment.store.write() as tx:
        store.clear_hits(tx, live_account(tx, code, real).id)


# --- the requests' side ----------------------------------------------------------------------------

class Needed(Exception):
    """Raised as soon as a request's account is known, when its hits are to be counted: the
    request's transaction is rolled back, its hits counted, and it runs again without the check."""

    def __init__(self, account_id: int, limits: Limits, user: str | None, session_id: int | None) -> None:
        super().__init__(f"rate limit of account {account_id}")
        self.account_id, self.limits, self.user, self.session_id = account_id, limits, user, session_id


def _enabled_by_account(tx: Connection) -> dict[str, Limits]:
    return {row.account_key: _limits(row) for row in store.enabled(tx)}


class Gate(AccountCopy[Limits]):
    """A process's copy of the rate limits of the accounts whose limiting is on, by lower-cased
    account code, read again once it is ``CACHE_SECONDS`` old."""

    def __init__(self) -> None:
        super().__init__(_enabled_by_account, CACHE_SECONDS)

    def limits_of(self, account: str) -> Limits | None:
        """The account's limits if its limiting is on (as last read)."""
        return self.by_account.get(account.lower())


def count(environment: Environment, needed: Needed, now: datetime, hits: Hits, *, preview: bool = False) -> Hits:
    """Add ``hits`` (the request's weight, and any simulated before it) at ``now`` on the account's
    clock, in a transaction of their own; the counts of the window that ends at ``now``. A preview
    counts nothing: it is answered with the counts it would have made."""
    user_key = None if needed.user is None else needed.user.lower()
    moment = now.replace(tzinfo=None)
    since = moment - timedelta(seconds=WINDOW_SECONDS)
    if preview:
        with environment.store.read() as tx:
            found = store.window(tx, needed.account_id, user_key, needed.session_id, since, moment, prune=False)
        return Hits(found.installation + hits.installation, found.user + hits.user, found.session + hits.session)
    with environment.store.write() as tx:
        if not account_store.hold(tx, needed.account_id):
            return Hits()  # deleted meanwhile: the request, run again, finds no account
        store.add_hits(tx, needed.account_id, moment, user_key, needed.session_id, hits)
        return store.window(tx, needed.account_id, user_key, needed.session_id, since, moment)


def exceeded_message(limits: Limits, hits: Hits, *, warning: bool) -> errors.Message:
    """The 10016 message, with the counts and limits in it."""
    entry = errors.RATE_LIMIT_WARNING if warning else errors.RATE_LIMIT_EXCEEDED
    detail = (f"installation {hits.installation}/{limits.installation}, user {hits.user}/{limits.user}, "
              f"session {hits.session}/{limits.session} hits in {WINDOW_SECONDS} s")
    return errors.message(entry, detail, installation=hits.installation, installation_limit=limits.installation,
                          user=hits.user, user_limit=limits.user, session=hits.session,
                          session_limit=limits.session, window=WINDOW_SECONDS)


# --- PwsTestRateLimiter ----------------------------------------------------------------------------

@dataclass(frozen=True)
class TestRequest:
    """The hits PwsTestRateLimiter simulates after the limiting algorithm has run (those before it
    were counted with the request's weight)."""

    after: Hits = field(default_factory=Hits)


@dataclass(frozen=True)
class RateLimitSnapshot:
    enabled: bool
    hits: Hits
    limits: Limits
    window_seconds: int = WINDOW_SECONDS


def snapshot(ctx: Context, request: TestRequest) -> RateLimitSnapshot:
    """PwsTestRateLimiter: add the hits simulated after the algorithm, and report the counts of
    the caller's installation, user and session with the limits in use."""
    caller = ctx.user
    user_key = caller.login.lower()
    moment = ctx.now.replace(tzinfo=None)
    store.add_hits(ctx.tx, caller.account_id, moment, user_key, caller.session_id, request.after)
    hits = store.window(ctx.tx, caller.account_id, user_key, caller.session_id,
                        moment - timedelta(seconds=WINDOW_SECONDS), moment)
    limits = _limits(store.settings_of(ctx.tx, caller.account_id))
    return RateLimitSnapshot(limits.enabled, hits, limits)


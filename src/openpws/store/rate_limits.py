"""Rate-limit rows: an account's settings and the hits counted against them
(``services.rate_limits`` says what they mean)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, and_, case, delete, func, insert, select, update

from openpws.store import statements
from openpws.store.schema import accounts, rate_limit_hits, rate_limits


@dataclass(frozen=True)
class SettingsRow:
    account_id: int
    account_key: str  # the account's lower-cased code
    mode: str
    installation_limit: int
    user_limit: int
    session_limit: int
    weights: str  # JSON


@dataclass(frozen=True)
class Hits:
    """Hits in each of the three categories."""

    installation: int = 0
    user: int = 0
    session: int = 0


_SETTINGS = select(rate_limits.c.account_id, accounts.c.code_key, rate_limits.c.mode,
                   rate_limits.c.installation_limit, rate_limits.c.user_limit, rate_limits.c.session_limit,
                   rate_limits.c.weights).join(accounts, accounts.c.id == rate_limits.c.account_id)


def settings_of(connection: Connection, account_id: int) -> SettingsRow | None:
    found = statements.rows(connection, _SETTINGS.where(rate_limits.c.account_id == account_id))
    return SettingsRow(*found[0]) if found else None


def enabled(connection: Connection) -> list[SettingsRow]:
    """The settings of every account whose rate limiting is on (what a process caches)."""
    return [SettingsRow(*row) for row in statements.rows(connection, _SETTINGS.where(rate_limits.c.mode != "off"))]


def put_settings(connection: Connection, account_id: int, *, mode: str, installation_limit: int, user_limit: int,
                 session_limit: int, weights: str) -> None:
    values = {"mode": mode, "installation_limit": installation_limit, "user_limit": user_limit,
              "session_limit": session_limit, "weights": weights}
    if not statements.change(connection, update(rate_limits).where(rate_limits.c.account_id == account_id)
                             .values(**values)):
        statements.change(connection, insert(rate_limits).values(account_id=account_id, **values))


# The most hits one row holds (its columns are 32-bit): more is kept as this many, which is past
# every limit the control plane takes.
MAX_ROW_HITS = 2**31 - 1


def add_hits(connection: Connection, account_id: int, at: datetime, user_key: str | None, session_id: int | None,
             hits: Hits) -> None:
    if hits == Hits():
        return
    statements.change(connection, insert(rate_limit_hits).values(
        account_id=account_id, at=at, user_key=user_key, session_id=session_id,
        installation=min(hits.installation, MAX_ROW_HITS), user=min(hits.user, MAX_ROW_HITS),
        session=min(hits.session, MAX_ROW_HITS)))


def window(connection: Connection, account_id: int, user_key: str | None, session_id: int | None,
           since: datetime, until: datetime, *, prune: bool = True) -> Hits:
    """The hits of the account, of its user ``user_key`` and of the session ``session_id`` after
    ``since`` up to ``until``; with ``prune``, older rows of the account are removed."""
    if prune:
        statements.change(connection, delete(rate_limit_hits).where(
            rate_limit_hits.c.account_id == account_id, rate_limit_hits.c.at <= since))
    of_user = case((rate_limit_hits.c.user_key == user_key, rate_limit_hits.c.user), else_=0)
    of_session = case((rate_limit_hits.c.session_id == session_id, rate_limit_hits.c.session), else_=0)
    found = statements.rows(connection, select(
        func.coalesce(func.sum(rate_limit_hits.c.installation), 0), func.coalesce(func.sum(of_user), 0),
        func.coalesce(func.sum(of_session), 0)).where(and_(
            rate_limit_hits.c.account_id == account_id, rate_limit_hits.c.at > since, rate_limit_hits.c.at <= until)))
    installation, user, session = found[0]
    return Hits(int(installation), int(user), int(session))


def clear_hits(connection: Connection, account_id: int) -> None:
    statements.change(connection, delete(rate_limit_hits).where(rate_limit_hits.c.account_id == account_id))

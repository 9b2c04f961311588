"""PwsAuthenticate / PwsUnauthenticate and the session check every other operation starts with.

Tickets are 16 bytes from the OS CSPRNG in Base64 (24 characters); only their SHA-256 is stored.
An unknown ticket is 10004 InvalidSessionTicket; a ticket that expired (idle or absolute limit)
or was ended by PwsUnauthenticate is -101 InvalidSession. Both answer FailSessionInvalid.

Sessions live on their account's clock (``openpws.clock``): a request enters that clock as soon as
its account is known, so idle and lifetime expiry follow a frozen or advanced clock. An account
past its expiry (a throwaway sandbox account) is treated as absent from that real instant on.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Connection

from openpws import errors
from openpws.clock import RequestTime
from openpws.config import Settings
from openpws.entities import AccountRow, UserRow
from openpws.services.passwords import dummy_hash, verify_password
from openpws.services.permissions import Permission, expand
from openpws.store import accounts as account_store
from openpws.store import sandbox as sandbox_store
from openpws.store import sessions as session_store

# last_seen_at is written at most this often per session, so reads stay reads.
TOUCH_INTERVAL = timedelta(seconds=60)


@dataclass(frozen=True)
class Caller:
    """Who is calling: the user of a valid session, inside one account."""

    session_id: int
    account_id: int
    account_uid: int
    account_code: str
    user_id: int
    user_uid: int
    login: str
    display_name: str
    reference_id: str | None
    permissions: frozenset[Permission]

    def may(self, permission: Permission) -> bool:
        return permission in self.permissions


@dataclass(frozen=True)
class Credentials:
    account_code: str
    user_name: str
    password: str


@dataclass(frozen=True)
class Authenticated:
    ticket: str
    account: AccountRow
    user: UserRow


def _hash(ticket_bytes: bytes) -> str:
    return hashlib.sha256(ticket_bytes).hexdigest()


def _naive(moment: datetime) -> datetime:
    return moment.replace(tzinfo=None)


def authenticate(tx: Connection, settings: Settings, time: RequestTime, credentials: Credentials) -> Authenticated:
    account_code, user_name, password = credentials.account_code, credentials.user_name, credentials.password
    account = account_store.find_account(tx, account_code)
    if account is not None:
        state = sandbox_store.state_of(tx, account.id)
        if state.expired(time.real):
            account = None
        else:
            time.enter(state.clock)
            time.acting_as(account.id, account.code, user_name)
    user = account_store.find_user(tx, account.id, user_name) if account else None
    # The same KDF work runs whether or not the account and user exist: no timing oracle.
    stored = user.password_hash if user else dummy_hash(settings.scrypt_cost)
    if not verify_password(password, stored) or account is None or user is None:
        raise errors.fail(errors.INVALID_CREDENTIALS)
    if Permission.WEB_SERVICES not in expand(user.permissions):
        raise errors.fail(errors.WEB_SERVICES_PERMISSION_DENIED, user.login)
    return Authenticated(start_session(tx, account.id, user.id, time.now), account, user)


def start_session(tx: Connection, account_id: int, user_id: int, now: datetime) -> str:
    """A new session of the user from ``now`` (on its account's clock); its ticket."""
    raw = secrets.token_bytes(16)
    session_store.insert_session(tx, _hash(raw), account_id, user_id, _naive(now))
    return base64.b64encode(raw).decode("ascii")


def resolve(tx: Connection, settings: Settings, time: RequestTime, ticket: str) -> tuple[Caller, bool]:
    """The caller behind ``ticket``, and whether its last-seen time is due to be written. The
    request enters the clock of the session's account."""
    try:
        raw = base64.b64decode(ticket.strip(), validate=True)
    except (binascii.Error, ValueError):
        raw = b""
    owner = session_store.find_session_owner(tx, _hash(raw)) if len(raw) == 16 else None
    if owner is None or (owner.account_expires_at is not None and
                         owner.account_expires_at <= _naive(time.real)):
        raise errors.fail(errors.INVALID_SESSION_TICKET)
    row = owner.session
    current = _naive(time.enter(owner.account_clock))
    time.acting_as(row.account_id, owner.account_code, owner.login, row.id)
    if row.ended_at is not None:
        raise errors.fail(errors.INVALID_SESSION, "the session was ended by PwsUnauthenticate")
    if current - row.last_seen_at > timedelta(minutes=settings.session_idle_minutes):
        raise errors.fail(errors.INVALID_SESSION, "the session expired after being idle")
    if current - row.created_at > timedelta(minutes=settings.session_lifetime_minutes):
        raise errors.fail(errors.INVALID_SESSION, "the session reached its maximum lifetime")
    permissions = expand(owner.permissions)
    if Permission.WEB_SERVICES not in permissions:
        raise errors.fail(errors.WEB_SERVICES_PERMISSION_DENIED, owner.login)
    caller = Caller(
        session_id=row.id,
        account_id=row.account_id,
        account_uid=owner.account_uid,
        account_code=owner.account_code,
        user_id=row.user_id,
        user_uid=owner.user_uid,
        login=owner.login,
        display_name=owner.display_name,
        reference_id=owner.reference_id,
        permissions=permissions,
    )
    return caller, current - row.last_seen_at >= TOUCH_INTERVAL


def touch(tx: Connection, caller: Caller, now: datetime) -> None:
    session_store.touch_session(tx, caller.session_id, _naive(now))


def end(tx: Connection, caller: Caller, now: datetime) -> None:
    session_store.end_session(tx, caller.session_id, _naive(now))

"""Administration of accounts, users and locks (the CLI's work; PWS has no service for it)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import Connection

from openpws import errors
from openpws.entities import AccountRow, ListedLock, UserRow
from openpws.services import lock_sets, locks
from openpws.services.context import Context
from openpws.services.passwords import hash_password
from openpws.services.permissions import Permission, expand
from openpws.services.refs import Key
from openpws.services.sessions import Caller
from openpws.services.weeks import DAY_NAMES, MONDAY
from openpws.store import accounts as account_store
from openpws.store import stages as stage_store


class AdminError(ValueError):
    """An administration request that cannot be carried out (the message says why)."""


class AccountTaken(AdminError):
    """The account code is taken (by another request, perhaps a moment ago)."""


def create_account(tx: Connection, code: str, name: str | None, now: datetime, week_start: int = MONDAY) -> AccountRow:
    """A new account, whose weeks (and so every hours bucket) start on ``week_start`` (0 Monday …
    6 Sunday)."""
    code = code.strip()
    if not code or len(code) > 30:
        raise AdminError("an account code has 1 to 30 characters")
    if week_start not in range(len(DAY_NAMES)):
        raise AdminError(f"the first day of the week is a number from 0 (Monday) to 6 (Sunday), not {week_start}")
    try:
        account = account_store.create_account(tx, code, name or code, now, week_start)
    except account_store.DuplicateError as error:
        raise AccountTaken(str(error)) from None
    stage_store.seed_stages(tx, account.id)
    return account


def require_account(tx: Connection, code: str) -> AccountRow:
    account = account_store.find_account(tx, code)
    if account is None:
        raise AdminError(f"there is no account {code!r}")
    return account


def create_user(
    tx: Connection,
    account_code: str,
    *,
    login: str,
    display_name: str,
    password: str,
    permissions: Iterable[Permission],
    reference_id: str | None,
    email: str | None,
    scrypt_cost: int,
    now: datetime,
) -> UserRow:
    account = require_account(tx, account_code)
    if not login.strip() or len(login) > 100:
        raise AdminError("a login name has 1 to 100 characters")
    if not display_name.strip() or len(display_name) > 90:
        raise AdminError("a display name has 1 to 90 characters")
    if reference_id is not None and len(reference_id) > 20:
        raise AdminError("a reference id has at most 20 characters")
    if not password:
        raise AdminError("the password must not be empty")
    try:
        return account_store.create_user(
            tx, account, login=login.strip(), display_name=display_name.strip(), reference_id=reference_id,
            email=email, password_hash=hash_password(password, scrypt_cost),
            permissions=[p.value for p in permissions], now=now,
        )
    except account_store.DuplicateError as error:
        raise AdminError(str(error)) from None


def list_users(tx: Connection, account_code: str) -> list[UserRow]:
    return account_store.list_users(tx, require_account(tx, account_code).id)


def caller_for(tx: Connection, account_code: str, login: str) -> Caller:
    """The user ``login`` of the account as the services see a caller. There is no session
    (session_id 0): the command acts for the user directly."""
    account = require_account(tx, account_code)
    user = account_store.find_user(tx, account.id, login)
    if user is None:
        raise AdminError(f"there is no user {login!r} in account {account.code!r}")
    return Caller(session_id=0, account_id=account.id, account_uid=account.uid, account_code=account.code,
                  user_id=user.id, user_uid=user.uid, login=user.login, display_name=user.display_name,
                  reference_id=user.reference_id, permissions=expand(user.permissions))


def _explain(*messages: errors.Message) -> str:
    return "; ".join(f"{m.text} ({m.additional_text})" for m in messages)


def take_lock(tx: Connection, account_code: str, login: str, entity: str, seconds: int, *, internal: bool,
              now: datetime) -> int:
    """Lock ``entity`` (TYPE:CODE: E:engagement code, P:project code, R:role external system
    identifier) as the user ``login``, the way PwsAcquireProjectorLocks would, whatever the user's
    permissions; returns the ProjectorLockSetId. An internal lock cannot be stolen."""
    lock_type, _, code = entity.partition(":")
    if not lock_type.strip() or not code.strip():
        raise AdminError(f"--entity {entity!r} is not TYPE:CODE, e.g. E:E000001, P:E000001-001 or R:ROLE-1")
    caller = caller_for(tx, account_code, login)
    request = lock_sets.LockRequest(lock_type, Key(code.strip(), None), None)
    try:
        set_id, _ = lock_sets.acquire(Context(tx, caller, now), seconds, [request], locks.NO_ASSERTION,
                                      internal=internal, by_admin=True)
    except errors.PwsError as error:
        raise AdminError(_explain(*error.messages)) from None
    except locks.LockConflict as conflict:
        raise AdminError(_explain(conflict.message)) from None
    return set_id


def list_locks(tx: Connection, account_code: str, now: datetime) -> list[ListedLock]:
    return lock_sets.list_locks(tx, require_account(tx, account_code).id, now)


def release_lock(tx: Connection, account_code: str, set_id: int, now: datetime) -> bool:
    """End the lock set ``set_id`` whoever holds it: True if it was live, False if it had ended."""
    account = require_account(tx, account_code)
    try:
        return lock_sets.end_set(tx, account.id, set_id, now)
    except errors.PwsError:
        raise AdminError(f"there is no lock set {set_id} in account {account.code!r}") from None

"""Administration of accounts and users (the CLI's work; PWS has no service for it)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import Connection

from openpws.services.passwords import hash_password
from openpws.services.permissions import Permission
from openpws.store import accounts as account_store
from openpws.store import stages as stage_store
from openpws.store.accounts import AccountRow, UserRow


class AdminError(ValueError):
    """An administration request that cannot be carried out (the message says why)."""


def create_account(tx: Connection, code: str, name: str | None, now: datetime) -> AccountRow:
    code = code.strip()
    if not code or len(code) > 30:
        raise AdminError("an account code has 1 to 30 characters")
    try:
        account = account_store.create_account(tx, code, name or code, now)
    except account_store.DuplicateError as error:
        raise AdminError(str(error)) from None
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

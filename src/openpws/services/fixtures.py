"""The sandbox's services for fixtures: the session a fixture's tree is loaded in, the locks a
fixture holds, and an account read whole to be exported as a fixture. Each is one transaction.

A fixture's tree is built with PWS requests (the control plane sends them through the dispatcher),
as a user holding every permission: one made for the loading, who exists only while it runs (no
password can log in as it) and is removed with its session afterwards. A fixture's own users keep
exactly the permissions it gives them.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from openpws import errors
from openpws.entities import (
    AllocationNotesRow,
    ClientRow,
    ContractLineItemRow,
    EngagementRow,
    HoursRow,
    InvoiceRow,
    ListedLock,
    ProjectRow,
    RoleRow,
    StageRow,
    UserRow,
)
from openpws.services import admin, lock_sets, sessions
from openpws.services.context import Context, Environment
from openpws.services.locks import NO_ASSERTION, LockConflict
from openpws.services.permissions import ALL
from openpws.services.refs import Key
from openpws.services.sandbox import Invalid, now_in
from openpws.store import accounts as account_store
from openpws.store import fixtures as store
from openpws.store import roles as role_store

LOADER_LOGIN = "openpws-loader-"
# Not a scrypt hash: no password matches it.
UNUSABLE_PASSWORD_HASH = "!"  # noqa: S105 - no password at all
# Role ids per query when reading an account's hours (within every database's limit on parameters).
CHUNK = 500


@dataclass(frozen=True)
class Loading:
    """The session a fixture's tree is loaded in."""

    account_id: int
    user_id: int
    ticket: str
    users: dict[str, int]  # the account's users' Uids by lower-cased login
    week_start: int
    now: datetime  # the account's time when loading began (aware UTC)


def begin_loading(environment: Environment, code: str, real: datetime) -> Loading:
    """A session, for loading a fixture into the account ``code``, of a user made for it."""
    with environment.store.write() as tx:
        now = now_in(tx, code, real)
        account = admin.require_account(tx, code)
        users = store.user_uids(tx, account.id)
        loader = account_store.create_user(
            tx, account, login=LOADER_LOGIN + secrets.token_hex(6), display_name="openpws fixture loader",
            reference_id=None, email=None, password_hash=UNUSABLE_PASSWORD_HASH,
            permissions=[p.value for p in ALL], now=now.replace(tzinfo=None))
        ticket = sessions.start_session(tx, account.id, loader.id, now)
        return Loading(account.id, loader.id, ticket, users, account.week_start, now)


def end_loading(environment: Environment, loading: Loading) -> None:
    """Remove the user a fixture was loaded as, with its session."""
    with environment.store.write() as tx:
        store.remove_user(tx, loading.account_id, loading.user_id)


@dataclass(frozen=True)
class LockOrder:
    """A lock set to take for the user ``login``: entities as (lock type, code), e.g. ("E", "P001323")."""

    login: str
    entities: tuple[tuple[str, str], ...]
    seconds: int
    internal: bool
    path: str


def _explain(messages: Iterable[errors.Message]) -> str:
    return "; ".join(f"{m.entry.number} {m.entry.code}: {m.text}"
                     + (f" ({m.additional_text})" if m.additional_text else "") for m in messages)


def take_locks(environment: Environment, code: str, orders: Sequence[LockOrder], real: datetime) -> None:
    """Take each lock set as its user, on the account's clock, the way PwsAcquireProjectorLocks
    does (whatever the user's permissions, as ``openpws lock take`` does). Invalid, with the
    order's path, when one cannot be taken; then none is."""
    with environment.store.write() as tx:
        now = now_in(tx, code, real)
        for order in orders:
            requests = [lock_sets.LockRequest(kind, Key(entity, None), None) for kind, entity in order.entities]
            try:
                caller = admin.caller_for(tx, code, order.login)
                lock_sets.acquire(Context(tx, caller, now), order.seconds, requests, NO_ASSERTION,
                                  internal=order.internal, by_admin=True)
            except admin.AdminError as error:
                raise Invalid(str(error), order.path) from None
            except errors.PwsError as error:
                raise Invalid(f"the lock cannot be taken: {_explain(error.messages)}", order.path) from None
            except LockConflict as conflict:
                raise Invalid(f"the lock cannot be taken: {_explain([conflict.message])}", order.path) from None


@dataclass(frozen=True)
class AccountContents:
    """Everything of an account a fixture describes, each kind in the order it was made."""

    code: str
    name: str
    week_start: int
    now: datetime  # the account's time (aware UTC)
    users: tuple[UserRow, ...]
    stages: tuple[StageRow, ...]
    clients: tuple[ClientRow, ...]
    engagements: tuple[EngagementRow, ...]
    contract_line_items: tuple[ContractLineItemRow, ...]
    projects: tuple[ProjectRow, ...]
    roles: tuple[RoleRow, ...]
    hours: tuple[HoursRow, ...]
    notes: tuple[AllocationNotesRow, ...]
    invoices: tuple[InvoiceRow, ...]
    locks: tuple[ListedLock, ...]  # the live ones


def contents(environment: Environment, code: str, real: datetime) -> AccountContents:
    """The account ``code`` read whole, in one read transaction (one snapshot on PostgreSQL)."""
    with environment.store.read() as tx:
        now = now_in(tx, code, real)
        account = admin.require_account(tx, code)
        tree = store.tree(tx, account.id)
        role_ids = [role.id for role in tree.roles]
        hours: list[HoursRow] = []
        notes: list[AllocationNotesRow] = []
        for start in range(0, len(role_ids), CHUNK):
            chunk = role_ids[start:start + CHUNK]
            hours += role_store.hours_of(tx, chunk)
            notes += role_store.allocation_notes_of(tx, chunk)
        users = sorted(account_store.list_users(tx, account.id), key=lambda u: u.id)
        held = lock_sets.list_locks(tx, account.id, now)
        return AccountContents(account.code, account.name, account.week_start, now, tuple(users),
                               tuple(tree.stages), tuple(tree.clients), tuple(tree.engagements),
                               tuple(tree.contract_line_items), tuple(tree.projects), tuple(tree.roles),
                               tuple(hours), tuple(notes), tuple(tree.invoices), tuple(held))

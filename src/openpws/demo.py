"""The demo account ``openpws serve --demo`` creates when it is absent."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection

from openpws.services import admin
from openpws.services.permissions import ALL, VIEW_ONLY, Permission
from openpws.store import accounts as account_store

ACCOUNT = "demo"
PASSWORD = "demo"  # noqa: S105 - a published demo credential


@dataclass(frozen=True)
class DemoUser:
    login: str
    display_name: str
    reference_id: str
    permissions: frozenset[Permission]


USERS = (
    DemoUser("admin@demo", "Demo Administrator", "ADMIN", ALL),
    DemoUser("viewer@demo", "Demo Viewer", "VIEWER", VIEW_ONLY),
)


def ensure_demo(tx: Connection, scrypt_cost: int, now: datetime) -> bool:
    """Create the demo account and its users if absent; True when something was created."""
    if account_store.find_account(tx, ACCOUNT) is not None:
        return False
    admin.create_account(tx, ACCOUNT, "openpws demo", now)
    for user in USERS:
        admin.create_user(
            tx, ACCOUNT, login=user.login, display_name=user.display_name, password=PASSWORD,
            permissions=user.permissions, reference_id=user.reference_id, email=None,
            scrypt_cost=scrypt_cost, now=now,
        )
    return True

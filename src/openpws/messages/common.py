"""Shared PWS shapes in wire form: the Ref structures (responses carry both keys, Id nil)."""

from __future__ import annotations

from typing import Any

from openpws.services.sessions import Caller
from openpws.store.accounts import AccountRow, UserRow


def account_ref(account: AccountRow) -> dict[str, Any]:
    return {"AccountCode": account.code, "AccountId": None, "AccountUid": account.uid}


def user_ref(user: UserRow | Caller) -> dict[str, Any]:
    uid = user.user_uid if isinstance(user, Caller) else user.uid
    return {
        "UserDisplayName": user.display_name,
        "UserId": None,
        "UserReferenceSystemId": user.reference_id,
        "UserUid": uid,
    }

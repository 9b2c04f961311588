"""The session service itself, below the SOAP layer."""

from __future__ import annotations

import pytest

from openpws.store.transactions import Store
from tests.conftest import AccountFixture


def test_unknown_users_cost_the_same_password_work(monkeypatch: pytest.MonkeyPatch, store: Store,
                                                   account: AccountFixture) -> None:
    """No timing oracle: the KDF runs for an unknown account or user as for a wrong password."""
    from datetime import UTC, datetime

    from openpws import errors
    from openpws.clock import RequestTime
    from openpws.config import Settings
    from openpws.services import passwords, sessions

    checked: list[str] = []
    real = passwords.verify_password

    def counting(password: str, stored: str) -> bool:
        checked.append(stored.split("$")[1])
        return real(password, stored)

    monkeypatch.setattr(sessions, "verify_password", counting)
    settings = Settings(scrypt_cost=2**10)
    for code, login in ((account.code, "nobody"), ("no-such-account", account.admin), (account.code, account.admin)):
        with store.read() as tx, pytest.raises(errors.PwsError):
            sessions.authenticate(tx, settings, RequestTime(datetime.now(UTC)), sessions.Credentials(code, login, "wrong"))
    assert checked == ["1024", "1024", "1024"]

"""Testing code that calls PWS against an openpws sandbox: a pytest plugin (``plugin``,
registered under the ``pytest11`` entry point, so installing openpws is all it takes) and the
control-plane client it is built on (``client``), usable without pytest. docs/testing.md shows both.
"""

from openpws.testing.client import (
    Account,
    Changes,
    Clock,
    ClockState,
    ControlPlaneError,
    LoginFailed,
    OpenpwsError,
    Server,
    SnapshotId,
    UndoRefused,
    User,
)

__all__ = ["Account", "Changes", "Clock", "ClockState", "ControlPlaneError", "LoginFailed", "OpenpwsError", "Server",
           "SnapshotId", "UndoRefused", "User"]

"""A process's copy of something the database keeps per account (fault rules, rate limits), for
the requests' hot path: a request of an account with nothing in it costs a dictionary lookup.

The copy is read again once it is ``seconds`` old, and at once after ``forget`` (this process
changed it), so every server process sees a change made through another within that time."""

from __future__ import annotations

import threading
import time as timer
from collections.abc import Callable, Mapping
from typing import Generic, TypeVar

from sqlalchemy import Connection

from openpws.store.transactions import Store

T = TypeVar("T")


class AccountCopy(Generic[T]):
    """By lower-cased account code, what ``read`` finds in a read transaction."""

    def __init__(self, read: Callable[[Connection], Mapping[str, T]], seconds: float) -> None:
        self._read = read
        self._seconds = seconds
        self._by_account: Mapping[str, T] = {}
        self._read_at = float("-inf")
        self._lock = threading.Lock()

    @property
    def any(self) -> bool:
        """Whether any account has something (as last read)."""
        return bool(self._by_account)

    @property
    def by_account(self) -> Mapping[str, T]:
        return self._by_account

    def forget(self) -> None:
        """Read it again before the next request (it changed)."""
        self._read_at = float("-inf")

    def refresh(self, store: Store) -> None:
        if timer.monotonic() - self._read_at < self._seconds:
            return
        with self._lock:
            if timer.monotonic() - self._read_at < self._seconds:
                return
            read_at = timer.monotonic()
            with store.read() as tx:
                self._by_account = self._read(tx)
            self._read_at = read_at

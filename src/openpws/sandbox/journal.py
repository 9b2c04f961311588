"""The request journal's operations, behind the JSON API (``sandbox.journal_api``) and the
``openpws requests`` commands: list, read, count, clear, and follow an account's journal (or the
server-wide one, of the requests that named no account). Each reads real time once, for finding
the account (an expired one is absent)."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta

from openpws.clock import real_now
from openpws.services.journal import Entry, Filter, Journals

# Exchanges listed at most.
LIST_LIMIT = 1000
# How far back a tail looks again for exchanges that other processes wrote late.
TAIL_LOOKBACK = timedelta(seconds=5)


class JournalControl:
    def __init__(self, journals: Journals, *, clock: Callable[[], datetime] = real_now) -> None:
        self.journals = journals
        self.clock = clock

    def entries(self, code: str | None, given: Filter, limit: int = 100) -> list[Entry]:
        return self.journals.entries(code, given, min(limit, LIST_LIMIT), self.clock())

    def entry(self, code: str | None, ident: int) -> Entry:
        return self.journals.entry(code, ident, self.clock())

    def count(self, code: str | None, given: Filter, body_contains: str | None) -> int:
        return self.journals.count(code, given, body_contains, self.clock())

    def clear(self, code: str | None) -> None:
        self.journals.clear(code, self.clock())

    def follow(self, code: str | None, *, every: float = 0.5, seconds: float | None = None,
               xml: bool = False) -> Iterator[Entry]:
        """The exchanges of the journal from now on, oldest first, as they are written (polling
        the database every ``every`` seconds, for ``seconds`` or for ever). Exchanges another
        process writes a little late are still shown, once each."""
        deadline = None if seconds is None else time.monotonic() + seconds
        newest = self.journals.entries(code, Filter(), 1, self.clock())
        since = newest[0].real_at - TAIL_LOOKBACK if newest else None
        # What was there before: not shown.
        shown: dict[int, datetime] = {entry.id: entry.real_at for entry in self.journals.entries(
            code, Filter(after=(since, 0)), None, self.clock())} if since is not None else {}
        while deadline is None or time.monotonic() < deadline:
            after = None if since is None else (since, 0)
            for entry in self.journals.entries(code, Filter(after=after), None, self.clock(), xml=xml,
                                               oldest_first=True):
                if entry.id not in shown:
                    shown[entry.id] = entry.real_at
                    yield entry
            if shown:
                latest = max(shown.values())
                since = latest - TAIL_LOOKBACK
                shown = {ident: at for ident, at in shown.items() if at >= since}
            time.sleep(every if deadline is None else max(0.0, min(every, deadline - time.monotonic())))

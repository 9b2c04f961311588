"""The request journal: every PWS exchange kept per account, the newest OPENPWS_JOURNAL_SIZE of
each, for the people testing code against the sandbox to list, count, tail and clear.

Recording must cost the request little (bench/app_cpu.py --compare-journal; the figures are in
docs/architecture.md, step 9), so nothing of it runs in the request's work or its transaction (a
Fail or a fault rolls that back, and the exchange must still be kept):

- the id is known before the answer, without a statement: each process takes blocks of
  ``JOURNAL_BLOCK`` ids from the database (one write per block) and numbers its exchanges from
  them, so ids are unique across processes and hosts, rising within a process;
- the edge hands the exchange over after the answer is ready (``Recorder.record``: an append to a
  list); a thread of the recorder's own takes what has gathered ``FLUSH_DELAY`` seconds after the
  first of it came in, masks the bodies, and writes the exchanges of each account as one chunk
  (``store.journal``: a row of summaries and bodies, compressed) in one transaction;
- the ring is kept by its readers and a trim now and then: reads show an account's newest
  ``size`` exchanges, and a process trims the account's chunks of older ones once it has written
  ``size // 10`` of its exchanges since its last trim.

Masking happens as exchanges are written, not as they are read: the journal's rows then never
hold a session ticket or a password (the store keeps only hashes of both), whoever reads the
database. It is a third of what recording costs now.

Exchanges of an account that was removed before they were written are dropped with it. The
control plane's reads in the process that answered an exchange see it at once (they write what
is pending first); other processes see it within ``FLUSH_DELAY`` and a transaction.
"""

from __future__ import annotations

import logging
import re
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.exc import IntegrityError

from openpws.config import Settings
from openpws.exchange import NO_OPERATION, Exchange
from openpws.services.sandbox import NotFound
from openpws.store import journal as store
from openpws.store import sandbox as sandbox_store
from openpws.store.journal import JOURNAL_BLOCK, Filter, micros
from openpws.store.journal import Row as Entry
from openpws.store.transactions import Store

__all__ = ["JOURNAL_BLOCK", "Entry", "Filter", "Recorder", "mask"]

log = logging.getLogger("openpws")

# How long the writer gathers exchanges before writing them (seconds).
FLUSH_DELAY = 0.025
# Exchanges written in one transaction at most.
BATCH = 500
# The request or response kept at most (bytes); a longer one is cut, and says so.
MAX_XML_BYTES = 1_000_000
MASK = b"***"
_MARKERS = (b"SessionTicket", b"Password")

# The text of every element whose local name is SessionTicket or Password, or ends so, matched at
# the element's "<". Its text is runs of characters other than "<" and CDATA sections; a run is
# taken whole at once (possessive: an end inside a run is never followed by "</", so nothing is
# lost), which made the match three times as fast as taking it a character at a time.
_SECRET = re.compile(
    rb"(<(?:[A-Za-z_][\w.\-]*:)?[A-Za-z_]*(?:SessionTicket|Password)(?:\s[^>]*)?(?<!/)>)"
    rb"((?:[^<]++|<!\[CDATA\[.*?\]\]>)+)(?=</)", re.DOTALL)


def _markers(xml: bytes) -> list[int]:
    """Where SessionTicket and Password occur in ``xml``, in order (found by bytes.find, in C)."""
    found = []
    for marker in _MARKERS:
        at = xml.find(marker)
        while at >= 0:
            found.append(at)
            at = xml.find(marker, at + len(marker))
    return sorted(found)


def mask(xml: bytes) -> bytes:
    """``xml`` with the values of session tickets and passwords replaced by ***.

    The pattern is tried only at the "<" before each occurrence of a marker, not across the whole
    body: an element it masks has the marker in its name, and no "<" lies between the name and
    its element's "<", so these are the only places a match can start (a regular expression's
    pass over a whole envelope cost more than the rest of masking it)."""
    kept: list[bytes] = []
    done = 0
    for at in _markers(xml):
        if at < done:  # inside what was just masked (its value, or its end tag)
            continue
        start = xml.rfind(b"<", done, at)
        found = _SECRET.match(xml, start) if start >= 0 else None
        if found is None or found.end(1) <= at:  # a closing tag, text, or an attribute's value
            continue
        kept += (xml[done:found.end(1)], MASK)
        done = found.end()
    if not kept:
        return xml
    kept.append(xml[done:])
    return b"".join(kept)


def _kept(xml: bytes) -> bytes:
    """``xml`` masked, and cut at MAX_XML_BYTES."""
    masked = mask(xml)
    if len(masked) > MAX_XML_BYTES:
        masked = masked[:MAX_XML_BYTES] + f"…[cut: {len(masked) - MAX_XML_BYTES} more bytes]".encode()
    return masked


def _entry(exchange: Exchange) -> tuple[Any, ...]:
    """The exchange as the store keeps it (``store.journal.ENTRY``)."""
    # A request refused before its work ran has no instant of its own: its arrival, real time.
    real = exchange.real
    real_us = round(exchange.wall_time * 1_000_000) if real is None else micros(real)
    shown, login, operation = exchange.account_time, exchange.user, exchange.operation
    return (exchange.request_id, real_us, real_us if shown is None else micros(shown), login[:100] if login else None,
            None if operation == NO_OPERATION else operation, exchange.http_status, exchange.status, exchange.errors,
            round(exchange.seconds * 1000, 3), exchange.not_modelled, exchange.fault_rule,
            _kept(exchange.request), _kept(exchange.response))


class Recorder:
    """A server process's recorder (the HTTP edge's ``Journal``): numbers exchanges and writes them."""

    def __init__(self, store_: Store, settings: Settings, *, flush_delay: float = FLUSH_DELAY) -> None:
        self.store = store_
        self.on = settings.journal_on
        self.size = settings.journal_size
        self.flush_delay = flush_delay
        self._ids = threading.Lock()
        self._next = self._end = 0
        self._changed = threading.Condition()
        self._pending: list[Exchange] = []
        self._writing = threading.Lock()
        self._stopped = False
        self._thread: threading.Thread | None = None
        # Per account (None: server-wide): exchanges this process wrote since it last trimmed it.
        self._since_trim: dict[int | None, int] = {}
        self._trim_every = max(1, self.size // 10)

    def next_id(self) -> int:
        with self._ids:
            if self._next >= self._end:
                with self.store.write() as tx:
                    block = store.take_block(tx)
                self._next, self._end = block * JOURNAL_BLOCK + 1, (block + 1) * JOURNAL_BLOCK + 1
            ident = self._next
            self._next += 1
            return ident

    def record(self, exchange: Exchange) -> None:
        if not self.on:
            return
        with self._changed:
            self._pending.append(exchange)
            if self._thread is None and not self._stopped:
                self._thread = threading.Thread(target=self._write_forever, name="openpws-journal", daemon=True)
                self._thread.start()
            elif len(self._pending) == 1:
                self._changed.notify()

    def flush(self) -> None:
        """Write every exchange this process has answered and not yet written.

        What comes in meanwhile waits for the next flush: taken at once, a stream of requests made
        the writer write a few exchanges at a time, each write's cost shared by few."""
        with self._writing:
            with self._changed:
                pending, self._pending = self._pending, []
            for first in range(0, len(pending), BATCH):
                batch = pending[first:first + BATCH]
                try:
                    self._write(batch)
                except Exception:
                    log.exception("writing %d request journal entries failed", len(batch))

    def close(self) -> None:
        """Write what is pending and stop the writer."""
        with self._changed:
            self._stopped = True
            self._changed.notify()
        thread = self._thread
        if thread is not None:
            thread.join(timeout=10)
        self.flush()

    def _write_forever(self) -> None:
        while True:
            with self._changed:
                while not self._pending and not self._stopped:
                    self._changed.wait()
                if self._stopped:
                    return
            time.sleep(self.flush_delay)  # let more gather: one transaction writes them all
            self.flush()

    def _write(self, batch: Sequence[Exchange]) -> None:
        # By account: the code the exchange named it by, and its entries. An account's id can be
        # another account's by the time the batch is written (SQLite hands out a removed account's
        # id again), so the entries go only to an account that has that id and that code still.
        by_account: dict[int | None, tuple[str | None, list[tuple[Any, ...]]]] = {}
        for exchange in batch:
            found = by_account.get(exchange.account_id)
            if found is None:
                code = None if exchange.account is None else exchange.account.lower()
                by_account[exchange.account_id] = (code, [_entry(exchange)])
            else:
                found[1].append(_entry(exchange))
        try:
            self._insert(by_account)
        except IntegrityError:
            # An account was removed after the check (PostgreSQL: its row was not held yet): its
            # exchanges go with it, and the others are written again.
            self._insert(by_account)

    def _insert(self, by_account: dict[int | None, tuple[str | None, list[tuple[Any, ...]]]]) -> None:
        with self.store.write() as tx:
            live = store.account_codes(tx, (ident for ident in by_account if ident is not None))
            rows = [row for account_id, (code, entries) in by_account.items()
                    if account_id is None or (code is not None and live.get(account_id) == code)
                    for row in store.chunks(account_id, entries)]
            if not rows:
                return
            store.insert_chunks(tx, rows)
            written: dict[int | None, int] = {}
            for row in rows:
                written[row[1]] = written.get(row[1], 0) + row[4]
            for account_id, count in written.items():
                since = self._since_trim.get(account_id, 0) + count
                if since >= self._trim_every:
                    store.trim(tx, account_id, self.size)
                    since = 0
                self._since_trim[account_id] = since

# --- reading (the control plane's calls) -----------------------------------------------------------

@dataclass(frozen=True)
class Journals:
    """Reads of the journals in ``store_``; ``before`` runs first (the recorder's flush in a server)."""

    store: Store
    settings: Settings
    before: Callable[[], None] = lambda: None

    @property
    def size(self) -> int:
        return self.settings.journal_size

    def _account(self, tx: Any, code: str | None, real: datetime) -> int | None:
        if code is None:
            return None
        state = sandbox_store.find_state(tx, code)
        if state is None or state.expired(real):
            raise NotFound(f"there is no account {code!r}", "code")
        return state.id

    def entries(self, code: str | None, given: Filter, limit: int | None, real: datetime, *,
                xml: bool = False, oldest_first: bool = False) -> list[Entry]:
        """The journal of account ``code`` (None: the server-wide one), newest first."""
        self.before()
        with self.store.read() as tx:
            return store.read(tx, self._account(tx, code, real), self.size, given, limit, xml=xml,
                              oldest_first=oldest_first)

    def entry(self, code: str | None, ident: int, real: datetime) -> Entry:
        self.before()
        with self.store.read() as tx:
            found = store.find(tx, self._account(tx, code, real), self.size, ident)
        if found is None:
            raise NotFound(f"there is no request {ident} in {'account ' + repr(code) if code else 'the server-wide'}"
                           " journal", "id")
        return found

    def count(self, code: str | None, given: Filter, body_contains: str | None, real: datetime) -> int:
        """How many exchanges ``given`` lets through whose request holds ``body_contains``."""
        if body_contains is None:
            return len(self.entries(code, given, None, real))
        return sum(body_contains in (entry.request_xml or "")
                   for entry in self.entries(code, given, None, real, xml=True))

    def clear(self, code: str | None, real: datetime) -> None:
        self.before()
        with self.store.write() as tx:
            store.clear(tx, self._account(tx, code, real))

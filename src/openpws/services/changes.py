"""The change journal (SPEC "The sandbox", Change journal): every write request's changed rows,
before and after, under the id of its request-journal entry (its X-Openpws-Request-Id).

Recording hangs off the request's unit of work: ``services.context.perform`` puts a recorder on
the transaction of every write (``store.changes``), the store's writing statements report to it
what they changed, and before the transaction commits ``record`` writes what it gathered as one
row of the change journal. So a write that fails or rolls back records nothing, and a write that
commits always has its record. A preview (``preview``) runs the same way and is rolled back; its
record, written afterwards in a transaction of its own, is flagged as a preview and changes
nothing undo could put back.

Each account keeps its newest OPENPWS_JOURNAL_SIZE records, as the request journal keeps its
exchanges: reads see that window; a process trims the rest now and then.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection

from openpws.clock import RequestTime, utc
from openpws.config import Settings
from openpws.services import change_tree
from openpws.services.sandbox import Invalid, NotFound
from openpws.store import change_journal as store
from openpws.store import changes as capture
from openpws.store import sandbox as sandbox_store
from openpws.store.change_journal import Filter, Record
from openpws.store.changes import ReadPart, Recorder
from openpws.store.transactions import Store

__all__ = ["Filter", "Record"]

# The operation an undo's own record names.
UNDO = "Undo"
# Records listed at most.
LIST_LIMIT = 1000


class _Trims:
    """Per account: records this process wrote since it last trimmed the account's journal."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._since: dict[int, int] = {}

    def due(self, account_id: int, size: int) -> bool:
        with self._lock:
            written = self._since.get(account_id, 0) + 1
            due = written >= max(1, size // 10)
            self._since[account_id] = 0 if due else written
            return due


_TRIMS = _Trims()


def _naive(moment: datetime) -> datetime:
    return utc(moment).replace(tzinfo=None)


def record(tx: Connection, settings: Settings, time: RequestTime, recorder: Recorder, *,
           ident: int | None = None, operation: str | None = None, undoes: int | None = None,
           preview: bool = False) -> None:
    """Write what ``recorder`` gathered as the change-journal row of the request (``ident``: its
    id, by default its exchange's) in ``tx``, and trim the account's journal now and then."""
    exchange = time.exchange
    account_id = exchange.account_id
    ident = exchange.request_id if ident is None else ident
    if account_id is None or not ident or not recorder.parts:
        return
    kinds = sorted({kind for part in recorder.parts if (kind := change_tree.kind_of(part.table)) is not None})
    store.insert_record(tx, {
        "id": ident, "account_id": account_id, "real_at": _naive(time.real), "time": _naive(time.now),
        "login": exchange.user[:100] if exchange.user else None,
        "operation": operation or exchange.operation, "preview": preview, "undoes": undoes,
        "kinds": ("," + ",".join(kinds) + ",")[:200], "rows": recorder.rows,
        "parts": capture.parts_text(recorder.parts)})
    if _TRIMS.due(account_id, settings.journal_size):
        store.trim(tx, account_id, settings.journal_size)


def record_preview(the_store: Store, settings: Settings, time: RequestTime, recorder: Recorder) -> None:
    """A preview's record, after its own transaction was rolled back."""
    if settings.changes_on and time.exchange.request_id and recorder.parts:
        with the_store.write() as tx:
            record(tx, settings, time, recorder, preview=True)


def preview_tree(tx: Connection, time: RequestTime, recorder: Recorder) -> list[dict[str, Any]]:
    """The change tree of a preview, read in its transaction before it is rolled back."""
    account_id = time.exchange.account_id
    if account_id is None or not recorder.parts:
        return []
    return change_tree.tree(tx, account_id, capture.live_parts(recorder))


# --- reading ----------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Entry:
    """One request's changes, as the control plane shows them."""

    id: int
    time: datetime  # aware UTC, the account's clock
    user: str | None
    operation: str | None
    preview: bool
    undoes: int | None
    undone_by: int | None
    rows: int
    changes: list[dict[str, Any]]

    def json(self) -> dict[str, Any]:
        return {"id": self.id, "time": self.time.isoformat().replace("+00:00", "Z"), "user": self.user,
                "operation": self.operation, "preview": self.preview, "undoes": self.undoes,
                "undone_by": self.undone_by, "rows": self.rows, "changes": self.changes}


def entry_of(tx: Connection, found: Record) -> Entry:
    parts = capture.read_parts(found.parts) if found.parts else []
    return Entry(found.id, utc(found.time), found.login, found.operation, found.preview, found.undoes,
                 found.undone_by, found.rows, change_tree.tree(tx, found.account_id, parts))


def _names(parts: Sequence[ReadPart], kind: str | None, code: str) -> bool:
    """Whether the parts changed a row (of ``kind``) whose code, or Uid, is ``code``."""
    wanted = code.strip().upper()
    for change in change_tree.pair(parts):
        shape_kind = change_tree.kind_of(change.table)
        if kind is not None and shape_kind != kind:
            continue
        for row in (change.before_row(), change.after_row()):
            if row is None:
                continue
            item_code, uid = change_tree.code_and_uid(change.table, row)
            if (item_code is not None and item_code.upper() == wanted) or (uid is not None and str(uid) == wanted):
                return True
    return False


@dataclass(frozen=True)
class ChangeJournal:
    """Reads of the change journals in ``store``."""

    store: Store
    settings: Settings

    def account_id(self, tx: Connection, code: str, real: datetime) -> int:
        state = sandbox_store.find_state(tx, code)
        if state is None or state.expired(real):
            raise NotFound(f"there is no account {code!r}", "code")
        return state.id

    def entries(self, code: str, given: Filter, named: str | None, limit: int, real: datetime) -> list[Entry]:
        """The account's records, newest first, that ``given`` lets through and (with ``named``)
        changed a row of that code or Uid."""
        if given.kind is not None and given.kind not in change_tree.KINDS:
            raise Invalid(f"entity must be one of {', '.join(change_tree.KINDS)}", "entity")
        with self.store.read() as tx:
            account_id = self.account_id(tx, code, real)
            found = store.read(tx, account_id, self.settings.journal_size, given, None if named else limit)
            if named:
                found = [r for r in found if r.parts and _names(capture.read_parts(r.parts), given.kind, named)]
            return [entry_of(tx, r) for r in found[:limit]]

    def entry(self, code: str, ident: int, real: datetime) -> Entry:
        with self.store.read() as tx:
            account_id = self.account_id(tx, code, real)
            found = store.find(tx, account_id, self.settings.journal_size, ident)
            if found is None:
                raise NotFound(f"there are no changes of request {ident} in account {code!r}", "id")
            return entry_of(tx, found)

    def clear(self, code: str, real: datetime) -> None:
        with self.store.write() as tx:
            store.clear(tx, self.account_id(tx, code, real))

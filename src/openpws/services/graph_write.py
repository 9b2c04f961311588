"""The unit of work of every write to an engagement graph (an engagement, its contract line items,
its projects, their roles and hours).

Every save and delete in a graph follows one protocol, and this is the one place it is written:

1. ``GraphWrite.open`` row-locks the engagement (several, in id order, never deadlocking) and
   reads it again: writers of one graph take turns, and one that committed while this waited is
   seen now. A graph a concurrent delete removed answers ``gone`` (the entity's not-found), as
   the serial order would.
2. ``reread`` reads the written entity (or its parent) again under that lock, with the same
   answer when it is gone: so a role is never inserted into a project removed meanwhile.
3. ``guard`` runs the lock guard over what the write reaches (raising the LockConflict or
   stealing as the request asks) and keeps what was stolen for the response (``stolen``).
4. ``check`` compares the optimistic timestamps sent with the rows as they are now.
5. The write takes ``version``, one new row version shared by the entity and its engagement
   graph (one write, one version), and ``bump`` gives the graph that version.

``changes`` lists what the write touched, kind and id, in the order it did.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TypeVar

from sqlalchemy import Connection

from openpws import errors
from openpws.entities import EngagementRow
from openpws.services import locks
from openpws.services.checks import Stamp, check_timestamps
from openpws.services.context import Context
from openpws.services.locks import Assertion, Scope
from openpws.store import engagements as engagement_store
from openpws.store.counters import next_rowversion

R = TypeVar("R")


@dataclass(frozen=True)
class Change:
    kind: str  # engagement, contract_line_item, project, role, hours
    action: str  # insert, update, delete
    id: int


class GraphWrite:
    def __init__(self, ctx: Context, engagements: Mapping[int, EngagementRow]) -> None:
        self.ctx = ctx
        self.engagements = dict(engagements)
        self.stolen = locks.Stolen()
        self.changes: list[Change] = []
        self._version: int | None = None

    @classmethod
    def open(cls, ctx: Context, engagement_ids: Iterable[int], gone: errors.PwsError | None = None) -> GraphWrite:
        """Lock the graphs of ``engagement_ids`` (in id order) for the rest of the transaction;
        ``gone`` (by default 54061) when a request that committed meanwhile deleted one."""
        locked = {}
        for engagement_id in sorted(set(engagement_ids)):
            row = engagement_store.lock(ctx.tx, ctx.user.account_id, engagement_id)
            if row is None:
                raise gone or errors.fail(errors.ENGAGEMENT_NOT_FOUND, "deleted by a request that completed meanwhile")
            locked[engagement_id] = row
        return cls(ctx, locked)

    @property
    def tx(self) -> Connection:
        return self.ctx.tx

    @property
    def engagement(self) -> EngagementRow:
        """The one engagement of a write to one graph."""
        assert len(self.engagements) == 1
        return next(iter(self.engagements.values()))

    def reread(self, read: Callable[[Connection, int, Iterable[int]], dict[int, R]], row_id: int,
               gone: errors.PwsError) -> R:
        """The row ``row_id`` as it is now, under the graph's lock; ``gone`` when a request that
        committed meanwhile removed it."""
        row = read(self.tx, self.ctx.user.account_id, [row_id]).get(row_id)
        if row is None:
            raise gone
        return row

    def guard(self, scopes: Sequence[Scope], assertion: Assertion = locks.NO_ASSERTION) -> locks.Stolen:
        """The lock guard over everything the write reaches (the graphs are locked already)."""
        self.stolen = locks.guard(self.tx, self.ctx.user, scopes, assertion, self.ctx.now)
        return self.stolen

    def check(self, entity: str, label: str, current: int, *sent: Stamp | None) -> None:
        check_timestamps(entity, label, current, *sent)

    def check_engagement(self, *sent: Stamp | None) -> None:
        engagement = self.engagement
        check_timestamps("engagement", f"engagement {engagement.code}", engagement.rowversion, *sent)

    @property
    def version(self) -> int:
        """The write's one new row version (taken on first use)."""
        if self._version is None:
            self._version = next_rowversion(self.tx)
        return self._version

    def bump(self, engagement_id: int | None = None, *, shared: bool = True) -> int:
        """Give an engagement graph its new version: the write's own (``shared``), or one of its
        own when one request writes several entities of the graph. Returns it."""
        engagement = self.engagements[engagement_id] if engagement_id is not None else self.engagement
        version = engagement_store.bump(self.tx, engagement.id, self.ctx.now,
                                        version=self.version if shared else None)
        self.note("engagement", "update", engagement.id)
        return version

    def note(self, kind: str, action: str, row_id: int) -> None:
        self.changes.append(Change(kind, action, row_id))

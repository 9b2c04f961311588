"""Snapshots of an account: every row of its data, locks and settings at one moment, kept as one
compressed image in a row of ``snapshots``, and put back exactly by a restore: the same ids,
codes, Uids, row versions, lock sets and locks.

What an image holds is decided table by table (``HELD``, ``NOT_HELD``) and column by column of
the account's own row (``SETTINGS``, ``ACCOUNT_NOT_HELD``); a test fails when a table or column
is in neither, so a new one cannot be left out unnoticed. Sessions are not held: they live on
across a restore while their user exists. Nor are the account's clock and expiry, which belong
to the sandbox, not to the account's data.

Uids and row versions come from the database-wide counters (``counters.py``), which only grow.
Every value a restore puts back was handed out before, so no later write takes it again, and
every row version a later write takes is above every restored one. An EngagementTimestamp a
client read before the snapshot matches again after the restore, as it would after production
restored its database from a backup; one read after the snapshot never matches again.

A restore is one transaction of a handful of set-based statements per table: the account's rows
are deleted, children first, and the image's inserted, parents first. The account's users stay
in place (updated, not deleted and inserted again) so that their sessions, which concurrent
requests read, are untouched.

Ids: PostgreSQL's sequences never hand out an id twice, so the image's ids are free again once
the account's own rows are gone. SQLite gives a new row the highest id plus one: the id of a row
deleted while it was the highest may since have gone to a row of another account. A restore
gives the image's rows whose ids are taken new ones, and the rows that refer to them the new ids,
and leaves the other account alone.

Concurrent writers (PostgreSQL): the restore first locks the account's engagements and then the
account's row (FOR UPDATE), in the order graph writers take them, which holds back every graph
write, every insert of the account's rows (their foreign key to it takes a key-share lock) and
every writer that takes the account's numbering lock. A writer already under way may still hold
rows the restore must delete, and wait in turn for a row the restore holds; so the restore waits
at most ``LOCK_WAIT_MS`` for any lock and gives way (``Busy``, nothing done) rather than take
part in a deadlock, which the database would settle by failing the writer.
"""

from __future__ import annotations

import json
import zlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import Connection, Date, DateTime, Table, bindparam, delete, func, insert, select, text, update
from sqlalchemy.exc import OperationalError

from openpws.store import statements
from openpws.store.schema import (
    accounts,
    clients,
    contract_line_items,
    engagements,
    invoices,
    lock_sets,
    locks,
    metadata,
    project_roles,
    projects,
    role_allocation_notes,
    role_hours,
    role_notes,
    sessions,
    snapshots,
    stages,
    user_permissions,
    users,
)

# The image's layout; an image names its format, so that a later one can still read it.
FORMAT = 1
# zlib's fastest level: an image of 10,000 rows shrinks about tenfold at it, and a higher level
# costs more time than the few bytes it saves are worth (measured in bench/snapshots.py).
COMPRESSION = 1

_HELD = {users, user_permissions, stages, clients, engagements, contract_line_items, projects, project_roles,
         role_hours, role_allocation_notes, role_notes, invoices, lock_sets, locks}
# The tables an image holds, parents first (the order rows are inserted in; deletes go the other way).
HELD: tuple[Table, ...] = tuple(t for t in metadata.sorted_tables if t in _HELD)
# The tables it does not hold, and why.
NOT_HELD: Mapping[str, str] = {
    "accounts": "the account's row stays; its settings (SETTINGS) are held",
    "sessions": "sessions live on across a restore while their user exists",
    "snapshots": "an account's snapshots are not part of its state",
    "counters": "shared by every account, and they only grow",
}
# The columns of the account's row an image holds: its settings.
SETTINGS = ("name", "week_start")
ACCOUNT_NOT_HELD = ("id", "uid", "code", "code_key", "created_at", "clock_frozen_at", "clock_offset_us",
                    "expires_at", "fixture_name")

# Columns that hold an id of another table without a foreign key (a lock places itself in its
# engagement's graph), and a lock's entity_id, whose table its entity_type names.
_UNDECLARED = {("locks", "engagement_id"): "engagements", ("locks", "project_id"): "projects"}
_LOCKED_ENTITY = {"E": "engagements", "P": "projects", "R": "project_roles"}

# How long a restore on PostgreSQL waits for a lock before it gives way (well below the
# database's deadlock_timeout of 1 s, so that in a deadlock the restore is the one to give way).
LOCK_WAIT_MS = 200
_LOCK_NOT_AVAILABLE = "55P03"
# Ids asked about in one statement (SQLite allows 32,766 parameters).
_ID_BATCH = 10_000


class Busy(Exception):
    """A restore waited too long for rows other transactions hold; nothing was done."""


class Unrestorable(Exception):
    """The image lacks a column its table now requires (taken by an older schema)."""


@dataclass(frozen=True)
class Image:
    """What a snapshot holds: the account's settings, and per table (by name) its column names
    and its rows as lists of JSON values (times as ISO 8601 text), parents before children."""

    settings: dict[str, Any]
    tables: dict[str, tuple[list[str], list[list[Any]]]]

    @property
    def rows(self) -> int:
        return sum(len(rows) for _, rows in self.tables.values())


@dataclass(frozen=True)
class SnapshotRow:
    id: int
    account_id: int
    name: str | None
    creation: bool
    taken_at: datetime  # naive UTC, on the account's clock
    rows: int
    counts: dict[str, int]
    size: int  # bytes of the compressed image


# --- images ---------------------------------------------------------------------------------------

def _owned(table: Table, account_id: int) -> Any:
    """The condition a row of ``table`` meets when it belongs to the account: its account_id, or
    for a table without one (hours, notes, permissions) that of the row it belongs to."""
    if "account_id" in table.c:
        return table.c.account_id == account_id
    for key in table.foreign_keys:
        owner = key.column.table
        if "account_id" in owner.c:
            return key.parent.in_(select(owner.c.id).where(owner.c.account_id == account_id))
    raise AssertionError(f"{table.name} belongs to no account")


def _temporal(table: Table, names: Sequence[str]) -> list[tuple[int, type[date]]]:
    """The positions of ``names`` that are times or dates, with the type each holds."""
    found: list[tuple[int, type[date]]] = []
    for i, name in enumerate(names):
        kind = table.c[name].type if name in table.c else None
        if isinstance(kind, DateTime):
            found.append((i, datetime))
        elif isinstance(kind, Date):
            found.append((i, date))
    return found


def _parents_first(table: Table, names: list[str], rows: list[list[Any]]) -> list[list[Any]]:
    """The rows with every parent before its children, for a table whose rows refer to each
    other (a client's parent): each row is inserted by a statement of its own on SQLite, which
    checks its foreign key at once."""
    own = [names.index(key.parent.name) for key in table.foreign_keys if key.column.table is table]
    if not own:
        return rows
    [parent] = own
    at = names.index("id")
    placed: set[Any] = set()
    ordered: list[list[Any]] = []
    waiting = rows
    while waiting:
        later = []
        for row in waiting:
            if row[parent] is None or row[parent] in placed:
                placed.add(row[at])
                ordered.append(row)
            else:
                later.append(row)
        if len(later) == len(waiting):
            raise AssertionError(f"{table.name}: rows whose parents are not the account's")
        waiting = later
    return ordered


def capture(connection: Connection, account_id: int) -> Image:
    """Every row the account holds in the HELD tables, and its settings: one query per table,
    in the caller's (read) transaction, which sees one moment of the database."""
    [settings] = statements.rows(connection, select(*(accounts.c[name] for name in SETTINGS))
                                 .where(accounts.c.id == account_id))
    tables: dict[str, tuple[list[str], list[list[Any]]]] = {}
    for table in HELD:
        names = [column.name for column in table.c]
        query = select(*table.c).where(_owned(table, account_id)).order_by(*table.primary_key.columns)
        rows = [list(row) for row in statements.rows(connection, query)]
        for i, _ in _temporal(table, names):
            for row in rows:
                if row[i] is not None:
                    row[i] = row[i].isoformat()
        tables[table.name] = (names, _parents_first(table, names, rows))
    return Image(dict(zip(SETTINGS, settings, strict=True)), tables)


def pack(image: Image) -> bytes:
    document = {"format": FORMAT, "settings": image.settings,
                "tables": {name: {"columns": names, "rows": rows} for name, (names, rows) in image.tables.items()}}
    return zlib.compress(json.dumps(document, separators=(",", ":")).encode(), COMPRESSION)


def unpack(data: bytes) -> Image:
    document = json.loads(zlib.decompress(data))
    if document.get("format") != FORMAT:
        raise Unrestorable(f"the snapshot's image is of format {document.get('format')!r}; this openpws reads {FORMAT}")
    return Image(document["settings"], {name: (part["columns"], part["rows"])
                                        for name, part in document["tables"].items()})


# --- the snapshots table --------------------------------------------------------------------------

def save(connection: Connection, account_id: int, *, name: str | None, creation: bool, taken_at: datetime,
         rows: int, counts: Mapping[str, int], image: bytes) -> int:
    return int(statements.scalar(connection, insert(snapshots).values(
        account_id=account_id, name=name, creation=creation, taken_at=taken_at, rows=rows,
        counts=json.dumps(dict(counts)), image=image).returning(snapshots.c.id)))


_LISTED = select(snapshots.c.id, snapshots.c.account_id, snapshots.c.name, snapshots.c.creation,
                 snapshots.c.taken_at, snapshots.c.rows, snapshots.c.counts, func.length(snapshots.c.image))


def _listed(row: Sequence[Any]) -> SnapshotRow:
    snapshot_id, account_id, name, creation, taken_at, rows, counts, size = row
    return SnapshotRow(snapshot_id, account_id, name, bool(creation), taken_at, rows, json.loads(counts), int(size))


def listed(connection: Connection, account_id: int, limit: int) -> list[SnapshotRow]:
    """The account's snapshots, newest first."""
    query = _LISTED.where(snapshots.c.account_id == account_id).order_by(snapshots.c.id.desc()).limit(limit)
    return [_listed(row) for row in statements.rows(connection, query)]


def find(connection: Connection, account_id: int, snapshot_id: int) -> SnapshotRow | None:
    found = statements.rows(connection, _LISTED.where(snapshots.c.account_id == account_id,
                                                      snapshots.c.id == snapshot_id))
    return _listed(found[0]) if found else None


def of_creation(connection: Connection, account_id: int) -> SnapshotRow | None:
    """The snapshot taken as the account was created."""
    found = statements.rows(connection, _LISTED.where(snapshots.c.account_id == account_id, snapshots.c.creation)
                            .order_by(snapshots.c.id.desc()).limit(1))
    return _listed(found[0]) if found else None


def image_of(connection: Connection, snapshot_id: int) -> bytes:
    return bytes(statements.scalar(connection, select(snapshots.c.image).where(snapshots.c.id == snapshot_id)))


# --- restoring ------------------------------------------------------------------------------------

def _rows_for(table: Table, names: list[str], rows: list[list[Any]]) -> list[dict[str, Any]]:
    """The image's rows of ``table`` as the values to insert: the columns the table still has,
    times and dates as Python values. A column the table has gained since goes to its default."""
    needed = [column.name for column in table.c if column.name not in names and not column.nullable
              and column.server_default is None]
    if needed:
        raise Unrestorable(f"the snapshot has no {', '.join(needed)} for its rows of {table.name}: "
                           "it was taken before openpws kept them")
    kept = [(i, name) for i, name in enumerate(names) if name in table.c]
    temporal = _temporal(table, names)
    for row in rows:
        for i, kind in temporal:
            if row[i] is not None:
                row[i] = kind.fromisoformat(row[i])
    return [{name: row[i] for i, name in kept} for row in rows]


def restore(connection: Connection, account_id: int, image: Image) -> None:
    """Put the account's rows and settings back as ``image`` holds them, in the caller's write
    transaction. Busy when PostgreSQL rows it must change stayed held too long. The image is
    spent: its rows become the inserted values."""
    postgresql = connection.dialect.name == "postgresql"
    try:
        if postgresql:
            statements.rows(connection, text("SELECT set_config('lock_timeout', :wait, true)"),
                            {"wait": f"{LOCK_WAIT_MS}ms"})
            # In the order writers take them: their engagements (in id order), then the account's row.
            statements.rows(connection, select(engagements.c.id).where(engagements.c.account_id == account_id)
                            .order_by(engagements.c.id).with_for_update())
            statements.rows(connection, select(accounts.c.id).where(accounts.c.id == account_id).with_for_update())
        _restore(connection, account_id, image, move_taken_ids=not postgresql)
    except OperationalError as error:
        if getattr(error.orig, "sqlstate", None) == _LOCK_NOT_AVAILABLE:
            raise Busy from None
        raise


def _restore(connection: Connection, account_id: int, image: Image, *, move_taken_ids: bool) -> None:
    rows = {table.name: _rows_for(table, *image.tables.get(table.name, ([], []))) for table in HELD}
    for table in reversed(HELD):
        if table is not users:
            statements.change(connection, delete(table).where(_owned(table, account_id)))

    # The users stay where they are, with their sessions: those the image holds (the same id and
    # Uid) are updated to it; the others go, with their sessions.
    current = dict(statements.rows(connection, select(users.c.id, users.c.uid).where(users.c.account_id == account_id)))
    kept = [row for row in rows["users"] if current.get(row["id"]) == row["uid"]]
    kept_ids = {row["id"] for row in kept}
    gone = [user_id for user_id in current if user_id not in kept_ids]
    if gone:
        statements.change(connection, delete(sessions).where(sessions.c.user_id.in_(gone)))
        statements.change(connection, delete(users).where(users.c.id.in_(gone)))
    if kept:
        # The SET clause is every other column of the parameters.
        statements.change(connection, update(users).where(users.c.id == bindparam("user_id")),
                          [{"user_id": user_id, **others} for user_id, others in
                           ((row["id"], {k: v for k, v in row.items() if k != "id"}) for row in kept)])
    rows["users"] = [row for row in rows["users"] if row["id"] not in kept_ids]

    if move_taken_ids:
        _move_taken_ids(connection, rows)
    for table in HELD:
        if rows[table.name]:
            statements.change(connection, insert(table), rows[table.name])
    settings = {name: value for name, value in image.settings.items() if name in SETTINGS}
    if settings:
        statements.change(connection, update(accounts).where(accounts.c.id == account_id).values(settings))


def _move_taken_ids(connection: Connection, rows: dict[str, list[dict[str, Any]]]) -> None:
    """Give the rows to insert whose ids other rows hold (SQLite gave them out again) new ids,
    above every id of their table and of the image, and the rows that refer to them the new ones."""
    moved: dict[str, dict[int, int]] = {}
    for table in HELD:
        if "id" not in table.c or not rows[table.name]:
            continue
        ids = [row["id"] for row in rows[table.name]]
        taken: set[int] = set()
        for start in range(0, len(ids), _ID_BATCH):
            taken.update(statements.scalars(connection, select(table.c.id).where(
                table.c.id.in_(ids[start:start + _ID_BATCH]))))
        if taken:
            top = max(int(statements.scalar(connection, select(func.max(table.c.id))) or 0), max(ids))
            moved[table.name] = {old: top + n for n, old in enumerate(sorted(taken), 1)}
    if moved:
        _renumber(rows, moved)


def _renumber(rows: dict[str, list[dict[str, Any]]], moved: Mapping[str, Mapping[int, int]]) -> None:
    for table in HELD:
        references = [(key.parent.name, key.column.table.name) for key in table.foreign_keys]
        references += [(column, target) for (name, column), target in _UNDECLARED.items() if name == table.name]
        if "id" in table.c:
            references.append(("id", table.name))
        for column, target in references:
            new = moved.get(target)
            if new:
                for row in rows[table.name]:
                    row[column] = new.get(row[column], row[column])
    for row in rows["locks"]:
        new = moved.get(_LOCKED_ENTITY.get(row["entity_type"], ""))
        if new:
            row["entity_id"] = new.get(row["entity_id"], row["entity_id"])

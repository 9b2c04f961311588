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

A restore is one transaction of a few statements per table: the account's rows are deleted,
children first (one DELETE per table), and the image's inserted, parents first (on PostgreSQL one
INSERT … SELECT per table from the image's JSON; on SQLite one prepared INSERT that the driver
runs for each row in C). The account's users stay in place (updated, not deleted and inserted
again) so that their sessions, which concurrent requests read, are untouched.

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
from datetime import datetime
from typing import Any

from sqlalchemy import (
    Connection,
    Table,
    Text,
    bindparam,
    cast,
    delete,
    func,
    insert,
    literal_column,
    select,
    text,
    update,
)
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
# zlib's fastest level: the image of an account of 10,000 rows shrinks 10-fold (SQLite) to 23-fold
# (PostgreSQL) at it in 2-3 ms; level 6 saves 15-20% more for three times the time (measured).
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
    "fault_rules": "fault rules say how requests are answered, not what the account holds",
    "rate_limits": "rate limits say how requests are answered, not what the account holds",
    "rate_limit_hits": "hits count requests made, restores included, as the request journal does",
    "counters": "shared by every account, and they only grow",
    "journal": "the request journal records what clients did, restores included: a restore that rewound it "
               "would hide the very exchanges a test looks for",
    "journal_blocks": "the journal's id blocks are the server's, not an account's, and only grow",
    "change_journal": "the change journal records what requests changed, like the request journal; a restore "
                      "that rewound it would hide what undo needs to see (a row a restore put back is a conflict)",
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


class Busy(Exception):
    """A restore waited too long for rows other transactions hold; nothing was done."""


class Unrestorable(Exception):
    """The image cannot be put back: it lacks a column its table now requires, or is of another
    store or format."""


@dataclass(frozen=True)
class Part:
    """One table's rows in an image: its column names then, how many rows, and the rows as JSON
    text, as each store reads it back fastest: on SQLite an array of arrays of the values as the
    file holds them (times as SQLAlchemy writes them, flags as 0 and 1), which go back verbatim;
    on PostgreSQL an array of objects, built and read back by the database itself (json_agg,
    json_populate_recordset)."""

    columns: list[str]
    count: int
    rows: str


@dataclass(frozen=True)
class Image:
    """What a snapshot holds: the account's settings and its rows, per table (by name)."""

    dialect: str
    settings: dict[str, Any]
    tables: dict[str, Part]

    @property
    def rows(self) -> int:
        return sum(part.count for part in self.tables.values())


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

def _owned(table: Table, account: Any) -> Any:
    """The condition a row of ``table`` meets when it belongs to the account: its account_id, or
    for a table without one (hours, notes, permissions) that of the row it belongs to."""
    if "account_id" in table.c:
        return table.c.account_id == account
    for key in table.foreign_keys:
        owner = key.column.table
        if "account_id" in owner.c:
            return key.parent.in_(select(owner.c.id).where(owner.c.account_id == account))
    raise AssertionError(f"{table.name} belongs to no account")


def _compiled(connection: Connection, statement: Any) -> tuple[str, list[str]]:
    """A statement as the driver takes it, and the names of its parameters in order."""
    built = statement.compile(dialect=connection.dialect)
    return str(built), list(built.positiontup or ())


def _parents_first(table: Table, names: list[str], rows: list[Any]) -> list[Any]:
    """The rows with every parent before its children, for a table whose rows refer to each
    other (a client's parent): on SQLite each row is inserted by a statement of its own, which
    checks its foreign key at once."""
    own = [names.index(key.parent.name) for key in table.foreign_keys if key.column.table is table]
    if not own:
        return rows
    [parent] = own
    at = names.index("id")
    placed: set[Any] = set()
    ordered: list[Any] = []
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
    tables: dict[str, Part] = {}
    for table in HELD:
        names = [column.name for column in table.c]
        query = select(*table.c).where(_owned(table, bindparam("account")))
        if connection.dialect.name == "postgresql":
            rows = query.subquery("t")
            text_of_rows = cast(func.coalesce(func.json_agg(rows.table_valued()), text("'[]'::json")), Text)
            [(found, count)] = statements.rows(connection, select(text_of_rows, func.count()).select_from(rows),
                                               {"account": account_id})
            tables[table.name] = Part(names, int(count), str(found))
        else:
            sql, _ = _compiled(connection, query.order_by(*table.primary_key.columns))
            raw, _cursor = statements.cursor_rows(connection, sql, (account_id,))
            ordered = _parents_first(table, names, raw)
            tables[table.name] = Part(names, len(ordered), json.dumps(ordered, separators=(",", ":")))
    return Image(connection.dialect.name, dict(zip(SETTINGS, settings, strict=True)), tables)


def pack(image: Image) -> bytes:
    document = {"format": FORMAT, "dialect": image.dialect, "settings": image.settings,
                "tables": {name: {"columns": part.columns, "count": part.count, "rows": part.rows}
                           for name, part in image.tables.items()}}
    return zlib.compress(json.dumps(document, separators=(",", ":")).encode(), COMPRESSION)


def unpack(data: bytes) -> Image:
    document = json.loads(zlib.decompress(data))
    if document.get("format") != FORMAT:
        raise Unrestorable(f"its image is of format {document.get('format')!r}; this openpws reads {FORMAT}")
    tables = {name: Part(part["columns"], part["count"], part["rows"]) for name, part in document["tables"].items()}
    return Image(document["dialect"], document["settings"], tables)


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

def _columns(table: Table, part: Part) -> list[str]:
    """The image's columns the table still has. A column the table has gained since goes to its
    default; one it requires without a default makes the image unrestorable."""
    needed = [column.name for column in table.c if column.name not in part.columns and not column.nullable
              and column.server_default is None]
    if needed:
        raise Unrestorable(f"it has no {', '.join(needed)} for its rows of {table.name}: it was taken before "
                           "openpws kept them")
    return [name for name in part.columns if name in table.c]


def restore(connection: Connection, account_id: int, image: Image) -> None:
    """Put the account's rows and settings back as ``image`` holds them, in the caller's write
    transaction. Busy when PostgreSQL rows it must change stayed held too long."""
    if image.dialect != connection.dialect.name:
        raise Unrestorable(f"its image was taken on {image.dialect}, not {connection.dialect.name}")
    parts = {table.name: image.tables.get(table.name, Part([], 0, "[]")) for table in HELD}
    columns = {table.name: _columns(table, parts[table.name]) for table in HELD}
    if connection.dialect.name == "sqlite":
        _restore_sqlite(connection, account_id, parts, columns)
    else:
        try:
            _restore_postgresql(connection, account_id, parts, columns)
        except OperationalError as error:
            if getattr(error.orig, "sqlstate", None) == _LOCK_NOT_AVAILABLE:
                raise Busy from None
            raise
    settings = {name: value for name, value in image.settings.items() if name in SETTINGS}
    if settings:
        statements.change(connection, update(accounts).where(accounts.c.id == account_id).values(settings))


def _delete_all_but_users(connection: Connection, account_id: int) -> dict[int, int]:
    """Delete the account's rows, children first, but its users: the Uid of each of those by id."""
    for table in reversed(HELD):
        if table is not users:
            statements.change(connection, delete(table).where(_owned(table, account_id)))
    return {int(user_id): int(uid) for user_id, uid in statements.rows(
        connection, select(users.c.id, users.c.uid).where(users.c.account_id == account_id))}


def _drop_users(connection: Connection, gone: list[int]) -> None:
    """The users the image does not hold (another id, or the same id and another Uid), with their sessions."""
    if gone:
        statements.change(connection, delete(sessions).where(sessions.c.user_id.in_(gone)))
        statements.change(connection, delete(users).where(users.c.id.in_(gone)))


# The users stay where they are, with their sessions: each one the image holds (the same id and
# Uid) is updated to it, the others go, and the image's other users are inserted.

def _restore_sqlite(connection: Connection, account_id: int, parts: Mapping[str, Part],
                    columns: Mapping[str, list[str]]) -> None:
    rows: dict[str, list[list[Any]]] = {}
    for table in HELD:
        part, kept = parts[table.name], columns[table.name]
        found = json.loads(part.rows)
        if kept != part.columns:
            at = [part.columns.index(name) for name in kept]
            found = [[row[i] for i in at] for row in found]
        rows[table.name] = found
    current = _delete_all_but_users(connection, account_id)
    names = columns["users"]
    at_id, at_uid = names.index("id"), names.index("uid")
    held = [row for row in rows["users"] if current.get(row[at_id]) == row[at_uid]]
    held_ids = {row[at_id] for row in held}
    _drop_users(connection, [user_id for user_id in current if user_id not in held_ids])
    if held:
        others = [name for name in names if name != "id"]
        sql, order = _compiled(connection, update(users).where(users.c.id == bindparam("user_id"))
                               .values({name: bindparam(name) for name in others}))
        positions = [names.index("id") if name == "user_id" else names.index(name) for name in order]
        statements.cursor_change_many(connection, sql, [[row[i] for i in positions] for row in held])
    rows["users"] = [row for row in rows["users"] if row[at_id] not in held_ids]
    _move_taken_ids(connection, columns, rows)
    for table in HELD:
        if rows[table.name]:
            names = columns[table.name]
            sql, order = _compiled(connection, insert(table).values({name: bindparam(name) for name in names}))
            positions = [names.index(name) for name in order]
            values = rows[table.name] if positions == list(range(len(names))) else [
                [row[i] for i in positions] for row in rows[table.name]]
            statements.cursor_change_many(connection, sql, values)


def _move_taken_ids(connection: Connection, columns: Mapping[str, list[str]], rows: dict[str, list[list[Any]]]) -> None:
    """Give the rows to insert whose ids other rows hold (SQLite gave them out again) new ids,
    above every id of their table and of the image, and the rows that refer to them the new ones."""
    moved: dict[str, dict[int, int]] = {}
    for table in HELD:
        if "id" not in columns[table.name] or not rows[table.name]:
            continue
        at = columns[table.name].index("id")
        ids = [row[at] for row in rows[table.name]]
        sql, _ = _compiled(connection, select(table.c.id).where(
            table.c.id.in_(select(literal_column("value")).select_from(func.json_each(bindparam("ids"))))))
        taken, _cursor = statements.cursor_rows(connection, sql, (json.dumps(ids),))
        if taken:
            top = max(int(statements.scalar(connection, select(func.max(table.c.id))) or 0), max(ids))
            moved[table.name] = {old: top + n for n, (old,) in enumerate(sorted(taken), 1)}
    if not moved:
        return
    for table in HELD:
        names = columns[table.name]
        references = [(key.parent.name, key.column.table.name) for key in table.foreign_keys]
        references += [(column, target) for (name, column), target in _UNDECLARED.items() if name == table.name]
        references.append(("id", table.name))
        for column, target in references:
            new = moved.get(target)
            if new and column in names:
                at = names.index(column)
                for row in rows[table.name]:
                    row[at] = new.get(row[at], row[at])
    names = columns["locks"]
    at_type, at_entity = names.index("entity_type"), names.index("entity_id")
    for row in rows["locks"]:
        new = moved.get(_LOCKED_ENTITY.get(row[at_type], ""))
        if new:
            row[at_entity] = new.get(row[at_entity], row[at_entity])


def _from_json(connection: Connection, table: Table, names: list[str]) -> tuple[str, str]:
    """The quoted column list and the row source ``r`` of the JSON array of objects ``:rows``."""
    quote = connection.dialect.identifier_preparer.quote
    listed = ", ".join(quote(name) for name in names)
    return listed, f"json_populate_recordset(NULL::{quote(table.name)}, CAST(:rows AS json)) AS r"


def _restore_postgresql(connection: Connection, account_id: int, parts: Mapping[str, Part],
                        columns: Mapping[str, list[str]]) -> None:
    statements.rows(connection, text("SELECT set_config('lock_timeout', :wait, true)"), {"wait": f"{LOCK_WAIT_MS}ms"})
    # In the order writers take them: the account's engagements (in id order), then its row.
    statements.rows(connection, select(engagements.c.id).where(engagements.c.account_id == account_id)
                    .order_by(engagements.c.id).with_for_update())
    statements.rows(connection, select(accounts.c.id).where(accounts.c.id == account_id).with_for_update())
    current = _delete_all_but_users(connection, account_id)
    image_users = json.loads(parts["users"].rows)
    held = [row for row in image_users if current.get(row["id"]) == row["uid"]]
    held_ids = {row["id"] for row in held}
    _drop_users(connection, [user_id for user_id in current if user_id not in held_ids])
    quote = connection.dialect.identifier_preparer.quote
    if held:
        names = [name for name in columns["users"] if name != "id"]
        listed, source = _from_json(connection, users, names)
        values = ", ".join(f"r.{quote(name)}" for name in names)
        statements.change(connection, text(f"UPDATE users SET ({listed}) = ({values}) FROM {source} "  # noqa: S608
                                           "WHERE users.id = r.id"), {"rows": json.dumps(held)})
    for table in HELD:
        part = parts[table.name]
        if table is users:
            if len(held) == part.count:
                continue
            given = json.dumps([row for row in image_users if row["id"] not in held_ids])
        elif part.count:
            given = part.rows
        else:
            continue
        listed, source = _from_json(connection, table, columns[table.name])
        statements.change(connection, text(f"INSERT INTO {quote(table.name)} ({listed}) "  # noqa: S608
                                           f"SELECT {listed} FROM {source}"), {"rows": given})

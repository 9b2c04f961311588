"""Settings: one table of name, environment variable, default and help.

The same table drives ``openpws serve``'s defaults, ``docs/settings.md`` (a test keeps them equal)
and the values handed to worker processes, which read them from the environment.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, fields, replace
from typing import Any


@dataclass(frozen=True)
class Setting:
    name: str
    env: str
    default: Any
    cast: Callable[[str], Any]
    help: str


def boolean(text: str) -> bool:
    """A yes/no setting: true, yes, on or 1; false, no, off or 0 (any case)."""
    lowered = text.strip().lower()
    if lowered in ("true", "yes", "on", "1"):
        return True
    if lowered in ("false", "no", "off", "0"):
        return False
    raise ValueError(f"not a boolean: {text!r}")


STRICT, LENIENT = "strict", "lenient"


def member_order(text: str) -> str:
    """How requests' member order is read: strict or lenient (any case)."""
    lowered = text.strip().lower()
    if lowered not in (STRICT, LENIENT):
        raise ValueError(f"not {STRICT} or {LENIENT}: {text!r}")
    return lowered


TEXT, JSON = "text", "json"


def log_format(text: str) -> str:
    """How the server logs: text or json (any case)."""
    lowered = text.strip().lower()
    if lowered not in (TEXT, JSON):
        raise ValueError(f"not {TEXT} or {JSON}: {text!r}")
    return lowered


SETTINGS: tuple[Setting, ...] = (
    Setting("database_url", "OPENPWS_DATABASE_URL", "sqlite:///./openpws.db", str,
            "Database to use: sqlite:///FILE (embedded, the default) or postgresql://USER@HOST:PORT/DB."),
    Setting("host", "OPENPWS_HOST", "127.0.0.1", str, "Address the server listens on."),
    Setting("port", "OPENPWS_PORT", 8080, int, "TCP port the server listens on."),
    Setting("workers", "OPENPWS_WORKERS", 1, int,
            "Server processes. Each is stateless; all share the database (PostgreSQL, or one SQLite file "
            "on one host, where writers take turns)."),
    Setting("threads", "OPENPWS_THREADS", 8, int,
            "Requests one process works on at once on its worker threads (a thread each, so a request "
            "waiting on the database does not stall the others): every PostgreSQL request, and SQLite's "
            "long writes and writes that find another one under way (SQLite's reads and other short "
            "writes are answered on the event loop). Each thread keeps one database connection: a "
            "PostgreSQL server needs workers x (threads + 2) of them."),
    Setting("max_body_bytes", "OPENPWS_MAX_BODY_BYTES", 10 * 1024 * 1024, int,
            "Largest request body accepted, in bytes; a larger one is refused with HTTP 413 and a SOAP fault."),
    Setting("session_idle_minutes", "OPENPWS_SESSION_IDLE_MINUTES", 60.0, float,
            "A session ticket unused for this long expires (answered with -101 InvalidSession)."),
    Setting("session_lifetime_minutes", "OPENPWS_SESSION_LIFETIME_MINUTES", 720.0, float,
            "A session ticket expires this long after PwsAuthenticate, however much it is used."),
    Setting("scrypt_cost", "OPENPWS_SCRYPT_COST", 2**15, int,
            "scrypt work factor N for newly stored passwords (a power of two; each check then takes "
            "about 0.1 s of CPU at the default)."),
    Setting("sql_log", "OPENPWS_SQL_LOG", False, boolean,
            "Log every SQL statement the server runs, with its duration in ms, its row count and its "
            "parameter values, to the logger openpws.sql (at INFO; on stderr unless logging is set up "
            "otherwise). For debugging: the values include password hashes when users are created."),
    Setting("member_order", "OPENPWS_MEMBER_ORDER", STRICT, member_order,
            "How the members of a request are read. strict: as production does, in the contract's order; "
            "a member that comes out of that order, which production would skip, is refused with an "
            "s:Client fault naming it and the order expected (members whose place no documentation gives "
            "are read anywhere). lenient: in any order."),
    Setting("admin_token", "OPENPWS_ADMIN_TOKEN", "", str,
            "The token every control-plane call (/_openpws/api/) sends as Authorization: Bearer <token>. "
            "When it is unset, openpws serve generates one and prints it with the endpoint; a server "
            "built another way without one refuses every control-plane call."),
    Setting("log_format", "OPENPWS_LOG_FORMAT", TEXT, log_format,
            "How the server logs. text: as it always has (errors with their tracebacks, no line per "
            "request). json: one JSON line per PWS request on stderr (time, request_id as in the "
            "X-Openpws-Request-Id header, account, user, operation, status, errors, http_status, "
            "duration_ms, database_ms, pid), and every other record of the openpws loggers as a JSON line too."),
    Setting("journal", "OPENPWS_JOURNAL", True, boolean,
            "Keep the request journal: every PWS exchange, request and response XML with session tickets "
            "and passwords masked, per account (see docs/sandbox.md). off: nothing is recorded (responses "
            "still carry X-Openpws-Request-Id)."),
    Setting("journal_size", "OPENPWS_JOURNAL_SIZE", 1000, int,
            "The request journal keeps this many exchanges per account, and as many of those that name no "
            "account, the newest; 0 turns it off like OPENPWS_JOURNAL=off. The change journal keeps as many "
            "write requests per account."),
    Setting("change_journal", "OPENPWS_CHANGE_JOURNAL", True, boolean,
            "Keep the change journal: the rows every write request changed, before and after, under its request "
            "id (see docs/sandbox.md), which undo puts back. off: nothing is recorded and nothing can be undone "
            "(previews still show their changes). OPENPWS_JOURNAL_SIZE=0 turns it off too."),
)


@dataclass(frozen=True)
class Settings:
    database_url: str = "sqlite:///./openpws.db"
    host: str = "127.0.0.1"
    port: int = 8080
    workers: int = 1
    threads: int = 8
    max_body_bytes: int = 10 * 1024 * 1024
    session_idle_minutes: float = 60.0
    session_lifetime_minutes: float = 720.0
    scrypt_cost: int = 2**15
    sql_log: bool = False
    member_order: str = STRICT
    admin_token: str = ""
    log_format: str = TEXT
    journal: bool = True
    journal_size: int = 1000
    change_journal: bool = True

    @property
    def journal_on(self) -> bool:
        return self.journal and self.journal_size > 0

    @property
    def changes_on(self) -> bool:
        return self.change_journal and self.journal_size > 0

    def with_changes(self, **changes: Any) -> Settings:
        return replace(self, **{k: v for k, v in changes.items() if v is not None})

    def environment(self) -> dict[str, str]:
        """These settings as environment variables, for worker processes."""
        by_name = {s.name: s for s in SETTINGS}
        return {by_name[f.name].env: str(getattr(self, f.name)) for f in fields(self)}


class SettingError(ValueError):
    """An environment variable holds a value its setting cannot take."""


def load_settings(environ: Mapping[str, str] | None = None) -> Settings:
    environ = os.environ if environ is None else environ
    values: dict[str, Any] = {}
    for setting in SETTINGS:
        raw = environ.get(setting.env)
        if raw is None or raw == "":
            continue
        try:
            values[setting.name] = setting.cast(raw)
        except ValueError:
            raise SettingError(f"{setting.env}={raw!r} is not a valid {setting.cast.__name__}") from None
    return Settings(**values)

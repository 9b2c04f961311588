"""The SQL log (setting ``sql_log``): every statement a store runs, with its time, on the logger
``openpws.sql``.

One line per statement, at INFO, as the driver received it::

    0.052 ms  1 row  SELECT clients.id, … WHERE clients.account_id = ? AND clients.number_key IN (?)  (3, 'C000001')

Parameter values are logged as they are: a debugging aid, not a log to keep (a user's creation
logs its password hash).
"""

from __future__ import annotations

import logging
import sys

from sqlalchemy import Engine

from openpws.store.statements import NO_ROWS, Executed

log = logging.getLogger("openpws.sql")


class SqlLog:
    """A subscriber of ``statements.TRACE`` that logs the statements run on ``engine``."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        # Switched on, the log is seen: when logging has not been set up to show INFO records
        # of this logger (the server sets up none), they go to stderr.
        if log.getEffectiveLevel() > logging.INFO:
            log.setLevel(logging.INFO)
        if not log.hasHandlers():
            handler = logging.StreamHandler(sys.stderr)
            handler.setFormatter(logging.Formatter("%(asctime)s %(name)s %(message)s"))
            log.addHandler(handler)

    def __call__(self, executed: Executed) -> None:
        if executed.connection.engine is not self.engine or not log.isEnabledFor(logging.INFO):
            return
        sql = " ".join(executed.sql.split())
        shown = "" if executed.parameters is None else f"  {executed.parameters!r}"
        if executed.error is not None:
            log.info("%.3f ms  failed (%s)  %s%s", executed.seconds * 1000, type(executed.error).__name__, sql,
                     shown)
        elif executed.rows == NO_ROWS:
            log.info("%.3f ms  %s%s", executed.seconds * 1000, sql, shown)
        else:
            log.info("%.3f ms  %d row%s  %s%s", executed.seconds * 1000, executed.rows,
                     "" if executed.rows == 1 else "s", sql, shown)

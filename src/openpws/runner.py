"""Where each call runs: on the event loop, or on a worker thread.

The one place that decides it, per operation and per store:

- A read runs on the event loop when the store is SQLite: an indexed read of a local file takes
  less time than handing it to a thread (more than half the server's CPU time of a small read,
  measured). On PostgreSQL every statement is a network round trip, so reads go to the pool and
  the loop keeps serving.
- A short write runs on the event loop only with SQLite and one server process, and only when no
  other write of the process is under way (handing it to a thread cost about as much CPU as the
  write itself, measured; it would only wait for SQLite's one write lock there). It may wait for
  SQLite's write lock at most ``INLINE_WRITE_WAIT_MS``: if another process (the CLI, a second
  server) holds it longer, the write moves to the pool, where it waits its turn.
- Long work (cascading deletes, a password's key derivation) and PostgreSQL's writes go to the pool.

The pool has ``threads`` threads, each keeping one database connection.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, TypeVar

from openpws.messages.binding import Binding
from openpws.soap.dispatch import Prepared
from openpws.store.statements import WouldWait
from openpws.store.transactions import Store

log = logging.getLogger("openpws")

# How long a write on the event loop may wait for SQLite's write lock before it moves to the pool.
INLINE_WRITE_WAIT_MS = 2


T = TypeVar("T")
Finish = Callable[[Prepared[Binding[Any, Any]]], T]


class Runner:
    def __init__(self, store: Store, *, threads: int, workers: int) -> None:
        self.store = store
        self.executor = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="openpws")
        sqlite = store.dialect == "sqlite"
        self._reads_inline = sqlite
        self._writes_inline = sqlite and workers == 1

    def defer(self, work: Callable[[], None]) -> None:
        """Work an answer does not wait for (a session's last-seen time): to the pool, never waited for."""
        self.executor.submit(work).add_done_callback(_log_failure)

    async def run(self, finish: Finish[T], prepared: Prepared[Binding[Any, Any]]) -> T:
        """Answer a prepared call with ``finish`` (the dispatcher's), where it should run."""
        binding = prepared.handler
        if not binding.long:
            if not binding.write:
                if self._reads_inline:
                    return finish(prepared)
            elif self._writes_inline:
                with self.store.writers_turn_if_free() as free:
                    if free:
                        try:
                            with self.store.waiting_at_most(INLINE_WRITE_WAIT_MS):
                                return finish(prepared)
                        except WouldWait:
                            pass  # another process holds SQLite's write lock: wait on the pool
        return await asyncio.get_running_loop().run_in_executor(self.executor, finish, prepared)

    async def call(self, work: Callable[[], T]) -> T:
        """Work that is not a PWS call (the control plane's), on the pool, whatever the store: its
        threads hold the process's database connections."""
        return await asyncio.get_running_loop().run_in_executor(self.executor, work)

    def shutdown(self) -> None:
        self.executor.shutdown(wait=False, cancel_futures=True)


def _log_failure(done: Future[None]) -> None:
    if done.exception() is not None:
        log.error("deferred work failed", exc_info=done.exception())

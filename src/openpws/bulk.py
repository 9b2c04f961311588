"""Work that makes Python objects by the ten thousand (a cascade's change tree, its JSON, an undo's
rows) runs with the cyclic garbage collector paused: each collection the allocations set off walks
every object alive, so a tree of 50,000 items cost about twice as long with it as without
(measured); none of these objects form cycles, and reference counting frees them all the same.

The collector is the process's: it is paused while any thread is inside such work, and runs
again when the last one leaves.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager

_lock = threading.Lock()
_inside = 0
_was_enabled = False


@contextmanager
def collector_paused() -> Iterator[None]:
    global _inside, _was_enabled
    with _lock:
        if _inside == 0:
            _was_enabled = gc.isenabled()
            gc.disable()
        _inside += 1
    try:
        yield
    finally:
        with _lock:
            _inside -= 1
            if _inside == 0 and _was_enabled:
                gc.enable()

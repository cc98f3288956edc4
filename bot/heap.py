"""The start-up heap, frozen: the cyclic garbage collector leaves what a started bot holds for good alone.

CPython's collector scans, at each full (generation 2) collection, every container object alive: in a running
bot the directory, the compiled templates, Bolt, aiohttp and the store, about 10⁵ objects that live as long as
the process. Measured during 500 form submissions at concurrency 16 (`bench/bench_slack_acks.py`), one full
collection held the event loop for 68 ms, with every request in flight waiting, and the collections took 7% of
the loop's time. `gc.freeze()` moves the objects alive after start-up into a permanent generation that no
collection scans, so a full collection reads only what was made since.

An object frozen that later becomes garbage in a reference cycle is not collected while frozen (one without a
cycle is freed by its reference count as always). The loss is bounded by the heap at the freeze, and the two
events that let a large part of it go, a directory replaced (from its file or from the store), thaw, collect
and freeze again (`refreeze`). A stopping bot thaws (`thaw`), for a process that starts another.
"""

from __future__ import annotations

import gc
import logging
import time

log = logging.getLogger(__name__)


def freeze() -> None:
    """Collect what is garbage now, then freeze every object alive (once start-up is done)."""
    began = time.perf_counter()
    gc.collect()
    gc.freeze()
    log.info("heap frozen", extra={"event": "heap.frozen", "objects": gc.get_freeze_count(),
                                   "ms": round((time.perf_counter() - began) * 1000)})


def refreeze() -> None:
    """After a large part of the frozen heap was let go (a directory replaced): thaw, collect, freeze again."""
    gc.unfreeze()
    freeze()


def thaw() -> None:
    """Give the frozen objects back to the collector (the bot stops)."""
    gc.unfreeze()

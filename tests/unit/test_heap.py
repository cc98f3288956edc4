"""The start-up heap of `gfi-bot run` is frozen (bot/heap.py): once the templates are compiled, again after a
directory is replaced, and given back at stop."""

from __future__ import annotations

import gc
import weakref

from bot import heap
from bot.core import Core
from bot.runtime import Background


class Node:
    """An object in a reference cycle: only the cyclic collector frees it."""

    def __init__(self) -> None:
        self.me = self


async def test_the_heap_is_frozen_once_started_and_thawed_at_stop(core: Core) -> None:
    bg = await Background.start(core, freeze_heap=True)
    try:
        assert bg._templates is not None
        await bg._templates  # compiled: start-up is done
        assert gc.get_freeze_count() > 0
        assert bg.watcher is None or heap.refreeze in bg.watcher.on_change
    finally:
        await bg.stop()
    assert gc.get_freeze_count() == 0


async def test_a_bot_without_it_leaves_the_collector_as_it_is(core: Core) -> None:
    bg = await Background.start(core)
    try:
        assert bg._templates is not None
        await bg._templates
        assert gc.get_freeze_count() == 0
    finally:
        await bg.stop()


def test_refreeze_collects_cycles_let_go_after_the_freeze() -> None:
    node = Node()
    gone = weakref.ref(node)
    heap.freeze()
    try:
        del node
        gc.collect()
        assert gone() is not None  # frozen: a full collection does not look at it
        heap.refreeze()
        assert gone() is None
    finally:
        heap.thaw()
    assert gc.get_freeze_count() == 0

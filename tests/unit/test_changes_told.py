"""A change listener hands an announced topic to the loop once until the loop has heard it (`PostgresChanges`):
every filing on PostgreSQL announces its outbox rows, and a loop busy with filings would otherwise be woken, and
run the reloads' bookkeeping, once for each of them. Nothing announced is missed: one that comes after the loop
heard the topic is handed on again."""

from __future__ import annotations

import asyncio
import threading

from bot.store.changes import PostgresChanges


async def test_announcements_while_the_loop_is_busy_are_heard_once() -> None:
    changes = PostgresChanges("postgresql://unused")
    changes._loop = asyncio.get_running_loop()  # as `start` sets it, without a listener thread
    heard: list[str | None] = []
    changes.heard = heard.append  # type: ignore[method-assign]

    def announce(times: int) -> None:
        for _ in range(times):
            changes._tell("outbox")
        changes._tell("absences")

    thread = threading.Thread(target=announce, args=(50,))
    thread.start()  # the loop does not run meanwhile: it is busy (here, blocked)
    thread.join()
    await asyncio.sleep(0)
    assert heard == ["outbox", "absences"]
    announce(3)  # after the loop heard it, the next announcement is handed on again
    await asyncio.sleep(0)
    assert heard == ["outbox", "absences", "outbox", "absences"]

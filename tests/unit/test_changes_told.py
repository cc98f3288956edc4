"""A change listener hands an announced topic to the loop's next round once until it has been heard
(`PostgresChanges`): every filing on PostgreSQL announces its outbox rows, and a busy loop reads them in bursts,
which would otherwise run the reloads' bookkeeping once for each of them. Nothing announced is missed: one that
comes after the loop heard the topic is handed on again."""

from __future__ import annotations

import asyncio

from bot.store.changes import PostgresChanges


async def test_announcements_read_in_one_burst_are_heard_once() -> None:
    changes = PostgresChanges("postgresql://unused")
    heard: list[str | None] = []
    changes.heard = heard.append  # type: ignore[method-assign]

    def announce(times: int) -> None:  # as the listener does with the announcements of one read
        for _ in range(times):
            changes._tell("outbox")
        changes._tell("absences")

    announce(50)
    assert heard == []  # not before the loop's next round
    await asyncio.sleep(0)
    assert heard == ["outbox", "absences"]
    announce(3)  # after the loop heard it, the next announcement is handed on again
    await asyncio.sleep(0)
    assert heard == ["outbox", "absences", "outbox", "absences"]

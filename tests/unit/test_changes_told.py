"""A change listener hands an announced topic to the loop's next round once until it has been heard
(`PostgresChanges`): every filing on PostgreSQL announces its outbox rows, and a busy loop reads them in bursts,
which would otherwise run the reloads' bookkeeping once for each of them. Nothing announced is missed: one that
comes after the loop heard the topic is handed on again."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import psycopg
import pytest

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


class _ClosedAsItStops:
    """A listener's connection that the server closes just as the instance stops."""

    def __init__(self, changes: PostgresChanges) -> None:
        self.changes = changes

    async def execute(self, sql: str) -> None:
        return None

    async def notifies(self) -> AsyncIterator[Any]:
        self.changes._stop.set()  # the instance stops ...
        raise psycopg.OperationalError("the connection is closed")  # ... and its connection closes under it
        yield  # pragma: no cover - an async generator

    async def close(self) -> None:
        return None


async def test_a_listener_whose_connection_closes_as_it_stops_does_not_say_it_was_lost(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture,
) -> None:
    changes = PostgresChanges("postgresql://unused")

    async def connect(*args: Any, **kwargs: Any) -> _ClosedAsItStops:
        return _ClosedAsItStops(changes)

    monkeypatch.setattr(psycopg.AsyncConnection, "connect", connect)
    await asyncio.wait_for(changes._listen(), 5)  # it ends (no retry after the pause)
    assert not any(getattr(r, "event", "") == "store.listener_lost" for r in caplog.records)


async def test_close_lets_its_callers_own_cancellation_through() -> None:
    """A shutdown that gives up on `close` (a timeout) is told so: `close` does not swallow its cancellation."""
    changes = PostgresChanges("postgresql://unused")

    async def listener() -> None:  # one that takes a moment to end once cancelled (closing its connection)
        try:
            await asyncio.Event().wait()
        finally:
            await asyncio.sleep(10)

    changes._task = asyncio.create_task(listener())
    await asyncio.sleep(0)
    closing = asyncio.create_task(changes.close())
    for _ in range(3):
        await asyncio.sleep(0)
    closing.cancel()
    with pytest.raises(asyncio.CancelledError):
        await closing

"""Races between two instances on one database (issue #22): what the race tests share.

Two cores on one database (`two`) stand for two `gfi-bot run` processes. A race is forced: two units meet
(`Meeting`) at chosen points, each holding what it has locked by then, or one stops (`Hold`) while the other side
runs. Where the code under test takes a lock, the second unit is still waiting on it and cannot come to the
meeting, so the first goes on alone after `WAIT`; without the lock they meet and both act on what they read.
On PostgreSQL the units of two instances run at once; on SQLite the one writer serialises them, and the tests
run there too (same outcome, no meeting): `BOTH_ENGINES`.

- `Meeting.then(fn)` / `Meeting.after(fn)`: meet before / after `fn`, a coroutine function of the store run inside
  a unit of work (its Tx first, holding the unit's locks); `Meeting.before_async` / `Meeting.after_call`: the same
  for a function of the hop form, awaited on the event loop; `Meeting.wait_in(tx)`: the meeting itself, in a unit.
- `in_unit(tx, fn, *args)`: a blocking wait (a meeting, an event) from inside a unit of work, however the engine
  runs the unit (never a bare `meeting.wait()` there: a unit may run on the event loop, which it would block).
- `HeldBatch`: a sweep's batch (`fires.apply`) that meets the other side once applied, holding its items, and
  commits only after the other side committed (or, waited for, after `WAIT`).
- `open_item`, `shown`, `climb`: a batch's fire climbing a case's open item, with a message showing the case.
- `Hold`: a coroutine stopped on the event loop (a slow Graph call, a step about to begin) while the other side
  runs (`Hold.meanwhile`).
- `run_first(other, fn)`: `fn`, with `other` run just before it (another instance acting at the last moment).
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Awaitable, Callable, Coroutine, Sequence
from typing import Any, TypeVar

import pytest

from bot.core import Core
from bot.directory import Directory
from bot.fires import Fire
from bot.store import Tx
from bot.store import ladder as ladder_store
from bot.store import outbox as outbox_store
from bot.store.pgunit import AsyncPgTx, _Call
from tests.conftest import CoreFactory

T = TypeVar("T")

BOTH_ENGINES = pytest.mark.parametrize("engine", ["sqlite", "postgresql"])
WAIT = 1.5  # how long the first unit waits for the second to come (seconds); the test's cost with the lock


async def in_unit(tx: Tx, fn: Callable[..., T], *args: Any) -> T:
    """`fn(*args)`, a blocking wait (a meeting, an event), from inside a unit of work or a hop-form transaction.
    A unit on SQLite runs on its connection's thread, which the wait blocks. A write unit on PostgreSQL is a
    coroutine on the event loop that may await its own store only (`bot.store.pgunit`): the wait goes to a thread
    as one call of the unit's store (its Tx's tagged `_Call`), so that the other side runs meanwhile. The hop form,
    whose statements are awaited on the event loop, awaits it on a thread of its own."""
    if isinstance(tx, AsyncPgTx) and tx.guarded:
        return await _Call(tx, asyncio.to_thread(fn, *args))
    if tx._worker is not None or isinstance(tx, AsyncPgTx):  # the hop form, on the event loop
        return await asyncio.to_thread(fn, *args)
    return fn(*args)


async def two(make_core: CoreFactory, directory: Directory | None = None) -> tuple[Core, Core]:
    """Two instances (cores) on one database."""
    return await make_core(directory), await make_core(directory)


class Meeting:
    """Two units meet here, each on its own thread (a unit of work runs on its connection's thread; a hop-form
    transaction awaits it on a thread of its own), or one goes on alone after `WAIT`."""

    def __init__(self) -> None:
        self._barrier = threading.Barrier(2, timeout=WAIT)
        self.met = False
        self.arrived = threading.Event()  # one side has come (holding what it locked by then)

    def wait(self) -> None:
        self.arrived.set()
        try:
            self._barrier.wait()
            self.met = True
        except threading.BrokenBarrierError:  # the other is not coming (it waits on a lock): go on alone
            pass

    async def wait_in(self, tx: Tx) -> None:
        """`wait`, inside a unit of work (`in_unit`)."""
        await in_unit(tx, self.wait)

    def before_async(self, fn: Callable[..., Awaitable[T]]) -> Callable[..., Coroutine[Any, Any, T]]:
        """`fn` (a coroutine function of the hop form, on the event loop), awaited after the meeting."""
        async def met_first(*args: Any, **kwargs: Any) -> T:
            await asyncio.to_thread(self.wait)
            return await fn(*args, **kwargs)
        return met_first

    def after_call(self, fn: Callable[..., Awaitable[T]], call: int = 1) -> Callable[..., Coroutine[Any, Any, T]]:
        """`fn` (a coroutine function of the hop form, on the event loop); after its `call`th read, the meeting."""
        calls = [0]

        async def read_first(*args: Any, **kwargs: Any) -> T:
            found = await fn(*args, **kwargs)
            calls[0] += 1
            if calls[0] == call:
                await asyncio.to_thread(self.wait)
            return found
        return read_first

    def then(self, fn: Callable[..., Awaitable[T]]) -> Callable[..., Coroutine[Any, Any, T]]:
        """`fn` (a coroutine function of the store run inside a unit of work, its Tx first), after the meeting: a
        case action holds its case's row and the audit chain there."""
        async def met_first(*args: Any, **kwargs: Any) -> T:
            await self.wait_in(args[0])
            return await fn(*args, **kwargs)
        return met_first

    def after(self, fn: Callable[..., Awaitable[T]]) -> Callable[..., Coroutine[Any, Any, T]]:
        """`fn` (a coroutine function of the store run inside a unit of work, its Tx first), then the meeting,
        holding what `fn` locked."""
        async def then_met(*args: Any, **kwargs: Any) -> T:
            found = await fn(*args, **kwargs)
            await self.wait_in(args[0])
            return found
        return then_met

    async def once_arrived(self, side: Awaitable[T]) -> T:
        """`side`, begun only once the other side has come to the meeting (or after `WAIT`): which side takes its
        locks first is then the test's choice, not the scheduler's (under load the side started second by
        `asyncio.gather` may well reach the database first)."""
        await asyncio.to_thread(self.arrived.wait, WAIT)
        return await side


async def raced(*races: Awaitable[Any]) -> list[Any]:
    """Run the sides of a race at once: their results or errors, in order."""
    return list(await asyncio.gather(*races, return_exceptions=True))


async def settled(*races: Awaitable[Any]) -> list[Any]:
    """Run the sides of a race at once; each must end without an error. Their results, in order."""
    results = await asyncio.gather(*races, return_exceptions=True)
    failed = [r for r in results if isinstance(r, BaseException)]
    assert not failed, results
    return list(results)


async def open_item(core: Core, case_id: int, kind: str | None = None) -> dict[str, Any]:
    """The case's one open awaited item (of `kind`), as the sweep reads it."""
    async def rows(tx: Tx) -> list[dict[str, Any]]:
        return await ladder_store.open_rows(tx, case_id)

    [row] = [r for r in await core.db.run_read(rows) if kind is None or r["kind"] == kind]
    return row


def shown(core: Core, case: Any, person: str, message: str = '{"brief": "alkohol"}') -> outbox_store.OutboxRow:
    """An escalation to `person` showing the case's text (`message`), as a batch queues it."""
    now = core.clock.now()
    return outbox_store.row(
        created_at=now, case_id=case.id, case_ref=case.ref, recipient_id=person, channel="slack",
        template="escalation", text="", message=message, urgent=False, earliest=now, dedupe_key=None,
        reads=f'["{case.ref}"]')


def climb(item: dict[str, Any], case: Any, alerted: Sequence[str], *, titles: Sequence[str] = (),
          rows: Sequence[outbox_store.OutboxRow] = (), skipped: Sequence[tuple[str, str]] = (),
          versioned: bool = False) -> Fire:
    """A batch's fire climbing `item` one rung, alerting `alerted` (with `rows`); `versioned`: decided from the
    case as it is (its real version, so that the batch's version check passes)."""
    return Fire(table="awaiting", row_id=int(item["id"]), due_at=str(item["due_at"]), case_id=case.id,
                case_ref=case.ref, case_version=case.version if versioned else None, rung=int(item["rung"]),
                climbed=(int(item["rung"]) + 1, str(item["due_at"]), list(alerted), list(titles)),
                skipped=list(skipped), rows=list(rows))


async def apply_batch(core: Core, fires: list[Fire], *, meeting: Meeting | None = None,
                      until: threading.Event | None = None) -> list[Fire]:
    """A sweep's batch of `fires` on instance `core`, in one unit. With `meeting`: once applied (holding its
    items) it meets the other side, and, where they met, commits only once `until` is set (or after `WAIT`)."""
    from bot import fires as fires_mod

    async def batch(tx: Tx) -> list[Fire]:
        applied = await fires_mod.apply(tx, core.outbox, fires, core.clock.now())
        if meeting is not None:
            await meeting.wait_in(tx)  # in the batch's unit, holding the items
            if meeting.met and until is not None:
                await in_unit(tx, until.wait, WAIT)
        return applied

    return await core.db.run(batch)


class HeldBatch:
    """A sweep's batch that meets the other side once applied and commits only after the other side committed:
    `await settled(held.run(), held.other(action))`."""

    def __init__(self, core: Core, fires: list[Fire], meeting: Meeting) -> None:
        self.core, self.fires, self.meeting = core, fires, meeting
        self.committed = threading.Event()

    async def run(self) -> list[Fire]:
        return await apply_batch(self.core, self.fires, meeting=self.meeting, until=self.committed)

    async def other(self, action: Awaitable[T]) -> T:
        """The other side: `action`, then the batch may commit."""
        try:
            return await action
        finally:
            self.committed.set()


class Hold:
    """A coroutine stopped on the event loop: it says it is `reached` and goes on once `go` is set."""

    def __init__(self, *, go: bool = False) -> None:
        self.reached, self.go = asyncio.Event(), asyncio.Event()
        if go:
            self.go.set()

    async def __call__(self) -> None:
        self.reached.set()
        await self.go.wait()

    async def meanwhile(self, held: Awaitable[T], other: Callable[[], Awaitable[Any]]) -> T:
        """Run `held` until it reaches the hold, then `other()` meanwhile, then let it go: `held`'s result."""
        task = asyncio.ensure_future(held)
        reached = asyncio.ensure_future(self.reached.wait())
        await asyncio.wait({task, reached}, return_when=asyncio.FIRST_COMPLETED)
        if not self.reached.is_set():
            reached.cancel()
            await task  # its error, if it failed on the way
            raise AssertionError("the held side ended without reaching its hold")
        try:
            await other()
        finally:
            self.go.set()
        return await task


def run_first(
    other: Callable[[], Awaitable[Any]], fn: Callable[..., Awaitable[T]],
) -> Callable[..., Coroutine[Any, Any, T]]:
    """`fn`, with `other()` awaited just before it: another instance acting at the last moment."""
    async def other_first(*args: Any, **kwargs: Any) -> T:
        await other()
        return await fn(*args, **kwargs)
    return other_first


async def until_waiting(core: Core, n: int = 1) -> None:
    """Until `n` transactions on `core`'s PostgreSQL database wait for a lock (`pg_stat_activity`; at most 10 s)."""
    import time

    ends = time.monotonic() + 10
    while time.monotonic() < ends:
        waiting = await core.db.run_read(lambda tx: tx.scalar(
            "SELECT COUNT(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
            "AND datname = current_database()"))
        if int(waiting) >= n:
            return
        await asyncio.sleep(0.01)
    raise AssertionError(f"fewer than {n} waited for a lock")


async def behind_a_held_row(a: Core, c: Core, held: int, other: Callable[[], Awaitable[Any]],
                            batch: Callable[[Tx], Awaitable[Any]]) -> None:
    """Three instances on one PostgreSQL database: c holds the outbox row `held`; `other()` (another instance's writer:
    a withdrawal, a lost-access pass) starts and waits there, then a's `batch` (a unit: a batch of outcomes) starts
    and waits too (both seen in `pg_stat_activity`); c lets go. Both must then end without an error within 10 s: the
    two locking their rows in one order, neither holds a row the other waits for (else PostgreSQL aborts one, 40P01)."""
    async with c.db.transaction() as tx:
        await tx.fetchall("SELECT id FROM outbox WHERE id = ? FOR NO KEY UPDATE", (held,))
        first = asyncio.create_task(other())
        await until_waiting(a, 1)
        second = asyncio.create_task(a.db.run(batch))
        await until_waiting(a, 2)
    await asyncio.wait_for(asyncio.gather(first, second), 10)  # no deadlock

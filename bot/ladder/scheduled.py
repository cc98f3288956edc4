"""The case hook that keeps awaited items and reminders in step, and the sweep that fires what is due.

A sweep reads the due rows (awaiting items and timers, earliest first) a few write batches at a time on
PostgreSQL (READ_BATCHES), one on SQLite, and applies them in write batches of at most BATCH rows, so that the
write lock is held for the writes only:

1. read the rows, whole, and the cases they belong to, on a read connection (one trip);
2. decide and describe (render) every row's messages and writes off the event loop and off the database thread
   (`bot.ladder.climb`, `ReminderService.plan_fire`): a `Fire` per row;
3. apply the fires, BATCH at a time, each batch in one short write transaction (`bot.fires.apply`): each row is
   re-checked there and skipped if it changed since it was read (answered, moved, fired by an earlier sweep or
   batch that stopped half way), then the writes are a few bulk statements.

Each batch commits its rows' marks with their messages, so a repeated, concurrent or interrupted sweep never
fires a row twice and loses none. A row whose firing changes its case's other rows (an expired consent, the end
of a wait), drafts a brist, or ends a climb otherwise (closed case, nobody left) is fired in a transaction of its
own, in due order (the read is cut before it). When a batch fails, its rows are fired one per transaction, so
that only a broken row is set aside (retried later) and every other one fires once.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Protocol

from bot import fires
from bot.cases.base import CaseRows, build_many
from bot.cases.models import FILED, Case, CaseState
from bot.cases.service import CaseService
from bot.clock import Clock
from bot.fires import Fire
from bot.ladder import climb as climbing
from bot.ladder.models import AwaitingItem, AwaitingKind
from bot.ladder.service import SYSTEM, LadderService
from bot.outbox import Outbox
from bot.reminders.service import ReminderService
from bot.store import Database, Tx, dialects, timers
from bot.store import cases as case_store
from bot.store import ladder as awaiting
from bot.store import sweep as sweep_store
from bot.store.outbox import Encoded
from bot.store.space import StoreFull

log = logging.getLogger(__name__)

Row = dict[str, Any]

MAX_PER_SWEEP = 5000
# Due rows per write batch: their writes take a few milliseconds in bulk (well under the 20 ms an ack may wait
# behind one). Not much more on SQLite: its write statements join the batch's rows (a VALUES list) to `awaiting`,
# `timers` and `cases`, and SQLite (3.38+) puts a Bloom filter on the joined table when the list has more rows
# than a bound that grows with the log of the table's size, and builds the filter by reading the whole table: at
# 10⁵ open cases (190 000 awaited items) from 176 rows on (109 at 1 900 items, 209 at 1.9 million), so a batch of
# 200 took 95 ms instead of 5 (bench/sweep_profile.py).
BATCH = 100
# Write batches read at once where a read has a fixed cost worth sharing (PostgreSQL: its trip and the planning of
# its six statements, 6 ms of a read of 100; a read-only transaction holds no lock an ack could wait for). Not on
# SQLite, whose read is answered in process (`dialects.ANSWERED_AT_ONCE`): sharing it saved no CPU there, and the
# write batches then ran back to back beside the log's checkpoint (bench_scale, 5 runs each: database time in CPU
# 60.7 against 61.0 ms, in wall time 72 against 62 ms).
READ_BATCHES = 3
RETRY_AFTER = timedelta(hours=1)


class Core(Protocol):
    """What the sweep uses of the core (`bot.core.Core` has it): the sweep does not import the core that runs it."""

    db: Database
    clock: Clock
    outbox: Outbox
    cases: CaseService
    ladder: LadderService
    reminders: ReminderService


class TimeHook:
    """CaseHook: after every case action, open/resolve awaited items and arm/cancel reminders."""

    def __init__(self, ladder: LadderService, reminders: ReminderService) -> None:
        self.ladder = ladder
        self.reminders = reminders

    async def after_action(self, tx: Tx, case: Case, action: str, actor_id: str, now: datetime) -> None:
        # A (re)assignment names new answerers: re-arm the acknowledgement even if one is open.
        force = (AwaitingKind.ACKNOWLEDGEMENT,) if action == "assign" else ()
        await self.ladder.sync(tx, case, action, actor_id, now, force=force)
        await self.reminders.sync(tx, case, now, filed=action == FILED)


@dataclass
class Batch:
    """The earliest due rows, whole, as (table, row) in due order (a timer before an item due at the same time),
    and the rows of their cases, as read together (the cases are built from them off the database thread)."""

    rows: list[tuple[str, Row]] = field(default_factory=list)
    cases: CaseRows | None = None


@dataclass
class Plan:
    """A read decided: the fires of its first rows, in due order, up to the first row that is fired alone
    (`alone`, or None when none is), in write batches of at most BATCH with their messages encoded as the
    store's parameters (`fires.encode`)."""

    fires: list[Fire] = field(default_factory=list)
    alone: tuple[str, int] | None = None
    batches: list[tuple[list[Fire], Encoded]] = field(default_factory=list)


async def sweep_due(core: Core) -> int:
    """Fire every due awaiting item and timer, earliest first, in batches (see the module); returns how many
    rows were fired (or found changed and left to the next batch)."""
    hook = TimeHook(core.ladder, core.reminders)
    batches = 1 if dialects.of(core.db.engine).ANSWERED_AT_ONCE else READ_BATCHES
    fired = 0
    while fired < MAX_PER_SWEEP:
        now = core.clock.now()
        limit = min(BATCH * batches, MAX_PER_SWEEP - fired)

        async def read(tx: Tx, now: datetime = now, limit: int = limit) -> Batch:
            return await read_batch(core, tx, now, limit)

        batch = await core.db.run_read(read)
        if not batch.rows:
            break
        plan = await asyncio.to_thread(plan_batch, core, batch, now)
        for planned, encoded in plan.batches:
            await _apply(core, hook, planned, now, encoded)
        if plan.alone is not None:
            await _fire_alone(core, hook, *plan.alone, now)
        fired += len(plan.fires) + (plan.alone is not None)
    if fired >= MAX_PER_SWEEP:
        log.warning("sweep limit reached", extra={"event": "sweep.limit", "fired": fired})
    return fired


async def read_batch(core: Core, tx: Tx, now: datetime, limit: int) -> Batch:
    """The earliest due timers and awaiting items, at most `limit`, and their cases, in a constant number of
    queries (not a few per row), sent together (`bot.store.sweep`: one trip on PostgreSQL)."""
    read = await sweep_store.due_batch(tx, now, limit)
    due = [(r["due_at"], 0, r["id"], "timers", r) for r in read.timers]
    due += [(r["due_at"], 1, r["id"], "awaiting", r) for r in read.awaiting]
    due.sort(key=lambda d: (d[0], d[1], d[2]))
    batch = Batch([(table, row) for _, _, _, table, row in due[:limit]])
    ids = [int(r["id"]) for r in read.cases]
    assignees: dict[int, list[str]] = {i: [] for i in ids}
    follow_ups: dict[int, list[Row]] = {i: [] for i in ids}
    attending: dict[int, list[Row]] = {i: [] for i in ids}
    for r in read.assignees:
        assignees[r["case_id"]].append(r["person_id"])
    for r in read.follow_ups:
        follow_ups[r["case_id"]].append(r)
    for r in read.participants:
        attending[r["case_id"]].append(r)
    batch.cases = CaseRows(read.cases, assignees, follow_ups, attending)
    return batch


def plan_batch(core: Core, batch: Batch, now: datetime) -> Plan:
    """Decide and describe the batch's rows in due order, up to the first one that is fired alone (plain code:
    it runs on a worker thread)."""
    plan = Plan()
    cases = build_many(batch.cases) if batch.cases is not None else {}
    for table, row in batch.rows:
        case = cases.get(row["case_ref"])
        try:
            fire = None if case is None else _plan_row(core, table, row, case, now)
        except Exception:  # fired alone, where its error is logged and it is set aside
            fire = None
        if fire is None:
            plan.alone = (table, int(row["id"]))
            break
        plan.fires.append(fire.ready())
    for start in range(0, len(plan.fires), BATCH):
        planned = plan.fires[start:start + BATCH]
        plan.batches.append((planned, fires.encode(core.db.engine, planned)))
    return plan


def _plan_row(core: Core, table: str, row: Row, case: Case, now: datetime) -> Fire | None:
    """One row's fire, or None when it is fired alone."""
    if table == "timers":
        return core.reminders.plan_fire(row, case, now)
    climb = climbing.decide(core.ladder, AwaitingItem.from_row(row), case, now)
    if climb.outcome != climbing.CLIMB or climb.drafts:
        return None
    return climbing.plan(core.ladder, climb, str(row["due_at"]), now)


async def _apply(core: Core, hook: TimeHook, planned: list[Fire], now: datetime,
                 encoded: Encoded | None = None) -> None:
    """Apply a batch's fires in one transaction; if that fails, fire its rows one by one."""
    async def apply(tx: Tx) -> None:
        await fires.apply(tx, core.outbox, planned, now, encoded)

    try:
        await core.db.run(apply)
    except StoreFull:
        raise  # said once by the store (store.full); the next sweep tries again
    except Exception:
        for f in planned:
            await _fire_alone(core, hook, f.table, f.row_id, now)


async def _fire(core: Core, hook: TimeHook, tx: Tx, table: str, row_id: int, now: datetime) -> None:
    """Fire one due row in the caller's transaction (a row no longer due is left alone by its service)."""
    if table == "timers":
        paused = await core.reminders.fire(tx, row_id, now)
        if paused is not None:
            case = await core.cases.load(tx, paused.ref)
            action = "waiting_ends" if case.state is CaseState.WAITING else "consent_expired"
            await hook.after_action(tx, case, action, SYSTEM, now)
    else:
        await core.ladder.climb(tx, row_id, now)


async def _fire_alone(core: Core, hook: TimeHook, table: str, row_id: int, now: datetime) -> None:
    """Fire one row in its own transaction; if it fails, roll it back, log, and postpone it (a broken item
    must not block every other one)."""
    try:
        async def fire(tx: Tx) -> None:
            await case_store.lock_of_due(tx, table, row_id)  # its case first, in the order an action takes it
            if await _still_due(tx, table, row_id, now):
                await _fire(core, hook, tx, table, row_id, now)

        await core.db.run(fire)
    except Exception:
        log.exception("due item failed", extra={"event": "sweep.failed", "table": table, "id": row_id})

        async def postpone(tx: Tx) -> None:
            await (timers.postpone if table == "timers" else awaiting.postpone)(tx, row_id, now + RETRY_AFTER)

        await core.db.run(postpone)


async def _still_due(tx: Tx, table: str, row_id: int, now: datetime) -> bool:
    """Whether the row is still due (another sweep may have fired it since the batch was read)."""
    return await (timers.is_due if table == "timers" else awaiting.is_due)(tx, row_id, now)

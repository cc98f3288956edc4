"""The case hook that keeps awaited items and reminders in step, and the sweep that fires what is due."""

from __future__ import annotations

import logging
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from bot.cases.models import Case, CaseState
from bot.ladder.models import AwaitingKind
from bot.ladder.service import SYSTEM, LadderService
from bot.reminders.service import ReminderService
from bot.store import Tx, timers
from bot.store import ladder as awaiting

if TYPE_CHECKING:
    from bot.core import Core

log = logging.getLogger(__name__)

Row = dict[str, Any]

MAX_PER_SWEEP = 5000
# Due items fired per transaction: enough to keep the per-commit cost small, few enough that one batch holds the
# write lock for tens of milliseconds at most (an ack waits behind at most one batch).
BATCH = 25
RETRY_AFTER = timedelta(hours=1)


class TimeHook:
    """CaseHook: after every case action, open/resolve awaited items and arm/cancel reminders."""

    def __init__(self, ladder: LadderService, reminders: ReminderService) -> None:
        self.ladder = ladder
        self.reminders = reminders

    async def after_action(self, tx: Tx, case: Case, action: str, actor_id: str, now: datetime) -> None:
        # A (re)assignment names new answerers: re-arm the acknowledgement even if one is open.
        force = (AwaitingKind.ACKNOWLEDGEMENT,) if action == "assign" else ()
        await self.ladder.sync(tx, case, action, actor_id, now, force=force)
        await self.reminders.sync(tx, case, now)


async def sweep_due(core: Core) -> int:
    """Fire every due awaiting item and timer, earliest first, in batches; returns how many were fired.

    Each batch is one short transaction (at most BATCH items, so an ack never waits long behind a sweep):
    it reads the earliest due rows and fires them, each marking its row in the same transaction, so a
    repeated, concurrent or interrupted sweep cannot fire an item twice and its messages commit with the
    mark. When an item fails, its batch is rolled back and fired again one item per transaction, so that
    only the broken item is set aside (retried later) and every other one fires once.
    """
    hook = TimeHook(core.ladder, core.reminders)
    fired = 0
    while fired < MAX_PER_SWEEP:
        now = core.clock.now()
        batch: list[tuple[str, int]] = []
        try:
            async def fire_batch(tx: Tx, now: datetime = now, fired: int = fired) -> None:  # one trip to the store
                nonlocal batch
                batch = await _due_batch(tx, now, min(BATCH, MAX_PER_SWEEP - fired))
                read = await _read_batch(core, tx, batch)
                for table, row_id in batch:
                    row = read.rows.get((table, row_id))
                    case = read.cases.get(row["case_ref"]) if row is not None else None
                    if case is None:  # another row of the batch may change its case and rows: read them again
                        row = None
                    await _fire(core, hook, tx, table, row_id, now, row=row, case=case)

            await core.db.run(fire_batch)
        except Exception:
            if not batch:
                raise
            for table, row_id in batch:
                await _fire_alone(core, hook, table, row_id, now)
        if not batch:
            break
        fired += len(batch)
    if fired >= MAX_PER_SWEEP:
        log.warning("sweep limit reached", extra={"event": "sweep.limit", "fired": fired})
    return fired


async def _due_batch(tx: Tx, now: datetime, limit: int) -> list[tuple[str, int]]:
    """The earliest due timers and awaiting items, at most `limit`, as (table, id); a timer comes
    before an item due at the same time."""
    due = [(r["due_at"], 0, r["id"]) for r in await timers.due_rows(tx, now, limit)]
    due += [(r["due_at"], 1, r["id"]) for r in await awaiting.due_rows(tx, now, limit)]
    due.sort()
    return [("timers" if kind == 0 else "awaiting", row_id) for _, kind, row_id in due[:limit]]


@dataclass
class _Read:
    """A batch's rows and cases, read at once: {(table, id): row}, and {ref: case} for the cases that only one
    row of the batch belongs to. Firing a row may change its case and the case's other rows, so the rows of a
    case with several rows in the batch are read again when they come, not taken from here."""

    rows: dict[tuple[str, int], Row] = field(default_factory=dict)
    cases: dict[str, Case] = field(default_factory=dict)


async def _read_batch(core: Core, tx: Tx, batch: list[tuple[str, int]]) -> _Read:
    """Read a batch's rows and cases in a constant number of queries (not a few per row)."""
    read = _Read()
    for table, store in (("timers", timers), ("awaiting", awaiting)):
        rows = await store.rows_by_id(tx, [row_id for t, row_id in batch if t == table])
        read.rows.update(((table, row_id), row) for row_id, row in rows.items())
    refs = Counter(row["case_ref"] for row in read.rows.values())
    read.cases = await core.cases.load_many(tx, [ref for ref, n in refs.items() if n == 1])
    return read


async def _fire(
    core: Core, hook: TimeHook, tx: Tx, table: str, row_id: int, now: datetime,
    *, row: Row | None = None, case: Case | None = None,
) -> None:
    """Fire one due row in the caller's transaction (a row no longer due is left alone by its service)."""
    if table == "timers":
        paused = await core.reminders.fire(tx, row_id, now, row=row, case=case)
        if paused is not None:
            case = await core.cases.load(tx, paused.ref)
            action = "waiting_ends" if case.state is CaseState.WAITING else "consent_expired"
            await hook.after_action(tx, case, action, SYSTEM, now)
    else:
        await core.ladder.climb(tx, row_id, now, row=row, case=case)


async def _fire_alone(core: Core, hook: TimeHook, table: str, row_id: int, now: datetime) -> None:
    """Fire one row in its own transaction; if it fails, roll it back, log, and postpone it (a broken item
    must not block every other one)."""
    try:
        async def fire(tx: Tx) -> None:
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

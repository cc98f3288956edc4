"""Durable timers: downtime catch-up without duplicates, and a crash between sending and marking sent."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.clock import FrozenClock
from bot.config import DEFAULT_DIRECTORY, Settings
from bot.core import Core, open_core
from bot.ladder.scheduled import sweep_due
from bot.outbox import OutboxMessage
from tests.conftest import CoreFactory, RecordingSender, local
from tests.timekit import assigned_case, form, outbox_rows


async def test_three_days_down_then_one_catch_up_fires_each_item_once_in_order(
    make_core: CoreFactory, clock: FrozenClock, sender: RecordingSender
) -> None:
    core = await make_core()
    await core.tick()  # the bot has run before: every unit's latest slot is recorded
    acked = await assigned_case(core)  # Monday 23 Nov 10:00: acknowledgement due Tue 10:00
    queued = await core.cases.request("maria.sand", form())  # waits for Tue 09:00; due Tue 13:00
    await core.tick()
    await core.close()
    sender.clear()

    clock.set(local("2026-11-26T16:00"))  # down Mon 10:00 – Thu 16:00: Tue and Thu slots missed
    core = await make_core()
    await core.tick()
    got = [(s.recipient, s.template, s.case_ref) for s in sender.sent]
    # one queue, for the latest missed slot only (Thursday)
    queues = [s for s in sender.sent if s.template == "queue"]
    assert [q.recipient for q in queues] == ["fatima.ali"]
    assert "tor 26 nov 2026 kl. 09:00" in queues[0].text and queued.ref in queues[0].text
    # every rung each ladder would have reached, once, in due order (Tue 10 < Tue 13 < Wed 10 < Wed 13 < Thu 10)
    # for each recipient (different recipients are served at once, so only each one's order is kept)
    def by_recipient(items: list[tuple[str, str, str | None]]) -> list[tuple[str, str, str | None]]:
        return sorted(items, key=lambda g: g[0])  # stable: each recipient's own order stays

    assert by_recipient([g for g in got if g[1] == "escalation"]) == by_recipient([
        ("fatima.ali", "escalation", acked.ref),   # ack rung 1, due Tue 10:00
        ("helena.ros", "escalation", queued.ref),  # distribution rung 1, due Tue 13:00
        ("helena.ros", "escalation", acked.ref),   # ack rung 2, due Wed 10:00
        ("jonas.sjo", "escalation", queued.ref),   # distribution top, due Wed 13:00
        ("jonas.sjo", "escalation", acked.ref),    # ack top, due Thu 10:00
    ])
    # a second catch-up (another tick, another restart) sends nothing more
    sender.clear()
    await core.tick()
    await core.close()
    core = await make_core()
    await core.tick()
    assert sender.sent == []
    assert len(await outbox_rows(core, "escalation")) == 5
    async with core.db.transaction() as tx:
        assert await tx.scalar("SELECT COUNT(*) FROM brist_drafts") == 2


async def test_a_repeated_sweep_is_a_no_op(core: Core, clock: FrozenClock) -> None:
    await assigned_case(core)
    clock.set(local("2026-11-30T12:00"))
    assert await sweep_due(core) == 3
    assert await sweep_due(core) == 0


class Crash(BaseException):
    """The process dies (not an exception the dispatcher would catch and retry)."""


class CrashAfterSending(RecordingSender):
    """Delivers, then the process dies before the outbox row is marked sent."""

    async def send(self, message: OutboxMessage) -> str | None:
        await super().send(message)
        if message.template == "escalation":
            raise Crash()
        return "ok"


async def test_crash_between_sending_and_marking_sent(
    tmp_path: Path, clock: FrozenClock, sender: RecordingSender
) -> None:
    settings = Settings(db_path=tmp_path / "gfi.sqlite3", directory_path=DEFAULT_DIRECTORY, _env_file=None)
    crashing = CrashAfterSending()
    core = await open_core(settings, clock=clock, fallback=crashing)
    case = await assigned_case(core)
    await core.tick()
    clock.set(local("2026-11-24T10:00"))
    with pytest.raises(Crash):
        await core.tick()
    assert [s.recipient for s in crashing.sent if s.template == "escalation"] == ["fatima.ali"]
    await core.close()

    core = await open_core(settings, clock=clock, fallback=sender)  # restart
    try:
        await core.tick()
        await core.tick()
        # the message may go out once more ...
        assert [(s.recipient, s.case_ref) for s in sender.sent if s.template == "escalation"] == [
            ("fatima.ali", case.ref)]
        # ... but the item never fires again: one escalation row, rung 1, next due Wednesday
        assert len(await outbox_rows(core, "escalation")) == 1
        [item] = await core.ladder.open_escalations()
        assert item.rung == 1 and item.due_at == local("2026-11-25T10:00")
    finally:
        await core.close()

"""What the dispatcher writes when sends finish together (one group of outcomes): each row sent once with its
attempt and external id, its recipient's pacing hold, and the read log of the free text it showed, chained in
order; a row another instance recorded meanwhile is not written again, and this send, a second copy in the channel,
is kept as a row of its own (for a withdrawal to retract) and read-logged (`bot.store.copies`). On SQLite and
PostgreSQL (the sends' rows are one UPDATE … FROM (VALUES …) RETURNING on both)."""

from __future__ import annotations

import asyncio
import json
from datetime import datetime

import pytest

from bot import logchain
from bot.core import Core
from bot.dispatcher import Dispatcher
from bot.outbox import OutboxMessage
from tests.unit.test_dispatcher_parallel import PEOPLE, GatedSender

pytestmark = pytest.mark.parametrize("engine", ["sqlite", "postgresql"])


async def queue_with_reads(core: Core, recipients: list[str]) -> dict[str, int]:
    """One urgent message to each recipient that shows the free text of a case of its own."""
    at = core.clock.now().isoformat()
    ids: dict[str, int] = {}
    async with core.db.transaction() as tx:
        for i, person in enumerate(recipients):
            ids[person] = await tx.insert(
                "INSERT INTO outbox (created_at, case_ref, recipient_id, channel, template, text, reads, urgent, "
                "not_before, next_attempt_at) VALUES (?, ?, ?, 'slack', 'case_filed', 'text', ?, 1, ?, ?)",
                (at, f"GFI-2026-{i + 1:04d}", person, json.dumps([f"GFI-2026-{i + 1:04d}"]), at, at))
    return ids


class RecordedMeanwhile(GatedSender):
    """Every send waits at the gate; one recipient's row is recorded as sent by another instance meanwhile."""

    def __init__(self, core: Core, taken: str, expected: int) -> None:
        super().__init__(min_interval=1.0)
        self.core, self.taken, self.expected = core, taken, expected
        self.all_under_way = asyncio.Event()

    async def send(self, message: OutboxMessage) -> str | None:
        self.expected -= 1
        if self.expected == 0:
            self.all_under_way.set()
        if message.recipient_id == self.taken:
            async with self.core.db.transaction() as tx:
                await tx.execute("UPDATE outbox SET status = 'sent', external_id = 'elsewhere' WHERE id = ?",
                                 (message.id,))
        return await super().send(message)


async def test_sends_that_finish_together_are_recorded_together(core: Core, engine: str) -> None:
    ids = await queue_with_reads(core, PEOPLE)
    sender = RecordedMeanwhile(core, taken=PEOPLE[0], expected=len(PEOPLE))
    sender.gate.clear()
    d = Dispatcher(core.db, core.clock, {}, fallback=sender, concurrency=len(PEOPLE))  # type: ignore[arg-type]
    run = asyncio.ensure_future(d.run_once())
    await sender.all_under_way.wait()  # every send is under way: they end together
    sender.gate.set()
    assert (await run).sent == len(PEOPLE)

    async with core.db.transaction() as tx:
        rows = {r["recipient_id"]: r for r in await tx.fetchall(
            "SELECT * FROM outbox WHERE dedupe_key IS NULL OR dedupe_key NOT LIKE 'copy:%'")}
        copies = await tx.fetchall("SELECT recipient_id, status, external_id, sent_at FROM outbox "
                                   "WHERE dedupe_key LIKE 'copy:%'")
        reads = await tx.fetchall("SELECT person_id, case_ref, view, channel FROM case_reads ORDER BY id")
        holds = {r["recipient_id"]: r["until"] for r in await tx.fetchall("SELECT * FROM outbox_holds")}
    assert {p: (r["status"], r["attempts"], r["external_id"]) for p, r in rows.items()} == {
        PEOPLE[0]: ("sent", 0, "elsewhere"),  # recorded by the other instance: not written again
        **{p: ("sent", 1, f"ts-{ids[p]}") for p in PEOPLE[1:]}}
    assert all(rows[p]["claimed_by"] is None and rows[p]["sent_at"] for p in PEOPLE[1:])
    assert [(c["recipient_id"], c["status"], c["external_id"]) for c in copies] == [
        (PEOPLE[0], "sent", f"ts-{ids[PEOPLE[0]]}")]  # this instance's copy of the row recorded elsewhere
    assert sorted((r["person_id"], r["case_ref"]) for r in reads) == sorted(
        (p, rows[p]["case_ref"]) for p in PEOPLE)  # read once each, the copy too (the other's read is its own)
    assert {(r["view"], r["channel"]) for r in reads} == {("case_filed", "slack")}
    assert set(holds) == set(PEOPLE)  # paced, on every instance
    assert all(datetime.fromisoformat(until) > core.clock.now() for until in holds.values())
    [state] = [s for s in await logchain.verify(core.db) if s.log == "case_reads"]
    assert state.broken is None and state.rows == len(PEOPLE)  # the rows chained, in order

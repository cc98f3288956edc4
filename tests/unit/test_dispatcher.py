"""The dispatcher: retries with backoff, Retry-After, pacing, permanent failures and crashes."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import timedelta

import pytest

from bot.clock import FrozenClock
from bot.core import Core
from bot.dispatcher import DeliveryError, Dispatcher, failed_deliveries, status_counts
from bot.outbox import OutboxMessage
from bot.store.space import StoreFull
from tests.conftest import RecordingSender


class ScriptedSender(RecordingSender):
    """Fails with the scripted errors first, then delivers."""

    def __init__(self, errors: list[Exception] | None = None, min_interval: float = 0.0) -> None:
        super().__init__()
        self.errors = list(errors or [])
        self.calls = 0
        self.min_interval = min_interval

    async def send(self, message: OutboxMessage) -> str | None:
        self.calls += 1
        if self.errors:
            raise self.errors.pop(0)
        return await super().send(message)


async def queue(core: Core, recipient: str = "linnea.fors", n: int = 1) -> list[int]:
    """Queue `n` urgent messages to one person, outside any case."""
    ids = []
    async with core.db.transaction() as tx:
        for i in range(n):
            ids.append(await core.outbox.enqueue(
                tx, recipient, "slack_brist", urgent=True, dedupe_key=f"t:{recipient}:{i}", coordinators=[],
            ))
    return [i for i in ids if i is not None]


async def row(core: Core, outbox_id: int) -> dict:
    async with core.db.transaction() as tx:
        found = await tx.fetchone("SELECT * FROM outbox WHERE id = ?", (outbox_id,))
    assert found is not None
    return found


def dispatcher(core: Core, sender: ScriptedSender, **kw: object) -> Dispatcher:
    d = Dispatcher(core.db, core.clock, {}, fallback=sender, **kw)  # type: ignore[arg-type]
    d.on_failed = core.dispatcher.on_failed
    return d


async def test_transient_failures_back_off_exponentially_then_deliver(core: Core, clock: FrozenClock) -> None:
    sender = ScriptedSender([DeliveryError("slack:http_500"), DeliveryError("slack:http_500")])
    d = dispatcher(core, sender)
    [mid] = await queue(core)
    assert (await d.run_once()).retried == 1
    first = await row(core, mid)
    assert first["status"] == "pending" and first["attempts"] == 1 and first["last_error"] == "slack:http_500"
    assert first["next_attempt_at"] == (clock.now() + timedelta(seconds=30)).isoformat()
    assert (await d.run_once()).retried == 0  # not due yet: nothing is tried
    clock.advance(timedelta(seconds=30))
    await d.run_once()
    assert (await row(core, mid))["next_attempt_at"] == (clock.now() + timedelta(seconds=60)).isoformat()
    clock.advance(timedelta(seconds=60))
    assert (await d.run_once()).sent == 1
    done = await row(core, mid)
    assert done["status"] == "sent" and done["attempts"] == 3 and done["last_error"] is None


async def test_retry_after_is_honoured_and_does_not_use_up_attempts(core: Core, clock: FrozenClock) -> None:
    sender = ScriptedSender([DeliveryError("slack:ratelimited", retry_after=7)] * 10)
    d = dispatcher(core, sender, max_attempts=3)
    [mid] = await queue(core)
    for _ in range(10):
        await d.run_once()
        r = await row(core, mid)
        assert r["status"] == "pending"
        assert r["next_attempt_at"] == (clock.now() + timedelta(seconds=7)).isoformat()
        clock.advance(timedelta(seconds=7))
    assert (await d.run_once()).sent == 1


async def test_rate_limit_holds_the_recipient_in_memory_and_only_that_recipient(core: Core, clock: FrozenClock) -> None:
    sender = ScriptedSender([DeliveryError("slack:ratelimited", retry_after=5)])
    d = dispatcher(core, sender)
    first, second = await queue(core, n=2)
    [other] = await queue(core, recipient="sofia.grahn")
    queued = await row(core, second)
    result = await d.run_once()
    assert (result.retried, result.sent) == (1, 1)  # linnea held, sofia delivered
    assert (await row(core, other))["status"] == "sent"
    assert await row(core, second) == queued  # the held message is not written to
    clock.advance(timedelta(seconds=4))
    await d.run_once()
    assert [s.recipient for s in sender.sent] == ["sofia.grahn"]  # still held
    clock.advance(timedelta(seconds=1))
    await d.run_once()
    assert [s.recipient for s in sender.sent] == ["sofia.grahn", "linnea.fors", "linnea.fors"]
    assert [(await row(core, i))["status"] for i in (first, second)] == ["sent", "sent"]
    assert sender.calls == 4  # the rate-limited one tried again once, the held one sent once


async def test_pacing_one_message_per_interval_per_recipient(core: Core, clock: FrozenClock) -> None:
    sender = ScriptedSender(min_interval=1.0)
    d = dispatcher(core, sender)
    await queue(core, n=3)
    await queue(core, recipient="sofia.grahn", n=2)
    sent_at = []
    for _ in range(5):
        before = len(sender.sent)
        await d.run_once()
        sent_at.append([s.recipient for s in sender.sent[before:]])
        clock.advance(timedelta(seconds=1))
    assert sent_at == [
        ["linnea.fors", "sofia.grahn"], ["linnea.fors", "sofia.grahn"], ["linnea.fors"], [], [],
    ]


async def test_permanent_failure_is_not_retried_and_coordinators_are_told(core: Core) -> None:
    from bot.cases.service import GfiRequest

    case = await core.cases.request(
        "maria.sand", GfiRequest(target_unit="beroende", case_type="ny-en", brief="man, 45 år", consent_confirmed=True,
                                 children="nej")
    )
    receipt_sender = ScriptedSender([DeliveryError("slack:users_not_found", permanent=True)])
    d = dispatcher(core, receipt_sender)
    result = await d.run_once()
    assert result.failed == 1
    async with core.db.transaction() as tx:
        failed = await tx.fetchone("SELECT * FROM outbox WHERE template = 'case_filed'")
        notices = await tx.fetchall("SELECT * FROM outbox WHERE template = 'delivery_failed'")
    assert failed is not None and failed["status"] == "failed" and failed["last_error"] == "slack:users_not_found"
    # beroende's ladder tops at the region's coordinator
    assert [n["recipient_id"] for n in notices] == ["jonas.sjo"]
    notice = OutboxMessage.from_row(notices[0]).text  # rendered from the stored message, as at delivery
    assert case.ref in notice and "Maria Sand" in notice
    assert "ingen Slack-användare har personens e-postadress" in notice
    assert await status_counts(core.db) == {"failed": 1, "pending": 1}
    [shown] = await failed_deliveries(core.db)
    assert (shown.case_ref, shown.recipient_id, shown.template, shown.reason, shown.attempts) == (
        case.ref, "maria.sand", "case_filed", "slack:users_not_found", 1,
    )
    # the notice itself fails for good: it is marked failed, and no notice about the notice is made
    notice_sender = ScriptedSender([DeliveryError("slack:account_inactive", permanent=True)])
    await dispatcher(core, notice_sender).run_once()
    assert await status_counts(core.db) == {"failed": 2}


def test_backoff_doubles_and_is_capped(core: Core) -> None:
    d = Dispatcher(core.db, core.clock, {}, base_backoff=30, max_backoff=3600)
    assert [d.backoff(n) for n in (1, 2, 3, 4, 7, 8, 30)] == [30, 60, 120, 240, 1920, 3600, 3600]


async def test_pacing_holds_are_forgotten_once_over(core: Core, clock: FrozenClock) -> None:
    sender = ScriptedSender(min_interval=1.0)
    d = dispatcher(core, sender)
    await queue(core, n=1)
    await d.run_once()
    assert len(d.holds.free_at) == 1
    clock.advance(timedelta(seconds=2))
    await d.run_once()
    assert d.holds.free_at == {}


async def test_failed_deliveries_newest_first_and_limited(core: Core) -> None:
    sender = ScriptedSender([DeliveryError("slack:channel_not_found", permanent=True)] * 3)
    d = Dispatcher(core.db, core.clock, {}, fallback=sender)  # no failure hook: only the three rows fail
    ids = await queue(core, n=3)
    await d.run_once()
    assert [f.id for f in await failed_deliveries(core.db, limit=2)] == sorted(ids, reverse=True)[:2]
    assert {f.reason for f in await failed_deliveries(core.db)} == {"slack:channel_not_found"}


async def test_gives_up_after_max_attempts(core: Core, clock: FrozenClock) -> None:
    sender = ScriptedSender([DeliveryError("slack:http_503")] * 5)
    d = dispatcher(core, sender, max_attempts=3, base_backoff=1, max_backoff=10)
    [mid] = await queue(core)
    for _ in range(5):
        await d.run_once()
        clock.advance(timedelta(seconds=10))
    r = await row(core, mid)
    assert (r["status"], r["attempts"], r["last_error"]) == ("failed", 3, "slack:http_503")
    async with core.db.transaction() as tx:
        notices = await tx.fetchall("SELECT recipient_id FROM outbox WHERE template = 'delivery_failed'")
    assert sorted(n["recipient_id"] for n in notices) == ["jonas.sjo", "sara.holm"]  # no case: all coordinators


async def test_a_crashing_sender_never_loses_the_message(core: Core, clock: FrozenClock) -> None:
    sender = ScriptedSender([RuntimeError("boom")])
    d = dispatcher(core, sender)
    [mid] = await queue(core)
    await d.run_once()
    assert (await row(core, mid))["last_error"] == "unexpected:RuntimeError"
    clock.advance(timedelta(seconds=30))
    await d.run_once()
    assert (await row(core, mid))["status"] == "sent"


async def test_a_sender_that_keeps_crashing_is_given_up_after_max_attempts(core: Core, clock: FrozenClock) -> None:
    # issue #23 item 11: nothing is retried forever, also when the sender raises something unexpected
    sender = ScriptedSender([RuntimeError("boom")] * 10)
    d = dispatcher(core, sender, max_attempts=3, base_backoff=1, max_backoff=10)
    [mid] = await queue(core)
    for _ in range(6):
        await d.run_once()
        clock.advance(timedelta(seconds=10))
    r = await row(core, mid)
    assert (r["status"], r["attempts"], r["last_error"]) == ("failed", 3, "unexpected:RuntimeError")
    async with core.db.transaction() as tx:
        notices = await tx.fetchall("SELECT recipient_id FROM outbox WHERE template = 'delivery_failed'")
    assert sorted(n["recipient_id"] for n in notices) == ["jonas.sjo", "sara.holm"]


def fail_the_next_mark(d: Dispatcher, monkeypatch: pytest.MonkeyPatch, error: Exception) -> None:
    """The dispatcher's next record of a send raises `error` (nothing recorded); the ones after it record."""
    real_mark = d._mark_sent
    failures = [error]

    async def failing_mark(*args: object) -> None:
        if failures:
            raise failures.pop()
        await real_mark(*args)  # type: ignore[arg-type]

    monkeypatch.setattr(d, "_mark_sent", failing_mark)


async def test_crash_between_sending_and_marking_sends_again_and_marks_once(
    core: Core, monkeypatch: pytest.MonkeyPatch
) -> None:
    sender = ScriptedSender()
    d = dispatcher(core, sender)
    [mid] = await queue(core)
    fail_the_next_mark(d, monkeypatch, RuntimeError("process killed before commit"))
    with pytest.raises(RuntimeError):
        await d.run_once()
    assert (await row(core, mid))["status"] == "pending"  # the mark never committed
    d = dispatcher(core, sender)  # after the restart: what the process remembered is gone
    await d.run_once()
    assert [s.recipient for s in sender.sent] == ["linnea.fors", "linnea.fors"]  # at least once: sent again
    r = await row(core, mid)
    assert r["status"] == "sent" and r["attempts"] == 1
    await d.run_once()
    assert len(sender.sent) == 2  # and never again


async def test_a_send_whose_record_failed_is_recorded_not_sent_again_while_the_process_lives(
    core: Core, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Any failure to record a send (a lost connection as well as a full disk) is remembered: the next pass
    records it instead of sending it again."""
    sender = ScriptedSender()
    d = dispatcher(core, sender)
    [mid] = await queue(core)
    fail_the_next_mark(d, monkeypatch, ConnectionError("the store's connection was reset"))
    with pytest.raises(ConnectionError):
        await d.run_once()
    await d.run_once()
    assert len(sender.sent) == 1 and (await row(core, mid))["status"] == "sent"


class FailingClaims:
    """The dispatcher's first claim is made; every later one runs `meanwhile` (when given), then fails as on a
    full disk (StoreFull). `made` counts the claims, `real` is the dispatcher's own."""

    def __init__(self, d: Dispatcher, monkeypatch: pytest.MonkeyPatch,
                 meanwhile: Callable[[], Awaitable[None]] | None = None) -> None:
        self.real, self.meanwhile, self.made = d._claim, meanwhile, 0
        monkeypatch.setattr(d, "_claim", self)

    async def __call__(self, *args: object) -> list[OutboxMessage]:
        self.made += 1
        if self.made == 1:
            return await self.real(*args)  # type: ignore[arg-type]
        if self.meanwhile is not None:
            await self.meanwhile()
        raise StoreFull()


async def test_a_claim_that_fails_lets_the_sends_in_flight_record_their_outcome(
    core: Core, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A pass claims again while sends are in flight. When that claim fails (the store's disk full), the sends
    already made still record their outcome, or remember it, before the pass ends: they are not cancelled, which
    would forget that they were sent (the next pass would send them again: a receipt twice)."""
    release = asyncio.Event()

    class Slow(ScriptedSender):
        async def send(self, message: OutboxMessage) -> str | None:
            if message.recipient_id == "sofia.grahn":
                await release.wait()
            return await super().send(message)

    sender = Slow()
    d = dispatcher(core, sender)
    [first] = await queue(core, recipient="linnea.fors")
    [second] = await queue(core, recipient="sofia.grahn")

    async def sent_unrecorded() -> None:
        # linnea.fors's send is recorded; sofia.grahn's is sent and waits to be recorded, when the claim fails
        async with d._recording:
            release.set()
            for _ in range(100):  # a few turns of the loop: the send ends and queues its mark
                if d._marks:
                    break
                await asyncio.sleep(0)
            assert d._marks

    claims = FailingClaims(d, monkeypatch, sent_unrecorded)
    with pytest.raises(StoreFull):
        await d.run_once()
    monkeypatch.setattr(d, "_claim", claims.real)
    await d.run_once()
    assert sorted(s.recipient for s in sender.sent) == ["linnea.fors", "sofia.grahn"]  # each once
    assert (await row(core, first))["status"] == "sent" and (await row(core, second))["status"] == "sent"


async def settled(condition: Callable[[], bool], seconds: float = 10.0) -> None:
    """Let the pass run until `condition` holds: its claims and records go through the store's thread, so under
    load it takes more than a few turns of the loop (200 turns were not always enough). Bounded, never timed."""
    deadline = asyncio.get_running_loop().time() + seconds
    while not condition() and asyncio.get_running_loop().time() < deadline:  # noqa: ASYNC110 - another thread's work
        await asyncio.sleep(0.002)


async def test_a_stop_while_a_failed_pass_waits_for_its_sends_stops_them_before_it_ends(
    core: Core, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A claim fails (the store's disk full) while a send hangs: the pass waits for it. When the instance stops
    then, the send is stopped too, and the pass ends only once it has: else the store closes (on PostgreSQL giving
    its claim back) while it still sends, and another instance sends it again."""
    stopped = asyncio.Event()

    class Hanging(ScriptedSender):
        async def send(self, message: OutboxMessage) -> str | None:
            if message.recipient_id == "sofia.grahn":
                try:
                    await asyncio.Event().wait()  # Slack does not answer
                except asyncio.CancelledError:
                    stopped.set()
                    raise
            return await super().send(message)

    sender = Hanging()
    d = dispatcher(core, sender)
    await queue(core, recipient="linnea.fors")
    [hanging] = await queue(core, recipient="sofia.grahn")
    claims = FailingClaims(d, monkeypatch)
    run = asyncio.ensure_future(d.run_once())
    await settled(lambda: claims.made == 2)
    assert claims.made == 2 and not run.done()  # the pass waits for sofia.grahn's send
    run.cancel()
    with pytest.raises(asyncio.CancelledError):
        await run
    assert stopped.is_set()  # her send was stopped before the pass ended
    assert (await row(core, hanging))["status"] == "pending"  # not sent: the next start sends it


async def test_a_send_made_is_recorded_when_its_pass_stops_while_it_waits_to_be_recorded(core: Core) -> None:
    """The instance stops while a send made waits for its turn to be recorded: it is recorded all the same (the
    stop waits for it), not forgotten (the next start would send it again)."""
    sender = ScriptedSender()
    d = dispatcher(core, sender)
    [mid] = await queue(core)
    await d._recording.acquire()  # another group of outcomes is being written
    run = asyncio.ensure_future(d.run_once())
    await settled(lambda: bool(d._marks))
    assert sender.sent and d._marks  # sent, waiting to be recorded
    run.cancel()
    await asyncio.sleep(0)
    d._recording.release()
    with pytest.raises(asyncio.CancelledError):
        await run
    assert (await row(core, mid))["status"] == "sent"
    await d.run_once()
    assert len(sender.sent) == 1  # and not sent again


async def test_channel_without_sender_fails_with_a_reason(core: Core) -> None:
    d = Dispatcher(core.db, core.clock, {})
    d.on_failed = core.dispatcher.on_failed
    [mid] = await queue(core, recipient="sofia.grahn")
    await d.run_once()
    r = await row(core, mid)
    assert (r["status"], r["last_error"]) == ("failed", "no_sender:m365")


async def test_a_send_recorded_at_a_later_pass_keeps_the_time_it_was_sent(
    core: Core, clock: FrozenClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The send's time is how a copy recorded again is told from another instance's copy
    (`bot.store.copies`): the next pass records the time it was sent, not its own."""
    sender = ScriptedSender()
    d = dispatcher(core, sender)
    [mid] = await queue(core)
    sent_at = clock.now()
    fail_the_next_mark(d, monkeypatch, ConnectionError("the store's connection was reset"))
    with pytest.raises(ConnectionError):
        await d.run_once()
    clock.advance(timedelta(minutes=1))
    await d.run_once()
    r = await row(core, mid)
    assert r["status"] == "sent" and r["sent_at"] == sent_at.isoformat()

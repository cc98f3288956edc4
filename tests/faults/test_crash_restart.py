"""Fault: `gfi-bot run` is killed (SIGKILL) in the middle of a burst of request forms, then started again.

Every submission that was answered "registrerad" exists as a case; no case is half-written (each has its audit
row, its receipt in the outbox and its distribution awaited on the ladder); the receipts queued before the kill
are delivered after the restart exactly once; a receipt delivered before the kill is not sent again; a user who
submits the same form again after the crash gets the one case, not a second."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

import aiohttp
import pytest

from tests.fakes.slack_api import FakeSlackAPI
from tests.faults.burst import REF, SUBMITTERS, Submission, filed_ref, post, rows, submission
from tests.faults.process import TOKEN, BotProcess, start_bot

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")

BURST = 24
IN_FLIGHT = 8  # concurrent submissions
KILL_AFTER = 10  # answered submissions before the kill
GUARD = 30.0  # seconds; only against a hang


async def until_no_receipt_pending(db: Path) -> None:
    """Wait until no receipt (case_filed) is waiting in the bot's outbox: the condition, polled (the bot is
    another process), never a fixed time."""
    for _ in range(int(GUARD / 0.05)):
        if not rows(db, "SELECT 1 FROM outbox WHERE template = 'case_filed' AND status = 'pending' LIMIT 1"):
            return
        await asyncio.sleep(0.05)
    raise AssertionError("receipts still queued after the guard time")


def receipts(fake: FakeSlackAPI) -> list[tuple[str, str]]:
    """(Slack user, reference) of every receipt Slack accepted."""
    out = []
    for call in fake.calls("chat.postMessage"):
        text = str(call.params.get("text"))
        match = REF.search(text)
        if call.ok and match and "Din GFI-förfrågan är registrerad" in text:
            out.append((str(call.params.get("channel")), match.group(0)))
    return out


async def burst_and_kill(bot: BotProcess, subs: list[Submission]) -> dict[int, tuple[int, str] | None]:
    answers: dict[int, tuple[int, str] | None] = {}
    answered = asyncio.Event()
    gate = asyncio.Semaphore(IN_FLIGHT)

    async def one(http: aiohttp.ClientSession, sub: Submission) -> None:
        async with gate:
            if bot.proc.returncode is not None:
                answers[sub.n] = None
                return
            answers[sub.n] = await post(http, bot.url, sub.body)
        if sum(a is not None for a in answers.values()) >= KILL_AFTER:
            answered.set()

    async with aiohttp.ClientSession() as http:
        tasks = [asyncio.create_task(one(http, s)) for s in subs]
        await asyncio.wait_for(answered.wait(), GUARD)
        bot.kill()
        await asyncio.wait_for(asyncio.gather(*tasks), GUARD)
    await bot.wait()
    return answers


async def test_sigkill_mid_burst_loses_nothing_answered_and_half_writes_nothing(tmp_path: Path) -> None:
    db = tmp_path / "gfi.sqlite3"
    async with FakeSlackAPI(token=TOKEN) as fake:
        first = await start_bot(db, fake, tmp_path)
        # one request before the burst, its receipt delivered: it must not come again after the restart
        early = submission(0)
        async with aiohttp.ClientSession() as http:
            early_ref = filed_ref(await post(http, first.url, early.body))
        assert early_ref is not None
        await fake.wait_for("chat.postMessage", lambda c: early_ref in str(c.params.get("text")), timeout=GUARD)

        # Slack stops answering DMs: the receipts of the burst stay queued when the bot is killed
        fake.hold("chat.postMessage")
        subs = [submission(n) for n in range(1, BURST + 1)]
        answers = await burst_and_kill(first, subs)
        assert first.proc.returncode == -9
        fake.abandon("chat.postMessage")  # what the killed process asked for was never delivered

        confirmed = {n: ref for n, a in answers.items() if (ref := filed_ref(a)) is not None}
        assert len(confirmed) >= KILL_AFTER - IN_FLIGHT  # the kill came mid-burst, after real work
        assert len(confirmed) < BURST, "the kill came after the whole burst"
        for n, answer in answers.items():  # every answer was a confirmation: no error, no half answer
            assert answer is None or filed_ref(answer) is not None or "tar längre tid" in answer[1], (n, answer)

        second = await start_bot(db, fake, tmp_path)
        try:
            # users whose form got no answer submit it again (same view, same values), as Slack lets them
            async with aiohttp.ClientSession() as http:
                again = {s.n: await post(http, second.url, s.body) for s in [early, *subs]}
            for n, answer in again.items():
                ref = filed_ref(answer)
                assert ref is not None, (n, answer)
                assert ref == (early_ref if n == 0 else confirmed.get(n, ref)), n  # the same case, not a new one
            cases = rows(db, "SELECT ref, requester_id, brief FROM cases ORDER BY id")
            assert len(cases) == BURST + 1  # one case per form: no duplicate, none lost
            # every receipt is delivered once after the restart (Slack paces one a second per person)
            await fake.wait_for("chat.postMessage", lambda c: c.ok and "registrerad" in str(c.params.get("text")),
                                count=BURST + 1, timeout=GUARD)
            # a duplicate would be a receipt still queued, or sent again: wait until the bot has none left to
            # send (each is marked sent only after Slack's answer), then every call it made is in the fake
            await until_no_receipt_pending(db)
        finally:
            code = await second.stop()
        assert code == 0, second.text()[-3000:]
        assert "Traceback" not in second.text()

    refs = [r for r, _, _ in cases]
    by_ref = {r: (who, brief) for r, who, brief in cases}
    slack_of = {person: user for user, person, _ in SUBMITTERS}
    for n, ref in confirmed.items():  # what was confirmed before the kill is that very submission
        assert by_ref[ref] == (SUBMITTERS[n % len(SUBMITTERS)][1], subs[n - 1].brief)
    assert sorted(receipts(fake)) == sorted((slack_of[by_ref[r][0]], r) for r in refs)  # once each
    # nothing half-written: every case has its audit row, its receipt and its ladder item, and nothing else does
    audited = [r for (r,) in rows(db, "SELECT case_ref FROM audit WHERE action = 'request' ORDER BY id")]
    queued = [r for (r,) in rows(db, "SELECT case_ref FROM outbox WHERE template = 'case_filed' ORDER BY id")]
    awaited = [r for (r,) in rows(db, "SELECT case_ref FROM awaiting WHERE kind = 'distribution' ORDER BY id")]
    assert sorted(audited) == sorted(refs)
    assert sorted(queued) == sorted(refs)
    assert sorted(awaited) == sorted(refs)
    assert rows(db, "SELECT status, COUNT(*) FROM outbox WHERE template = 'case_filed' GROUP BY status") == [
        ("sent", len(refs))]
    assert rows(db, "PRAGMA integrity_check") == [("ok",)]

"""The dispatcher against a local fake Slack Web API: 500s, 429 with Retry-After, pacing, dead accounts."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest
from slack_sdk.web.async_client import AsyncWebClient

from bot.channels.slack.identity import SlackIdentity
from bot.channels.slack.sender import SlackSender
from bot.clock import FrozenClock
from bot.config import DEFAULT_DIRECTORY, Settings
from bot.core import Core, open_core
from tests.fakes.slack_api import FakeSlackAPI

TOKEN = "xoxb-test-dispatch"
LINNEA, SOFIA_EMAIL = "U04LINNEA", "sofia.grahn@rsv.example.se"


@dataclass
class Rig:
    fake: FakeSlackAPI
    core: Core
    clock: FrozenClock

    def posts(self, channel: str | None = None) -> list[str]:
        return [
            str(c.params.get("text"))
            for c in self.fake.calls("chat.postMessage")
            if c.ok and (channel is None or c.params.get("channel") == channel)
        ]


@pytest.fixture
async def rig(tmp_path: Path, clock: FrozenClock) -> AsyncIterator[Rig]:
    async with FakeSlackAPI(token=TOKEN) as fake:
        client = AsyncWebClient(token=TOKEN, base_url=fake.base_url)
        sender = SlackSender(client)
        settings = Settings(db_path=tmp_path / "gfi.sqlite3", directory_path=DEFAULT_DIRECTORY, _env_file=None)
        core = await open_core(settings, clock=clock, senders={"slack": sender}, fallback=sender)
        sender.bind(SlackIdentity(core.db, core.directory, client, clock))
        try:
            yield Rig(fake, core, clock)
        finally:
            await core.close()


async def queue(core: Core, recipient: str, n: int = 1) -> None:
    async with core.db.transaction() as tx:
        for i in range(n):
            await core.outbox.enqueue(
                tx, recipient, "slack_brist", urgent=True, dedupe_key=f"e2e:{recipient}:{i}", coordinators=[],
            )


async def statuses(core: Core) -> list[tuple[str, str, int, str | None]]:
    async with core.db.transaction() as tx:
        rows = await tx.fetchall("SELECT recipient_id, status, attempts, last_error FROM outbox ORDER BY id")
    return [(r["recipient_id"], r["status"], r["attempts"], r["last_error"]) for r in rows]


async def test_server_errors_are_retried_with_backoff_until_slack_recovers(rig: Rig) -> None:
    rig.fake.fail_next("chat.postMessage", times=3, status=500)
    await queue(rig.core, "linnea.fors")
    for wait in (0, 30, 60):
        rig.clock.advance(timedelta(seconds=wait))
        await rig.core.dispatcher.run_once()
        assert rig.posts() == []
    assert await statuses(rig.core) == [("linnea.fors", "pending", 3, "slack:http_500")]
    rig.clock.advance(timedelta(seconds=119))
    await rig.core.dispatcher.run_once()
    assert rig.posts() == []  # backoff not over yet: Slack is not even asked
    assert len(rig.fake.calls("chat.postMessage")) == 3
    rig.clock.advance(timedelta(seconds=1))
    await rig.core.dispatcher.run_once()
    assert len(rig.posts(LINNEA)) == 1
    assert await statuses(rig.core) == [("linnea.fors", "sent", 4, None)]


async def test_429_retry_after_is_honoured(rig: Rig) -> None:
    rig.fake.fail_next("chat.postMessage", times=2, status=429, retry_after=4)
    await queue(rig.core, "linnea.fors")
    await rig.core.dispatcher.run_once()
    rig.clock.advance(timedelta(seconds=3))
    await rig.core.dispatcher.run_once()
    assert len(rig.fake.calls("chat.postMessage")) == 1  # held for the full Retry-After
    rig.clock.advance(timedelta(seconds=1))
    await rig.core.dispatcher.run_once()
    rig.clock.advance(timedelta(seconds=4))
    await rig.core.dispatcher.run_once()
    assert len(rig.posts(LINNEA)) == 1
    assert [c.status for c in rig.fake.calls("chat.postMessage")] == [429, 429, 200]
    assert (await statuses(rig.core))[0][1] == "sent"


async def test_about_one_message_per_second_per_channel(rig: Rig) -> None:
    await queue(rig.core, "linnea.fors", n=3)
    await queue(rig.core, "fatima.ali", n=1)
    seen = []
    for _ in range(4):
        await rig.core.dispatcher.run_once()
        seen.append(len(rig.posts(LINNEA)))
        rig.clock.advance(timedelta(seconds=1))
    assert seen == [1, 2, 3, 3]
    assert len(rig.posts("U04FATIMA")) == 1


async def test_unknown_user_fails_for_good_and_the_coordinator_is_told(rig: Rig) -> None:
    # sofia.grahn has no Slack id in the directory and Slack knows no user with her e-mail
    await queue(rig.core, "sofia.grahn")
    await rig.core.dispatcher.run_once()
    await rig.core.dispatcher.run_once()
    rows = await statuses(rig.core)
    assert rows[0] == ("sofia.grahn", "failed", 1, "slack:no_user_for_person")
    notices = [t for t in rig.posts() if "kunde inte levereras" in t]
    assert notices and "Sofia Grahn" in notices[0]

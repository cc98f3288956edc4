"""Fault: the Slack Web API answers 500 and then 429 with Retry-After for a while. Once it recovers every
notification arrives, exactly once, and each person gets theirs in the order they were queued.

In process against the fake Slack over real HTTP; time is the injected clock (the dispatcher is run and the
clock moved, nothing sleeps)."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest
from slack_sdk.web.async_client import AsyncWebClient

from bot.cases.request import GfiRequest
from bot.channels.slack.identity import SlackIdentity
from bot.channels.slack.sender import SlackSender
from bot.clock import FrozenClock
from bot.config import DEFAULT_DIRECTORY, Settings
from bot.core import Core, open_core
from tests.fakes.slack_api import FakeSlackAPI

TOKEN = "xoxb-faults-outage"
REF = re.compile(r"GFI-\d{4}-\d{4}")
# Slack user ids from deploy/directory.example.yaml
SLACK_IDS = {"maria.sand": "U01MARIA", "omar.haddad": "U01OMAR", "fatima.ali": "U04FATIMA"}


@dataclass
class Rig:
    fake: FakeSlackAPI
    core: Core
    clock: FrozenClock

    def delivered(self, slack_user: str) -> list[str]:
        """The case references in the DMs Slack accepted for one user, in arrival order."""
        return [m.group(0) for c in self.fake.calls("chat.postMessage")
                if c.ok and c.params.get("channel") == slack_user
                for m in [REF.search(str(c.params.get("text")))] if m]

    async def pending(self) -> int:
        async with self.core.db.transaction() as tx:
            return int(await tx.scalar("SELECT COUNT(*) FROM outbox WHERE status = 'pending'"))

    async def statuses(self) -> set[str]:
        async with self.core.db.transaction() as tx:
            return {r["status"] for r in await tx.fetchall("SELECT DISTINCT status FROM outbox")}


@pytest.fixture
async def rig(tmp_path: Path, clock: FrozenClock) -> AsyncIterator[Rig]:
    async with FakeSlackAPI(token=TOKEN) as fake:
        client = AsyncWebClient(token=TOKEN, base_url=fake.base_url)
        sender = SlackSender(client)  # paced at one message per second per person, on the injected clock
        settings = Settings(db_path=tmp_path / "gfi.sqlite3", directory_path=DEFAULT_DIRECTORY, _env_file=None)
        core = await open_core(settings, clock=clock, senders={"slack": sender}, fallback=sender)
        sender.bind(SlackIdentity(core.db, core.directory, client, clock))
        try:
            yield Rig(fake, core, clock)
        finally:
            await core.close()


async def file_urgent(core: Core, requester: str) -> str:
    """An urgent request to beroende: a receipt to the requester and an alert to its distributor."""
    case = await core.cases.request(requester, GfiRequest(
        target_unit="beroende", case_type="ny-en", brief="man, 45 år, alkohol", consent_confirmed=True, children="nej",
        urgent=True))
    return case.ref


async def drain(rig: Rig, step: timedelta, rounds: int) -> int:
    """Run the dispatcher and move the clock until nothing is pending (bounded); the rounds it took."""
    for n in range(rounds):
        await rig.core.dispatcher.run_once()
        if await rig.pending() == 0:
            return n
        rig.clock.advance(step)
    raise AssertionError(f"still {await rig.pending()} pending after {rounds} rounds")


@pytest.mark.parametrize("outage", [
    pytest.param([(500, None, 3), (429, 7, 4)], id="500s-then-429s"),
    pytest.param([(429, 30, 2), (503, None, 2), (429, 2, 3)], id="429-503-429"),
])
async def test_after_an_outage_every_notification_arrives_once_in_order(
        rig: Rig, outage: list[tuple[int, int | None, int]]) -> None:
    requesters = ["maria.sand", "omar.haddad", "maria.sand", "maria.sand", "omar.haddad", "maria.sand"]
    refs = [await file_urgent(rig.core, who) for who in requesters]
    for status, retry_after, times in outage:
        rig.fake.fail_next("chat.postMessage", times=times, status=status, retry_after=retry_after)

    await drain(rig, timedelta(seconds=5), rounds=400)

    failed_calls = [c for c in rig.fake.calls("chat.postMessage") if not c.ok]
    assert len(failed_calls) == sum(times for _, _, times in outage)  # the outage really happened
    expected = {
        "maria.sand": [r for r, who in zip(refs, requesters, strict=True) if who == "maria.sand"],
        "omar.haddad": [r for r, who in zip(refs, requesters, strict=True) if who == "omar.haddad"],
        "fatima.ali": refs,  # every urgent request alerts the distributor of beroende at once
    }
    for person, want in expected.items():
        assert rig.delivered(SLACK_IDS[person]) == want, person
    assert await rig.statuses() == {"sent"}
    # and nothing more arrives later
    rig.clock.advance(timedelta(hours=2))
    await rig.core.dispatcher.run_once()
    for person, want in expected.items():
        assert rig.delivered(SLACK_IDS[person]) == want, person


async def test_a_long_429_holds_the_person_without_losing_or_repeating_anything(rig: Rig) -> None:
    refs = [await file_urgent(rig.core, "maria.sand") for _ in range(3)]
    rig.fake.fail_next("chat.postMessage", times=1, status=429, retry_after=120)
    await rig.core.dispatcher.run_once()
    rig.clock.advance(timedelta(seconds=119))
    await rig.core.dispatcher.run_once()
    # Retry-After is honoured: nothing reached the person it was refused for before the two minutes
    first_refused = next(c for c in rig.fake.calls("chat.postMessage") if not c.ok).params["channel"]
    assert [c for c in rig.fake.calls("chat.postMessage") if c.ok and c.params["channel"] == first_refused] == []
    await drain(rig, timedelta(seconds=1), rounds=200)
    assert rig.delivered("U01MARIA") == refs
    assert rig.delivered("U04FATIMA") == refs

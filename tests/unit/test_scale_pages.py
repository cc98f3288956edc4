"""Long lists at scale: a slot's message lists the first of the queue and counts the rest; Home shows a bounded
page (the newest requests and cases, the first of each queue, with counts) read in a constant number of queries."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest

from bot.cases.models import Case
from bot.cases.views import COUNT_CAP
from bot.channels.slack import render as slack_render
from bot.channels.slack.home import home_view, load_home
from bot.channels.teams.cards import message_card
from bot.clock import FrozenClock
from bot.core import Core
from bot.distribution.scheduled import run_distribution
from bot.distribution.service import QUEUE_LISTED
from bot.home import MAX_QUEUE, MAX_REQUESTS
from bot.messages.model import Message
from bot.messages.text import plain_text
from bot.store.db import Tx
from tests.conftest import local
from tests.timekit import form, outbox_rows

POINTER = "Hela kön finns under Hem-fliken i Slack och i kön i Teams och konsolen."


async def file_requests(core: Core, clock: FrozenClock, count: int, **overrides: Any) -> list[Case]:
    """`count` requests from maria.sand to beroende, one minute apart (oldest first)."""
    cases = []
    for i in range(count):
        cases.append(await core.cases.request("maria.sand", form(**{"brief": f"Ärende nummer {i}.", **overrides})))
        clock.advance(timedelta(minutes=1))
    return cases


async def slot_message(core: Core, clock: FrozenClock) -> Message:
    clock.set(local("2026-11-24T09:05"))  # beroende's Tuesday slot
    assert await run_distribution(core) == 1
    rows = await outbox_rows(core, "queue")
    assert [r["recipient_id"] for r in rows] == ["fatima.ali"]
    return Message.from_json(json.loads(rows[0]["message"]))


async def test_a_slot_lists_the_oldest_cases_and_counts_the_rest(core: Core, clock: FrozenClock) -> None:
    await core.tick()  # the bot has run before
    cases = await file_requests(core, clock, QUEUE_LISTED + 3)
    message = await slot_message(core, clock)
    text = plain_text(message)
    assert f"{QUEUE_LISTED + 3} ärenden att fördela" in text
    listed = [c.ref for c in cases[:QUEUE_LISTED]]
    assert all(ref in text for ref in listed)
    assert not any(c.ref in text for c in cases[QUEUE_LISTED:])  # the newest are only counted
    assert f"… och 3 till. {POINTER}" in text
    # Slack says it once, in its own words, after the listed cases
    blocks = slack_render.fitted_blocks(message)
    contexts = [e["text"] for b in blocks if b["type"] == "context" for e in b["elements"]]
    assert "… och 3 till. Hela kön finns under Hem-fliken." in contexts
    assert not any(POINTER in str(b) for b in blocks)


async def test_an_urgent_request_is_listed_first_even_in_a_long_queue(core: Core, clock: FrozenClock) -> None:
    await core.tick()
    older = await file_requests(core, clock, QUEUE_LISTED + 2)
    urgent = (await file_requests(core, clock, 1, urgent=True))[0]
    text = plain_text(await slot_message(core, clock))
    assert text.index(urgent.ref) < text.index(older[0].ref)
    assert "… och 3 till." in text


async def test_a_slot_message_with_long_briefs_stays_within_slack_and_teams_limits(
    core: Core, clock: FrozenClock
) -> None:
    await core.tick()
    await file_requests(core, clock, QUEUE_LISTED + 40, brief="Lång beskrivning av behovet. " * 34)
    message = await slot_message(core, clock)
    payload = slack_render.payload(message)
    assert len(payload["blocks"]) <= 50
    assert sum(len(json.dumps(b, ensure_ascii=False)) for b in payload["blocks"]) < 40_000
    card = message_card(core.renderer, message, "n1")
    assert len(json.dumps(card, ensure_ascii=False).encode()) < 28_000  # Teams' card size limit
    assert "… och 40 till." in plain_text(message)


def home_text(view: dict[str, Any]) -> str:
    return json.dumps(view["blocks"], ensure_ascii=False)


async def test_home_shows_the_newest_requests_the_oldest_of_the_queue_and_counts(
    core: Core, clock: FrozenClock
) -> None:
    cases = await file_requests(core, clock, MAX_QUEUE + 3)
    # the requester: the newest requests, and how many more there are
    mine = home_text(home_view(core.renderer, await load_home(core, "maria.sand")))
    assert all(c.ref in mine for c in cases[-MAX_REQUESTS:])
    assert not any(f'"{c.ref} ' in mine or f"{c.ref} –" in mine for c in cases[:3])
    assert f"… och {len(cases) - MAX_REQUESTS} till." in mine
    # the distributor: the first of the queue (oldest first), and how many more there are
    queue = home_text(home_view(core.renderer, await load_home(core, "fatima.ali")))
    assert all(f"q-{c.ref}" in queue for c in cases[:MAX_QUEUE])
    assert not any(f"q-{c.ref}" in queue for c in cases[MAX_QUEUE:])
    assert "… och 3 till (äldst visas först)." in queue


@pytest.fixture
def queries(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """Every statement run through a transaction, in order."""
    seen: list[str] = []
    for name in ("execute", "insert", "executemany", "fetchone", "fetchall", "scalar"):
        original = getattr(Tx, name)

        def counted(self: Tx, sql: str, *args: Any, _original: Any = original, **kwargs: Any) -> Any:
            seen.append(sql)
            return _original(self, sql, *args, **kwargs)

        monkeypatch.setattr(Tx, name, counted)
    yield seen


async def test_home_is_read_in_as_many_queries_for_many_cases_as_for_few(
    core: Core, clock: FrozenClock, queries: list[str]
) -> None:
    await file_requests(core, clock, MAX_QUEUE + 3)  # more than a page of each list
    counts = []
    for person in ("maria.sand", "fatima.ali"):
        queries.clear()
        await load_home(core, person)
        counts.append(len(queries))
    await file_requests(core, clock, 40)
    for n, person in enumerate(("maria.sand", "fatima.ali")):
        queries.clear()
        await load_home(core, person)
        assert len(queries) == counts[n], person


async def test_home_counts_a_very_long_list_only_up_to_a_cap(core: Core, clock: FrozenClock) -> None:
    cases = await file_requests(core, clock, MAX_REQUESTS)
    data = await load_home(core, "maria.sand")
    assert data.request_total == MAX_REQUESTS
    data.request_total = COUNT_CAP  # as counted for someone with more than COUNT_CAP open requests
    text = home_text(home_view(core.renderer, data))
    assert f"… och minst {COUNT_CAP - MAX_REQUESTS} till." in text
    assert cases[-1].ref in text

"""Teams with the store full (issue #23 item 7): a request that cannot be stored is answered in Swedish, in the
chat, instead of silence; once there is room the same card files it.

Here the store's writes are made to fail as a full disk makes them (`StoreFull`); `tests/faults/test_disk_full.py`
fills a real filesystem under a running bot, and `tests/unit/test_store_space.py` gives SQLite the error."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from bot.clock import FrozenClock
from bot.errors import StoreFull
from tests.e2e.test_teams_inbound import request_values
from tests.fakes.teams import card_text, execute
from tests.fakes.teams_bot import TeamsBot, running_teams

FULL_TEXT = "lagringsutrymmet är fullt"


@pytest.fixture
async def bot(tmp_path: Path, clock: FrozenClock) -> AsyncIterator[TeamsBot]:
    async with running_teams(tmp_path, clock) as running:
        yield running


async def test_a_request_on_a_full_store_is_answered_in_swedish_and_files_when_room_returns(
        bot: TeamsBot, monkeypatch: pytest.MonkeyPatch) -> None:
    await bot.say("maria.sand", "hjälp")  # her chat is known
    db = bot.core.db
    writes = db.run

    async def full(work: Any, **_: Any) -> Any:  # every write refused as on a full disk (see the module's docstring)
        db.space.full()
        raise StoreFull

    monkeypatch.setattr(db, "run", full)
    # posted without the harness's settle, which delivers the outbox (a write) right after
    reply = await bot.post(bot.activity("maria.sand", "invoke", name="adaptiveCard/action",
                                        value=execute("request", {"card": "form-1", **request_values()})))
    await bot.channel.ctx.drain()
    told = [str(reply.body), *(str(c.body) for c in bot.connector.posts(bot.chat("maria.sand")))]
    assert any(FULL_TEXT in t for t in told), (reply, told)
    assert await bot.count("SELECT COUNT(*) FROM cases") == 0
    monkeypatch.setattr(db, "run", writes)
    reply = await bot.act("maria.sand", "request", {"card": "form-1", **request_values()})
    assert "registrerad" in card_text(reply.card)
    assert await bot.count("SELECT COUNT(*) FROM cases") == 1

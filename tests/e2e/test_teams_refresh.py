"""A delivered Teams card that shows free text is refreshed for its recipient (Universal Actions): each
display is logged as read, and once the recipient has lost access the card comes back without the free text."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from bot import readlog
from bot.clock import FrozenClock
from tests.e2e.test_teams_inbound import request_values
from tests.fakes.teams import card_text
from tests.fakes.teams_bot import TeamsBot, running_teams

BRIEF = "man, 45 år, alkohol"


@pytest.fixture
async def bot(tmp_path: Path, clock: FrozenClock) -> AsyncIterator[TeamsBot]:
    async with running_teams(tmp_path, clock) as running:
        for who in ("fatima.ali", "linnea.fors"):
            await running.say(who, "hjälp")
        yield running


def with_brief(bot: TeamsBot, who: str) -> dict[str, Any]:
    return next(c for c in reversed(bot.connector.cards(bot.chat(who))) if BRIEF in card_text(c))


async def reads_of(bot: TeamsBot, ref: str, who: str) -> int:
    async with bot.core.db.read() as tx:
        return len([r for r in await readlog.for_case(tx, ref) if r.person_id == who and r.channel == "teams"])


async def test_a_card_with_free_text_is_refreshed_and_summarised_after_access_is_lost(bot: TeamsBot) -> None:
    reply = await bot.act("maria.sand", "request", {"card": "form-1", **request_values()})
    ref = card_text(reply.card).split("registrerad: ")[1].split(".")[0].split(" ")[0]
    await bot.core.cases.assign("fatima.ali", ref, ["linnea.fors"], None)
    await bot.settle()
    card = with_brief(bot, "linnea.fors")
    assert card["refresh"]["userIds"] == ["29:linnea"] and card["refresh"]["action"]["verb"] == "case_card"
    data = card["refresh"]["action"]["data"]
    before = await reads_of(bot, ref, "linnea.fors")

    again = await bot.act("linnea.fors", "case_card", data)
    assert BRIEF in card_text(again.card) and again.card["refresh"]["userIds"] == ["29:linnea"]
    assert await reads_of(bot, ref, "linnea.fors") == before + 1  # each display is a read

    stranger = await bot.act("maria.sand", "case_card", data)  # not the recipient: nothing of the card
    assert BRIEF not in card_text(stranger.card) and ref not in card_text(stranger.card)

    await bot.core.cases.assign("fatima.ali", ref, ["gustav.lund"], None, reassign=True)
    await bot.settle()
    after = await bot.act("linnea.fors", "case_card", data)
    text = card_text(after.card)
    assert BRIEF not in text and ref in text and "inte längre del i ärendet" in text
    assert await reads_of(bot, ref, "linnea.fors") == before + 1  # the summary shows no free text

"""Anonymous mode (TEAMS_ANONYMOUS=1) for Microsoft's Agents Playground: an activity without a token is answered
at its serviceUrl and no token is asked for; on a non-loopback address the bot refuses to start, in one line."""

from __future__ import annotations

from pathlib import Path

from bot.clock import FrozenClock
from tests.e2e.test_process_guards import assert_refused, bot_env, gfi_bot
from tests.fakes.teams import card_text
from tests.fakes.teams_bot import running_teams


async def test_the_playground_is_answered_without_a_token(tmp_path: Path, clock: FrozenClock) -> None:
    async with running_teams(tmp_path, clock, anonymous=True) as bot:
        body = bot.activity("maria.sand", "message", text="hjälp")
        body.pop("channelData")  # the Playground sends no tenant
        body["conversation"].pop("tenantId")
        reply = await bot.post(body, token=None)
        await bot.settle()
        assert reply.status in (200, 202)
        [answer] = bot.connector.posts(bot.chat("maria.sand"))
        assert answer.path.startswith(f"/v3/conversations/{bot.chat('maria.sand')}/activities")
        assert "gfi" in card_text(answer.body["attachments"][0]["content"]).lower()
        assert answer.auth is None  # the reply carries no token ...
        assert bot.tokens.asked == 0  # ... and none was asked for (Entra is never asked)


async def test_a_token_that_is_present_is_still_checked_in_anonymous_mode(tmp_path: Path,
                                                                         clock: FrozenClock) -> None:
    async with running_teams(tmp_path, clock, anonymous=True) as bot:
        reply = await bot.post(bot.activity("maria.sand", "message", text="hjälp"), token="not-a-jwt")
        assert reply.status == 401
        assert bot.connector.posts() == []


async def test_anonymous_mode_on_a_public_address_refuses_to_start(tmp_path: Path) -> None:
    env = bot_env(tmp_path / "gfi.sqlite3", TEAMS_ANONYMOUS="1", GFI_HTTP_HOST="0.0.0.0")
    result = await gfi_bot("run", env=env, cwd=tmp_path)
    assert_refused(result, "TEAMS_ANONYMOUS=1", "127.0.0.1", "0.0.0.0")
    assert not (tmp_path / "gfi.sqlite3").exists()  # refused before the store was touched

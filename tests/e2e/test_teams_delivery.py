"""Teams outbound through the dispatcher: stored references after a restart, the connector's 429, a person who
never opened the bot (Graph installation, e-mail fallback, or failed with the reason for coordinators)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from bot.channels.teams.sender import InstallError
from bot.clock import FrozenClock
from tests.conftest import RecordingSender
from tests.fakes.slack_api import serve_web_app
from tests.fakes.teams import FakeConnector, KeyIssuer, card_text
from tests.fakes.teams_bot import running_teams


async def outbox(bot, person: str) -> list[dict]:  # type: ignore[no-untyped-def]
    async with bot.core.db.transaction() as tx:
        return await tx.fetchall("SELECT * FROM outbox WHERE recipient_id = ? ORDER BY id", (person,))


async def assign_to_linnea(bot, throttle: list[float] | None = None) -> str:  # type: ignore[no-untyped-def]
    from tests.e2e.test_teams_inbound import request_values

    reply = await bot.act("maria.sand", "request", {"card": "f", **request_values()})
    ref = card_text(reply.card).split("registrerad: ")[1].split(".")[0]
    bot.connector.throttle = list(throttle or [])
    await bot.core.cases.assign("fatima.ali", ref, ["linnea.fors"], None)
    await bot.core.dispatcher.run_once()
    return ref


async def test_proactive_delivery_after_a_restart_uses_the_stored_reference(tmp_path: Path,
                                                                           clock: FrozenClock) -> None:
    issuer = KeyIssuer()
    connector = FakeConnector(issuer)
    async with serve_web_app(connector.app()) as url:  # Microsoft's service stays; the bot restarts
        connector.url = url + "/"
        async with running_teams(tmp_path, clock, issuer=issuer, connector=connector) as bot:
            await bot.say("linnea.fors", "hjälp")
            chat = bot.chat("linnea.fors")
        connector.calls.clear()
        async with running_teams(tmp_path, clock, issuer=issuer, connector=connector) as bot:
            await restarted(bot, chat)


async def restarted(bot, chat: str) -> None:  # type: ignore[no-untyped-def]
    if True:
        ref = await assign_to_linnea(bot)
        delivered = [c for c in bot.connector.cards(chat) if ref in card_text(c)]
        assert delivered, "the assignment reached linnea's stored chat"
        rows = [r for r in await outbox(bot, "linnea.fors") if r["case_ref"] == ref]
        assert [r["status"] for r in rows] == ["sent"]
        assert rows[0]["external_id"].startswith(chat + "|")
        assert bot.tokens.asked > 0  # the bot's outbound token, never Entra in tests
        assert all(c.auth and c.auth.startswith("Bearer ") for c in bot.connector.posts(chat))


async def test_connector_429_retry_after_is_honoured(tmp_path: Path, clock: FrozenClock) -> None:
    connector = FakeConnector(KeyIssuer())
    async with running_teams(tmp_path, clock, connector=connector, issuer=connector.issuer) as bot:
        await bot.say("linnea.fors", "hjälp")
        ref = await assign_to_linnea(bot, throttle=[7.0])
        row = next(r for r in await outbox(bot, "linnea.fors") if r["case_ref"] == ref)
        assert row["status"] == "pending" and row["last_error"] == "teams:ratelimited"
        assert row["attempts"] == 0  # a rate limit does not count towards giving up
        await bot.core.dispatcher.run_once()
        assert [r["status"] for r in await outbox(bot, "linnea.fors") if r["case_ref"] == ref] == ["pending"]
        clock.advance(timedelta(seconds=7))
        await bot.core.dispatcher.run_once()
        assert [r["status"] for r in await outbox(bot, "linnea.fors") if r["case_ref"] == ref] == ["sent"]


async def test_never_opened_and_not_installable_fails_with_the_reason_for_coordinators(
        tmp_path: Path, clock: FrozenClock) -> None:
    async with running_teams(tmp_path, clock) as bot:
        ref = await assign_to_linnea(bot)  # linnea never wrote to the bot; no Graph installer configured
        row = next(r for r in await outbox(bot, "linnea.fors") if r["case_ref"] == ref)
        assert row["status"] == "failed" and row["last_error"] == "teams:not_installed"
        told = await bot.count("SELECT COUNT(*) FROM outbox WHERE template = 'delivery_failed' AND case_ref = ?",
                               (ref,))
        assert told >= 1


class FakeInstaller:
    def __init__(self, error: InstallError | None = None) -> None:
        self.error = error
        self.users: list[str] = []

    async def install(self, user: str) -> str:
        self.users.append(user)
        if self.error is not None:
            raise self.error
        return f"19:graph-chat-{len(self.users)}"


async def test_never_opened_gets_the_app_installed_through_graph(tmp_path: Path, clock: FrozenClock) -> None:
    installer = FakeInstaller()
    async with running_teams(tmp_path, clock, installer=installer) as bot:
        ref = await assign_to_linnea(bot)
        assert installer.users == ["linnea.fors@rsv.example.se"]
        assert any(ref in card_text(c) for c in bot.connector.cards("19:graph-chat-1"))
        assert await bot.count("SELECT COUNT(*) FROM teams_references WHERE person_id = 'linnea.fors' "
                               "AND source = 'graph'") == 1


async def test_install_not_permitted_falls_back_to_email(tmp_path: Path, clock: FrozenClock) -> None:
    installer = FakeInstaller(InstallError("http_403", permanent=True, refused=True))
    email = RecordingSender()
    async with running_teams(tmp_path, clock, installer=installer, email=email) as bot:
        ref = await assign_to_linnea(bot)
        assert [s.case_ref for s in email.to("linnea.fors")] == [ref]
        row = next(r for r in await outbox(bot, "linnea.fors") if r["case_ref"] == ref)
        assert row["status"] == "sent" and row["external_id"].startswith("email:")

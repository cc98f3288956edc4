"""Graph together with the chat channels: free/busy suggestions in the Slack modal, the Teams card and the
console (`/förslag`); one case served on Slack, Teams and e-mail at once; `gfi-bot run` with Graph alone.

Graph is the TLS fake of `tests/fakes/graph_api.py` (the real msgraph-sdk and azure-identity talk to it),
Slack the fake Web API, Teams the fake Bot Connector.
"""

from __future__ import annotations

import asyncio
import io
import json
import os
import re
import signal
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import aiohttp
import pytest
from aiohttp import web
from slack_sdk.web.async_client import AsyncWebClient

from bot.cases.models import Case
from bot.channels.console import ConsoleClock, ConsoleSession
from bot.channels.graph import GraphChannel
from bot.channels.graph.links import LinkSigner
from bot.channels.slack.identity import SlackIdentity
from bot.channels.slack.sender import SlackSender
from bot.clock import FrozenClock
from bot.config import DEFAULT_DIRECTORY, Settings
from bot.core import Core
from tests.conftest import local
from tests.e2e.test_graph import BRIEF, CONTACT, SENDER
from tests.e2e.test_slack_server import read_until
from tests.fakes.graph_api import FakeGraph
from tests.fakes.slack_api import FakeSlackAPI, serve_web_app
from tests.fakes.slack_bot import SlackBot
from tests.fakes.teams import actions_of, card_text
from tests.fakes.teams_bot import running_teams
from tests.timekit import form

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")  # msgraph-sdk's own request configs

LINNEA = "U04LINNEA"
UTC = ZoneInfo("UTC")
SLOTS = ["2026-11-24T09:00", "2026-11-24T13:30", "2026-11-25T08:00"]


def graph_settings(graph: FakeGraph, tmp_path: Path, **extra: Any) -> Settings:
    return Settings(
        _env_file=None, db_path=tmp_path / "unused.sqlite3",
        GRAPH_TENANT_ID=graph.tenant, GRAPH_CLIENT_ID="app-id", GRAPH_CLIENT_SECRET="app-secret",
        GRAPH_SENDER=SENDER, GRAPH_API_URL=graph.api_url, GRAPH_AUTHORITY_HOST=graph.url, GRAPH_TIMEOUT=2,
        **extra,
    )


@asynccontextmanager
async def graph_on(core: Core, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                   **extra: Any) -> AsyncIterator[tuple[FakeGraph, GraphChannel]]:
    """The fake Graph, and the Graph channel attached to `core` (e-mail, calendar, suggestions)."""
    async with FakeGraph(tmp_path) as graph:
        monkeypatch.setenv("SSL_CERT_FILE", str(graph.cert))
        channel = GraphChannel.from_settings(graph_settings(graph, tmp_path, **extra))
        assert channel is not None
        channel.attach(core)
        try:
            yield graph, channel
        finally:
            await channel.close()
        assert graph.problems == []


async def acknowledged(core: Core, assignees: list[str], requester: str = "maria.sand") -> Case:
    case = await core.cases.request(requester, form(brief=BRIEF, contact=CONTACT))
    await core.cases.assign("fatima.ali", case.ref, assignees)
    return await core.cases.acknowledge(assignees[0], case.ref)


def fixed_slots(*starts: str) -> Any:
    async def finder(case: Case, now: datetime) -> list[datetime]:
        return [local(s) for s in starts]
    return finder


# --- Slack: the booking modal ----------------------------------------------------------------------------

async def test_slack_booking_modal_offers_the_free_hours_and_fills_the_first(bot: SlackBot) -> None:
    bot.core.suggestions.finder = fixed_slots(*SLOTS)
    case = await acknowledged(bot.core, ["linnea.fors"])
    await bot.click(LINNEA, "gfi_book_open", case.ref, trigger_id="trig-book")
    view = await bot.opened_view("gfi_book")
    blocks = {b.get("block_id"): b for b in view["blocks"]}
    assert blocks["datum"]["element"]["initial_date"] == "2026-11-24"
    assert blocks["tid"]["element"]["initial_time"] == "09:00"
    [context] = [b for b in view["blocks"] if b["type"] == "context"]
    text = context["elements"][0]["text"]
    assert "tis 24 nov 2026 kl. 09:00" in text and "tis 24 nov 2026 kl. 13:30" in text
    assert "ons 25 nov 2026 kl. 08:00" in text


async def test_slack_booking_modal_opens_without_suggestions_when_graph_is_slow(bot: SlackBot) -> None:
    async def slow(case: Case, now: datetime) -> list[datetime]:
        await asyncio.Event().wait()  # Graph never answers
        return []

    bot.core.suggestions.finder = slow
    bot.core.suggestions.timeout = 0.05
    case = await acknowledged(bot.core, ["linnea.fors"])
    await bot.click(LINNEA, "gfi_book_open", case.ref, trigger_id="trig-book")
    view = await bot.opened_view("gfi_book")
    assert not [b for b in view["blocks"] if b["type"] == "context"]
    tid = next(b for b in view["blocks"] if b.get("block_id") == "tid")
    assert "initial_time" not in tid["element"]
    assert next(b for b in view["blocks"] if b.get("block_id") == "datum")["element"]["initial_date"] == "2026-11-23"


# --- Teams: the booking card -----------------------------------------------------------------------------

async def test_teams_booking_card_offers_the_free_hours(tmp_path: Path, clock: FrozenClock) -> None:
    async with running_teams(tmp_path, clock) as bot:
        bot.core.suggestions.finder = fixed_slots(*SLOTS)
        case = await acknowledged(bot.core, ["linnea.fors"])
        card = (await bot.act("linnea.fors", "book", {"ref": case.ref, "card": "o1"})).card
        assert "tis 24 nov 2026 kl. 13:30" in card_text(card)
        inputs = {e["id"]: e for e in card["body"] if str(e.get("type", "")).startswith("Input.")}
        assert inputs["datum"]["value"] == "2026-11-24" and inputs["tid"]["value"] == "09:00"
        # someone who may not book gets no form, and Graph is not asked on their behalf
        asked: list[str] = []

        async def spy(c: Case, now: datetime) -> list[datetime]:
            asked.append(c.ref)
            return []

        bot.core.suggestions.finder = spy
        card = (await bot.act("maria.sand", "book", {"ref": case.ref, "card": "o2"})).card
        assert not actions_of(card) and asked == []


# --- the console: /förslag, with getSchedule on the fake Graph ----------------------------------------------

async def test_console_forslag_asks_graph_for_the_participants_free_hours(
        core: Core, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    case = await acknowledged(core, ["linnea.fors", "sofia.grahn"])
    async with graph_on(core, tmp_path, monkeypatch) as (graph, _):
        graph.busy["sofia.grahn@rsv.example.se"] = [
            (local("2026-11-23T10:00").astimezone(UTC), local("2026-11-24T16:00").astimezone(UTC))]
        out = io.StringIO()
        session = ConsoleSession(core, "linnea.fors", ConsoleClock(core.clock.now()), out)
        await session.handle(f"/förslag {case.ref}")
        text = out.getvalue()
        assert "tis 24 nov 2026 kl. 16:00" in text and "ons 25 nov 2026 kl. 08:00" in text
        assert "ons 25 nov 2026 kl. 08:30" in text and f"/boka {case.ref}" in text
        [call] = graph.of("getSchedule")
        assert call.body["schedules"] == ["sofia.grahn@rsv.example.se"]
        # the requester may not book: refused, and Graph is not asked
        out = io.StringIO()
        await ConsoleSession(core, "maria.sand", ConsoleClock(core.clock.now()), out).handle(f"/forslag {case.ref}")
        assert "Bara de som" in out.getvalue() and len(graph.of("getSchedule")) == 1
        # Graph down: no suggestions, said plainly
        graph.fail_next("getSchedule", 503)
        session.out = io.StringIO()
        await session.handle(f"/forslag {case.ref}")
        assert "Inga förslag på tider" in session.out.getvalue()


async def test_console_forslag_without_graph_and_its_usage(core: Core) -> None:
    case = await acknowledged(core, ["linnea.fors"])
    out = io.StringIO()
    session = ConsoleSession(core, "linnea.fors", ConsoleClock(core.clock.now()), out)
    await session.handle(f"/förslag {case.ref}")
    await session.handle("/förslag")
    await session.handle("/hjälp")
    text = out.getvalue()
    assert "kräver kopplingen till Microsoft 365" in text
    assert "/förslag <ref>" in text and "Ange ärendets referens" in text


# --- one case, three channels ------------------------------------------------------------------------------

async def test_one_case_served_on_slack_teams_and_email(tmp_path: Path, clock: FrozenClock,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    async with FakeSlackAPI(token="xoxb-test") as slack_api, \
            running_teams(tmp_path, clock, email_people=("sofia.grahn",)) as bot:
        core = bot.core
        client = AsyncWebClient(token="xoxb-test", base_url=slack_api.base_url)
        core.dispatcher.senders["slack"] = SlackSender(client, SlackIdentity(core.db, core.directory, client,
                                                                             core.clock))
        async with graph_on(core, tmp_path, monkeypatch, GFI_PUBLIC_URL="http://127.0.0.1:9",
                            GFI_LINK_SECRET="test-link-secret-0123456789") as (graph, _):
            await bot.say("maria.sand", "hjälp")  # Teams: maria has opened the bot
            case = await core.cases.request("maria.sand", form(brief=BRIEF, contact=CONTACT))
            await core.cases.assign("fatima.ali", case.ref, ["linnea.fors", "gustav.lund", "sofia.grahn"])
            await bot.settle()
            await core.tick()

            # Slack: Gustav's DM through the Slack Web API
            posted = [c for c in slack_api.calls("chat.postMessage") if c.params.get("channel") == "U04GUSTAV"]
            assert any(case.ref in json.dumps(c.params, ensure_ascii=False) for c in posted)
            # Teams: Maria's card through the Bot Connector (she is told who got her request)
            assert any(case.ref in card_text(c) for c in bot.connector.cards(bot.chat("maria.sand")))
            # e-mail: Sofia through Graph's sendMail, without the free text
            mails = [c.body["message"] for c in graph.of("sendMail")]
            assert {m["toRecipients"][0]["emailAddress"]["address"] for m in mails} == {"sofia.grahn@rsv.example.se"}
            assert any(case.ref in m["subject"] for m in mails)
            for secret in (BRIEF, CONTACT):
                assert secret not in json.dumps(mails, ensure_ascii=False)
            assert not re.search(r"\b070[- ]", json.dumps(mails, ensure_ascii=False))  # not a link token's digits
            # nobody got it twice on another channel
            assert not [c for c in slack_api.calls("chat.postMessage")
                        if c.params.get("channel") in ("U01MARIA", "sofia.grahn")]
            assert all("gustav" not in c.path and "sofia" not in c.path for c in bot.connector.posts())


# --- `gfi-bot run` with Graph alone --------------------------------------------------------------------------

@pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")
async def test_run_with_graph_alone_serves_the_link_pages(tmp_path: Path) -> None:
    secret = "test-link-secret-0123456789-at-least-32-bytes"
    async with FakeGraph(tmp_path) as graph:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "GFI_", "TEAMS_", "GRAPH_"))}
        env.update({
            "GRAPH_TENANT_ID": graph.tenant, "GRAPH_CLIENT_ID": "app-id", "GRAPH_CLIENT_SECRET": "app-secret",
            "GRAPH_SENDER": SENDER, "GRAPH_API_URL": graph.api_url, "GRAPH_AUTHORITY_HOST": graph.url,
            "SSL_CERT_FILE": str(graph.cert), "GFI_PUBLIC_URL": "http://127.0.0.1:9", "GFI_LINK_SECRET": secret,
            "GFI_HTTP_HOST": "127.0.0.1", "GFI_HTTP_PORT": "0", "GFI_LOG_LEVEL": "INFO",
            "GFI_DB_PATH": str(tmp_path / "gfi.sqlite3"), "GFI_DIRECTORY": str(DEFAULT_DIRECTORY),
            "GFI_ALLOW_EXAMPLE_DIRECTORY": "1",
        })
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot.cli", "run", cwd=tmp_path, env=env, stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        )
        assert proc.stderr is not None
        seen: list[dict[str, Any]] = []
        try:
            await read_until(proc.stderr, "slack.listening", seen)
            base = f"http://127.0.0.1:{seen[-1]['port']}"
            link = LinkSigner(secret, base).url("sofia.grahn", "acknowledge", "GFI-2026-0001", None,
                                                datetime.now(UTC) - timedelta(minutes=1))
            async with aiohttp.ClientSession() as http:
                async with http.get(f"{base}/healthz") as resp:
                    assert resp.status == 200 and (await resp.json())["db"] is True
                async with http.get(link) as resp:  # a valid link to a case that does not exist (yet)
                    assert resp.status != 404 and "<html" in (await resp.text()).lower()
                tampered = link[:-3] + ("aaa" if not link.endswith("aaa") else "bbb")
                async with http.post(tampered) as resp:
                    assert resp.status == 400 and "Länken är ogiltig" in await resp.text()
                async with http.post(f"{base}/slack/events", data=b"{}") as resp:
                    assert resp.status == 404  # no Slack here
        finally:
            if proc.returncode is None:
                proc.send_signal(signal.SIGTERM)
        code = await asyncio.wait_for(proc.wait(), timeout=20)
        rest = (await proc.stderr.read()).decode()
        assert code == 0, rest
        assert "Traceback" not in rest


# --- the link page's "open the case" -------------------------------------------------------------------------

async def test_open_links_lead_into_slack_and_teams_when_their_ids_are_set(
        core: Core, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    secret = "test-link-secret-0123456789"
    case = await acknowledged(core, ["linnea.fors", "sofia.grahn"])
    async with graph_on(core, tmp_path, monkeypatch, GFI_PUBLIC_URL="http://127.0.0.1:9",
                        GFI_LINK_SECRET=secret) as (_, channel):
        app = web.Application()
        channel.add_routes(app)
        async with serve_web_app(app) as base, aiohttp.ClientSession() as http:
            signer = LinkSigner(secret, base)

            async def page(person: str) -> str:
                async with http.get(signer.url(person, "open", case.ref, None, core.clock.now())) as resp:
                    assert resp.status == 200
                    return await resp.text()

            assert "Slack" in await page("linnea.fors") and "slack://" not in await page("linnea.fors")
            core.settings.slack_team_id, core.settings.slack_app_id = "T0GFI", "A0BOT"
            core.settings.teams_app_id = "11111111-2222-3333-4444-555555555555"
            assert '<a href="slack://app?team=T0GFI&amp;id=A0BOT&amp;tab=home">Slack</a>' in await page("linnea.fors")
            assert ('<a href="https://teams.microsoft.com/l/chat/0/0?users=28:11111111-2222-3333-4444-555555555555">'
                    'Teams</a>') in await page("sofia.grahn")

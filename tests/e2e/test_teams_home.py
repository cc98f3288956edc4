"""The Teams Home card over real HTTP against the fake Bot Connector: for each role at four stages of a case it
shows what Slack's App Home shows for the same person (the same cases and counts, from the same
`bot.home.load_home`); its refresh answers each viewer with their own Home; the briefs it shows are logged as
read; a coordinator's views (leveranser, statistik, läsloggar, brister, utkast, eskaleringar) are cards whose
buttons work; the yearly brist report and the statistics come as files behind signed links."""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from bot import readlog
from bot.channels.slack.home import home_view
from bot.clock import FrozenClock
from bot.home import load_home
from tests.e2e.test_teams_inbound import request_values
from tests.fakes.teams import actions_of, card_text, nodes
from tests.fakes.teams_bot import TeamsBot, running_teams

JONAS = ("29:jonas", "aad-jonas", "jonas.sjo@rsv.example.se")  # a coordinator, on Slack in the directory
REF = re.compile(r"GFI-\d{4}-\d{4}")
BRIEF = "man, 45 år, alkohol"


@pytest.fixture
async def bot(tmp_path: Path, clock: FrozenClock) -> AsyncIterator[TeamsBot]:
    async with running_teams(tmp_path, clock) as running:
        running.connector.members[JONAS[0]] = {"userPrincipalName": JONAS[2], "aadObjectId": JONAS[1],
                                               "name": JONAS[0]}
        running.ids["jonas.sjo"] = JONAS
        for who in ("fatima.ali", "linnea.fors", "jonas.sjo"):
            await running.say(who, "hjälp")
        yield running


async def file_request(bot: TeamsBot) -> str:
    card = f"form-{await bot.count('SELECT COUNT(*) FROM cases')}"
    reply = await bot.act("maria.sand", "request", {"card": card, **request_values()})
    return card_text(reply.card).split("registrerad: ")[1].split(".")[0].split(" ")[0]


async def home(bot: TeamsBot, who: str) -> dict[str, Any]:
    await bot.settle()
    await bot.post(bot.activity(who, "message", text="hem"))
    await bot.channel.ctx.drain()
    return bot.connector.cards(bot.chat(who))[-1]


def dialogs_of(card: dict[str, Any]) -> list[str]:
    """The dialogs a card's buttons open (Action.Submit with task/fetch)."""
    return [str(node["data"].get("dialog")) for node in nodes(card)
            if node.get("type") == "Action.Submit" and isinstance(node.get("data"), dict)
            and (node["data"].get("msteams") or {}).get("type") == "task/fetch"]


def slack_text(view: dict[str, Any]) -> str:
    return json.dumps(view, ensure_ascii=False)


async def same_as_slack(bot: TeamsBot, who: str, card: dict[str, Any]) -> None:
    """The Home card names the same cases as Slack's App Home for the same person, with the same counts."""
    view = home_view(bot.core.renderer, await load_home(bot.core, who))
    slack, teams = slack_text(view), card_text(card)
    assert set(REF.findall(teams)) == set(REF.findall(slack))
    for heading in ("Mina förfrågningar", "Mina ärenden", "Öppna eskaleringar", "Misslyckade utskick",
                    "Brister i samverkan"):
        assert (heading in teams) is (heading in slack), heading
    assert teams.count("… och ") == slack.count("… och ")


async def test_home_for_each_role_at_four_stages_matches_slack(bot: TeamsBot) -> None:
    ref = await file_request(bot)
    stages = []
    for stage in ("requested", "assigned", "acknowledged", "booked"):
        if stage == "assigned":
            await bot.core.cases.assign("fatima.ali", ref, ["linnea.fors"], None)
        elif stage == "acknowledged":
            await bot.core.cases.acknowledge("linnea.fors", ref)
        elif stage == "booked":
            at = bot.clock.now() + timedelta(days=2)
            await bot.core.cases.book("linnea.fors", ref, at.replace(hour=10, minute=0), "Rum 3",
                                      ["soc-norr", "beroende"], confirmed=True)
        for who in ("maria.sand", "fatima.ali", "linnea.fors", "jonas.sjo"):
            card = await home(bot, who)
            await same_as_slack(bot, who, card)
            stages.append((stage, who, card))
    texts = {(s, w): card_text(c) for s, w, c in stages}
    assert ref in texts[("requested", "maria.sand")] and "Mina förfrågningar" in texts[("requested", "maria.sand")]
    assert ref in texts[("requested", "fatima.ali")] and BRIEF in texts[("requested", "fatima.ali")]  # the queue
    assert ref not in texts[("requested", "linnea.fors")]  # not hers yet: need to know
    assert ref in texts[("assigned", "linnea.fors")]
    assigned = next(c for s, w, c in stages if (s, w) == ("assigned", "linnea.fors"))
    assert ("acknowledge", ref) in {(a["verb"], a["data"].get("ref")) for a in actions_of(assigned)}
    assert BRIEF not in texts[("booked", "linnea.fors")]  # the Home quotes no free text but the queue's
    assert "Misslyckade utskick" in texts[("booked", "jonas.sjo")]


async def test_the_refresh_gives_each_viewer_their_own_home(bot: TeamsBot) -> None:
    ref = await file_request(bot)
    card = await home(bot, "fatima.ali")
    assert card["refresh"]["userIds"] == ["29:fatima"] and card["refresh"]["action"]["verb"] == "home"
    again = await bot.act("fatima.ali", "home", card["refresh"]["action"]["data"])
    assert ref in card_text(again.card) and again.card["refresh"]["userIds"] == ["29:fatima"]
    other = await bot.act("linnea.fors", "home", card["refresh"]["action"]["data"])  # a forwarded card
    assert ref not in card_text(other.card) and BRIEF not in card_text(other.card)
    assert other.card["refresh"]["userIds"] == ["29:linnea"]


async def test_the_briefs_a_home_card_shows_are_logged_as_read(bot: TeamsBot) -> None:
    ref = await file_request(bot)
    await home(bot, "fatima.ali")
    await bot.act("fatima.ali", "home", {})
    async with bot.core.db.read() as tx:
        reads = await readlog.for_case(tx, ref)
    homes = [r for r in reads if r.view == "home" and r.channel == "teams" and r.person_id == "fatima.ali"]
    assert len(homes) == 2
    await home(bot, "maria.sand")  # her Home shows no brief: nothing to log
    async with bot.core.db.read() as tx:
        assert not [r for r in await readlog.for_case(tx, ref) if r.person_id == "maria.sand"]


async def test_home_buttons_open_their_forms(bot: TeamsBot) -> None:
    ref = await file_request(bot)
    card = await home(bot, "fatima.ali")
    verbs = {a["verb"]: a for a in actions_of(card)}
    assert {"absence_open", "assign"} <= set(verbs)
    assert dialogs_of(card) == ["request"]  # Ny GFI-förfrågan opens the form as a dialog
    form = await bot.act("fatima.ali", "new_request", {})  # a Home card sent before dialogs
    assert any(e.get("id") == "enhet" for e in form.card["body"])
    absent = await bot.act("fatima.ali", "absence_open", verbs["absence_open"]["data"])
    assert "Registrera frånvaro" in card_text(absent.card)
    assign = await bot.act("fatima.ali", "assign", verbs["assign"]["data"])
    assert f"Fördela {ref}" in card_text(assign.card)


async def coordinator_card(bot: TeamsBot, text: str) -> dict[str, Any]:
    await bot.settle()
    await bot.post(bot.activity("jonas.sjo", "message", text=text))
    await bot.channel.ctx.drain()
    return bot.connector.cards(bot.chat("jonas.sjo"))[-1]


async def test_each_coordinator_view_is_a_card(bot: TeamsBot) -> None:
    ref = await file_request(bot)
    await bot.core.cases.assign("fatima.ali", ref, ["linnea.fors"], None)
    await home(bot, "linnea.fors")  # not a read of the brief: linnea's Home lists no free text
    await bot.act("linnea.fors", "journal", {"ref": ref})
    deliveries = card_text(await coordinator_card(bot, "leveranser"))
    assert "Utskick:" in deliveries
    stats = await coordinator_card(bot, "statistik")
    assert "stats_csv" in {a["verb"] for a in actions_of(stats)}
    reads = card_text(await coordinator_card(bot, f"läsloggar {ref}"))
    assert ref in reads
    usage = card_text(await coordinator_card(bot, "läsloggar"))
    assert "läsloggar GFI-ÅÅÅÅ-NNNN" in usage
    reports = await coordinator_card(bot, "brister")
    assert "brist_year_report" in {a["verb"] for a in actions_of(reports)} and dialogs_of(reports) == ["brist"]
    drafts = card_text(await coordinator_card(bot, "utkast"))
    assert "Inga utkast väntar." in drafts
    escalations = card_text(await coordinator_card(bot, "eskaleringar"))
    assert "Öppna eskaleringar" in escalations
    refused = card_text(await last_card_of(bot, "linnea.fors", "leveranser"))
    assert "samordnare" in refused


async def last_card_of(bot: TeamsBot, who: str, text: str) -> dict[str, Any]:
    await bot.settle()
    await bot.post(bot.activity(who, "message", text=text))
    await bot.channel.ctx.drain()
    return bot.connector.cards(bot.chat(who))[-1]


async def test_year_report_without_a_public_address_says_what_to_do(bot: TeamsBot) -> None:
    card = await home(bot, "jonas.sjo")
    year = next(a for a in actions_of(card) if a["verb"] == "brist_year_report")
    reply = await bot.act("jonas.sjo", "brist_year_report", year["data"])
    assert "GFI_PUBLIC_URL" in card_text(reply.card)
    refused = await bot.act("linnea.fors", "brist_year_report", year["data"])
    assert "samordnare" in card_text(refused.card).lower()


async def test_year_report_and_statistics_as_files_behind_signed_links(bot: TeamsBot) -> None:
    from aiohttp import web

    from bot.channels.teams.files import FileLinks
    from tests.fakes.slack_api import serve_web_app

    files = FileLinks(bot.core, "a-long-enough-test-secret", "http://unset")
    app = web.Application()
    files.add_routes(app)
    async with serve_web_app(app) as base:
        files.public_url = base
        bot.channel.ctx.files = files
        card = await home(bot, "jonas.sjo")
        year = next(a for a in actions_of(card) if a["verb"] == "brist_year_report")
        reply = await bot.act("jonas.sjo", "brist_year_report", year["data"])
        links = [a["url"] for a in reply.card["actions"] if a["type"] == "Action.OpenUrl"]
        assert len(links) == 3 and all(u.startswith(f"{base}/f/") for u in links)
        for url in links:
            async with bot.http.get(url) as resp:
                assert resp.status == 200 and "attachment" in resp.headers["Content-Disposition"]
                assert len(await resp.read()) > 0
        stats = await bot.act("jonas.sjo", "stats_csv", {})
        csv_url = next(a["url"] for a in stats.card["actions"] if a["type"] == "Action.OpenUrl")
        async with bot.http.get(csv_url) as resp:
            assert resp.status == 200 and resp.headers["Content-Type"].startswith("text/csv")
        async with bot.http.get(csv_url) as resp:  # a file link works once
            assert resp.status == 410 and "redan använd" in await resp.text()
        async with bot.http.get(links[0][:-3] + "xyz") as resp:  # altered: refused, nothing said about why
            assert resp.status == 404
        expiring = (await bot.act("jonas.sjo", "stats_csv", {})).card["actions"]
        fresh = next(a["url"] for a in expiring if a["type"] == "Action.OpenUrl")
        async with bot.http.head(fresh) as resp:  # a HEAD uses nothing
            assert resp.status == 200
        bot.clock.advance(timedelta(hours=2))
        async with bot.http.get(fresh) as resp:  # expired
            assert resp.status == 404
        staff = await bot.act("linnea.fors", "stats_csv", {})
        assert not [a for a in staff.card.get("actions", []) if a["type"] == "Action.OpenUrl"]

"""Brister i samverkan in Teams: `brist` opens the report form as a card, field errors come back on it, the
units' distributors get the report with buttons, record the measures and the dialogue on the card."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from bot.clock import FrozenClock
from tests.fakes.teams import actions_of, card_text, inputs_of
from tests.fakes.teams_bot import TeamsBot, running_teams

REF = "BRIST-2026-0001"
VALID_PNR = "811218-9876"


@pytest.fixture
async def bot(tmp_path: Path, clock: FrozenClock) -> AsyncIterator[TeamsBot]:
    async with running_teams(tmp_path, clock) as running:
        yield running


def report_values(**over: str) -> dict[str, Any]:
    values = {"card": "c1", "submit": True, "berorda": "soc-norr,beroende", "orsaker": "kommunikation,rutiner",
              "handelse": "Tre samtal till mottagningen blev obesvarade.", "atgarder": "", "dialog": "",
              "datum": "2026-11-20", "arende": ""}
    values.update(over)
    return values


def inputs(card: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {node["id"]: node for node in inputs_of(card)}


async def test_brist_opens_the_report_form_on_a_card(bot: TeamsBot) -> None:
    await bot.say("maria.sand", "brist")
    form = bot.connector.cards(bot.chat("maria.sand"))[-1]
    fields = inputs(form)
    assert {"berorda", "orsaker", "handelse", "atgarder", "dialog", "datum", "arende"} <= set(fields)
    assert fields["datum"]["value"] == "2026-11-23"
    assert fields["orsaker"]["choices"][0]["value"] == "sip"
    assert [a["verb"] for a in actions_of(form)] == ["brist_file"]


async def test_field_errors_come_back_on_the_card_and_nothing_is_filed(bot: TeamsBot) -> None:
    reply = await bot.act("maria.sand", "brist_file", report_values(orsaker="", atgarder=f"Gäller {VALID_PNR}"))
    text = card_text(reply.card)
    assert "Orsaker måste fyllas i." in text and "innehåller ett personnummer" in text
    assert inputs(reply.card)["handelse"]["value"].startswith("Tre samtal")  # the values are kept
    assert [a["verb"] for a in actions_of(reply.card)] == ["brist_file"]
    assert await bot.count("SELECT COUNT(*) FROM brister") == 0


async def test_filing_tells_the_distributor_who_records_on_the_card(bot: TeamsBot) -> None:
    await bot.say("fatima.ali", "hjälp")  # the bot may write to her chat
    reply = await bot.act("maria.sand", "brist_file", report_values())
    assert f"Din rapport om brist i samverkan är registrerad: {REF}." in card_text(reply.card)
    again = await bot.act("maria.sand", "brist_file", report_values())  # a double click
    assert "redan gjort" in card_text(again.card)
    assert await bot.count("SELECT COUNT(*) FROM brister") == 1

    told = [c for c in bot.connector.cards(bot.chat("fatima.ali")) if "Ny rapport om brist" in card_text(c)]
    assert told
    verbs = [a["verb"] for a in actions_of(told[-1])]
    assert verbs == ["brist_measures", "brist_dialogue", "brist_open_report"]
    assert "/åtgärd" not in card_text(told[-1])

    form = await bot.act("fatima.ali", "brist_measures", {"ref": REF, "card": "c2"})
    assert "atgarder" in inputs(form.card)
    bad = await bot.act("fatima.ali", "brist_measures", {"ref": REF, "card": "c2", "submit": True,
                                                         "atgarder": f"Ringt {VALID_PNR}"})
    assert "innehåller ett personnummer" in card_text(bad.card)
    done = await bot.act("fatima.ali", "brist_measures", {"ref": REF, "card": "c2", "submit": True,
                                                          "atgarder": "Ny telefonrutin."})
    assert f"Åtgärderna i {REF} är registrerade" in card_text(done.card)
    done = await bot.act("fatima.ali", "brist_dialogue", {"ref": REF, "card": "c3", "submit": True,
                                                          "dialog": "Vi ses varje månad."})
    assert f"Resultatet av dialogen i {REF} är registrerat" in card_text(done.card)
    shown = await bot.act("fatima.ali", "brist_open_report", {"ref": REF, "card": "c4"})
    assert "Ny telefonrutin." in card_text(shown.card) and "Vi ses varje månad." in card_text(shown.card)


async def test_outsiders_and_non_coordinators_are_refused(bot: TeamsBot) -> None:
    await bot.act("maria.sand", "brist_file", report_values())
    refused = await bot.act("linnea.fors", "brist_measures", {"ref": REF, "card": "c5", "submit": True,
                                                              "atgarder": "Försök"})
    assert REF in card_text(refused.card) and "registrerade" not in card_text(refused.card)
    closing = await bot.act("fatima.ali", "brist_close", {"ref": REF, "card": "c6"})
    assert "Bara samordnare kan" in card_text(closing.card)
    report = await bot.core.brister.get("sara.holm", REF)  # type: ignore[union-attr]
    assert report.measures is None and report.state.value == "submitted"

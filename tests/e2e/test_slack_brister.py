"""Brister i samverkan in Slack: /brist opens the report modal, field errors come back on the field, the units
are told, coordinators see reports and drafts on App Home, and the yearly report arrives as files in a DM."""

from __future__ import annotations

import csv
import io
from datetime import timedelta
from typing import Any

from bot.clock import FrozenClock
from tests.conftest import local
from tests.fakes.slack_api import FakeSlackAPI
from tests.fakes.slack_bot import FATIMA, JONAS, MARIA, SlackBot
from tests.fakes.slack_signing import (
    checkboxes_state,
    datepicker_state,
    multi_static_select_state,
    plain_text_state,
)
from tests.timekit import assigned_case

VALID_PNR = "811218-9876"


def brist_values(**overrides: Any) -> dict[str, Any]:
    values: dict[str, Any] = {
        "berorda": multi_static_select_state(["soc-norr", "beroende"]),
        "orsaker": checkboxes_state(["kommunikation", "rutiner"]),
        "handelse": plain_text_state("Tre samtal till mottagningen blev obesvarade."),
        "atgarder": plain_text_state(None),
        "dialog": plain_text_state(None),
        "datum": datepicker_state("2026-11-20"),
        "arende": plain_text_state(None),
    }
    values.update(overrides)
    return values


async def test_brist_opens_the_report_modal(bot: SlackBot) -> None:
    reply = await bot.command(MARIA, "/brist")
    assert reply.status == 200
    view = await bot.opened_view("brist_report")
    blocks = {b.get("block_id"): b for b in view["blocks"]}
    assert {"berorda", "orsaker", "handelse", "atgarder", "dialog", "datum", "arende"} <= set(blocks)
    causes = [o["value"] for o in blocks["orsaker"]["element"]["options"]]
    assert causes == ["sip", "mina-planer", "kommunikation", "rutiner", "bemotande", "kompetens", "helhetssyn",
                      "individfokus", "forstaelse"]
    assert blocks["datum"]["element"]["initial_date"] == "2026-11-23"


async def test_submitting_files_the_report_and_tells_the_units(bot: SlackBot) -> None:
    reply = await bot.submit(MARIA, "brist_report", brist_values())
    answer = reply.json()
    assert answer["response_action"] == "update"
    assert "Din rapport om brist i samverkan är registrerad: BRIST-2026-0001." in str(answer["view"])
    await bot.settle()
    [dm] = await bot.dm(FATIMA, "Ny rapport om brist i samverkan från Maria Sand")
    assert "Tre samtal" in dm.params["text"]
    await bot.dm(JONAS, "BRIST-2026-0001")


async def test_an_identity_number_comes_back_on_the_field(bot: SlackBot) -> None:
    reply = await bot.submit(MARIA, "brist_report", brist_values(
        atgarder=plain_text_state(f"Gäller {VALID_PNR}"), orsaker=checkboxes_state([])))
    answer = reply.json()
    assert answer["response_action"] == "errors"
    assert "innehåller ett personnummer" in answer["errors"]["atgarder"] and VALID_PNR not in str(answer)
    assert "Orsaker måste fyllas i." in answer["errors"]["orsaker"]
    assert await bot.count("SELECT COUNT(*) FROM brister") == 0
    # corrected, the same modal goes through
    reply = await bot.submit(MARIA, "brist_report", brist_values())
    assert reply.json()["response_action"] == "update"


async def test_coordinator_home_and_the_yearly_report_in_a_dm(bot: SlackBot) -> None:
    await bot.submit(MARIA, "brist_report", brist_values())
    await bot.settle()
    await bot.open_home(JONAS)
    await bot.settle()
    home = bot.fake.home_view(JONAS)
    assert home is not None
    text = str(home)
    assert "Brister i samverkan" in text and "BRIST-2026-0001" in text and "Årsrapport 2026" in text

    await bot.click(JONAS, "brist_year_report", "2026", home=True)
    await bot.settle()
    await bot.fake.wait_for("files.completeUploadExternal")
    files = {f["filename"]: f for f in bot.fake.files.values()}
    assert {"brister-2026.html", "brister-2026.png", "brister-2026.csv"} <= set(files)
    assert {f for f in files if f.startswith("brister-2026-")} <= {"brister-2026-astad.csv",
                                                                     "brister-2026-region-sydvast.csv"}
    assert all(f["channel"] == FakeSlackAPI.dm_channel_id(JONAS) for f in files.values())
    assert "Årsrapporten Brister i samverkan 2026 (1 brist)" in files["brister-2026.html"]["comment"]
    assert files["brister-2026.png"]["data"][:4] == b"\x89PNG"
    assert b"Under 2026 inkom 1 brist i samverkan." in files["brister-2026.html"]["data"]
    rows = list(csv.reader(io.StringIO(files["brister-2026.csv"]["data"].decode("utf-8-sig")), delimiter=";"))
    assert rows[1][0] == "BRIST-2026-0001"

    # last year's button has an action id of its own (Slack refuses two equal ones in one block) and works
    buttons = {e["action_id"]: e["value"] for b in home["blocks"] if b.get("block_id") == "brist_act"
               for e in b["elements"]}
    assert buttons == {"brist_open": "new", "brist_year_report": "2026", "brist_year_report_previous": "2025"}
    await bot.click(JONAS, "brist_year_report_previous", "2025", home=True)
    await bot.settle()
    await bot.fake.wait_for("files.completeUploadExternal", lambda c: True, count=2)
    assert "brister-2025.html" in {f["filename"] for f in bot.fake.files.values()}


async def test_only_coordinators_get_the_yearly_report(bot: SlackBot) -> None:
    await bot.click(FATIMA, "brist_year_report", "2026")
    await bot.ephemeral(FATIMA, "Bara samordnare kan ta fram årsrapporten.")
    assert bot.fake.files == {}


async def test_a_ladder_draft_is_completed_from_the_home_tab(bot: SlackBot, clock: FrozenClock) -> None:
    await assigned_case(bot.core)
    for _ in range(3 * 24):
        clock.advance(timedelta(hours=1))
        await bot.core.tick()
    await bot.settle()
    assert clock.now() >= local("2026-11-26T10:00")
    await bot.open_home(JONAS)
    await bot.settle()
    assert "Utkast 1 från ansvarstrappan: GFI-2026-0001" in str(bot.fake.home_view(JONAS))

    await bot.click(JONAS, "brist_draft_open", "1", home=True)
    view = await bot.opened_view("brist_report")
    assert view["private_metadata"] == "draft:1"
    blocks = {b.get("block_id"): b for b in view["blocks"]}
    assert blocks["arende"]["element"]["initial_value"] == "GFI-2026-0001"
    assert [o["value"] for o in blocks["orsaker"]["element"]["initial_options"]] == ["kommunikation"]
    assert "väntade sedan" in blocks["handelse"]["element"]["initial_value"]
    assert "alkohol" not in str(view)  # never the case's brief

    values = brist_values(
        handelse=plain_text_state(blocks["handelse"]["element"]["initial_value"]),
        arende=plain_text_state("GFI-2026-0001"),
        atgarder=plain_text_state("Ersättare utsedd."),
    )
    reply = await bot.submit(JONAS, "brist_report", values, ref="draft:1")
    assert reply.json()["response_action"] == "update"
    report = await bot.core.brister.get("jonas.sjo", "BRIST-2026-0001")  # type: ignore[union-attr]
    assert report.draft_id == 1 and report.case_ref == "GFI-2026-0001" and report.measures == "Ersättare utsedd."
    # a second click finds the draft already submitted
    await bot.click(JONAS, "brist_draft_open", "1", home=True)
    await bot.fake.wait_for("views.open", lambda c: "Utkast 1 är redan inskickat." in str(c.params["view"]))
    assert len(bot.fake.calls("views.open")) == 2


async def test_the_statistics_button_sends_a_coordinator_the_csv_and_refuses_others(bot: SlackBot) -> None:
    """*Statistiken som CSV* on the Home: the coordinator gets the file in a DM; anyone else is told it is theirs
    to see, and gets no file (the shared click shape of handlers/slack/modals.py)."""
    await bot.click(FATIMA, "stats_csv", "")
    await bot.ephemeral(FATIMA, "Statistiken visas för samordnare.")
    assert bot.fake.files == {}
    await bot.click(JONAS, "stats_csv", "", home=True)
    await bot.settle()
    await bot.fake.wait_for("files.completeUploadExternal")
    [sent] = bot.fake.files.values()
    assert sent["filename"].startswith("gfi-statistik-") and sent["channel"] == FakeSlackAPI.dm_channel_id(JONAS)
    assert "som CSV" in sent["comment"]

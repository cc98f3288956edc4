"""Working a report of brist i samverkan in Slack: the buttons on its messages and on App Home open modals
for the measures and the dialogue's outcome, coordinators close it, and the statistics arrive as a CSV."""

from __future__ import annotations

import csv
import io
from typing import Any

from tests.e2e.test_slack_brister import brist_values
from tests.fakes.slack_api import FakeSlackAPI
from tests.fakes.slack_bot import FATIMA, JONAS, LINNEA, MARIA, SlackBot
from tests.fakes.slack_signing import plain_text_state

REF = "BRIST-2026-0001"
VALID_PNR = "811218-9876"
COMMANDS = ("/åtgärd", "/dialog", "/stäng", "/visa")


async def filed(bot: SlackBot) -> None:
    assert (await bot.submit(MARIA, "brist_report", brist_values())).json()["response_action"] == "update"
    await bot.settle()


def buttons(call_params: dict[str, Any]) -> list[tuple[str, str]]:
    return [(e["action_id"], e["value"]) for b in call_params.get("blocks") or [] if b["type"] == "actions"
            for e in b["elements"]]


async def test_the_distributor_records_measures_and_dialogue_from_the_message(bot: SlackBot) -> None:
    await filed(bot)
    [dm] = await bot.dm(FATIMA, "Ny rapport om brist i samverkan från Maria Sand (Socialtjänst Norr")
    assert buttons(dm.params) == [("brist_measures_open", REF), ("brist_dialogue_open", REF),
                                  ("brist_report_open", REF)]
    assert not any(c in str(dm.params) for c in COMMANDS)

    await bot.click(FATIMA, "brist_measures_open", REF)
    view = await bot.opened_view("brist_measures")
    assert view["private_metadata"] == REF and "Tre samtal" in str(view)
    # an identity number comes back on the field, nothing is saved
    reply = await bot.submit(FATIMA, "brist_measures", {"text": plain_text_state(f"Ringt {VALID_PNR}")}, ref=REF)
    answer = reply.json()
    assert answer["response_action"] == "errors" and "personnummer" in answer["errors"]["text"]
    assert VALID_PNR not in str(answer)
    reply = await bot.submit(FATIMA, "brist_measures", {"text": plain_text_state(None)}, ref=REF)
    assert "måste fyllas i" in reply.json()["errors"]["text"]

    reply = await bot.submit(FATIMA, "brist_measures", {"text": plain_text_state("Ny telefonrutin.")}, ref=REF)
    answer = reply.json()
    assert answer["response_action"] == "update" and f"Åtgärderna i {REF} är registrerade" in str(answer)
    await bot.settle()
    [told] = await bot.dm(JONAS, f"Fatima Ali har registrerat åtgärder i {REF}.")
    assert ("brist_close", REF) in buttons(told.params) and ("brist_measures_open", REF) not in buttons(told.params)

    await bot.click(FATIMA, "brist_dialogue_open", REF)
    await bot.opened_view("brist_dialogue")
    reply = await bot.submit(FATIMA, "brist_dialogue", {"text": plain_text_state("Vi ses varje månad.")}, ref=REF)
    assert reply.json()["response_action"] == "update"
    report = await bot.core.brister.get("jonas.sjo", REF)  # type: ignore[union-attr]
    assert report.measures == "Ny telefonrutin." and report.dialogue == "Vi ses varje månad."
    assert report.state.value == "dialogue_held"


async def test_someone_outside_the_units_is_refused(bot: SlackBot) -> None:
    await filed(bot)
    await bot.click(LINNEA, "brist_measures_open", REF)
    await bot.ephemeral(LINNEA, REF)
    assert not bot.fake.calls("views.open")
    reply = await bot.submit(LINNEA, "brist_measures", {"text": plain_text_state("Försök")}, ref=REF)
    assert reply.json()["response_action"] == "errors"
    assert (await bot.core.brister.get("jonas.sjo", REF)).measures is None  # type: ignore[union-attr]


async def test_coordinator_closes_and_the_units_are_told(bot: SlackBot) -> None:
    await filed(bot)
    await bot.click(FATIMA, "brist_close", REF)
    await bot.ephemeral(FATIMA, "Bara samordnare kan")
    await bot.click(JONAS, "brist_close", REF)
    await bot.ephemeral(JONAS, f"{REF} är stängd.")
    await bot.settle()
    [told] = await bot.dm(FATIMA, f"Jonas Sjö har stängt rapporten {REF}.")
    assert buttons(told.params) == [("brist_report_open", REF)]
    await bot.click(FATIMA, "brist_report_open", REF)
    await bot.fake.wait_for("views.open", lambda c: "stängd" in str(c.params["view"]) and REF in str(c.params["view"]))


async def test_app_home_shows_distributors_their_units_reports_with_buttons(bot: SlackBot) -> None:
    await filed(bot)
    await bot.open_home(FATIMA)
    await bot.fake.wait_for("views.publish", lambda c: c.params["user_id"] == FATIMA)
    home = bot.fake.home_view(FATIMA)
    assert home is not None and "Brister i samverkan som rör din verksamhet" in str(home)
    ids = [e["action_id"] for b in home["blocks"] if b.get("block_id") == f"b-{REF}" for e in b["elements"]]
    assert ids == ["brist_measures_open", "brist_dialogue_open", "brist_report_open"]
    await bot.click(FATIMA, "brist_measures_open", REF, home=True)
    await bot.opened_view("brist_measures")
    await bot.open_home(LINNEA)
    await bot.fake.wait_for("views.publish", lambda c: c.params["user_id"] == LINNEA)
    assert "Brister i samverkan" not in str(bot.fake.home_view(LINNEA))


async def test_a_coordinator_gets_the_statistics_as_csv_in_a_dm(bot: SlackBot) -> None:
    await bot.open_home(JONAS)
    await bot.fake.wait_for("views.publish", lambda c: c.params["user_id"] == JONAS)
    home = bot.fake.home_view(JONAS)
    assert home is not None and any(e.get("action_id") == "stats_csv" for b in home["blocks"]
                                    for e in b.get("elements", []) if isinstance(e, dict))
    await bot.click(JONAS, "stats_csv", "12m", home=True)
    await bot.settle()
    await bot.fake.wait_for("files.completeUploadExternal")
    [file] = bot.fake.files.values()
    assert file["channel"] == FakeSlackAPI.dm_channel_id(JONAS) and file["filename"].endswith(".csv")
    assert "Statistiken" in file["comment"] and "som CSV" in file["comment"]
    rows = list(csv.reader(io.StringIO(file["data"].decode("utf-8-sig")), delimiter=";"))
    assert len(rows) > 1


async def test_only_coordinators_get_the_statistics(bot: SlackBot) -> None:
    await bot.click(FATIMA, "stats_csv", "12m")
    await bot.ephemeral(FATIMA, "Statistiken visas för samordnare.")
    assert bot.fake.files == {}

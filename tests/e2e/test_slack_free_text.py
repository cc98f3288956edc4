"""Free text through Slack: disguised numbers, over-long text and values of the wrong type come back on the field."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.e2e.test_slack_inbound import assign
from tests.e2e.test_slack_lifecycle import file_request, request_values
from tests.fakes.slack_bot import FATIMA, LINNEA, MARIA, SlackBot
from tests.fakes.slack_signing import multi_static_select_state, plain_text_state


def stored(bot: SlackBot) -> bytes:
    path = Path(bot.core.settings.db_path)
    return b"".join(p.read_bytes() for p in (path, Path(f"{path}-wal")) if p.exists())


@pytest.mark.parametrize(
    ("overrides", "block", "fragment"),
    [
        ({"kort": plain_text_state("man, pnr \uff18\uff11\uff11\uff12\uff11\uff18\u2013\uff19\uff18\uff17\uff16")},
         "kort", "innehåller ett personnummer"),
        ({"kort": plain_text_state("kvinna 1981\u201112\u201118\u20119875")}, "kort", "ser ut som ett personnummer"),
        ({"kontakt": plain_text_state("Maria, 8 1 1 2 1 8 9 8 7 6")}, "kontakt", "innehåller ett personnummer"),
        ({"kort": plain_text_state("x" * 1001)}, "kort", "högst 1000 tecken"),
        ({"kort": plain_text_state("\u200b \u200b")}, "kort", "måste fyllas i"),
        ({"kort": {"type": "plain_text_input", "value": ["man", "45 år"]}}, "kort", "ogiltigt värde"),
        ({"kontakt": {"type": "plain_text_input", "value": 46701234567}}, "kontakt", "ogiltigt värde"),
        ({"omfattar": {"type": "multi_static_select", "selected_options": "psykiatri"}}, "omfattar", "ogiltigt"),
    ],
    ids=["full-width", "mistyped", "spaced", "too-long", "zero-width", "list", "number", "scope-not-list"],
)
async def test_request_form_errors_on_the_field_and_nothing_stored(
    bot: SlackBot, overrides: dict[str, Any], block: str, fragment: str
) -> None:
    reply = await bot.submit(MARIA, "gfi_request", request_values(**overrides))
    answer = reply.json()
    assert answer["response_action"] == "errors", answer
    assert fragment in answer["errors"][block], answer
    assert "9876" not in answer["errors"][block] and "9875" not in answer["errors"][block]
    assert await bot.count("SELECT COUNT(*) FROM cases") == 0
    data = stored(bot)
    # Not a bare b"9876": real-time stamps (e.g. the migrations' microseconds) may hold those four digits.
    # What must be absent is what the person typed, whole, and the words around the number.
    for state in overrides.values():
        value = state.get("value")
        if isinstance(value, str) and value.strip("\u200b "):
            assert value.encode() not in data, block
    for digits in (b"8112189876", b"19811218", "\uff19".encode(), b"pnr", b"8 1 1 2 1 8"):
        assert digits not in data, digits


async def test_assign_modal_with_a_list_for_annan_is_a_field_error(bot: SlackBot) -> None:
    ref = await file_request(bot)
    annan = {"type": "plain_text_input", "value": ["a", "b"]}
    reply = await bot.submit(FATIMA, "gfi_assign", {"annan": annan}, ref=ref)
    answer = reply.json()
    assert answer["response_action"] == "errors"
    assert "Annan har ett ogiltigt värde" in answer["errors"]["annan"]
    assert await bot.case_state(ref) == "requested"


async def test_place_of_hundred_thousand_characters_is_refused_on_the_field(bot: SlackBot) -> None:
    ref = await file_request(bot)
    await assign(bot, FATIMA, ref, ["linnea.fors"])
    await bot.click(LINNEA, "gfi_ack", ref)
    reply = await bot.submit(LINNEA, "gfi_book", {
        "datum": {"type": "datepicker", "selected_date": "2026-11-30"},
        "tid": {"type": "timepicker", "selected_time": "13:00"},
        "plats": plain_text_state("å" * 100_000),
        "enheter": multi_static_select_state(["beroende", "soc-norr"]),
    }, ref=ref)
    answer = reply.json()
    assert answer["response_action"] == "errors"
    assert answer["errors"] == {"plats": "Plats/länk får vara högst 300 tecken."}
    assert await bot.case_state(ref) == "acknowledged"


# Issue #23 item 1: one disguise of each class a reader sees through, and a right-to-left override that shows
# 811218-9876 while the stored characters are reversed.
READER_CASES = {
    "superscript": "⁸¹¹²¹⁸⁻⁹⁸⁷⁶",
    "circled": "⑧①①②①⑧-⑨⑧⑦⑥",
    "combining": "8\u03011\u03011\u03012\u03011\u03018\u0301-9\u03018\u03017\u03016\u0301",
    "keycap": "".join(f"{c}\ufe0f\u20e3" for c in "8112189876"),
    "colon": "811218:9876",
    "parentheses": "(811218)9876",
    "stars": "*811218*-*9876*",
    "html-dash": "811218&#45;9876",
    "nine-dots": "811218.........9876",
}
RLO = "\u202e6789-812118\u202c"


async def test_disguises_a_reader_sees_through_are_refused_on_the_slack_form(bot: SlackBot) -> None:
    for name, disguise in READER_CASES.items():
        reply = await bot.submit(MARIA, "gfi_request", request_values(kort=plain_text_state(f"man, nr {disguise}")))
        answer = reply.json()
        assert answer["response_action"] == "errors", name
        assert "Kort kring ärendet innehåller ett personnummer" in answer["errors"]["kort"], (name, answer)
    reply = await bot.submit(MARIA, "gfi_request", request_values(kontakt=plain_text_state(f"Maria {RLO}")))
    answer = reply.json()
    assert answer["response_action"] == "errors"
    assert "textriktningen" in answer["errors"]["kontakt"] and "Kontakt" in answer["errors"]["kontakt"], answer
    assert await bot.count("SELECT COUNT(*) FROM cases") == 0
    data = stored(bot)
    for needle in [*READER_CASES.values(), RLO, "man, nr"]:
        assert needle.encode() not in data, ascii(needle)

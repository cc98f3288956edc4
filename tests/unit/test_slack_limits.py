"""Slack's limits hold for the worst cases: long queues, maximum-length briefs, large units and directories."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import timedelta
from typing import Any

import pytest
from slack_sdk.models.blocks import Block
from slack_sdk.models.views import View

from bot.cases.models import Case
from bot.channels.slack import limits
from bot.channels.slack import render as slack_render
from bot.channels.slack.home import HomeData, home_view
from bot.channels.slack.views import render_view
from bot.config import DEFAULT_DIRECTORY
from bot.directory import load_directory
from bot.messages.describe import describe
from bot.messages.model import Offer
from bot.rendering import Renderer
from tests.fakes.slack_api import view_problem
from tests.unit.test_slack_home import NOW, buttons, case

LONG_BRIEF = ("Man, 45 år, alkohol och ångest; bor ensam, har kontakt med flera verksamheter. " * 30)[:2000]
UNITS = ["beroende", "psykiatri", "soc-norr", "soc-syd", "vc-lindo", "hvb-angby"]


@pytest.fixture(scope="module")
def renderer() -> Renderer:
    return Renderer(load_directory(DEFAULT_DIRECTORY))


def slack_accepts_message(blocks: list[dict[str, Any]]) -> None:
    """What Slack checks of a message's blocks, as far as slack_sdk's models and the known limits tell."""
    assert 1 <= len(blocks) <= limits.MESSAGE_BLOCKS
    assert limits.text_chars(blocks) <= limits.MESSAGE_BLOCK_CHARS
    for block in blocks:
        Block.parse(block).validate_json()  # type: ignore[union-attr]
    assert view_problem({"type": "home", "blocks": blocks}) is None  # ids unique (the fake's check, as Slack's)


def slack_accepts_view(view: dict[str, Any]) -> None:
    View(**view).validate_json()
    assert view_problem(view) is None
    for block in view["blocks"]:
        Block.parse(block).validate_json()  # type: ignore[union-attr]


def queued(unit: str, n: int, offset: int = 0) -> list[Case]:
    return [case(offset + i, target_unit=unit, brief=LONG_BRIEF, created_at=NOW - timedelta(hours=n - i))
            for i in range(1, n + 1)]


def queue_message(renderer: Renderer, queues: list[tuple[str, list[Case]]]) -> dict[str, Any]:
    ages = {c.ref: "1 dag" for _, cases in queues for c in cases}
    offered = [Offer("assign", c.ref, primary=True) for _, cases in queues for c in cases]  # what a distributor has
    return slack_render.payload(describe(renderer, "queue", offers=offered, queues=queues, ages=ages, slot=NOW))


def test_a_queue_of_60_long_cases_fits_one_message_oldest_first(renderer: Renderer) -> None:
    cases = queued("beroende", 60)
    payload = queue_message(renderer, [("beroende", cases)])
    blocks = payload["blocks"]
    slack_accepts_message(blocks)
    listed = [ref for _, ref in buttons(blocks)]
    assert listed == [c.ref for c in cases[: len(listed)]] and len(listed) >= 5  # the oldest first
    shown = json.dumps(blocks, ensure_ascii=False)
    assert f"… och {60 - len(listed)} till. Hela kön finns under Hem-fliken." in shown
    assert "(förkortad, hela texten visas när du väljer Fördela)" in shown
    # the text (notification fallback) was 120,000+ characters: now the queue's title
    assert payload["text"].startswith("GFI-kö för ") and "60 ärenden att fördela" in payload["text"]
    assert len(payload["text"]) <= limits.FALLBACK_TEXT


def test_six_queues_of_60_keep_every_heading(renderer: Renderer) -> None:
    queues = [(u, queued(u, 60, offset=100 * k)) for k, u in enumerate(UNITS)]
    blocks = queue_message(renderer, queues)["blocks"]
    slack_accepts_message(blocks)
    headers = [b["text"]["text"] for b in blocks if b["type"] == "header"]
    assert len(headers) == 6
    assert str(blocks).count("… och ") == 6  # each queue says how many more it has


def test_home_of_a_distributor_for_six_units_with_long_queues(renderer: Renderer) -> None:
    queues = [(u, queued(u, 60, offset=100 * k)) for k, u in enumerate(UNITS)]
    data = HomeData(person_id="jonas.sjo", now=NOW, queues=queues, coordinator=True,
                    requests=[case(900 + i, brief=LONG_BRIEF) for i in range(12)],
                    cases=[case(950 + i, brief=LONG_BRIEF) for i in range(20)])
    view = home_view(renderer, data)
    slack_accepts_view(view)
    text = json.dumps(view, ensure_ascii=False)
    assert text.count('"Kö – ') == 6 and "Mina ärenden" in text and "Misslyckade utskick" in text
    assert all(len(b["text"]["text"]) <= limits.SECTION_TEXT for b in view["blocks"] if b["type"] == "section")


@pytest.mark.parametrize("n_units", [100, 101, 125, 250])
def test_request_form_offers_every_unit(renderer: Renderer, n_units: int) -> None:
    units = [(f"enhet-{i:03d}", f"Verksamhet nummer {i:03d} med ett ganska långt namn i kommunen") for i in
             range(n_units)]
    view = render_view(renderer, "slack_request", units=units, all_units=units, contact="Maria Sand",
                         valid_until="2027-02-21", default_days=90, people=[("maria.sand", "Maria Sand")],
                         requester="maria.sand")
    slack_accepts_view(view)
    for block_id in ("enhet", "omfattar"):
        element = next(b for b in view["blocks"] if b.get("block_id") == block_id)["element"]
        offered = [o["value"] for o in element.get("options", [])] + [
            o["value"] for g in element.get("option_groups", []) for o in g["options"]]
        assert offered == [u for u, _ in units]  # nothing dropped, order kept
        assert ("option_groups" in element) is (n_units > 100)


def test_assign_form_with_120_staff_and_follow_up_with_240_people(renderer: Renderer) -> None:
    staff = [(f"p{i:03d}", f"Person {i:03d} Efternamnsson-Långnamn") for i in range(120)]
    view = render_view(renderer, "slack_assign", case=case(8), staff=staff)
    slack_accepts_view(view)
    element = next(b for b in view["blocks"] if b.get("block_id") == "personer")["element"]
    assert [o["value"] for g in element["option_groups"] for o in g["options"]] == [p for p, _ in staff]
    assert element["option_groups"][0]["label"]["text"].startswith("Person 000")
    people = [(f"p{i:03d}", f"Person {i:03d}") for i in range(240)]
    view = render_view(renderer, "slack_follow_up", case=case(8), people=people, today="2026-11-23")
    slack_accepts_view(view)


def test_assign_form_shows_a_2000_character_brief_within_the_section_limit(renderer: Renderer) -> None:
    view = render_view(renderer, "slack_assign", case=case(8, brief=LONG_BRIEF * 2), show_brief=True,
                       staff=[("a", "A")])
    slack_accepts_view(view)
    assert view["blocks"][0]["text"]["text"].endswith("(texten är förkortad, se hela ärendet under Hem-fliken)")


def test_cut_keeps_short_text_and_marks_long_text() -> None:
    assert limits.cut("kort", 10) == "kort"
    cut = limits.cut("ord " * 100, 50, " (förkortad)")
    assert len(cut) <= 50 and cut.endswith(" (förkortad)") and cut.startswith("ord ord")
    assert limits.cut("x" * 100, 10, " (texten är förkortad)") == "x" * 9 + "…"  # note too long for the field


def test_cut_never_splits_a_slack_escape() -> None:
    text = "a" * 8 + "&amp;" + "b" * 20
    for limit in range(9, 16):
        head = limits.cut(text, limit, "…")
        assert "&" not in head or "&amp;" in head, head


def test_fit_blocks_is_idempotent_and_ends_with_a_note() -> None:
    notes = limits.Notes(cut=" (förkortad)", more="Resten får inte plats.")
    blocks = [{"type": "section", "text": {"type": "plain_text", "text": "x" * 5000}} for _ in range(80)]
    once = limits.fit_blocks(blocks, notes)
    assert limits.fit_blocks(once, notes) == once
    assert len(once) <= 50 and limits.text_chars(once) <= limits.MESSAGE_BLOCK_CHARS
    assert once[-1]["elements"][0]["text"] == "Resten får inte plats."
    assert all(len(b["text"]["text"]) <= 3000 for b in once[:-1])
    assert blocks[0]["text"]["text"] == "x" * 5000  # the input is not changed


def test_field_limits_for_headers_buttons_options_and_titles() -> None:
    view = {"type": "modal", "title": {"type": "plain_text", "text": "T" * 40}, "blocks": [
        {"type": "header", "text": {"type": "plain_text", "text": "H" * 400}},
        {"type": "actions", "elements": [{"type": "button", "action_id": "b", "value": "v",
                                          "text": {"type": "plain_text", "text": "B" * 100}}]},
        {"type": "input", "block_id": "i", "label": {"type": "plain_text", "text": "L"},
         "element": {"type": "static_select", "action_id": "v", "options": [
             {"text": {"type": "plain_text", "text": "O" * 100}, "value": "o"}]}},
    ]}
    fitted = limits.fit_view(view)
    slack_accepts_view(fitted)
    assert fitted["title"]["text"] == "T" * 23 + "…"
    assert fitted["blocks"][0]["text"]["text"] == "H" * 149 + "…"


def test_home_for_many_long_requests_keeps_its_footer(renderer: Renderer) -> None:
    data = HomeData(person_id="maria.sand", now=NOW,
                    requests=[replace(case(i), brief=LONG_BRIEF) for i in range(1, 40)])
    view = home_view(renderer, data)
    slack_accepts_view(view)
    assert view["blocks"][-1]["elements"][0]["text"].startswith("Uppdaterad ")

"""Slack with more units than a list holds (issue #23 item 7): the request form's units fields are typeaheads,
Slack's questions (`block_suggestion`) are answered with matching units over real HTTP, and a unit chosen that
way files the request. (tests/integration/test_big_directory.py checks every form at 10⁴ units and 10⁵ people.)"""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.clock import FrozenClock
from tests.e2e.test_slack_lifecycle import request_values
from tests.fakes.slack_bot import SlackBot, running_bot
from tests.fakes.slack_signing import block_suggestion_payload, interaction_body, static_select_state

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))
from big_directory import person_id, write_directory

UNITS, PEOPLE = 600, 1_800
REQUESTER = "U00000001"  # p000001, staff of enhet-00001


@pytest.fixture
async def bot(tmp_path: Path, clock: FrozenClock, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[SlackBot]:
    monkeypatch.delenv("SLACK_CLIENT_ID", raising=False)
    monkeypatch.delenv("SLACK_CLIENT_SECRET", raising=False)
    directory = write_directory(tmp_path / "directory.yaml", units=UNITS, people=PEOPLE)
    async with running_bot(tmp_path, clock, directory) as running:
        yield running


async def suggest(bot: SlackBot, user: str, block_id: str, typed: str) -> list[str]:
    reply = await bot.post(interaction_body(block_suggestion_payload(user, block_id, typed)))
    assert reply.status == 200, reply.text
    return [o["value"] for o in reply.json().get("options", [])]


async def test_units_are_a_typeahead_answered_as_typed_and_a_chosen_unit_files(bot: SlackBot) -> None:
    assert (await bot.command(REQUESTER, "/gfi")).status == 200
    view = await bot.opened_view("gfi_request")
    kinds = {b["block_id"]: b["element"]["type"] for b in view["blocks"] if b.get("type") == "input"}
    assert kinds["enhet"] == "external_select" and kinds["omfattar"] == "multi_external_select"

    assert await suggest(bot, REQUESTER, "enhet", "00042") == ["enhet-00042"]
    assert len(await suggest(bot, REQUESTER, "omfattar", "enhet")) == 100  # Slack shows at most 100
    assert await suggest(bot, REQUESTER, "kort", "00042") == []  # not a units field
    assert await suggest(bot, "UNOBODY", "enhet", "00042") == []  # not in the directory

    values = request_values(enhet={"type": "external_select", "selected_option": {
                                "text": {"type": "plain_text", "text": "Vårdenhet 00042"}, "value": "enhet-00042"}},
                            omfattar={"type": "multi_external_select", "selected_options": []},
                            inhamtat=static_select_state(person_id(1)))
    reply = await bot.submit(REQUESTER, "gfi_request", values)
    assert "registrerad" in reply.text, reply.text
    assert await bot.count("SELECT COUNT(*) FROM cases WHERE target_unit = 'enhet-00042'") == 1

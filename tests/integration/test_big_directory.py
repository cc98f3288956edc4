"""A directory of 10⁵ people and 10⁴ units (issue #23 item 7): it loads whole and right, and every form stays
within its platform's limits: the units fields become typeaheads (Slack's external select, Teams' Data.Query),
the people fields hold one unit's staff, the console's help names a few units and counts the rest.

How fast it loads is measured by `bench/bench_directory.py`, not asserted here."""

from __future__ import annotations

import json
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any, cast

import pytest
from pydantic import SecretStr

from bot.cases.service import GfiRequest
from bot.channels.slack import typeahead
from bot.channels.teams import cards
from bot.channels.teams import limits as teams_limits
from bot.clock import FrozenClock
from bot.config import DEFAULT_DIRECTORY, Settings
from bot.core import Core, open_core
from bot.directory import Directory
from bot.directory.loading import parse_directory
from handlers.slack.actions import case_form
from handlers.slack.brister import brist_form
from handlers.slack.commands import request_form
from handlers.teams import brister as teams_brister
from handlers.teams import forms as teams_forms
from tests.fakes.slack_api import view_problem

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))
from big_directory import directory_data, person_id

UNITS, PEOPLE = 10_000, 100_000
REQUESTER = person_id(1)  # staff of enhet-00001


@pytest.fixture(scope="module")
def big() -> Directory:
    return parse_directory(directory_data(UNITS, PEOPLE), Path("big.yaml"))


@pytest.fixture
async def core(tmp_path: Path, clock: FrozenClock, big: Directory) -> AsyncIterator[Core]:
    settings = Settings(db_path=tmp_path / "gfi.sqlite3", directory_path=DEFAULT_DIRECTORY, _env_file=None,
                        slack_bot_token=SecretStr("xoxb-big"))
    opened = await open_core(settings, clock=clock, directory=big)
    try:
        yield opened
    finally:
        await opened.close()


def test_the_whole_directory_is_there_and_indexed(big: Directory) -> None:
    assert (len(big.units), len(big.people)) == (UNITS, PEOPLE)
    assert [p.id for p in big.staff_of("enhet-00001")] == [person_id(1 + k * UNITS) for k in range(10)]
    assert big.by_slack_id("U00000001") is big.people[REQUESTER]
    assert big.by_email(f"{person_id(2)}@storstad.example.se") is big.people[person_id(2)]
    assert len(big.coordinators()) == UNITS // 100 + 1  # and the last person


def elements(view: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {b["block_id"]: b["element"] for b in view["blocks"] if b.get("type") == "input"}


async def test_slack_forms_offer_the_units_as_a_typeahead_and_stay_small(core: Core) -> None:
    ctx = cast(Any, SimpleNamespace(core=core))
    for view in (request_form(ctx, REQUESTER), brist_form(ctx)):
        assert view_problem(view) is None
        assert len(json.dumps(view, ensure_ascii=False)) < 20_000  # not 10⁴ options twice
        for block, element in elements(view).items():
            if block in typeahead.UNIT_BLOCKS:
                assert element["type"] in ("external_select", "multi_external_select"), block
                assert "options" not in element and "option_groups" not in element
            assert len(element.get("options") or []) <= 100, block
    people = elements(request_form(ctx, REQUESTER))["inhamtat"]["options"]  # the requester's unit only
    assert [o["value"] for o in people] == [p.id for p in core.directory.staff_of("enhet-00001")]


async def test_slack_case_forms_offer_the_units_as_a_typeahead_and_stay_small(core: Core) -> None:
    ctx = cast(Any, SimpleNamespace(core=core))
    case = await core.cases.request(REQUESTER, GfiRequest(target_unit="enhet-00002", case_type="ny-en",
                                                          brief="man, 45 år", consent_confirmed=True, children="nej"))
    for template in ("slack_book", "slack_hold_now", "slack_renew", "slack_assign"):
        view, _ = await case_form(ctx, template, case, person_id(2) if template == "slack_assign" else REQUESTER)
        assert view_problem(view) is None, template
        assert len(json.dumps(view, ensure_ascii=False)) < 20_000, template
        for block, element in elements(view).items():
            if block in typeahead.UNIT_BLOCKS:
                assert element["type"].endswith("external_select"), (template, block)
            assert len(element.get("options") or []) <= 100, (template, block)
    book, _ = await case_form(ctx, "slack_book", case, REQUESTER)  # the case's own units stay chosen
    assert [o["value"] for o in elements(book)["enheter"]["initial_options"]] == ["enhet-00001", "enhet-00002"]


def test_slack_typeahead_answers_at_most_a_hundred_matching_units(big: Directory) -> None:
    found = typeahead.unit_options(big, "00042")
    assert [o["value"] for o in found] == ["enhet-00042"]
    many = typeahead.unit_options(big, "Vårdenhet")
    assert len(many) == 100 and all("Vårdenhet" in o["text"]["text"] for o in many)
    assert typeahead.unit_options(big, "ingen sådan") == []


async def test_teams_cards_use_a_dynamic_typeahead_and_fit(core: Core) -> None:
    ctx = cast(Any, SimpleNamespace(core=core))
    for form in (teams_forms.request_form(ctx, REQUESTER), teams_brister.report_form(ctx)):
        card = cards.form_card(core.renderer, form, nonce="n1")
        assert teams_limits.fits(card), form.name
        raw = json.dumps(card)
        assert "Data.Query" in raw
        assert raw.count('"value"') < 200  # not the units as choices


async def test_console_help_names_a_few_units_and_counts_the_rest(core: Core) -> None:
    text = core.renderer.render("console_help", units=sorted(core.directory.units))
    line = next(t for t in text.splitlines() if t.startswith("Enheter:"))
    assert len(line) < 1000 and line.endswith(f"och {UNITS - 30} till")

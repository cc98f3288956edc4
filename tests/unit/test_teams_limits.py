"""Teams' limits hold for the worst cases (the same as Slack's): 60 queued cases with 2,000-character briefs,
six queues for one distributor, 250 units, 150 staff in one unit. Every card is checked with Microsoft's card
parser and the limits (tests/fakes/card_schema.py)."""

from __future__ import annotations

import copy
import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml

from bot import readlog
from bot.cases.distribution import QueuePage
from bot.cases.models import Case
from bot.channels.teams import cards, limits
from bot.channels.teams.app import TeamsContext
from bot.config import DEFAULT_DIRECTORY
from bot.core import Core
from bot.directory import Directory, load_directory
from bot.messages.describe import describe
from bot.messages.model import Offer
from bot.rendering import Renderer
from handlers.teams import commands, forms, search
from tests.conftest import CoreFactory
from tests.fakes import card_schema
from tests.fakes.teams import actions_of, card_text
from tests.unit.test_slack_home import NOW, case
from tests.unit.test_teams_handlers import context_of

LONG_BRIEF = ("Man, 45 år, alkohol och ångest; bor ensam, har kontakt med flera verksamheter. " * 30)[:2000]
UNITS = ["beroende", "psykiatri", "soc-norr", "soc-soder", "vc-centrum", "beroende-2"]


def big_directory(tmp_path: Path, n_units: int = 250, n_staff: int = 150) -> Directory:
    """The example directory with `n_units` units in all and `n_staff` more staff in beroende."""
    data = yaml.safe_load(DEFAULT_DIRECTORY.read_text(encoding="utf-8"))
    model = next(u for u in data["units"] if u["id"] == "soc-soder")
    for i in range(n_units - len(data["units"])):
        unit = copy.deepcopy(model)
        unit.update(id=f"enhet-{i:03d}", name=f"Verksamhet nummer {i:03d} med ett ganska långt namn i kommunen")
        data["units"].append(unit)
    staff = next(p for p in data["people"] if p["id"] == "linnea.fors")
    for i in range(n_staff):
        person = {k: v for k, v in staff.items() if k not in ("slack_user_id", "email", "m365_upn")}
        person.update(id=f"p{i:03d}", name=f"Person {i:03d} Efternamnsson-Långnamn", channel="console")
        data["people"].append(person)
    path = tmp_path / "big.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return load_directory(path)


def accepted(content: dict[str, Any]) -> None:
    card_schema.check(content)


@pytest.fixture(scope="module")
def renderer() -> Renderer:
    return Renderer(load_directory(DEFAULT_DIRECTORY))


def queued(unit: str, n: int, offset: int = 0) -> list[Case]:
    return [case(offset + i, target_unit=unit, brief=LONG_BRIEF, created_at=NOW - timedelta(hours=n - i))
            for i in range(1, n + 1)]


def queue_message_card(renderer: Renderer, queues: list[tuple[str, list[Case]]]) -> dict[str, Any]:
    ages = {c.ref: "1 dag" for _, cs in queues for c in cs}
    offered = [Offer("assign", c.ref, primary=True) for _, cs in queues for c in cs]
    return cards.message_card(renderer, describe(renderer, "queue", offers=offered, queues=queues, ages=ages,
                                                 slot=NOW), "o1")


def test_a_queue_message_of_60_long_cases_fits_a_card_oldest_first(renderer: Renderer) -> None:
    cases = queued("beroende", 60)
    content = queue_message_card(renderer, [("beroende", cases)])
    accepted(content)
    listed = [a["data"]["ref"] for a in actions_of(content)]
    assert listed == [c.ref for c in cases[: len(listed)]] and 5 <= len(listed) <= limits.LIST_ITEMS
    text = card_text(content)
    assert f"… och {60 - len(listed)} till." in text and "(texten är förkortad)" in text
    assert LONG_BRIEF not in text


def test_six_queues_of_60_in_one_message_keep_every_heading(renderer: Renderer) -> None:
    queues = [(u, queued(u, 60, offset=100 * k)) for k, u in enumerate(UNITS)]
    content = queue_message_card(renderer, queues)
    accepted(content)
    text = card_text(content)
    assert text.count("GFI-kö för ") >= 6 and text.count("… och ") == 6


def test_more_than_six_actions_show_five_and_the_rest_behind_one_button(renderer: Renderer) -> None:
    actions = [cards.execute(f"Knapp {i}", "acknowledge", {"ref": f"GFI-2026-{i:04d}"}) for i in range(9)]
    content = cards.card([cards.plain("x")], actions)
    accepted(content)
    assert len(content["actions"]) == limits.ACTIONS_PER_SET
    assert content["actions"][-1]["type"] == "Action.ShowCard" and content["actions"][-1]["title"] == "Fler val"
    assert [a["title"] for a in actions_of(content)] == [f"Knapp {i}" for i in range(9)]


def test_a_too_big_card_loses_its_tail_with_a_note_and_long_texts_are_cut() -> None:
    body = [cards.plain(LONG_BRIEF * 3)] + [cards.plain(f"Rad {i} " + "x" * 900) for i in range(60)]
    content = cards.card(body, [cards.execute("Kvittera", "acknowledge", {"ref": "GFI-2026-0001"})])
    accepted(content)
    text = card_text(content)
    assert "(texten är förkortad)" in text and "… Allt fick inte plats på kortet.\nKvittera" in text
    assert content["actions"][0]["verb"] == "acknowledge"  # the actions are kept
    assert limits.fit_card(content, cards.teams_notes()) == content  # idempotent


async def test_the_queue_of_60_long_cases_via_ko(core: Core) -> None:
    from bot.cases.service import GfiRequest

    for _ in range(60):
        await core.cases.request("maria.sand", GfiRequest(target_unit="beroende", case_type="ny-en", children="nej",
                                                         brief=LONG_BRIEF[:1000], consent_confirmed=True))
    ctx = context_of(core, "fatima.ali")
    content = await commands.queue_card(ctx, "fatima.ali")
    accepted(content)
    text = card_text(content)
    assert "… och " in text and "Visa fler i kön" in json.dumps(content, ensure_ascii=False)
    shown = text.count("Kort: ")
    assert 1 <= shown <= limits.LIST_ITEMS
    nxt = next(a for a in actions_of(content) if a["verb"] == commands.QUEUE_MORE)
    page = await commands.queue_card(ctx, "fatima.ali", unit=nxt["data"]["unit"], skip=nxt["data"]["skip"])
    accepted(page)
    first_next = page["body"][1]["items"][0]["inlines"][0]["text"].split()[0]
    assert first_next == f"GFI-2026-{shown + 1:04d}"  # the next page goes on where the first ended
    async with core.db.read() as tx:  # exactly the briefs shown are logged as read
        reads = await readlog.by_person(tx, "fatima.ali", NOW - timedelta(days=400), NOW + timedelta(days=400))
    assert len({r.case_ref for r in reads}) == 2 * shown


async def test_six_queues_for_one_distributor_via_ko(core: Core, monkeypatch: pytest.MonkeyPatch) -> None:
    queues = [QueuePage(u, queued(u, 60, offset=100 * k), 60) for k, u in enumerate(UNITS)]

    async def six(person_id: str, **page: Any) -> list[QueuePage]:
        return queues

    monkeypatch.setattr(core.cases, "queue_pages", six)
    content = await commands.queue_card(context_of(core, "fatima.ali"), "fatima.ali")
    accepted(content)
    assert card_text(content).count("GFI-kö för ") == 6


@pytest.fixture
async def big_core(make_core: CoreFactory, tmp_path: Path) -> Core:
    return await make_core(directory=big_directory(tmp_path))


async def test_request_form_with_250_units_lists_no_unit_twice(big_core: Core) -> None:
    ctx: TeamsContext = context_of(big_core, "maria.sand")
    content = cards.form_card(big_core.renderer, forms.request_form(ctx, "maria.sand"), nonce="n")
    accepted(content)
    text = json.dumps(content, ensure_ascii=False)
    names = [u.name for u in big_core.directory.units.values()]
    assert len(names) == 250 and all(text.count(n) <= 1 for n in names)
    dynamic = [e for e in content["body"] if "choices.data" in e]
    assert {e["id"] for e in dynamic} >= {"enhet", "omfattar"}
    assert all(e["choices.data"]["type"] == "Data.Query" for e in dynamic)


async def test_request_form_with_few_units_lists_each_unit_once(core: Core) -> None:
    """Below the typeahead threshold too: the consent's units are a typeahead, the target unit a list."""
    content = cards.form_card(core.renderer, forms.request_form(context_of(core, "maria.sand"), "maria.sand"),
                              nonce="n")
    accepted(content)
    text = json.dumps(content, ensure_ascii=False)
    names = [u.name for u in core.directory.units.values()]
    assert len(names) < limits.DYNAMIC_CHOICES and all(text.count(n) <= 1 for n in names)
    [scope] = [e for e in content["body"] if e.get("id") == "omfattar"]
    assert scope["choices.data"] == {"type": "Data.Query", "dataset": "units", "count": limits.SEARCH_RESULTS}


async def test_assign_form_with_150_staff_is_a_typeahead_answered_by_search(big_core: Core) -> None:
    from bot.cases.service import GfiRequest

    ref = (await big_core.cases.request("maria.sand", GfiRequest(target_unit="beroende", case_type="ny-en",
                                                                children="nej", brief=LONG_BRIEF[:1000],
                                                                consent_confirmed=True))).ref
    ctx = context_of(big_core, "fatima.ali")
    form = forms.assign_form(ctx, await big_core.cases.get(ref))
    content = cards.form_card(big_core.renderer, form, nonce="n")
    accepted(content)
    people = next(e for e in content["body"] if e.get("id") == "personer")
    assert people["choices.data"]["dataset"] == "staff:beroende" and not people["choices"]
    found = search.choices(ctx, "staff:beroende", "person 14")
    assert [c.value for c in found] == [f"p{i}" for i in range(140, 150)]
    assert len(search.choices(ctx, "units", "verksamhet")) == limits.SEARCH_RESULTS
    assert search.choices(ctx, "secret", "") == []


async def test_queue_card_with_150_staff_and_60_cases_in_one_unit(big_core: Core) -> None:
    from bot.cases.service import GfiRequest

    for _ in range(60):
        await big_core.cases.request("maria.sand", GfiRequest(target_unit="beroende", case_type="ny-en", children="nej",
                                                             brief=LONG_BRIEF[:1000], consent_confirmed=True))
    content = await commands.queue_card(context_of(big_core, "fatima.ali"), "fatima.ali")
    accepted(content)
    assert "Person 001" not in json.dumps(content, ensure_ascii=False)  # staff come by typeahead


def test_the_parser_rejects_what_teams_would_not_render() -> None:
    if not card_schema.available():
        pytest.skip("the card parser (node + npm adaptivecards) is not installed")
    bad = {"type": "AdaptiveCard", "version": "1.5", "body": [{"type": "Foo"}],
           "actions": [{"type": "Action.Execute", "title": "t", "verb": "v", "style": "weird"}]}
    found = card_schema.violations(bad)
    assert any("Foo" in f for f in found) and any("weird" in f for f in found)
    too_many = cards.raw_card([cards.plain("x")], [cards.execute(str(i), "v", {}) for i in range(7)])
    assert any("actions" in f for f in card_schema.violations(too_many))
    huge = cards.raw_card([cards.plain("x" * 30_000)])
    assert any("bytes" in f for f in card_schema.violations(huge))

"""Teams' request card rendered once per person, directory version and day (`kept_form_card`, the cache Slack's
/gfi view keeps its JSON in: `bot.channels.kept.KeptTexts`), each use with its own nonce."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import timedelta
from typing import Any

import pytest

from bot.channels.kept import KeptTexts
from bot.channels.teams import cards, limits
from bot.channels.teams.app import TeamsContext
from bot.clock import FrozenClock
from bot.core import Core
from bot.directory import Directory
from bot.store.teams import TeamsStore
from handlers.teams import dialogs, forms

MARIA = "maria.sand"
FATIMA = "fatima.ali"
REQUEST_FORM = forms.request_form  # as made before the cache (the tests count the calls of forms.request_form)
N0, N1, N2, N3 = (f"{i:016x}" for i in range(4))  # nonces as `cards.new_nonce` draws them (16 hex digits)


def context(core: Core, max_bytes: int = 1 << 20) -> TeamsContext:
    return TeamsContext(core, TeamsStore(core.db, core.clock), None, kept=KeptTexts(max_bytes))  # type: ignore[arg-type]


@pytest.fixture
def renders(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The people whose request form was made."""
    seen: list[str] = []
    make = forms.request_form

    def counted(ctx: Any, person_id: str) -> cards.Form:
        seen.append(person_id)
        return make(ctx, person_id)

    monkeypatch.setattr(forms, "request_form", counted)
    return seen


def fresh(ctx: TeamsContext, person_id: str, nonce: str) -> dict[str, Any]:
    """The card as rendered anew each time before the cache."""
    return cards.form_card(ctx.core.renderer, REQUEST_FORM(ctx, person_id), nonce=nonce)


def nonce_of(card: dict[str, Any]) -> str:
    [action] = card["actions"]
    return str(action["data"]["card"])


def values(card: dict[str, Any]) -> dict[str, Any]:
    return {e["id"]: e.get("value") for e in card["body"] if "id" in e}


async def test_the_kept_card_is_the_card_rendered_anew_with_its_own_nonce(core: Core, renders: list[str]) -> None:
    ctx = context(core)
    first = forms.request_card(ctx, MARIA, N1)
    again = forms.request_card(ctx, MARIA, N2)
    other = forms.request_card(ctx, FATIMA, N3)
    assert renders == [MARIA, FATIMA]  # maria.sand's second card made nothing
    assert first == fresh(ctx, MARIA, N1) and again == fresh(ctx, MARIA, N2) and other == fresh(ctx, FATIMA, N3)
    assert [nonce_of(c) for c in (first, again, other)] == [N1, N2, N3]  # one card, one nonce
    assert again is not first and json.loads(cards._NONCE) not in json.dumps(again)
    again["body"].clear()  # each use its own card: changing one (as `with_dialog` does) changes no other
    assert forms.request_card(ctx, MARIA, N1) == first
    kept = [json.dumps(fresh(ctx, p, json.loads(cards._NONCE))) for p in (MARIA, FATIMA)]  # as kept: the marker
    assert ctx.kept.size == sum(len(k) for k in kept) > 0


async def test_a_new_directory_version_renders_the_card_again(core: Core, renders: list[str]) -> None:
    ctx = context(core)
    before = forms.request_card(ctx, MARIA, N1)
    data = core.directory.data
    renamed = tuple(u.model_copy(update={"name": "Beroendemottagningen Nystad"}) if u.id == "beroende" else u
                    for u in data.units)
    core.directory.replace(Directory(data.model_copy(update={"units": renamed})))
    after = forms.request_card(ctx, MARIA, N1)
    assert "Beroendemottagningen Nystad" in json.dumps(after, ensure_ascii=False)
    assert "Beroendemottagningen Nystad" not in json.dumps(before, ensure_ascii=False)
    assert after == fresh(ctx, MARIA, N1)
    assert renders == [MARIA, MARIA]


async def test_a_new_day_renders_the_card_again(core: Core, clock: FrozenClock, renders: list[str]) -> None:
    ctx = context(core)
    before = forms.request_card(ctx, MARIA, N1)
    clock.advance(timedelta(days=1))
    after = forms.request_card(ctx, MARIA, N1)
    assert after == fresh(ctx, MARIA, N1) != before  # the consent's default end moved a day
    assert values(after)["giltigt"] > values(before)["giltigt"]
    assert renders == [MARIA, MARIA]


async def test_the_least_recently_used_card_is_let_go_past_the_bytes(core: Core, renders: list[str]) -> None:
    sizes = [len(json.dumps(fresh(context(core), p, json.loads(cards._NONCE)))) for p in (MARIA, FATIMA)]
    ctx = context(core, max_bytes=max(sizes))  # one card at a time
    for person in (MARIA, FATIMA, MARIA):
        forms.request_card(ctx, person, N1)
    assert renders == [MARIA, FATIMA, MARIA]
    assert ctx.kept.size <= max(sizes)
    small = context(core, max_bytes=100)  # a card larger than the whole cache is not kept
    assert forms.request_card(small, MARIA, N1) == forms.request_card(small, MARIA, N1)
    assert small.kept.size == 0


async def test_a_form_holding_the_marker_is_rendered_anew(
    core: Core, monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The marker where the nonce goes cannot be told from a text of the form that is the marker: such a card is
    rendered each time, with its nonce, and not kept."""
    marker = json.loads(cards._NONCE)
    make = forms.request_form

    def holding(ctx: Any, person_id: str) -> cards.Form:
        form = make(ctx, person_id)
        return replace(form, fields=[replace(f, value=marker) if f.key == "kontakt" else f for f in form.fields])

    monkeypatch.setattr(forms, "request_form", holding)
    ctx = context(core)
    card = forms.request_card(ctx, MARIA, N1)
    assert card == cards.form_card(core.renderer, holding(ctx, MARIA), nonce=N1)
    assert nonce_of(card) == N1 and values(card)["kontakt"] == marker
    assert ctx.kept.size == 0


async def test_a_card_just_within_teams_budget_is_kept_whole(core: Core, monkeypatch: pytest.MonkeyPatch) -> None:
    """The kept card is measured against Teams' size budget (`limits.fit_card`) as it is sent: a card a few bytes
    under the budget is kept whole, as rendered anew, not cut as if the marker where the nonce goes were longer."""
    pad, made = [0], [0]

    def padded(ctx: Any, person_id: str) -> cards.Form:
        made[0] += 1
        form = REQUEST_FORM(ctx, person_id)
        return replace(form, fields=[replace(f, value="x" * pad[0]) if f.key == "kontakt" else f
                                     for f in form.fields])

    def anew(nonce: str) -> dict[str, Any]:
        return cards.form_card(core.renderer, padded(ctx, MARIA), nonce=nonce)

    monkeypatch.setattr(forms, "request_form", padded)
    ctx = context(core)
    pad[0] = 1000
    pad[0] += limits.CARD_BUDGET - 10 - limits.size(anew(N1))  # the card 10 bytes under the budget
    whole = anew(N1)
    assert limits.size(whole) == limits.CARD_BUDGET - 10 and values(whole)["kontakt"] == "x" * pad[0]
    assert {"bradskande", "giltigt"} <= values(whole).keys()  # the last fields: the first a cut would drop
    made[0] = 0
    first, again = forms.request_card(ctx, MARIA, N1), forms.request_card(ctx, MARIA, N2)
    assert made[0] == 1 and ctx.kept.size > 0  # kept
    assert first == whole and again == anew(N2)  # every field, none cut for the size


async def test_a_nonce_of_another_length_is_rendered_anew(core: Core, renders: list[str]) -> None:
    """A nonce not as `cards.new_nonce` draws it (a dialog's data may hold anything) would measure the card
    otherwise than the kept one: that card is rendered anew, with its nonce, and not kept."""
    ctx = context(core)
    card = forms.request_card(ctx, MARIA, "n1")
    assert card == fresh(ctx, MARIA, "n1") and nonce_of(card) == "n1"
    assert ctx.kept.size == 0


async def test_the_request_dialog_is_the_kept_card(core: Core, renders: list[str]) -> None:
    """The dialog (task/fetch) shows the kept card with the dialog's own submit; a card shown again with errors
    is rendered with the values typed, as before."""
    ctx = context(core)
    forms.request_card(ctx, MARIA, N0)
    shown = dialogs.dialog_card(ctx, MARIA, dialogs.REQUEST, {"card": N1})
    assert renders == [MARIA]
    expected = fresh(ctx, MARIA, N1)
    assert shown["body"] == expected["body"]
    assert shown["actions"][0]["data"] == {"dialog": dialogs.REQUEST, "card": N1}
    again = dialogs.dialog_card(ctx, MARIA, dialogs.REQUEST, {"card": N1, "kort": "Text"}, {"kort": "Fel"})
    assert values(again)["kort"] == "Text"

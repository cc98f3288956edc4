"""Issue #10 on the Slack and Teams forms: children on the request, the new contact after lotsning on close."""

from __future__ import annotations

from typing import Any

from bot.cases.models import CaseState, Outcome
from bot.channels.slack.views import render_view
from bot.rendering import Renderer
from handlers.slack import forms
from tests.unit.test_slack_home import case, renderer  # noqa: F401 - the fixture is used by name

REQUEST = {
    "enhet": "beroende", "typ": "ny-båda", "kort": "man, 45 år", "samtycke": ["ja"], "giltigt": "2027-01-31",
    "avser": ["kontaktuppgifter"], "form": "muntligt", "inhamtat": "maria.sand", "barn": "nej",
}


def test_the_request_form_carries_whether_children_are_affected() -> None:
    form, errors = forms.parse_request({**REQUEST, "barn": "ja"})
    assert errors == {} and form.children == "ja"
    form, errors = forms.parse_request({k: v for k, v in REQUEST.items() if k != "barn"})
    assert errors == {"barn": ("required", {"field": "barn"})}  # required on Slack and Teams (issue #18 item 5)


def test_the_close_form_answers_the_new_contact() -> None:
    for values, expected in (({"nykontakt": "ja"}, True), ({"nykontakt": "nej"}, False), ({}, None)):
        errors: dict[str, Any] = {}
        assert forms.parse_new_contact(values, errors) is expected and errors == {}


def blocks(view: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {b["block_id"]: b for b in view["blocks"] if b["type"] == "input"}


def test_slack_modals_ask_about_children_and_the_new_contact(renderer: Renderer) -> None:  # noqa: F811
    request = render_view(renderer, "slack_request", units=[("beroende", "B")], all_units=[("a", "A")],
                          contact="Maria Sand", valid_until="2027-02-21", default_days=90,
                          people=[("maria.sand", "Maria Sand")], requester="maria.sand")
    children = blocks(request)["barn"]
    assert children["optional"] is False  # required (issue #18 item 5)
    brief_hint = blocks(request)["kort"]["hint"]["text"]
    assert "adress" in brief_hint and "våld i nära relationer" in brief_hint and "specialistmödravård" in brief_hint
    assert [o["text"]["text"] for o in children["element"]["options"]] == ["ja", "nej", "vet ej"]
    lotsning = render_view(renderer, "slack_close", case=case(1, CaseState.MEETING_HELD, outcome=Outcome.LOTSNING))
    assert "nykontakt" in blocks(lotsning)
    reasons = [o["text"]["text"] for o in blocks(lotsning)["skal"]["element"]["options"]]
    assert "SIP upprättad vid GFI" in reasons and "Hänvisat till SIP-möte" in reasons
    kartlaggning = render_view(renderer, "slack_close",
                               case=case(1, CaseState.MEETING_HELD, outcome=Outcome.KARTLAGGNING))
    assert "nykontakt" not in blocks(kartlaggning)

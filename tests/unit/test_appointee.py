"""*Utse deltagare*: one rule (`bot.forms.parse_appointee`) for every channel's form: Slack's modal, the Teams
card form and the e-mail link page all ask it, so a required person is required the same way everywhere."""

from __future__ import annotations

from typing import Any

import pytest

from bot import forms
from bot.channels.graph import submit as graph_submit
from handlers.slack import views as slack_views
from handlers.teams import case_forms as teams_forms


@pytest.mark.parametrize(("values", "named", "error"), [
    ({"deltagare": "anna.berg"}, "anna.berg", None),  # Slack's static select, the link page's select
    ({"deltagare": ["anna.berg"]}, "anna.berg", None),  # a multi-select
    ({"deltagare": ["anna.berg", "omar.haddad"]}, "anna.berg", None),  # several: the first counts
    ({}, None, "required"),
    ({"deltagare": None}, None, "required"),
    ({"deltagare": ""}, None, "required"),
    ({"deltagare": []}, None, "required"),
    ({"deltagare": 42}, None, "wrong_type"),
    ({"deltagare": ["anna.berg", 7]}, None, "wrong_type"),
    ({"deltagare": {"v": "anna.berg"}}, None, "wrong_type"),
    ({"deltagare": "anna.berg", "extern": "närstående"}, None, "wrong_type"),  # a bad field beside it refuses
], ids=["one", "list-of-one", "several", "absent", "none", "empty", "empty-list", "number", "mixed-list",
        "object", "bad-extern"])
def test_the_appointee_is_required_and_single(values: dict[str, Any], named: str | None, error: str | None) -> None:
    person, errors = forms.parse_appointee(values)
    assert person == named
    if error is None:
        assert errors == {}
    else:
        assert [code for code, _ in errors.values()] == [error]
        if error == "required":
            assert errors == {"deltagare": ("required", {"field": "deltagare"})}


def test_every_channel_asks_the_one_rule() -> None:
    """No channel keeps its own copy of the check (it was written three times)."""
    import inspect

    for module in (slack_views, teams_forms, graph_submit):
        source = inspect.getsource(module)
        assert "parse_appointee(" in source, module.__name__
        assert '"deltagare" not in' not in source, module.__name__

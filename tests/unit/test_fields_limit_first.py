"""A text over its field's limit is refused before the guards read it (bot/fields.py): their work grows with the
text, so a 100,000-character paste was scanned for identity numbers for seconds before being refused as too long,
and under load the Slack form's answer missed its three seconds
(tests/e2e/test_slack_free_text.py::test_place_of_hundred_thousand_characters_is_refused_on_the_field)."""

from __future__ import annotations

from datetime import date

import pytest

from bot import fields
from bot.fields import MAX_LENGTH, clean_fields


def test_an_over_long_text_is_refused_unread(monkeypatch: pytest.MonkeyPatch) -> None:
    read: list[str] = []
    monkeypatch.setattr(fields, "check_free_text", lambda field, text, today: read.append(field))
    monkeypatch.setattr(fields, "has_bidi_control", lambda text: read.append("bidi") or False)
    clean, errors = clean_fields({"plats": "å" * 100_000}, date(2026, 11, 23), raise_errors=False)
    assert errors == {"plats": ("too_long", {"field": "plats", "max": MAX_LENGTH["plats"]})}
    assert clean == {"plats": ""} and read == []  # neither guard ran, and nothing unread is handed on


def test_a_text_at_the_limit_is_still_read_by_the_guards() -> None:
    number = "811218-9876"
    text = number + "x" * (MAX_LENGTH["plats"] - len(number))
    _, errors = clean_fields({"plats": text}, date(2026, 11, 23), raise_errors=False)
    assert errors["plats"][0] == "identity_number"

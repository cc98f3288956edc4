"""A field error tells the person what to do where they are (issue #20): the unusual-time error names the form's
checkbox on Slack, Teams and the e-mail link page, and the console's `bekräfta=ja` only in the console."""

from __future__ import annotations

from bot.core import Core
from bot.errors import FieldError
from tests.conftest import local


def test_the_unusual_time_error_says_what_to_do_on_each_channel(core: Core) -> None:
    error = FieldError({"tid": ("unusual_time", {"field": "tid", "at": local("2026-11-28T13:00"), "why": "weekend"})})
    on_a_form = core.renderer.field_errors(error)["tid"]
    assert 'kryssa i "Ja, tiden är rätt"' in on_a_form
    assert "bekräfta=ja" not in on_a_form and "konsol" not in on_a_form
    in_the_console = core.renderer.field_errors(error, channel="console")["tid"]
    assert "lägg till bekräfta=ja i kommandot" in in_the_console and "kryssa" not in in_the_console

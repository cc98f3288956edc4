"""Payload parsing of the Slack listeners: pure functions, no Slack, no network."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from bot.channels.slack.front_door import well_formed
from bot.errors import FieldError
from handlers.slack import clicks, forms
from tests.fakes.slack_signing import (
    block_actions_payload,
    checkboxes_state,
    datepicker_state,
    multi_static_select_state,
    plain_text_state,
    radio_buttons_state,
    static_select_state,
    view_submission_payload,
)


def view(values: dict) -> dict:
    return view_submission_payload("U1", "gfi_request", {k: {"v": v} for k, v in values.items()})["view"]


def test_view_values_reads_every_element_kind() -> None:
    values = forms.view_values(view({
        "a": static_select_state("x"), "b": multi_static_select_state(["p", "q"]), "c": checkboxes_state([]),
        "d": datepicker_state("2026-12-01"), "e": plain_text_state(None), "f": radio_buttons_state("ja"),
        "g": {"type": "timepicker", "selected_time": "09:30"},
    }))
    assert values == {"a": "x", "b": ["p", "q"], "c": [], "d": "2026-12-01", "e": None, "f": "ja", "g": "09:30"}


def test_parse_request_maps_the_form() -> None:
    form, errors = forms.parse_request({
        "enhet": "beroende", "typ": "ny-en", "kort": "man, 45 år", "kontakt": "  ", "samtycke": ["ja"],
        "omfattar": ["psykiatri"], "giltigt": "2027-01-31", "bradskande": ["ja"],
        "avser": ["kontaktuppgifter", "annat"], "avser_text": " arbetsförmåga ", "form": "muntligt",
        "inhamtat": "omar.haddad", "barn": "vet-ej",
    })
    assert errors == {}
    assert form.children == "vet-ej"
    assert (form.target_unit, form.case_type, form.brief) == ("beroende", "ny-en", "man, 45 år")
    assert form.contact is None  # empty → the directory default
    assert form.consent_confirmed and form.urgent
    assert form.consent_scope == ["psykiatri"] and form.consent_valid_until == date(2027, 1, 31)
    assert form.consent_covers == ["kontaktuppgifter", "annat"] and form.consent_note == "arbetsförmåga"
    assert (form.consent_form, form.consent_obtained_by) == ("muntligt", "omar.haddad")


def test_parse_request_reports_missing_choices_and_bad_dates() -> None:
    form, errors = forms.parse_request({"giltigt": "31/1"})
    assert set(errors) == {"enhet", "typ", "giltigt", "avser", "form", "barn"}
    assert errors["giltigt"][0] == "bad_date"
    assert not form.consent_confirmed and not form.urgent
    # the period is asked on the form (prefilled): left empty, it is missing, not silently defaulted
    _, errors = forms.parse_request({"enhet": "beroende", "typ": "ny-en", "avser": ["annat"], "form": "skriftligt",
                                     "barn": "nej"})
    assert set(errors) == {"giltigt"} and errors["giltigt"][0] == "required"


def test_parse_renew_needs_the_form_and_takes_who_obtained_it() -> None:
    renew, errors = forms.parse_renew({"giltigt": "2027-03-01", "omfattar": ["psykiatri"], "form": "skriftligt",
                                       "inhamtat": "omar.haddad", "avser": ["social-situation"]})
    assert errors == {}
    assert (renew.until, renew.scope, renew.form, renew.obtained_by, renew.covers, renew.note) == (
        date(2027, 3, 1), ["psykiatri"], "skriftligt", "omar.haddad", ["social-situation"], None)
    renew, errors = forms.parse_renew({"giltigt": "2027-03-01"})
    assert set(errors) == {"form"} and renew.obtained_by is None  # None: the one recording it


def test_parse_withdraw_whole_or_one_unit() -> None:
    assert forms.parse_withdraw({"aterkalla": "hela"}) == (None, {})
    assert forms.parse_withdraw({"aterkalla": "psykiatri"}) == ("psykiatri", {})
    assert set(forms.parse_withdraw({})[1]) == {"aterkalla"}


def test_parse_book_turns_local_time_into_utc() -> None:
    form, errors = forms.parse_book(
        {"datum": "2026-11-30", "tid": "13:00", "plats": " Rum 3 ", "enheter": ["soc-norr", "beroende"]},
        "Europe/Stockholm",
    )
    assert errors == {}
    assert form.at == datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
    assert form.place == "Rum 3" and form.units == ["soc-norr", "beroende"]
    _, errors = forms.parse_book({"tid": "25:99"}, "Europe/Stockholm")
    assert errors["datum"][0] == "required" and errors["tid"][0] == "bad_datetime"


def test_parse_outcome_follow_up_and_close() -> None:
    outcome, errors = forms.parse_outcome({"utfall": "sip", "utvardering": "nej"})
    assert (outcome.outcome, outcome.evaluation_done, errors) == ("sip", False, {})
    assert set(forms.parse_outcome({})[1]) == {"utfall", "utvardering"}
    fu, errors = forms.parse_follow_up({"agare": "linnea.fors", "datum": "2026-12-10", "vad": "stäm av"})
    assert (fu.owner, fu.due, fu.what, errors) == ("linnea.fors", date(2026, 12, 10), "stäm av", {})
    assert forms.parse_close({"skal": "genomford"}) == ("genomford", {})
    assert forms.parse_close({"skal": "annat", "annat": "flyttat"}) == ("flyttat", {})
    assert set(forms.parse_close({"skal": "annat"})[1]) == {"annat"}
    assert set(forms.parse_close({})[1]) == {"skal"}


def test_parse_click_from_a_message_and_from_home() -> None:
    dm = clicks.parse_click(block_actions_payload("U1", "gfi_ack", "gfi-2026-0007", channel_id="DU1"))
    assert (dm.user_id, dm.action_id, dm.ref, dm.channel_id, dm.in_home) == ("U1", "gfi_ack", "GFI-2026-0007",
                                                                             "DU1", False)
    assert dm.key.startswith("act:U1:gfi_ack:")
    home = clicks.parse_click(block_actions_payload("U1", "gfi_ack", "GFI-2026-0007", view={"type": "home"}))
    assert home.in_home and home.channel_id is None and home.trigger_id
    assert clicks.parse_click(block_actions_payload("U1", "gfi_ack", "free text")).ref == ""
    with pytest.raises(forms.PayloadError):
        clicks.parse_click({"type": "block_actions", "actions": []})


def test_private_ref() -> None:
    assert clicks.private_ref({"private_metadata": "GFI-2026-0001"}) == "GFI-2026-0001"
    with pytest.raises(forms.PayloadError):
        clicks.private_ref({"private_metadata": "<script>"})


def test_errors_land_on_their_block_or_the_fallback() -> None:
    out = forms.errors_for_view({"kort": "a", "okänt": "b", "enhet": "c"}, {"kort", "enhet"}, "enhet")
    assert out == {"kort": "a", "enhet": "b c"}


def test_merge_prefers_parse_errors() -> None:
    merged = forms.merge({"enhet": ("required", {})}, FieldError({"enhet": ("unknown_unit", {}), "kort": ("x", {})}))
    assert merged is not None and merged.errors == {"enhet": ("required", {}), "kort": ("x", {})}
    assert forms.merge({}, None) is None


@pytest.mark.parametrize(
    ("body", "ok"),
    [
        ("command=%2Fgfi&user_id=U1", True),
        ('{"type": "event_callback", "event_id": "Ev1", "event": {"type": "app_home_opened"}}', True),
        ('{"type": "url_verification", "challenge": "abc"}', True),
        ("payload=%7B%22type%22%3A%22view_submission%22%7D", False),
        ('{"type": "event_callback"}', False),
        ("payload=null", False),
        ("", False),
    ],
)
def test_well_formed(body: str, ok: bool) -> None:
    content_type = "application/json" if body.startswith("{") else "application/x-www-form-urlencoded"
    assert well_formed(body, content_type) is ok


def test_ladder_click_carries_the_item_id_only() -> None:
    from handlers.slack.clicks import parse_ladder_click
    from handlers.slack.forms import PayloadError
    from tests.fakes.slack_signing import block_actions_payload

    click, item = parse_ladder_click(block_actions_payload("U07JONAS", "ladder_take_over", "17"))
    assert (click.user_id, click.action_id, item) == ("U07JONAS", "ladder_take_over", 17)
    for bad in ("", "GFI-2026-0001", "17; drop", "-3"):
        with pytest.raises(PayloadError):
            parse_ladder_click(block_actions_payload("U07JONAS", "ladder_nudge", bad))


def test_follow_up_click_carries_ref_and_number() -> None:
    from handlers.slack.clicks import parse_follow_up_click
    from handlers.slack.forms import PayloadError
    from tests.fakes.slack_signing import block_actions_payload

    _, ref, number = parse_follow_up_click(block_actions_payload("U01MARIA", "gfi_follow_up_done", "gfi-2026-0042/2"))
    assert (ref, number) == ("GFI-2026-0042", 2)
    for bad in ("GFI-2026-0042", "GFI-2026-0042/0", "GFI-2026-0042/x", "nonsense/1"):
        with pytest.raises(PayloadError):
            parse_follow_up_click(block_actions_payload("U01MARIA", "gfi_follow_up_done", bad))


# --- values of the wrong type are field errors, never a silently empty field -------------------------

@pytest.mark.parametrize("bad", [["a", "b"], 42, {"v": "x"}, True], ids=["list", "int", "dict", "bool"])
def test_wrong_types_become_field_errors(bad: object) -> None:
    _, errors = forms.parse_request({"enhet": "beroende", "typ": "ny-en", "kort": bad, "kontakt": bad,
                                     "samtycke": "ja", "giltigt": bad, "avser": ["kontaktuppgifter"],
                                     "form": "muntligt", "barn": "nej"})
    assert {k: v[0] for k, v in errors.items()} == {
        "kort": "wrong_type", "kontakt": "wrong_type", "samtycke": "wrong_type", "giltigt": "wrong_type"}
    with pytest.raises(FieldError) as exc:
        forms.parse_assign({"personer": ["linnea.fors"], "annan": bad})
    assert exc.value.errors == {"annan": ("wrong_type", {"field": "annan"})}
    assert forms.parse_book({"datum": "2026-11-30", "tid": bad, "plats": bad}, "Europe/Stockholm")[1].keys() == {
        "tid", "plats"}
    assert forms.parse_follow_up({"agare": "x", "datum": "2026-12-01", "vad": bad})[1].keys() == {"vad"}
    assert forms.parse_close({"skal": "annat", "annat": bad})[1].keys() == {"annat"}
    scope_errors = forms.parse_renew({"giltigt": "2027-01-01", "omfattar": bad, "form": "skriftligt"})[1]
    assert scope_errors.keys() == (set() if isinstance(bad, list) else {"omfattar"})  # a list is its type


def test_malformed_select_states_are_wrong_type_not_a_crash() -> None:
    values = forms.view_values({"state": {"values": {
        "enhet": {"v": {"type": "static_select", "selected_option": ["beroende"]}},
        "omfattar": {"v": {"type": "multi_static_select", "selected_options": "psykiatri"}},
        "samtycke": {"v": {"type": "checkboxes", "selected_options": ["ja"]}},
    }}})
    _, errors = forms.parse_request(values)
    assert {k: v[0] for k, v in errors.items()} == {
        "enhet": "wrong_type", "omfattar": "wrong_type", "samtycke": "wrong_type", "typ": "required",
        "giltigt": "required", "avser": "required", "form": "required", "barn": "required"}

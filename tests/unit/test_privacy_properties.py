"""Property-based tests of the identity-number guard (bot.privacy) and of the field check (bot.fields).

Generated valid and mistyped personnummer/samordningsnummer in generated disguises (digits of other
scripts, every separator, split dates, spaced digits, zero-width characters) are all refused, in every
free-text field; generated look-alikes (phone numbers, dates, times, postal codes, organisation numbers,
case references) all pass. The runs are derandomised so CI sees the same examples every time; set
GFI_PROPERTY_EXAMPLES (e.g. 5000) for a longer run with more examples.
"""

from __future__ import annotations

import functools
import html
import os
from collections.abc import Callable
from datetime import date

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from bot.config import DEFAULT_DIRECTORY
from bot.directory import load_directory
from bot.errors import FieldError, NotFound, Refusal
from bot.fields import MAX_LENGTH, clean_fields
from bot.folding import BIDI_CONTROLS
from bot.privacy import find_identity_numbers
from bot.rendering import Renderer
from tests.unit.test_privacy import luhn_digit

TODAY = date(2026, 11, 22)

EXAMPLES = int(os.environ.get("GFI_PROPERTY_EXAMPLES", "150"))
PROPERTY = settings(
    max_examples=EXAMPLES, derandomize=True, database=None, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)

# The zero of each digit script: ASCII, Arabic-Indic, extended Arabic-Indic, Devanagari, Bengali, full-width,
# mathematical bold.
ZEROS = [0x30, 0x660, 0x6F0, 0x966, 0x9E6, 0xFF10, 0x1D7CE]
DASHES = ["-", "\u2010", "\u2011", "\u2012", "\u2013", "\u2014", "\u2212", "\ufe63", "\uff0d"]
VISIBLE_SEPARATORS = [*DASHES, ".", "/", "_", " ", "\t", "\n", "\r\n", "\u00a0", "\u202f", "\uff0e", "\uff0f"]
ZERO_WIDTH = ["\u200b", "\u200c", "\u200d", "\u2060", "\ufeff", "\u00ad"]
PREFIXES = ["", "pnr ", "Personnummer: ", "(", "man, 45 år, ", "Uppgift:\n", "nr:"]
SUFFIXES = ["", ".", ")", " tidigare känd", ", bor i Malmö", "!", "\nmvh"]


# --- identity numbers --------------------------------------------------------------------------------


@st.composite
def identity_digits(draw: st.DrawFn, *, valid: bool, today: date = TODAY) -> str:
    """10 or 12 ASCII digits of a person born in the last 99 years; `valid` decides the check digit."""
    born = draw(st.dates(min_value=date(today.year - 99, 1, 1), max_value=today))
    day = born.day + (60 if draw(st.booleans()) else 0)  # samordningsnummer
    nine = f"{born.year % 100:02d}{born.month:02d}{day:02d}" + draw(st.text("0123456789", min_size=3, max_size=3))
    good = luhn_digit(nine)
    check = good if valid else draw(st.sampled_from([d for d in "0123456789" if d != good]))
    century = f"{born.year // 100}" if draw(st.booleans()) else ""
    return century + nine + check


@st.composite
def separator_run(draw: st.DrawFn, *, plus: bool) -> str:
    """One to three separator characters, sometimes only zero-width ones."""
    pool = VISIBLE_SEPARATORS + ZERO_WIDTH + (["+"] if plus else [])
    return "".join(draw(st.lists(st.sampled_from(pool), min_size=1, max_size=3)))


def parts_of(digits: str, layout: str) -> list[str]:
    """The digit groups a person would type in each layout."""
    date_len = len(digits) - 4
    if layout == "compact":
        return [digits]
    if layout == "date_serial":
        return [digits[:date_len], digits[date_len:]]
    if layout == "split_date":
        year = digits[: date_len - 4]
        return [year, digits[date_len - 4 : date_len - 2], digits[date_len - 2 : date_len], digits[date_len:]]
    return list(digits)  # spaced digits


@st.composite
def disguised(draw: st.DrawFn, digits: str) -> str:
    """`digits` in a generated disguise, inside a little text."""
    layout = draw(st.sampled_from(["compact", "date_serial", "split_date", "spaced"]))
    mixed_scripts = draw(st.booleans())
    script = draw(st.sampled_from(ZEROS))

    def glyph(c: str) -> str:
        zero = draw(st.sampled_from(ZEROS)) if mixed_scripts else script
        return chr(zero + int(c))

    groups = []
    for part in parts_of(digits, layout):
        chars = [glyph(c) for c in part]
        # zero-width characters may hide anywhere, also inside a group
        body = "".join(c + (draw(st.sampled_from(ZERO_WIDTH)) if draw(st.integers(0, 5)) == 0 else "") for c in chars)
        groups.append(body)
    # '+' between date and serial means "100 years or older" for a 10-digit number: only with 12 digits
    text = groups[0]
    for g in groups[1:]:
        text += draw(separator_run(plus=len(digits) == 12)) + g
    return draw(st.sampled_from(PREFIXES)) + text + draw(st.sampled_from(SUFFIXES))


@st.composite
def disguised_number(draw: st.DrawFn, *, valid: bool) -> str:
    return draw(disguised(draw(identity_digits(valid=valid))))


@PROPERTY
@given(text=disguised_number(valid=True))
def test_valid_numbers_in_any_disguise_are_refused(text: str) -> None:
    found = find_identity_numbers(text, TODAY)
    assert [m.exact for m in found] == [True], ascii(text)


@PROPERTY
@given(text=disguised_number(valid=False))
def test_mistyped_numbers_in_any_disguise_are_refused(text: str) -> None:
    found = find_identity_numbers(text, TODAY)
    # one match; rarely a differently grouped reading of the same digits happens to have a valid check digit
    assert len(found) == 1, ascii(text)


@PROPERTY
@given(data=st.data(), today=st.dates(min_value=date(2000, 1, 1), max_value=date(2099, 12, 31)))
def test_century_follows_the_injected_today(data: st.DataObject, today: date) -> None:
    digits = data.draw(identity_digits(valid=True, today=today))
    assert len(find_identity_numbers(data.draw(disguised(digits)), today)) == 1


# --- disguises a reader sees through (issue #23, item 1) ----------------------------------------------

SUPERSCRIPTS = "⁰¹²³⁴⁵⁶⁷⁸⁹"
SUBSCRIPTS = "₀₁₂₃₄₅₆₇₈₉"
CIRCLED = "⓪①②③④⑤⑥⑦⑧⑨"
NEGATIVE_CIRCLED = "⓿❶❷❸❹❺❻❼❽❾"
GLYPH_SETS = ["0123456789", SUPERSCRIPTS, SUBSCRIPTS, CIRCLED, NEGATIVE_CIRCLED,
              "".join(chr(0xFF10 + i) for i in range(10))]
# Marks a reader does not see as characters: combining accents, the enclosing circle, variation selectors,
# the keycap sequence.
MARKS = ["\u0301", "\u0308", "\u0336", "\u20dd", "\ufe0f", "\ufe0e", "\U000e0100", "\ufe0f\u20e3", "\u20e3"]
PUNCTUATION = [*":,;()[]*#&%=!?|^~'\"<>@$", "&#45;", "&#x2d;", "&ndash;", "&amp;#45;", "👉", "•", "→"]


@st.composite
def reader_separator(draw: st.DrawFn, *, double_encoded: bool = True) -> str:
    """A run of up to 20 characters that are not letters or digits (punctuation, HTML references, spaces).
    Without `double_encoded`, no twice-encoded reference: a text whose digits are encoded once and a
    separator twice reads whole in no single decoding (nor to any reader)."""
    pool = [*PUNCTUATION, " ", ".", "-", "\t"]
    if not double_encoded:
        pool.remove("&amp;#45;")
    parts = draw(st.lists(st.sampled_from(pool), min_size=1, max_size=8))
    run = "".join(parts)
    # an HTML reference is one character as read: count what a reader sees
    while len(html.unescape(html.unescape(run))) > 20:
        parts.pop()
        run = "".join(parts) or "-"
    return run


@st.composite
def read_disguised(draw: st.DrawFn, digits: str) -> str:
    """`digits` in a disguise a reader sees through: other glyphs, marks after digits, HTML references,
    punctuation runs between the parts."""
    layout = draw(st.sampled_from(["compact", "date_serial", "split_date", "spaced"]))
    glyphs = draw(st.sampled_from(GLYPH_SETS))
    mark = draw(st.sampled_from(["", *MARKS]))
    html_digits = draw(st.integers(0, 4)) == 0

    def glyph(c: str) -> str:
        if html_digits:
            return f"&#{ord(c)};"
        return glyphs[int(c)] + mark

    groups = ["".join(glyph(c) for c in part) for part in parts_of(digits, layout)]
    text = groups[0]
    for g in groups[1:]:
        text += draw(reader_separator(double_encoded=not html_digits)) + g
    return draw(st.sampled_from(PREFIXES)) + text + draw(st.sampled_from(SUFFIXES))


@PROPERTY
@given(data=st.data(), valid=st.booleans())
def test_numbers_in_disguises_a_reader_sees_through_are_refused(data: st.DataObject, valid: bool) -> None:
    digits = data.draw(identity_digits(valid=valid))
    text = data.draw(read_disguised(digits))
    found = find_identity_numbers(text, TODAY)
    assert len(found) == 1, ascii(text)
    if valid:
        assert found[0].exact, ascii(text)


@PROPERTY
@given(field=st.sampled_from(sorted(MAX_LENGTH)), data=st.data())
def test_every_field_refuses_reader_disguises_and_bidi_controls(field: str, data: st.DataObject) -> None:
    digits = data.draw(identity_digits(valid=True))
    text = data.draw(read_disguised(digits))
    assume(len(text) <= MAX_LENGTH[field])
    with pytest.raises(FieldError) as exc:
        clean_fields({field: text}, TODAY)
    assert exc.value.errors[field][0] == "identity_number", ascii(text)
    # a bidi control anywhere inside a field is refused, with the field named
    control = data.draw(st.sampled_from(sorted(BIDI_CONTROLS)))
    with pytest.raises(FieldError) as exc:
        clean_fields({field: f"man{control} 45 år"}, TODAY)
    assert exc.value.errors[field] == ("bidi_control", {"field": field})


# --- look-alikes -------------------------------------------------------------------------------------


def d(n: int) -> st.SearchStrategy[str]:
    return st.text("0123456789", min_size=n, max_size=n)


def fmt(template: str, *parts: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    return st.tuples(*parts).map(lambda p: template.format(*p))


MOBILE = st.sampled_from(["70", "72", "73", "76", "79"])
AREA2 = st.sampled_from(["8"])
AREA3 = st.sampled_from(["31", "40", "46", "90", "11", "13", "18", "19", "21", "26", "35", "36", "54", "60"])
AREA4 = st.sampled_from(["150", "240", "270", "370", "413", "431", "480", "500", "523", "651", "980"])

# Ten-digit phone numbers written in a grouping a personnummer never has.
PHONES_10 = st.one_of(
    fmt("0{}-{} {} {}", MOBILE, d(3), d(2), d(2)),
    fmt("0{} {} {} {}", MOBILE, d(3), d(2), d(2)),
    fmt("0{}-{}{}{}", MOBILE, d(3), d(2), d(2)),
    fmt("0{}-{} {} {}", AREA3, d(3), d(2), d(2)),
    fmt("0{}-{} {} {}", AREA2, d(3), d(3), d(2)),
    fmt("0{}-{} {} {}", AREA4, d(2), d(2), d(2)),
)
PHONES_OTHER = st.one_of(
    fmt("+46 {} {} {} {}", MOBILE, d(3), d(2), d(2)),
    fmt("+46{}{}{}{}", MOBILE, d(3), d(2), d(2)),
    fmt("0046 {} {} {} {}", MOBILE, d(3), d(2), d(2)),
    fmt("+46 (0){}-{} {} {}", MOBILE, d(3), d(2), d(2)),
    fmt("0{}-{} {} {}", AREA2, d(2), d(2), d(2)),
    fmt("0{}-{} {}", AREA4, d(3), d(2)),
    fmt("+46 {} {} {} {}", AREA2, d(3), d(3), d(2)),
)

YEAR = st.integers(1990, 2030).map(str)
MONTH = st.integers(1, 12).map(lambda m: f"{m:02d}")
DAY = st.integers(1, 28).map(lambda x: f"{x:02d}")
HOUR = st.integers(7, 20).map(lambda h: f"{h:02d}")
MINUTE = st.sampled_from(["00", "05", "15", "30", "45"])
DATES = st.one_of(
    fmt("{}-{}-{}", YEAR, MONTH, DAY),
    fmt("{}/{}", st.integers(1, 31).map(str), st.integers(1, 12).map(str)),
    fmt("{}.{}.{}", DAY, MONTH, YEAR),
    fmt("{}/{}/{}", DAY, MONTH, YEAR),
    fmt("{}-{}-{}–{}-{}-{}", YEAR, MONTH, DAY, YEAR, MONTH, DAY),
    fmt("{}-{}-{} - {}-{}-{}", YEAR, MONTH, DAY, YEAR, MONTH, DAY),
    fmt("{}-{}-{} {}:{}", YEAR, MONTH, DAY, HOUR, MINUTE),
    fmt("{}-{}-{} {}.{}", YEAR, MONTH, DAY, HOUR, MINUTE),
    fmt("{}-{}-{} {}.{}-{}.{}", YEAR, MONTH, DAY, HOUR, MINUTE, HOUR, MINUTE),
    fmt("{}.{}.{} {}.{}", DAY, MONTH, YEAR.map(lambda y: y[2:]), HOUR, MINUTE),
    fmt("{}.{}-{}.{} {}/{}", HOUR, MINUTE, HOUR, MINUTE, DAY, MONTH),
)
TIMES = st.one_of(
    fmt("{}:{}", HOUR, MINUTE),
    fmt("kl. {}.{}", HOUR, MINUTE),
    fmt("{}.{}-{}.{}", HOUR, MINUTE, HOUR, MINUTE),
    fmt("{}:{}–{}:{}", HOUR, MINUTE, HOUR, MINUTE),
)
POSTAL = st.one_of(fmt("{} {}", d(3), d(2)), fmt("SE-{} {}", d(3), d(2)), fmt("{} {} Malmö", d(3), d(2)))
# Organisation numbers: the third digit is 2 or more (month >= 20); optionally with the 16 prefix.
ORG = st.one_of(
    fmt("{}{}{}-{}", d(2), st.sampled_from("23456789"), d(3), d(4)),
    fmt("16{}{}{}-{}", d(2), st.sampled_from("23456789"), d(3), d(4)),
)
REFS = st.one_of(fmt("GFI-{}-{}", YEAR, d(4)), fmt("dnr {}/{}", YEAR, d(4)))


def is_identity_digits(digits: str, today: date = TODAY) -> bool:
    """An independent oracle: are these 10 digits a valid (date + check digit) identity number?"""
    if len(digits) != 10 or luhn_digit(digits[:9]) != digits[9]:
        return False
    yy, mm, dd = int(digits[:2]), int(digits[2:4]), int(digits[4:6])
    if dd > 60:
        dd -= 60  # samordningsnummer
    year = (today.year // 100 - (1 if yy > today.year % 100 else 0)) * 100 + yy
    try:
        date(year, mm, dd)
    except ValueError:
        return False
    return True


@PROPERTY
@given(phone=PHONES_10)
def test_ten_digit_phone_numbers_pass_unless_their_digits_are_a_valid_number(phone: str) -> None:
    digits = "".join(c for c in phone if c.isdigit())
    found = find_identity_numbers(f"ring {phone} efter lunch", TODAY)
    # the documented collision: valid date and check digit are refused whatever the grouping
    assert (found != []) is is_identity_digits(digits), phone


@PROPERTY
@given(text=st.one_of(PHONES_OTHER, DATES, TIMES, POSTAL, ORG, REFS))
def test_look_alikes_pass(text: str) -> None:
    assert find_identity_numbers(text, TODAY) == [], text


@PROPERTY
@given(
    items=st.lists(st.one_of(PHONES_OTHER, DATES, TIMES, POSTAL, ORG, REFS), min_size=2, max_size=4),
    joiner=st.sampled_from([", ", " och ", "; ", " – kl ", "\nTel: ", " (", " eller "]),
)
def test_look_alikes_in_a_sentence_pass(items: list[str], joiner: str) -> None:
    text = "Möte " + joiner.join(items) + "."
    assert find_identity_numbers(text, TODAY) == [], text


# --- every field ------------------------------------------------------------------------------------

RENDERER = Renderer(load_directory(DEFAULT_DIRECTORY))
FIELDS = sorted(MAX_LENGTH)


@PROPERTY
@given(field=st.sampled_from(FIELDS), valid=st.booleans(), data=st.data())
def test_every_field_refuses_disguised_numbers_without_echoing_them(
    field: str, valid: bool, data: st.DataObject
) -> None:
    digits = data.draw(identity_digits(valid=valid))
    text = data.draw(disguised(digits))
    with pytest.raises(FieldError) as exc:
        clean_fields({field: text}, TODAY)
    assert exc.value.errors[field][0] == "identity_number"
    message = RENDERER.field_errors(exc.value)[field]
    if valid:  # (a mistyped number may, regrouped, happen to read as a valid one: either message is right)
        assert "ser ut som" not in message
    shown = "".join(str(int(c)) if c.isdigit() else c for c in message)
    assert digits[-4:] not in shown and text.strip() not in message


@PROPERTY
@given(field=st.sampled_from(FIELDS), text=st.one_of(PHONES_OTHER, DATES, TIMES, POSTAL, ORG, REFS))
def test_every_field_accepts_look_alikes(field: str, text: str) -> None:
    assume(len(text) <= MAX_LENGTH[field])
    clean, errors = clean_fields({field: f" {text}\u200b "}, TODAY)
    assert errors == {} and clean == {field: text}


# --- values the user typed, repeated in error messages ---------------------------------------------

ECHO_RENDERER = Renderer(load_directory(DEFAULT_DIRECTORY), today=lambda: TODAY)



def console_why(code: str, r: Renderer, value: str) -> str:
    return r.usage_error("console", "why", code=code, value=value)


# Every place an error or refusal repeats what the user typed, as the channels render it.
ECHOES: dict[str, Callable[[Renderer, str], str]] = {
    "fields.unknown_unit": lambda r, v: r.field_errors(FieldError.one("enhet", "unknown_unit", unit=v))["enhet"],
    "fields.unknown_type": lambda r, v: r.field_errors(FieldError.one("typ", "unknown_type", value=v))["typ"],
    "fields.bad_date": lambda r, v: r.field_errors(FieldError.one("datum", "bad_date", value=v))["datum"],
    "fields.bad_datetime": lambda r, v: r.field_errors(FieldError.one("tid", "bad_datetime", value=v))["tid"],
    "fields.bad_choice": lambda r, v: r.field_errors(
        FieldError.one("form", "bad_choice", value=v, choices="skriftligt eller muntligt"))["form"],
    "fields.unknown_person": lambda r, v: r.field_errors(
        FieldError.one("inhamtat", "unknown_person", person=v))["inhamtat"],
    "fields.unknown_cause": lambda r, v: r.field_errors(FieldError.one("orsak", "unknown_cause", value=v))["orsak"],
    "fields.bad_case_ref": lambda r, v: r.field_errors(FieldError.one("ref", "bad_case_ref", value=v))["ref"],
    "refusals.case_not_found": lambda r, v: r.refusal(NotFound(v)),
    "refusals.unknown_person": lambda r, v: r.refusal(Refusal("unknown_person", person=v)),
    "refusals.unknown_assignee": lambda r, v: r.refusal(Refusal("unknown_assignee", person=v)),
    "refusals.escalation_not_found": lambda r, v: r.refusal(Refusal("escalation_not_found", item=v)),
    "refusals.follow_up_not_found": lambda r, v: r.refusal(
        Refusal("follow_up_not_found", ref="GFI-2026-0001", number=v)),
    "refusals.brist_not_found": lambda r, v: r.refusal(Refusal("brist_not_found", ref=v)),
    "refusals.brist_draft_not_found": lambda r, v: r.refusal(Refusal("brist_draft_not_found", draft=v)),
    **{f"console.why.{code}": functools.partial(console_why, code)
       for code in ("bad_ref", "bad_datetime", "bad_date", "unknown_args", "bad_brist_ref", "bad_list_filter")},
    "console.unknown_command": lambda r, v: r.macro("console", "unknown_command", cmd=v),
    "console.unknown_person": lambda r, v: r.macro("console", "unknown_person", person=v, file="katalog.yaml"),
    "stats.unknown_unit": lambda r, v: r.macro("stats", "unknown_unit", unit=v),
    "teams.not_understood": lambda r, v: r.render("teams_not_understood", text=v),
}


def test_a_typed_identity_number_is_masked_where_the_bug_was_reported() -> None:
    assert ECHO_RENDERER.usage_error("console", "why", code="bad_ref", value="811218-9876") == (
        '"[personnummer]" är ingen ärendereferens (t.ex. GFI-2026-0042).')
    long = ECHO_RENDERER.refusal(NotFound("x" * 500))
    assert "x" * 59 + "…" in long and "x" * 60 not in long


@PROPERTY
@given(where=st.sampled_from(sorted(ECHOES)), valid=st.booleans(), filler=st.text("abc -", max_size=80),
       data=st.data())
def test_no_echoed_value_repeats_an_identity_number(where: str, valid: bool, filler: str, data: st.DataObject) -> None:
    digits = data.draw(identity_digits(valid=valid))
    typed = filler + data.draw(disguised(digits))
    render = ECHOES[where]
    message = render(ECHO_RENDERER, typed)
    base = render(ECHO_RENDERER, "")

    def shown(text: str) -> str:
        return "".join(str(int(c)) if c.isdigit() else c for c in text)

    assert digits[-4:] not in shown(message) or digits[-4:] in shown(base), (where, ascii(message))
    assert find_identity_numbers(message, TODAY) == [], (where, ascii(message))
    assert len(message) <= len(base) + 60, where

"""Tests for the identity-number guard (bot.privacy).

Test numbers are synthesised here with a Luhn helper (serials chosen freely); they are not taken from
any register.
"""

from __future__ import annotations

import dataclasses
import itertools
import unicodedata
from datetime import date

import pytest

from bot.privacy import (
    IdentityMatch,
    IdentityNumberFound,
    check_fields,
    check_free_text,
    find_identity_numbers,
)

TODAY = date(2026, 11, 22)


def luhn_digit(nine: str) -> str:
    """The Luhn check digit for nine digits (weights 2,1,2,1,... from the left)."""
    assert len(nine) == 9 and nine.isdigit()
    total = 0
    for i, ch in enumerate(nine):
        n = int(ch) * (2 if i % 2 == 0 else 1)
        total += n - 9 if n > 9 else n
    return str((10 - total % 10) % 10)


def bad_digit(nine: str) -> str:
    """A check digit that is guaranteed wrong."""
    return str((int(luhn_digit(nine)) + 1) % 10)


def make(yymmdd: str, serial3: str, *, sep: str = "-", century: str = "", valid: bool = True) -> str:
    """A formatted number: [century]YYMMDD<sep>NNN<check>."""
    nine = yymmdd + serial3
    check = luhn_digit(nine) if valid else bad_digit(nine)
    return f"{century}{yymmdd}{sep}{serial3}{check}"


def kinds(text: str, today: date = TODAY) -> list[str]:
    return [m.kind for m in find_identity_numbers(text, today)]


SEPARATORS = ["-", "+", " ", ""]
SEP_IDS = ["dash", "plus", "space", "none"]


# --- the test helper itself ---------------------------------------------------------------


def test_luhn_helper_matches_known_example() -> None:
    # The example number from the Skatteverket / stdnum documentation.
    assert luhn_digit("811218987") == "6"
    assert luhn_digit("880320001") == "6"


# --- valid personnummer -------------------------------------------------------------------


@pytest.mark.parametrize("sep", SEPARATORS, ids=SEP_IDS)
def test_ten_digit_personnummer_every_separator(sep: str) -> None:
    number = make("811218", "987", sep=sep)
    text = f"man 45 år, pnr {number} tidigare känd"
    found = find_identity_numbers(text, TODAY)
    assert found == [IdentityMatch(start=text.index(number), end=text.index(number) + len(number), kind="personnummer")]
    assert text[found[0].start : found[0].end] == number


@pytest.mark.parametrize("sep", SEPARATORS, ids=SEP_IDS)
@pytest.mark.parametrize("century", ["18", "19", "20"])
def test_twelve_digit_personnummer_every_separator(sep: str, century: str) -> None:
    number = make("040512", "238", sep=sep, century=century)
    text = f"Kvinna, {number}, har kontakt med psykiatrin."
    found = find_identity_numbers(text, TODAY)
    assert len(found) == 1
    assert text[found[0].start : found[0].end] == number
    assert found[0].kind == "personnummer"


@pytest.mark.parametrize(
    "text_template",
    [
        "{n}",
        "({n})",
        "pnr:{n}.",
        "Personnummer {n}\nAdress okänd",
        "{n}, {n2}",
        "se {n}!",
    ],
)
def test_personnummer_in_various_positions(text_template: str) -> None:
    n = make("650703", "112")
    n2 = make("990101", "424", sep="", century="19")
    text = text_template.format(n=n, n2=n2)
    expected = text_template.count("{n}") + text_template.count("{n2}")
    assert kinds(text) == ["personnummer"] * expected


def test_multiple_numbers_are_reported_in_order() -> None:
    a = make("811218", "987")
    b = make("811278", "987", sep="")  # samordningsnummer
    c = make("700101", "123", sep=" ", century="19")
    text = f"{a} och {b} samt {c}"
    found = find_identity_numbers(text, TODAY)
    assert [m.kind for m in found] == ["personnummer", "samordningsnummer", "personnummer"]
    assert [text[m.start : m.end] for m in found] == [a, b, c]


def test_non_breaking_space_counts_as_space() -> None:
    assert kinds(make("811218", "987", sep="\u00a0")) == ["personnummer"]


# --- samordningsnummer --------------------------------------------------------------------


@pytest.mark.parametrize("sep", SEPARATORS, ids=SEP_IDS)
def test_ten_digit_samordningsnummer_every_separator(sep: str) -> None:
    number = make("811278", "987", sep=sep)  # 18 December + 60
    assert kinds(f"samordningsnr {number} finns") == ["samordningsnummer"]


@pytest.mark.parametrize("sep", SEPARATORS, ids=SEP_IDS)
def test_twelve_digit_samordningsnummer_every_separator(sep: str) -> None:
    number = make("900161", "332", sep=sep, century="19")  # 1 January + 60
    assert kinds(f"ärende gäller {number}") == ["samordningsnummer"]


@pytest.mark.parametrize("yymmdd", ["850161", "850191", "850131", "850228", "850430"])
def test_samordningsnummer_day_range_edges(yymmdd: str) -> None:
    expected = "samordningsnummer" if int(yymmdd[4:]) > 60 else "personnummer"
    assert kinds(make(yymmdd, "551")) == [expected]


def test_stdnum_alone_would_miss_samordningsnummer() -> None:
    from stdnum.se import personnummer

    number = make("811278", "987")
    assert not personnummer.is_valid(number)
    assert kinds(number) == ["samordningsnummer"]


# --- wrong checksum -----------------------------------------------------------------------


@pytest.mark.parametrize("sep", SEPARATORS, ids=SEP_IDS)
@pytest.mark.parametrize("century", ["", "19"], ids=["10", "12"])
@pytest.mark.parametrize("yymmdd", ["811218", "811278"], ids=["pnr", "samnr"])
def test_wrong_checksum_is_reported_as_look_alike(sep: str, century: str, yymmdd: str) -> None:
    # People mistype; a mistyped number still identifies someone (issue #12 item 5).
    number = make(yymmdd, "987", sep=sep, century=century, valid=False)
    found = find_identity_numbers(f"pnr {number} här", TODAY)
    assert len(found) == 1 and not found[0].exact
    assert found[0].kind == ("samordningsnummer" if yymmdd == "811278" else "personnummer")


def test_every_check_digit_is_refused_and_only_the_right_one_is_exact() -> None:
    nine = "811218987"
    good = luhn_digit(nine)
    for digit in "0123456789":
        found = find_identity_numbers(f"{nine[:6]}-{nine[6:]}{digit}", TODAY)
        assert [(m.kind, m.exact) for m in found] == [("personnummer", digit == good)]


# --- invalid dates ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "yymmdd",
    [
        "811318",  # month 13
        "810018",  # month 0
        "811232",  # day 32
        "811200",  # day 0
        "811292",  # day 92 (samordningsnummer would be 32)
        "811260",  # day 60 (samordningsnummer day 0)
        "810230",  # 30 February
        "810290",  # samordningsnummer for 30 February
        "810229",  # 29 February 1981 (not a leap year)
        "810431",  # 31 April
    ],
)
@pytest.mark.parametrize("sep", SEPARATORS, ids=SEP_IDS)
def test_invalid_dates_are_not_reported_even_with_good_checksum(yymmdd: str, sep: str) -> None:
    assert find_identity_numbers(make(yymmdd, "123", sep=sep), TODAY) == []


@pytest.mark.parametrize("century", ["17", "21", "00", "99"])
def test_twelve_digit_century_must_be_18_19_or_20(century: str) -> None:
    assert find_identity_numbers(make("811218", "987", century=century), TODAY) == []


def test_leap_day_in_twelve_digit_form() -> None:
    assert kinds(make("000229", "123", century="20")) == ["personnummer"]
    assert kinds(make("000229", "123", century="19")) == []  # 1900 was not a leap year
    assert kinds(make("000289", "123", century="20")) == ["samordningsnummer"]
    assert kinds(make("000289", "123", century="19")) == []


# --- look-alikes --------------------------------------------------------------------------


def _with_bad_checksum_if_numeric(s: str) -> str:
    """Make sure a bare 10-digit look-alike really fails the checksum."""
    if s.isdigit() and len(s) == 10:
        nine = s[:9]
        return nine + bad_digit(nine)
    return s


@pytest.mark.parametrize(
    "text",
    [
        "Ring 070-123 45 67 efter lunch",
        "växel 040-34 10 00",
        "+46 70 123 45 67",
        "+46701234567",
        "0046 70 123 45 67",
        "08-123 456 78",
        "mötet 2026-11-22 kl 10",
        "mötet 20261122",
        "2026-11-22 10:00-11:30",
        "ärende GFI-2026-0042",
        "GFI-2026-0042 och GFI-2027-1234",
        "postnummer 211 22 Malmö",
        "SE-211 22 Malmö",
        "man 45 år, 3 barn 4, 7 och 12 år",
        "belopp 12 500 kr, 1 200 000 kr",
        "dnr 2026/1234-56",
        "org.nr 212000-1124",  # organisationsnummer: month 20 is not a date
        "",
        "tid 08:00-17:00",
        "IBAN SE45 5000 0000 0583 9825 7466",
    ],
)
def test_look_alikes_pass(text: str) -> None:
    assert find_identity_numbers(text, TODAY) == []
    check_free_text("beskrivning", text, TODAY)


def test_phone_number_that_happens_to_pass_luhn_is_caught_in_any_grouping() -> None:
    # 070123 is a real date (2007-01-23): with a valid checksum it is indistinguishable from a
    # personnummer, and the guard errs on the side of rejecting it, whatever the grouping.
    nine = "070123456"
    phone = nine + luhn_digit(nine)
    for text in [phone, "070-123 45 6" + phone[-1], "070-1234 56" + phone[-1], "0701-23 45 6" + phone[-1]]:
        assert [(m.kind, m.exact) for m in find_identity_numbers(text, TODAY)] == [("personnummer", True)], text
    # ... but not in international form: the digits are no longer those of a personnummer.
    assert find_identity_numbers("+46 70 123 45 6" + phone[-1], TODAY) == []


def test_bare_ten_digits_with_valid_date_and_wrong_checksum_are_refused() -> None:
    # The documented collision: a bare mobile number has the shape of a personnummer.
    phone = _with_bad_checksum_if_numeric("0701234567")
    assert [(m.kind, m.exact) for m in find_identity_numbers(f"tel {phone}", TODAY)] == [("personnummer", False)]


PHONE_GROUPINGS = {
    "070-123 45 67": (3, 6, 8),
    "08-123 456 78": (2, 5, 8),
    "0701-23 45 67": (4, 6, 8),
    "070-1234567": (3,),
}


def group(digits: str, cuts: tuple[int, ...]) -> str:
    """`digits` with a dash after the first cut and spaces after the others."""
    bounds = [0, *cuts, len(digits)]
    parts = [digits[a:b] for a, b in itertools.pairwise(bounds)]
    return parts[0] + "-" + " ".join(parts[1:])


@pytest.mark.parametrize("nine", ["811218987", "000101000", "991231999", "500561123", "121212121", "070123456"])
@pytest.mark.parametrize("cuts", PHONE_GROUPINGS.values(), ids=PHONE_GROUPINGS.keys())
def test_phone_groupings_with_wrong_checksum_pass(nine: str, cuts: tuple[int, ...]) -> None:
    text = group(nine + bad_digit(nine), cuts)
    assert find_identity_numbers(f"ring {text}", TODAY) == [], text


@pytest.mark.parametrize(
    "sep", ["/", ".", "_", "  ", " - ", "--", "\t", "\n", "\u2010", "\u2011", "\u2013", "\u2014", "\u2212",
            "\u00a0", "\u200b", " \u200b ", "\uff0d", "\uff0f", "\uff0e"]
)
def test_other_separators_are_accepted(sep: str) -> None:
    nine = "811218987"
    check = luhn_digit(nine)
    assert kinds(f"{nine[:6]}{sep}{nine[6:]}{check}") == ["personnummer"], repr(sep)


@pytest.mark.parametrize("zero", [0x0660, 0x06F0, 0xFF10, 0x0966, 0x09E6, 0x1D7CE])
def test_digits_of_any_script_count(zero: int) -> None:
    number = make("811218", "987", sep="-")
    other = "".join(chr(zero + int(c)) if c.isdigit() else c for c in number)
    found = find_identity_numbers(f"pnr {other}", TODAY)
    assert [(m.kind, m.exact) for m in found] == [("personnummer", True)]
    assert found[0].end - found[0].start == len(other)


@pytest.mark.parametrize(
    "text",
    [
        "1981-12-18-9876", "81-12-18-9876", "1981 12 18 9876", "81.12.18.9876", "19811218/9876", "811218_9876",
        "8 1 1 2 1 8 - 9 8 7 6", "1 9 8 1 1 2 1 8 9 8 7 6", "8112\u200b18\u200b9876", "81121\u200b89876",
        "811218 \n 9876", "811218\t9876", "811218\u2014\u20149876",
    ],
)
def test_disguised_forms_are_found(text: str) -> None:
    digits = [c for c in text if c.isdigit()]
    nine = "".join(digits[-10:-1])
    assert nine == "811218987"
    fixed = text[: text.rindex("6")] + luhn_digit(nine)
    assert kinds(fixed) == ["personnummer"], repr(fixed)


# --- boundaries: no digit directly before or after ----------------------------------------


@pytest.mark.parametrize("sep", SEPARATORS, ids=SEP_IDS)
@pytest.mark.parametrize("century", ["", "19"], ids=["10", "12"])
def test_number_inside_longer_digit_run_is_not_reported(sep: str, century: str) -> None:
    number = make("811218", "987", sep=sep, century=century)
    assert find_identity_numbers(f"1{number}", TODAY) == []
    assert find_identity_numbers(f"{number}0", TODAY) == []
    assert find_identity_numbers(f"ref 55{number}55 slut", TODAY) == []


def test_ten_digit_suffix_of_bad_twelve_digit_run_is_not_reported() -> None:
    # "17" is not an allowed century, and the 10-digit tail is preceded by a digit.
    assert find_identity_numbers(make("811218", "987", century="17"), TODAY) == []


def test_non_digit_neighbours_do_not_prevent_a_match() -> None:
    number = make("811218", "987")
    for text in [f"a{number}b", f"-{number}-", f"+{number}+", f"#{number}", f"x{number}.5"]:
        assert kinds(text) == ["personnummer"], text


def test_separated_digit_group_next_to_number_is_allowed() -> None:
    number = make("811218", "987")
    assert kinds(f"12 {number} 34") == ["personnummer"]


# --- today and the century of 10-digit numbers ---------------------------------------------


def test_leap_day_ten_digit_depends_on_today() -> None:
    dash = make("000229", "123", sep="-")
    plus = make("000229", "123", sep="+")
    # In 2026: 00 -> 2000 (leap year), with + -> 1900 (not a leap year).
    assert kinds(dash, date(2026, 11, 22)) == ["personnummer"]
    assert kinds(plus, date(2026, 11, 22)) == []
    # In 1999: 00 -> 1900 (not a leap year).
    assert kinds(dash, date(1999, 12, 31)) == []
    # In 2100: 00 -> 2100 (not leap) with -, 2000 (leap) with +.
    assert kinds(dash, date(2100, 6, 1)) == []
    assert kinds(plus, date(2100, 6, 1)) == ["personnummer"]


def test_leap_day_samordningsnummer_depends_on_today() -> None:
    dash = make("000289", "123", sep="-")
    plus = make("000289", "123", sep="+")
    assert kinds(dash, date(2026, 1, 1)) == ["samordningsnummer"]
    assert kinds(plus, date(2026, 1, 1)) == []


def test_leap_day_without_separator_and_with_space_behaves_like_dash() -> None:
    for sep in ["", " "]:
        number = make("000229", "123", sep=sep)
        assert kinds(number, date(2026, 1, 1)) == ["personnummer"]
        assert kinds(number, date(1999, 1, 1)) == []


def test_plus_ordinary_date_is_valid_in_any_century() -> None:
    assert kinds(make("811218", "987", sep="+")) == ["personnummer"]
    assert kinds(make("250101", "987", sep="+"), date(2026, 1, 1)) == ["personnummer"]


def test_year_after_today_goes_to_previous_century() -> None:
    # today 2026: "96" is 1996 (leap), "28" is 1928 (leap) -> both have a 29 February.
    assert kinds(make("960229", "123")) == ["personnummer"]
    assert kinds(make("280229", "123")) == ["personnummer"]


# --- no digits in anything that could be logged --------------------------------------------


def test_match_repr_holds_offsets_only() -> None:
    number = make("811218", "987")
    match = find_identity_numbers(f"pnr {number}", TODAY)[0]
    text = repr(match)
    assert "8112" not in text and "9876" not in text
    assert [f.name for f in dataclasses.fields(match)] == ["start", "end", "kind", "exact"]


def test_match_is_frozen() -> None:
    match = IdentityMatch(start=0, end=11, kind="personnummer")
    with pytest.raises(AttributeError):
        match.start = 1  # type: ignore[misc]


# --- check_free_text / check_fields -------------------------------------------------------


def test_check_free_text_raises_with_field_and_kind() -> None:
    number = make("811278", "987")
    with pytest.raises(IdentityNumberFound) as exc_info:
        check_free_text("brief", f"kvinna, {number}", TODAY)
    exc = exc_info.value
    assert isinstance(exc, ValueError)
    assert exc.field == "brief"
    assert exc.kind == "samordningsnummer"
    assert exc.code == "identity_number"
    assert exc.params == {"field": "brief", "kind": "samordningsnummer", "exact": True}
    assert exc.match is not None and exc.match.start == len("kvinna, ")
    for rendered in (str(exc), repr(exc), repr(exc.args)):
        assert "8112" not in rendered and number not in rendered


def test_check_free_text_reports_first_match() -> None:
    text = f"{make('811218', '987')} {make('811278', '987')}"
    with pytest.raises(IdentityNumberFound) as exc_info:
        check_free_text("brief", text, TODAY)
    assert exc_info.value.kind == "personnummer"


@pytest.mark.parametrize("text", [None, "", "man, 45 år, bor i Malmö", "GFI-2026-0042"])
def test_check_free_text_accepts_clean_text(text: str | None) -> None:
    check_free_text("brief", text, TODAY)


def test_check_fields_raises_for_first_offending_field_in_order() -> None:
    fields = {
        "purpose": "Samordning kring boende",
        "brief": None,
        "other_units": f"psykiatrin, pnr {make('811218', '987', sep='')}",
        "notes": f"samordningsnr {make('811278', '987')}",
    }
    with pytest.raises(IdentityNumberFound) as exc_info:
        check_fields(fields, TODAY)
    assert exc_info.value.field == "other_units"
    assert exc_info.value.kind == "personnummer"


def test_check_fields_accepts_clean_mapping() -> None:
    check_fields({"a": "man, 45 år", "b": None, "c": "ring 070-123 45 67"}, TODAY)
    check_fields({}, TODAY)


def test_check_fields_uses_today_for_century() -> None:
    fields = {"brief": f"född {make('000229', '123', sep='+')}"}
    check_fields(fields, date(2026, 1, 1))
    with pytest.raises(IdentityNumberFound):
        check_fields(fields, date(2100, 1, 1))


# --- agreement with python-stdnum for personnummer ----------------------------------------


def test_agrees_with_stdnum_on_twelve_digit_personnummer() -> None:
    from stdnum.se import personnummer

    checked = 0
    for year in range(1890, 2027, 7):
        for month in range(0, 14, 3):
            for day in (0, 1, 15, 28, 29, 30, 31, 32):
                for serial in ("001", "458", "997"):
                    nine = f"{year % 100:02d}{month:02d}{day:02d}{serial}"
                    for check in (luhn_digit(nine), bad_digit(nine)):
                        number = f"{year // 100}{nine[:6]}-{serial}{check}"
                        expected = personnummer.is_valid(number)
                        found = find_identity_numbers(number, TODAY)
                        assert (found == [] or found[0].kind != "personnummer") is not personnummer.is_valid(
                            number[:-1] + luhn_digit(nine)
                        ), number
                        assert any(m.exact for m in found) is expected, number
                        checked += 1
    assert checked > 1000


# --- the text as a reader sees it (issue #23, item 1) ----------------------------------------------

SUPERSCRIPT = str.maketrans("0123456789-", "⁰¹²³⁴⁵⁶⁷⁸⁹⁻")
SUBSCRIPT = str.maketrans("0123456789-", "₀₁₂₃₄₅₆₇₈₉₋")
CIRCLED = str.maketrans("0123456789", "⓪①②③④⑤⑥⑦⑧⑨")
NEGATIVE_CIRCLED = str.maketrans("0123456789", "⓿❶❷❸❹❺❻❼❽❾")


def after_each_digit(text: str, mark: str) -> str:
    return "".join(c + mark if c.isdigit() else c for c in text)


PNR = "811218-9876"
# Every disguise the attack of issue #23 stored through Slack and Teams, and the neighbours of each class.
READER_DISGUISES = {
    "superscript": PNR.translate(SUPERSCRIPT),
    "subscript": PNR.translate(SUBSCRIPT),
    "circled": PNR.translate(CIRCLED),
    "negative-circled": PNR.translate(NEGATIVE_CIRCLED),
    "combining-acute": after_each_digit(PNR, "\u0301"),
    "combining-enclosing-circle": after_each_digit(PNR, "\u20dd"),
    "variation-selector": after_each_digit(PNR, "\ufe0f"),
    "variation-selector-supplement": after_each_digit(PNR, "\U000e0100"),
    "keycap": after_each_digit("8112189876", "\ufe0f\u20e3"),
    "keycap-no-selector": after_each_digit("8112189876", "\u20e3"),
    "colon": "811218:9876",
    "comma": "811218,9876",
    "semicolon": "811218;9876",
    "parentheses": "(811218)9876",
    "stars": "*811218*-*9876*",
    "three-stars": "811218***9876",
    "html-dash": "811218&#45;9876",
    "html-hex-dash": "811218&#x2d;9876",
    "html-named-dash": "811218&ndash;9876",
    "html-double-encoded": "811218&amp;#45;9876",
    "html-digits": "&#56;&#49;&#49;&#50;&#49;&#56;-&#57;&#56;&#55;&#54;",
    "nine-spaces": "811218" + " " * 9 + "9876",
    "twenty-spaces": "811218" + " " * 20 + "9876",
    "nine-dots": "811218" + "." * 9 + "9876",
    "mixed-punctuation": "811218 ~#%&=!?|^ 9876",
    "emoji-between": "811218 👉 9876",
    "bidi-override-hidden": "81121\u202e\u202c8-9876",
    "bidi-isolates-between-digits": "\u20668\u20691\u20661\u20692\u20661\u20698-9876",
}


@pytest.mark.parametrize("text", READER_DISGUISES.values(), ids=READER_DISGUISES.keys())
def test_disguises_a_reader_sees_through_are_found(text: str) -> None:
    sentence = f"man 45 år, nr {text} tidigare känd"
    found = find_identity_numbers(sentence, TODAY)
    assert [(m.kind, m.exact) for m in found] == [("personnummer", True)], ascii(sentence)
    # the match covers the whole disguise in the original text (what masking replaces)
    assert sentence[found[0].start : found[0].end].strip("*(") in text, ascii(sentence[found[0].start : found[0].end])


def test_twenty_one_separators_end_the_chain() -> None:
    assert find_identity_numbers("811218" + " " * 21 + "9876", TODAY) == []


def test_masking_replaces_the_disguise_in_the_original_text() -> None:
    from bot.rendering import mask_identity_numbers

    for text in READER_DISGUISES.values():
        masked = mask_identity_numbers(f"nr {text}.", TODAY)
        assert "[personnummer]" in masked, ascii(masked)
        assert not any(unicodedata.digit(c, None) is not None for c in masked), ascii(masked)


@pytest.mark.parametrize("text", [
    "möte 2026-11-30 kl. 13:00, rum 3",
    "2026-11-30 13:00-14:30",
    "tel 070-123 45 67, 08-123 456 78",
    "kl 10:00, 11:30 och 14:00",
    "GFI-2026-0042, GFI-2026-0043",
    "211 22 Malmö; 212 12 Malmö",
    "org.nr 212000-1124 (kommunen)",
    "&#8203; &amp; &lt;b&gt;",
])
def test_wider_separators_keep_the_look_alikes(text: str) -> None:
    assert find_identity_numbers(text, TODAY) == [], text

"""The name/address warning before filing (issue #18 item 20): what looks like the individual's name or an address,
and what does not (the briefs staff write, units, places, abbreviations)."""

from __future__ import annotations

import pytest

from bot.names import Finding, findings

N, A = Finding.NAME, Finding.ADDRESS


@pytest.mark.parametrize(("text", "expected"), [
    ("man, 45 år, alkohol", []),
    ("Man, 45 år, alkohol, missbruket eskalerar.", []),
    ("kvinna, 35 år, två barn hemma, kontakt med Beroendemottagningen och Socialtjänst Norr", []),
    ("LVM-utredning 2024, SIP i Lifecare SP, bor i Malmö", []),
    ("Pojke, 15 år, Behåll-Rödhake-0815, skolfrånvaro.", []),
    ("Person, 50 år, hemlös sedan i våras", []),
    ("Hans mamma är orolig; Per dag två enheter", []),  # everyday words, not names
    ("bor i Stockholm, tidigare Lund", []),  # places ending like surnames are left alone
    ("Folke, 40 år, alkoholberoende", [N]),
    ("man 45 år, heter Anna", [N]),
    ("kvinna, 30 år (Andersson)", [N]),
    ("bor på Storgatan 12, 2 tr", [A]),
    ("bor på lilla vägen 4B", [A]),
    ("c/o mamma", [A]),
    ("adress 211 45 Malmö", [A]),
    ("Folke bor på Storgatan 12", [A, N]),
])
def test_what_looks_like_a_name_or_an_address(text: str, expected: list[Finding]) -> None:
    assert findings(text) == expected


@pytest.mark.parametrize("text", ["SIP-plan 2026 finns", "på väg 2 gånger i veckan", "gata 3"])
def test_a_plan_or_a_way_is_no_address(text: str) -> None:
    assert findings(text) == []


# How a street address is written in case text (a reviewer's note: "Drottninggatan12" and "Storgatan-5" were missed),
# and ordinary words with a number that are no address.
@pytest.mark.parametrize("text", [
    "bor på Drottninggatan12", "bor på Storgatan-5", "Storgatan 5B", "Storgatan 5 B, 3 tr", "Storgatan5b",
    "Kungsgatan-7", "Kungsgatan–7", "Hemvägen4", "Storgatan 5-7",
    "Lilla torget-3", "STORGATAN 12",
])
def test_a_street_address_written_any_way(text: str) -> None:
    assert findings(text) == [A]


@pytest.mark.parametrize("text", [
    "vecka-12", "v.12", "Covid-19", "SoL-4", "LVM-2024", "BBIC-2", "§12", "12-åring", "åk-9", "nivå-2 i SIP",
    "utredning. 2 möten bokade", "möte på måndag. 3 deltog", "Kom tidig. 5 min", "storg. 5", "dag. 3",
    "Storgatan 12345", "på väg-2", "gata-3", "E4", "arbetsplatsen – 3 dagar", "Kungsgatan - 7",
    # review of 41c2308: a capitalised word ending in "g." before a number is no abbreviated street
    "Ang. 4 kap. 1 § SoL: ansökan om boendestöd.", "Beslut: Avslag. 2 veckor att överklaga.",
    "Förslag. 1 hembesök i veckan.", "Mötet hölls i Göteborg. 12 deltog.", "Nytt Uppdrag. 3 insatser planeras.",
    "Hemtjänst: Tillägg. 2 besök per dag.", "Underlag. 3 bilagor bifogas.", "bor på Storg. 5",
])
def test_a_word_with_a_number_is_no_street_address(text: str) -> None:
    assert findings(text) == []


# What the street check is made of: street names of both kinds, in any case (also letters whose case folds
# unusually: ß, the Kelvin sign, the long s), numbers of every length, white space of every kind, other words.
STREET_PIECES = ["Storgatan", "gatan", "väg", "Väg", "VÄGEN", "allé", "ALLÉ", "backe", "torg", "gata", "agata", "x",
                 "ab", " ", "  ", "\t", "\n", "\u00a0", "1", "12", "123", "1234", "12345", "٣", "a", "B", "ß", "\u212a",
                 "ſ", ",", "-", "é", "Å", "9b", "_", "ö", "leden", "Esplanaden", "–", ".", "Storg", "g", "dag", "ing",
                 "S"]


def test_the_street_check_finds_what_its_pattern_finds() -> None:
    """`_is_street` (the fast way, issue #21) is `_STREET.search`, on every text made of the pieces."""
    import random

    from bot.names import _STREET, _is_street

    rng = random.Random(21)
    texts = ["bor på Storgatan 12, 2 tr", "bor på lilla vägen 4B", "gata 3", "på väg 2 gånger", "Kungsgatan  7a",
             "Drottninggatan12", "Storgatan-5", "Storg. 5", "Måndag. 3", "vecka-12", "arbetsplatsen – 3"]
    texts += ["".join(rng.choice(STREET_PIECES) for _ in range(rng.randint(1, 9))) for _ in range(30_000)]
    found = [t for t in texts if _STREET.search(t)]
    assert len(found) > 100  # the pieces make addresses often enough to test both answers
    assert [t for t in texts if _is_street(t)] == found

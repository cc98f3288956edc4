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

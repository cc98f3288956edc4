"""The dispute rules (issue #10 item 7): who disputes and settles, the ladder both sides climb, and a coordinator's
own line organisation. Pure, table-tested."""

from __future__ import annotations

import pytest

from bot.cases.disputes import (
    confirms,
    decides_alone,
    may_dispute,
    outside_own_organisation,
    own_principal,
    says_not_ours,
    settlers,
    sides,
)
from bot.cases.models import CaseState
from bot.config import DEFAULT_DIRECTORY
from bot.directory import load_directory
from bot.ladder.disputes import RUNG_COORDINATORS, dispute_ladder
from tests.timekit import directory_with
from tests.unit.test_rules import sample

DIRECTORY = load_directory(DEFAULT_DIRECTORY)


@pytest.mark.parametrize(("person", "unit", "outside"), [
    ("sara.holm", "soc-norr", False),  # the kommun's coordinator in a kommun unit
    ("sara.holm", "beroende", True),  # ... in a region unit
    ("jonas.sjo", "psykiatri", False),
    ("jonas.sjo", "soc-soder", True),
    ("helena.ros", "soc-norr", False),  # not a coordinator: the rule is about coordinators
])
def test_a_coordinators_own_line_organisation_is_their_units_principal(person: str, unit: str, outside: bool) -> None:
    assert outside_own_organisation(person, unit, DIRECTORY) is outside


def test_own_principal_comes_from_the_directory_unit() -> None:
    assert own_principal("sara.holm", DIRECTORY) == "astad"
    assert own_principal("jonas.sjo", DIRECTORY) == "region-sydvast"
    assert own_principal("nobody", DIRECTORY) is None


@pytest.mark.parametrize(("person", "may"), [
    ("fatima.ali", True), ("gustav.lund", True),  # the receiving unit's distributor and deputy
    ("linnea.fors", True),  # assigned
    ("sofia.grahn", False),  # same unit, not assigned
    ("maria.sand", False), ("anna.lind", False),  # the requester's side
])
def test_only_the_receiving_unit_may_dispute(person: str, may: bool) -> None:
    assert may_dispute(sample(CaseState.ACKNOWLEDGED), person, DIRECTORY) is may


def test_settlers_are_both_ladders_and_the_coordinators_of_both_principals() -> None:
    found = settlers(sample(CaseState.ACKNOWLEDGED), DIRECTORY)  # beroende (region) asked by soc-norr (kommun)
    assert set(found) == {"helena.ros", "jonas.sjo", "carina.berg", "sara.holm"}


def test_the_ladder_pairs_both_sides_rung_by_rung_and_ends_with_the_coordinators() -> None:
    directory = directory_with(beroende={"ladder": [
        {"title": "verksamhetschef", "people": ["helena.ros"], "business_hours": 4},
        {"title": "områdeschef", "people": ["nils.alm"], "business_days": 2},
        {"title": "psykiatrisamordnare", "people": ["jonas.sjo"]}]})
    ladder = dispute_ladder(sample(CaseState.ASSIGNED), directory)
    assert [(r.title, r.people) for r in ladder.rungs] == [
        ("verksamhetschef / sektionschef", ("helena.ros", "carina.berg")),
        ("områdeschef", ("nils.alm",)),
        (RUNG_COORDINATORS, ("jonas.sjo", "sara.holm")),
    ]
    # each rung waits the receiving unit's limit for it
    assert (ladder.rungs[0].hours, ladder.rungs[1].days) == (4, 2)


def test_without_coordinators_on_the_ladders_those_of_both_principals_are_the_top() -> None:
    directory = directory_with(beroende={"ladder": [{"title": "verksamhetschef", "people": ["helena.ros"]}]},
                               soc_norr={"ladder": [{"title": "sektionschef", "people": ["carina.berg"]}]})
    top = dispute_ladder(sample(CaseState.ASSIGNED), directory).rungs[-1]
    assert top.title == RUNG_COORDINATORS and set(top.people) == {"jonas.sjo", "sara.holm"}


# --- both sides agree (issue #18 item 2) -------------------------------------------------------------------
# A case of soc-norr (kommun) to beroende (region); and one between two region units, where helena.ros and
# jonas.sjo are on both units' ladders (a common line organisation).
@pytest.mark.parametrize(("person", "target", "requester", "expected"), [
    ("helena.ros", "beroende", "soc-norr", ["beroende"]),
    ("carina.berg", "beroende", "soc-norr", ["soc-norr"]),
    ("sara.holm", "beroende", "soc-norr", ["soc-norr"]),  # the kommun's coordinator: the kommun's side only
    ("jonas.sjo", "beroende", "soc-norr", ["beroende"]),
    ("maria.sand", "beroende", "soc-norr", []),  # not on a ladder
    ("nils.alm", "beroende", "soc-norr", []),  # a manager of neither unit
    ("helena.ros", "beroende", "psykiatri", ["beroende", "psykiatri"]),  # common to both: decides alone
    ("jonas.sjo", "beroende", "psykiatri", ["beroende", "psykiatri"]),
])
def test_the_sides_a_person_speaks_for(person: str, target: str, requester: str, expected: list[str]) -> None:
    case = sample(CaseState.ACKNOWLEDGED, target_unit=target, requester_unit=requester)
    assert sides(case, person, DIRECTORY) == expected
    assert decides_alone(case, person, DIRECTORY) is (len(expected) == 2)


@pytest.mark.parametrize(("person", "proposer", "side", "expected"), [
    ("carina.berg", "helena.ros", "beroende", True),  # the other side's line manager
    ("sara.holm", "helena.ros", "beroende", True),  # the other principal's coordinator
    ("jonas.sjo", "helena.ros", "beroende", False),  # a coordinator never settles for his own side's proposal
    ("helena.ros", "helena.ros", "beroende", False),  # nor does the proposer
    ("jonas.sjo", "sara.holm", "soc-norr", True),
    ("maria.sand", "sara.holm", "soc-norr", False),
    ("carina.berg", None, None, False),  # nothing proposed
])
def test_only_the_other_side_confirms_a_proposal(person: str, proposer: str | None, side: str | None,
                                                 expected: bool) -> None:
    case = sample(CaseState.ACKNOWLEDGED, target_unit="beroende", requester_unit="soc-norr")
    assert confirms(case, person, proposer, side, DIRECTORY) is expected


@pytest.mark.parametrize(("text", "not_ours"), [
    ("inte vår målgrupp", True), ("Inte vårt ärende", True), ("ej var malgrupp", True),
    ("inte-vår-målgrupp", True), ("ingen åtgärd behövs", False), ("avböjde", False), ("", False),
])
def test_a_closing_reason_saying_the_case_is_not_ours(text: str, not_ours: bool) -> None:
    assert says_not_ours(text) is not_ours

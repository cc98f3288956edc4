"""The dispute rules (issue #10 item 7): who disputes and settles, the ladder both sides climb, and a coordinator's
own line organisation. Pure, table-tested."""

from __future__ import annotations

import pytest

from bot.cases.disputes import may_dispute, outside_own_organisation, own_principal, settlers
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

"""The consent rules (bot.cases.consent): pure, table-tested."""

from __future__ import annotations

import pytest

from bot.cases.consent import (
    ConsentForm,
    WholeBecause,
    covered_units,
    covers,
    may_record,
    outside,
    parse_form,
    parse_information,
    withdraw_for,
    withdrawable_units,
)
from bot.cases.models import CaseState
from tests.unit.test_rules import DIRECTORY, sample

# maria.sand (soc-norr, Åstads kommun) asks beroende (Region Sydväst); the consent also covers psykiatri.
CASE = sample(CaseState.MEETING_BOOKED, consent_scope=["soc-norr", "beroende", "psykiatri"],
              meeting_units=["soc-norr", "beroende", "psykiatri"])


@pytest.mark.parametrize(
    ("unit", "withdrawn", "expected"),
    [
        ("soc-norr", [], True),
        ("psykiatri", [], True),
        ("vc-centrum", [], False),  # never in scope
        ("psykiatri", ["psykiatri"], False),  # withdrawn for it
        ("beroende", ["psykiatri"], True),
    ],
)
def test_covers(unit: str, withdrawn: list[str], expected: bool) -> None:
    case = sample(CaseState.ASSIGNED, consent_scope=["soc-norr", "beroende", "psykiatri"], consent_withdrawn=withdrawn)
    assert covers(case, unit) is expected
    assert (unit in covered_units(case)) is expected


def test_outside_names_each_unit_not_covered_once() -> None:
    assert outside(CASE, ["beroende", "vc-centrum", "soc-soder", "vc-centrum"]) == ["vc-centrum", "soc-soder"]
    assert outside(CASE, ["soc-norr", "psykiatri"]) == []


@pytest.mark.parametrize(
    ("actor", "assignees", "target", "allowed"),
    [
        ("maria.sand", ["linnea.fors"], "beroende", True),  # the requester, who met the individual
        ("fatima.ali", ["linnea.fors"], "beroende", False),  # the receiving distributor
        ("linnea.fors", ["linnea.fors"], "beroende", False),  # an assignee of the other principal (region)
        ("petra.lund", ["petra.lund"], "soc-soder", True),  # an assignee of the requester's principal (kommun)
        ("david.nord", ["petra.lund"], "soc-soder", False),  # that unit's distributor, not assigned
        ("omar.haddad", ["linnea.fors"], "beroende", False),  # the requester's colleague, not on the case
    ],
)
def test_who_may_record_a_renewal_or_wider_scope(actor: str, assignees: list[str], target: str, allowed: bool) -> None:
    case = sample(CaseState.ASSIGNED, assignees=assignees, target_unit=target)
    assert may_record(case, actor, DIRECTORY) is allowed


@pytest.mark.parametrize(
    ("scope", "withdrawn", "unit", "whole", "because", "scope_after"),
    [
        # a third unit: the case goes on with the requester's and the target unit
        (["soc-norr", "beroende", "psykiatri"], [], "psykiatri", False, None, ["soc-norr", "beroende"]),
        (["soc-norr", "beroende", "psykiatri", "vc-centrum"], [], "vc-centrum", False, None,
         ["soc-norr", "beroende", "psykiatri"]),
        # the requester's or the target unit: the case cannot go on without it
        (["soc-norr", "beroende", "psykiatri"], [], "beroende", True, WholeBecause.CORE_UNIT,
         ["soc-norr", "psykiatri"]),
        (["soc-norr", "beroende", "psykiatri"], [], "soc-norr", True, WholeBecause.CORE_UNIT,
         ["beroende", "psykiatri"]),
        # fewer than two units would remain (an old case whose scope lost a core unit some other way)
        (["soc-norr", "psykiatri"], [], "psykiatri", True, WholeBecause.TOO_FEW, ["soc-norr"]),
        # a unit withdrawn earlier does not count as remaining
        (["soc-norr", "beroende", "psykiatri", "vc-centrum"], ["vc-centrum"], "psykiatri", False, None,
         ["soc-norr", "beroende", "vc-centrum"]),
    ],
)
def test_withdraw_for_one_unit(
    scope: list[str], withdrawn: list[str], unit: str, whole: bool, because: WholeBecause | None,
    scope_after: list[str],
) -> None:
    case = sample(CaseState.MEETING_BOOKED, consent_scope=scope, consent_withdrawn=withdrawn, meeting_units=scope)
    plan = withdraw_for(case, unit)
    assert (plan.whole, plan.because, plan.scope) == (whole, because, scope_after)
    assert unit in plan.withdrawn and unit not in plan.meeting_units
    assert set(withdrawn) <= set(plan.withdrawn)


def test_withdrawable_units_are_the_covered_third_units() -> None:
    assert withdrawable_units(CASE) == ["psykiatri"]
    assert withdrawable_units(sample(CaseState.ASSIGNED)) == []  # only the requester's and the target unit


@pytest.mark.parametrize(
    ("text", "expected"),
    [("skriftligt", ConsentForm.WRITTEN), ("Skriftlig", ConsentForm.WRITTEN), ("MUNTLIGT", ConsentForm.ORAL),
     ("muntlig", ConsentForm.ORAL), ("ja", None), ("", None), (None, None)],
)
def test_parse_form(text: str | None, expected: ConsentForm | None) -> None:
    assert parse_form(text) is expected


@pytest.mark.parametrize(
    ("text", "choices", "note"),
    [
        ("kontaktuppgifter", ["kontaktuppgifter"], None),
        ("Hälsa och behandling, pågående insatser", ["pagaende-insatser", "halsa-behandling"], None),
        ("social situation,kontaktuppgifter,kontaktuppgifter", ["kontaktuppgifter", "social-situation"], None),
        ("kontaktuppgifter, arbetsförmåga", ["kontaktuppgifter", "annat"], "arbetsförmåga"),
        ("arbetsförmåga, ekonomi", ["annat"], "arbetsförmåga, ekonomi"),
        ("", [], None),
    ],
)
def test_parse_information(text: str, choices: list[str], note: str | None) -> None:
    assert parse_information(text) == (choices, note)

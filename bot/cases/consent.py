"""Consent rules (DESIGN §7): what a consent covers, who may record a renewal or a wider scope, and what
remains when the individual withdraws it for one unit. Pure functions on a `Case`, no I/O."""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

from bot.cases.models import Case
from bot.directory import Directory


class ConsentForm(StrEnum):
    """How the individual gave the consent."""

    WRITTEN = "skriftligt"
    ORAL = "muntligt"


class Information(StrEnum):
    """What information the consent covers (the short choice list; "annat" needs a free text)."""

    CONTACT = "kontaktuppgifter"
    ONGOING = "pagaende-insatser"
    HEALTH = "halsa-behandling"
    SOCIAL = "social-situation"
    OTHER = "annat"


def _key(text: str) -> str:
    """`Hälsa och behandling` → `halsa-och-behandling`: lower case, no diacritics, dashes for spaces."""
    plain = unicodedata.normalize("NFKD", text.strip().lower())
    plain = "".join(c for c in plain if not unicodedata.combining(c))
    return "-".join(plain.replace("_", " ").replace("-", " ").split())


FORM_ALIASES: dict[str, ConsentForm] = {
    "skriftligt": ConsentForm.WRITTEN, "skriftlig": ConsentForm.WRITTEN, "written": ConsentForm.WRITTEN,
    "muntligt": ConsentForm.ORAL, "muntlig": ConsentForm.ORAL, "oral": ConsentForm.ORAL,
}

INFORMATION_ALIASES: dict[str, Information] = {
    **{i.value: i for i in Information},
    "kontakt": Information.CONTACT,
    "pagaende": Information.ONGOING,
    "insatser": Information.ONGOING,
    "halsa-och-behandling": Information.HEALTH,
    "halsa": Information.HEALTH,
    "behandling": Information.HEALTH,
    "social": Information.SOCIAL,
    "social-situationen": Information.SOCIAL,
}


def parse_form(text: str | None) -> ConsentForm | None:
    """`skriftligt`/`muntligt` (also without the final t, any case); None when it is neither."""
    return FORM_ALIASES.get(_key(text or ""))


def parse_information(text: str) -> tuple[list[str], str | None]:
    """The console's `avser="kontaktuppgifter, hälsa och behandling, arbetsförmåga"` → the known choices,
    plus the rest as free text (which ticks "annat"). Returns (choices in list order, free text or None)."""
    choices: list[str] = []
    rest: list[str] = []
    for part in text.split(","):
        if not part.strip():
            continue
        known = INFORMATION_ALIASES.get(_key(part))
        if known is None:
            rest.append(part.strip())
        elif known.value not in choices:
            choices.append(known.value)
    note = ", ".join(rest) or None
    if note and Information.OTHER.value not in choices:
        choices.append(Information.OTHER.value)
    return [i.value for i in Information if i.value in choices], note


def covers(case: Case, unit_id: str) -> bool:
    """Does the consent cover this unit now (in scope, and not withdrawn for it)?"""
    return unit_id in case.consent_scope and unit_id not in case.consent_withdrawn


def covered_units(case: Case) -> list[str]:
    """The units the consent covers now, in scope order."""
    return [u for u in case.consent_scope if covers(case, u)]


def outside(case: Case, unit_ids: Iterable[str]) -> list[str]:
    """The given units the consent does not cover (e.g. units a meeting is about to be booked with)."""
    return [u for u in dict.fromkeys(unit_ids) if not covers(case, u)]


def may_record(case: Case, actor_id: str, directory: Directory) -> bool:
    """Who may record a renewal or a wider scope: the requester (who met the individual), or a named
    assignee of the case who works for the requester's principal. A receiving distributor may not."""
    if actor_id == case.requester_id:
        return True
    if actor_id not in case.assignees:
        return False
    unit = directory.unit_of(actor_id)
    requester_principal = directory.principal_of(case.requester_unit)
    return unit is not None and requester_principal is not None and unit.principal == requester_principal.id


def withdrawable_units(case: Case) -> list[str]:
    """Units the consent can be withdrawn for while the case goes on: covered, and neither the
    requester's unit nor the target unit."""
    return [u for u in covered_units(case) if u not in (case.requester_unit, case.target_unit)]


class WholeBecause(StrEnum):
    """Why withdrawing for one unit withdraws the whole consent."""

    CORE_UNIT = "core_unit"  # the requester's or the target unit: the case cannot go on without it
    TOO_FEW = "too_few_units"  # fewer than two units would remain


@dataclass(frozen=True)
class Withdrawal:
    """What withdrawing the consent for one unit leaves."""

    unit: str
    whole: bool  # the whole consent goes (close and erase), not just this unit
    because: WholeBecause | None
    scope: list[str]  # the scope afterwards (partial withdrawal only)
    withdrawn: list[str]  # every unit withdrawn so far, this one included
    meeting_units: list[str]  # the booked meeting's units without this one


def withdraw_for(case: Case, unit_id: str) -> Withdrawal:
    """Withdraw the consent for `unit_id` (which the consent must cover): the case goes on with the others
    when at least two units remain and neither the requester's nor the target unit is the one withdrawn;
    otherwise the whole consent is withdrawn."""
    remaining = [u for u in covered_units(case) if u != unit_id]
    because: WholeBecause | None = None
    if unit_id in (case.requester_unit, case.target_unit):
        because = WholeBecause.CORE_UNIT
    elif len(remaining) < 2:
        because = WholeBecause.TOO_FEW
    return Withdrawal(
        unit=unit_id,
        whole=because is not None,
        because=because,
        scope=[u for u in case.consent_scope if u != unit_id],
        withdrawn=list(dict.fromkeys([*case.consent_withdrawn, unit_id])),
        meeting_units=[u for u in case.meeting_units if u != unit_id],
    )

"""Disputes about whose a case is, and what a coordinator may do across organisations: pure rules, no I/O.

Seed 001, *Tvist angående ansvarsfördelning*: disputes are settled "i första hand ... i ordinarie
linjeorganisation, alternativt lyftas till närmast övergripande ledningsnivå"; "vid tvister av mer principiell
karaktär lyfts ärendet till närmaste samverkansnivå". So:

- The receiving unit (its distributors and deputy, or those responsible for the case) may answer that the case
  is not theirs ("vi bedömer att ärendet inte är vårt") with a reason, instead of closing it. That opens a
  dispute; the case stays open and does not climb the receiving unit's "unanswered" ladder meanwhile.
- The dispute climbs both units' ladders at once (`bot.ladder.disputes`): first the line managers (the first rung
  of each unit's ladder in the directory), then the next rung on both sides, and at the top the coordinators
  (samverkansnivå), for whom a brist i samverkan draft is made. Each rung waits the receiving unit's time
  limit for that rung, in business time.
- It is settled (`/enig`) when both sides agree (issue #18 item 2): someone on one side (anyone on that unit's
  ladder, or a coordinator of that unit's principal) proposes what was agreed, and someone on the other side
  confirms it. A person on both sides (a manager common to both units, or a coordinator whose principal both
  units belong to) decides alone: that is the line organisation deciding. A coordinator proposes but never
  settles for the other principal.
- While the dispute is open the case is not distributed (`Action.ASSIGN` is refused and not offered), and the
  receiving unit does not close it as "not our target group" on the side (`says_not_ours`): that goes through
  the dispute.

**A coordinator's own line organisation** is the principal (huvudman: kommun or region) of the unit the
directory places the coordinator in (`people[].unit` → `units[].principal`). At the top of a ladder a
coordinator alerts, documents and can take a question to the samverkansnivå, but assigns nobody in a unit of
another principal: assigning (and the ladder's *ta över* / *omfördela*) is refused for them there.
"""

from __future__ import annotations

import re

from bot.cases.models import Case
from bot.directory import Directory, Role, Rung
from bot.errors import Refusal


def is_coordinator(person_id: str, directory: Directory) -> bool:
    person = directory.person(person_id)
    return person is not None and Role.COORDINATOR in person.roles


def own_principal(person_id: str, directory: Directory) -> str | None:
    """The principal of the unit the directory places the person in (their own line organisation)."""
    person = directory.person(person_id)
    principal = directory.principal_of(person.unit) if person is not None else None
    return principal.id if principal is not None else None


def outside_own_organisation(person_id: str, unit_id: str, directory: Directory) -> bool:
    """Whether `person_id` is a coordinator and `unit_id` belongs to another principal than their own."""
    if not is_coordinator(person_id, directory):
        return False
    unit_principal = directory.principal_of(unit_id)
    return unit_principal is None or unit_principal.id != own_principal(person_id, directory)


def check_coordinator_assigns(actor_id: str, unit_id: str, ref: str, directory: Directory) -> None:
    """Refuse a coordinator assigning staff of a unit outside their own organisation (they may take the
    question to the samverkansnivå instead)."""
    if outside_own_organisation(actor_id, unit_id, directory):
        raise Refusal("coordinator_other_organisation", ref=ref, unit=unit_id)


def may_dispute(case: Case, actor_id: str, directory: Directory) -> bool:
    """The receiving unit: its distributors and deputy, or those responsible for the case."""
    if directory.unit(case.target_unit) is None:
        return False
    return actor_id in directory.distributors_of(case.target_unit) or actor_id in case.responsible()


def split_ladder(unit_id: str, directory: Directory) -> tuple[list[Rung], list[str]]:
    """A unit's ladder split in its managers' rungs and the coordinators on it (each once)."""
    unit = directory.unit(unit_id)
    managers: list[Rung] = []
    coordinators: list[str] = []
    for rung in unit.ladder if unit is not None else ():
        found = [p for p in rung.people if is_coordinator(p, directory)]
        if found:
            coordinators.extend(p for p in found if p not in coordinators)
        else:
            managers.append(rung)
    return managers, coordinators


def parties(case: Case) -> list[str]:
    """The units of a dispute: the receiving unit first, then the requester's."""
    return list(dict.fromkeys([case.target_unit, case.requester_unit]))


def coordinators_for(case: Case, directory: Directory) -> list[str]:
    """The coordinators of a dispute: those on either unit's ladder, else those of either principal, else all."""
    found: list[str] = []
    for unit_id in parties(case):
        found.extend(p for p in split_ladder(unit_id, directory)[1] if p not in found)
    if found:
        return found
    principals = {p.id for p in (directory.principal_of(u) for u in parties(case)) if p is not None}
    found = [p.id for p in directory.coordinators() if own_principal(p.id, directory) in principals]
    return found or [p.id for p in directory.coordinators()]


def dispute_managers(case: Case, directory: Directory) -> list[tuple[str, str]]:
    """The managers on either unit's ladder (not the coordinators), each with the unit whose ladder they are on:
    while a dispute is open they are asked to settle it, and they read the case if the consent covers that
    unit (bot.cases.visibility)."""
    out: list[tuple[str, str]] = []
    for unit_id in parties(case):
        for rung in split_ladder(unit_id, directory)[0]:
            for pid in rung.people:
                if (pid, unit_id) not in out:
                    out.append((pid, unit_id))
    return out


def settlers(case: Case, directory: Directory) -> list[str]:
    """Who may settle the dispute: anyone on either unit's ladder, and the coordinators of either principal."""
    ids: list[str] = []
    for unit_id in parties(case):
        unit = directory.unit(unit_id)
        for rung in unit.ladder if unit is not None else ():
            ids.extend(p for p in rung.people if p not in ids)
    principals = {p.id for p in (directory.principal_of(u) for u in parties(case)) if p is not None}
    ids.extend(p.id for p in directory.coordinators()
               if own_principal(p.id, directory) in principals and p.id not in ids)
    return ids


def sides(case: Case, person_id: str, directory: Directory) -> list[str]:
    """The parties (units) of the dispute the person speaks for: those on whose ladder they are, and, for a
    coordinator, those of their own principal."""
    own = own_principal(person_id, directory) if is_coordinator(person_id, directory) else None
    out: list[str] = []
    for unit_id in parties(case):
        unit = directory.unit(unit_id)
        on_ladder = unit is not None and any(person_id in rung.people for rung in unit.ladder)
        principal = directory.principal_of(unit_id)
        if on_ladder or (own is not None and principal is not None and principal.id == own):
            out.append(unit_id)
    return out


def decides_alone(case: Case, person_id: str, directory: Directory) -> bool:
    """Whether the person speaks for every side of the dispute (a common line manager): their word settles it."""
    return set(sides(case, person_id, directory)) >= set(parties(case))


def confirms(case: Case, person_id: str, proposed_by: str | None, proposed_side: str | None,
             directory: Directory) -> bool:
    """Whether the person's agreement to the pending proposal settles the dispute: they are on another side than
    the one that proposed it (never the proposer themselves)."""
    if proposed_by is None or proposed_side is None or person_id == proposed_by:
        return False
    return any(unit != proposed_side for unit in sides(case, person_id, directory))


def own_side(case: Case, person_id: str, directory: Directory) -> str | None:
    """The side a person's proposal is made for: the first party they speak for (their own unit first)."""
    mine = sides(case, person_id, directory)
    person = directory.person(person_id)
    if person is not None and person.unit in mine:
        return person.unit
    return mine[0] if mine else None


# "Inte vår målgrupp", "inte vårt ärende", "ej vårt uppdrag": the receiving unit saying the case is not theirs.
_NOT_OURS = re.compile(r"\b(inte|ej|ingen)\s+(v[åa]r|v[åa]rt)\s+(m[åa]lgrupp|[äa]rende|uppdrag|ansvar)\b",
                       re.IGNORECASE)


def says_not_ours(text: str | None) -> bool:
    """Whether a closing reason says the case is not the receiving unit's (it must go through the dispute)."""
    return bool(text) and _NOT_OURS.search(" ".join((text or "").replace("-", " ").split())) is not None

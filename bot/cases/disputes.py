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
- It is settled (`/enig`) by anyone on either unit's ladder, or by a coordinator of either principal.

**A coordinator's own line organisation** is the principal (huvudman: kommun or region) of the unit the
directory places the coordinator in (`people[].unit` → `units[].principal`). At the top of a ladder a
coordinator alerts, documents and can take a question to the samverkansnivå, but assigns nobody in a unit of
another principal: assigning (and the ladder's *ta över* / *omfördela*) is refused for them there.
"""

from __future__ import annotations

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

"""The ladder a dispute climbs (tvist, issue #10 item 7; the rules are in `bot.cases.disputes`): both units'
managers rung by rung, the line managers first, then the coordinators at the samverkansnivå. Its first rung is
asked at once when the dispute opens."""

from __future__ import annotations

from datetime import datetime
from itertools import zip_longest
from typing import TYPE_CHECKING

from bot.calendar import office_of
from bot.cases import offers
from bot.cases.disputes import coordinators_for, parties, split_ladder
from bot.cases.models import Case
from bot.cases.visibility import Level, level
from bot.directory import Directory
from bot.ladder.models import FrozenLadder, FrozenRung
from bot.store import Tx
from bot.store import disputes as store

if TYPE_CHECKING:
    from bot.ladder.service import LadderService

# The rung title the bot gives the coordinators at the top of a dispute (label in _labels.j2 RUNGS).
RUNG_COORDINATORS = "@coordinators"


def dispute_ladder(case: Case, directory: Directory) -> FrozenLadder:
    """Both units' managers rung by rung (the line managers first), then the coordinators. A rung waits the
    receiving unit's limit for it (the requester's when the receiving unit's ladder is shorter)."""
    sides = [split_ladder(u, directory)[0] for u in parties(case)]
    rungs: list[FrozenRung] = []
    for step in zip_longest(*sides):
        present = [r for r in step if r is not None]
        people = tuple(dict.fromkeys(p for r in present for p in r.people))
        title = " / ".join(dict.fromkeys(r.title for r in present))
        first = present[0]
        rungs.append(FrozenRung(title, people, None, first.business_days, first.business_hours))
    top_limit = rungs[-1] if rungs else None
    rungs.append(FrozenRung(RUNG_COORDINATORS, tuple(coordinators_for(case, directory)), None,
                            top_limit.days if top_limit else None, top_limit.hours if top_limit else None))
    unit = directory.unit(case.target_unit) or directory.unit(case.requester_unit)
    assert unit is not None  # a case's units are in the directory
    return FrozenLadder(tuple(rungs), office_of(unit))


async def ask_first_rung(service: LadderService, tx: Tx, case: Case, item_id: int, ladder: FrozenLadder,
                         now: datetime) -> list[str]:
    """Ask both units' line managers (the dispute ladder's first rung, those present) to settle it. They get
    the reason and the brief (they see the whole case while the dispute is open, if the consent covers their
    unit: bot.cases.visibility) and are told when it is settled."""
    people = ladder.rungs[0].present(service.directory, now)
    since = case.disputed_at or now
    for pid in people:
        await service.outbox.enqueue(
            tx, pid, "dispute_asked", case_id=case.id, case_ref=case.ref, urgent=case.urgent,
            case=case if level(case, pid, service.directory) is Level.FULL else None,
            dedupe_key=f"dispute:{item_id}:0:{pid}", ref=case.ref, by=case.disputed_by, unit=case.target_unit,
            other_unit=case.requester_unit, since=since, item_id=item_id, due=ladder.wait(service.calendar, since, 0),
            offers=offers.escalation_for(item_id, case.ref, "dispute", case.target_unit, pid, service.directory),
        )
    await store.mark_alerted(tx, item_id, people)
    return people

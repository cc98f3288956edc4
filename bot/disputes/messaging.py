"""Who is told what about a dispute, besides the ladder's own messages (`bot.ladder.disputes`). Queues outbox
messages inside the caller's transaction.

The people in the case (requester, those responsible, the one who disputed) see the reason and the agreement:
free text, marked as such, so that a message is withheld from anyone who may not see the case in full
(bot.cases.visibility)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from bot.cases import access, offers
from bot.cases.disputes import confirms, split_ladder
from bot.cases.models import Case
from bot.cases.visibility import Level, level
from bot.store import Tx

if TYPE_CHECKING:
    from bot.cases.base import CaseEngine


async def tell(service: CaseEngine, tx: Tx, case: Case, people: list[str], actor_id: str, template: str,
               **ctx: Any) -> None:
    """Tell the people in the case (never the actor) about the dispute, with its free text."""
    for pid in dict.fromkeys(people):
        if pid != actor_id:
            await service.outbox.enqueue(
                tx, pid, template, case_id=case.id, case_ref=case.ref, urgent=case.urgent, case=case,
                actor=actor_id, offers=offers.settle(case, pid, service.directory), **ctx,
            )


async def proposed(service: CaseEngine, tx: Tx, case: Case, actor_id: str, side: str, proposal: str) -> None:
    """One side proposed what was agreed: ask the other side to confirm it. Those asked or alerted about the
    dispute, and the other units' line managers, who could confirm it; the proposal's text only to those who
    see the whole case (a coordinator alerted reads it with /visa)."""
    directory = service.directory
    alerted = (await access.alerts_for(tx, case.id)).alerted
    first_managers = [p for unit_id in (case.target_unit, case.requester_unit) if unit_id != side
                      for rung in split_ladder(unit_id, directory)[0][:1] for p in rung.people]
    for pid in dict.fromkeys([*first_managers, *sorted(alerted)]):
        if pid == actor_id or not confirms(case, pid, actor_id, side, directory):
            continue
        full = level(case, pid, directory) is Level.FULL
        await service.outbox.enqueue(
            tx, pid, "dispute_proposed", case_id=case.id, case_ref=case.ref, urgent=case.urgent,
            case=case if full else None, ref=case.ref, actor=actor_id, side=side,
            proposal=proposal if full else None, offers=offers.confirm_agreement(case, pid, directory),
        )

"""Who is told what about a dispute, besides the ladder's own messages (`bot.ladder.disputes`). Queues outbox
messages inside the caller's transaction.

The people in the case (requester, those responsible, the one who disputed) see the reason and the agreement:
free text, marked as such, so that a message is withheld from anyone who may not see the case in full
(bot.cases.visibility)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from bot.cases import offers
from bot.cases.models import Case
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

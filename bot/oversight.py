"""What the overseeing views show, read once for every channel (the console's /leveranser and /eskaleringar,
Teams' `leveranser` and `eskaleringar` cards): failed deliveries with the references the person may see, and
the open escalations of the cases the person may see. Who may see what is the access rule's (need to know)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from bot.cases import access
from bot.cases.visibility import Level
from bot.core import Core
from bot.directory import Role
from bot.ladder.models import AwaitingItem
from bot.store import deliveries
from bot.store import ladder as ladder_store

ESCALATIONS_PAGE = 20  # open escalations read (and checked case by case) for a list; the rest are counted


async def failed_deliveries(core: Core, person_id: str, limit: int = 20) -> list[dict[str, Any]]:
    """The latest failed deliveries, newest first; the reference of a case the person may not see is left out
    (the recipient and the reason are not)."""
    async with core.db.read() as tx:
        rows = await deliveries.failed(tx, limit)
        seen = await access.levels_of_many(tx, core.cases.load_many, core.directory, person_id,
                                           [r["case_ref"] for r in rows if r["case_ref"]])
    return [
        {**r, "case_ref": r["case_ref"] if seen.get(r["case_ref"], Level.NONE) > Level.NONE else None,
         "created_at": datetime.fromisoformat(r["created_at"])}
        for r in rows
    ]


@dataclass(frozen=True)
class EscalationPage:
    """The oldest open escalations that reached a person, of the cases they may see (`items`), out of the
    `read` first ones, and how many reached them in all (`total`): the rest are counted, not read."""

    items: list[AwaitingItem]
    read: int
    total: int

    @property
    def more(self) -> int:
        return self.total - self.read


async def escalation_page(core: Core, person_id: str, limit: int = ESCALATIONS_PAGE) -> EscalationPage:
    """A bounded page of the open escalations (and disputes) that reached the person, oldest first: all of them
    for a coordinator, for anyone else those they were alerted or asked about (as `LadderService.
    open_escalations`), each checked against the access rule; two statements and a case load per item read."""
    person = core.directory.person(person_id)
    alerted = None if person is not None and Role.COORDINATOR in person.roles else person_id
    async with core.db.read() as tx:
        rows, total = await ladder_store.open_escalation_page(tx, alerted, limit)
        items = [AwaitingItem.from_row(r) for r in rows]
        seen = await access.levels_of_many(tx, core.cases.load_many, core.directory, person_id,
                                           [i.case_ref for i in items])
    return EscalationPage([i for i in items if seen[i.case_ref] > Level.NONE], len(items), total)


async def visible_escalations(core: Core, person_id: str) -> EscalationPage:
    """The open escalations that have reached the person, of the cases they may see (a bounded page)."""
    return await escalation_page(core, person_id)

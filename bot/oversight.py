"""What the overseeing views show, read once for every channel (the console's /leveranser and /eskaleringar,
Teams' `leveranser` and `eskaleringar` cards): failed deliveries with the references the person may see, and
the open escalations of the cases the person may see. Who may see what is the access rule's (need to know)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from bot.cases import access
from bot.cases.visibility import Level
from bot.core import Core
from bot.ladder.models import AwaitingItem
from bot.store import deliveries


async def failed_deliveries(core: Core, person_id: str, limit: int = 20) -> list[dict[str, Any]]:
    """The latest failed deliveries, newest first; the reference of a case the person may not see is left out
    (the recipient and the reason are not)."""
    async with core.db.transaction() as tx:
        rows = await deliveries.failed(tx, limit)
        seen = await access.levels(tx, core.cases.load, core.directory, person_id,
                                   [r["case_ref"] for r in rows if r["case_ref"]])
    return [
        {**r, "case_ref": r["case_ref"] if seen.get(r["case_ref"], Level.NONE) > Level.NONE else None,
         "created_at": datetime.fromisoformat(r["created_at"])}
        for r in rows
    ]


async def visible_escalations(core: Core, person_id: str) -> list[AwaitingItem]:
    """The open escalations that have reached the person, of the cases they may see."""
    items = await core.ladder.open_escalations(person_id)
    async with core.db.transaction() as tx:
        seen = await access.levels(tx, core.cases.load, core.directory, person_id, [i.case_ref for i in items])
    return [i for i in items if seen[i.case_ref] > Level.NONE]

"""A delivered Teams card that showed free text, refreshed when its recipient looks at it (Universal Actions).

The card carries `refresh` for its recipient only (verb `case_card`, data: the outbox row). Each refresh is a
display: while the recipient may still see the case in full (the access rule, `bot/cases/access.py`) the card
comes back as sent and the display is logged as read; once they may not (reassigned away, consent withdrawn,
the case erased), the card is answered with the same message without its free text and a line saying why.
Anyone else, or a row that is gone, gets a card that says nothing about the case.
"""

from __future__ import annotations

from typing import Any

from bot import readlog
from bot.cases import access
from bot.cases.visibility import Level
from bot.channels.teams import cards
from bot.core import Core
from bot.messages.model import Message
from bot.outbox import OutboxMessage
from bot.store import outbox as outbox_store

CASE_CARD = "case_card"


def refreshable(content: dict[str, Any], outbox_id: int, user_id: str) -> dict[str, Any]:
    """`content` with the refresh for its recipient."""
    return {**content, "refresh": cards.refresh_block(CASE_CARD, {"o": outbox_id}, [user_id])}


async def refreshed_card(core: Core, person_id: str, outbox_id: int, user_ids: list[str]) -> dict[str, Any]:
    """The card of outbox row `outbox_id` as `person_id` may see it now (see the module)."""
    row = await outbox_store.by_id(core.db, outbox_id)
    sent = OutboxMessage.from_row(row) if row is not None else None
    if sent is None or sent.recipient_id != person_id or not isinstance(sent.message, Message):
        return cards.text_card(core.renderer.macro("teams", "card_gone"))
    message: Message = sent.message
    full = True
    if sent.reads:
        async with core.db.read() as tx:
            levels = await access.levels(tx, core.cases.load, core.directory, person_id, list(sent.reads))
        full = all(levels.get(ref, Level.NONE) >= Level.FULL for ref in sent.reads)
    nonce = f"o{outbox_id}"
    if full:
        content = cards.message_card(core.renderer, message, nonce)
        if sent.reads:
            await readlog.record_now(core.db, at=core.clock.now(), person_id=person_id, refs=sent.reads,
                                     view=sent.template, channel="teams")
    else:
        summary = message.without_free_text()
        content = cards.message_card(core.renderer, Message(
            summary.kind, summary.title, summary.lines, (), summary.case_ref,
            core.renderer.macro("teams", "free_text_gone"), summary.extra), nonce)
    return refreshable(content, outbox_id, user_ids[0]) if user_ids else content

"""The transactional outbox: messages are written in the same transaction as the state change.

A dispatcher (`bot/dispatcher.py`) delivers them later; nothing is sent inside a business transaction.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from bot.cases.visibility import Level, level, shown_free_text
from bot.clock import Clock
from bot.directory import Channel, Directory, Person
from bot.rendering import Renderer
from bot.store import Tx

log = logging.getLogger(__name__)

# (recipient, now, urgent) -> earliest delivery time; the Time module plugs quiet hours in here.
DeliveryPolicy = Callable[[Person, datetime, bool], datetime]


def deliver_now(person: Person, now: datetime, urgent: bool) -> datetime:
    """Default policy: deliver at once."""
    return now


@dataclass(frozen=True)
class OutboxMessage:
    """A row of the outbox as the dispatcher sees it."""

    id: int
    recipient_id: str
    channel: str
    template: str
    text: str
    blocks: list[dict[str, Any]] | None
    case_ref: str | None
    urgent: bool
    attempts: int
    kind: str = "message"  # or "retract": delete the delivered message `target` (consent withdrawn)
    target: str | None = None
    reads: tuple[str, ...] = ()  # the cases whose free text it shows: logged as read when it is sent

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> OutboxMessage:
        return cls(
            id=row["id"],
            recipient_id=row["recipient_id"],
            channel=row["channel"],
            template=row["template"],
            text=row["text"],
            blocks=json.loads(row["blocks"]) if row["blocks"] else None,
            case_ref=row["case_ref"],
            urgent=bool(row["urgent"]),
            attempts=row["attempts"],
            kind=row.get("kind") or "message",
            target=row.get("target"),
            reads=tuple(json.loads(row["reads"])) if row.get("reads") else (),
        )


class Outbox:
    """Renders and queues messages inside the caller's transaction."""

    def __init__(self, directory: Directory, renderer: Renderer, clock: Clock) -> None:
        self.directory = directory
        self.renderer = renderer
        self.clock = clock
        self.policy: DeliveryPolicy = deliver_now

    async def enqueue(
        self,
        tx: Tx,
        recipient_id: str,
        template: str,
        *,
        case_id: int | None = None,
        case_ref: str | None = None,
        urgent: bool = False,
        dedupe_key: str | None = None,
        not_before: datetime | None = None,
        **ctx: Any,
    ) -> int | None:
        """Queue one message to one person; returns its id (None if `dedupe_key` was already queued, or
        if the message would show free text of a case the person may not see in full: it is withheld)."""
        person = self.directory.person(recipient_id)
        if person is None:
            return None
        shown = shown_free_text(template, ctx)
        hidden = [c.ref for c in shown if level(c, recipient_id, self.directory) is not Level.FULL]
        if hidden:
            log.warning("message withheld", extra={"event": "privacy.withheld", "template": template,
                                                   "recipient": recipient_id, "case_refs": hidden})
            return None
        now = self.clock.now()
        ctx.setdefault("recipient", recipient_id)
        text = self.renderer.render(template, **ctx)
        blocks = self.renderer.blocks(template, **ctx)
        earliest = self.policy(person, max(now, not_before or now), urgent)
        channel = person.channel.value if isinstance(person.channel, Channel) else str(person.channel)
        cursor_count = await tx.execute(
            """INSERT INTO outbox (created_at, case_id, case_ref, recipient_id, channel, template, text, blocks,
                                   urgent, not_before, next_attempt_at, dedupe_key, reads)
               VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
               ON CONFLICT (dedupe_key) DO NOTHING""",
            (
                now.isoformat(), case_id, case_ref, recipient_id, channel, template, text,
                json.dumps(blocks, ensure_ascii=False) if blocks is not None else None,
                int(urgent), earliest.isoformat(), earliest.isoformat(), dedupe_key,
                json.dumps([c.ref for c in shown]) if shown else None,
            ),
        )
        if cursor_count == 0:
            return None
        return int(await tx.scalar("SELECT last_insert_rowid()"))

    async def withdraw_case(self, tx: Tx, case_id: int) -> int:
        """Consent withdrawn: cancel every undelivered message of the case, erase the stored text of all of
        them (it may quote the brief), and queue a retraction of each one already delivered, so that the
        channel deletes it too. Returns how many were cancelled."""
        cancelled = await tx.execute(
            "UPDATE outbox SET status = 'cancelled', last_error = 'case closed: consent withdrawn' "
            "WHERE case_id = ? AND status = 'pending'",
            (case_id,),
        )
        now = self.clock.now().isoformat()
        await tx.execute(
            """INSERT INTO outbox (created_at, case_id, case_ref, recipient_id, channel, template, text, urgent,
                                   not_before, next_attempt_at, dedupe_key, kind, target)
               SELECT ?, case_id, case_ref, recipient_id, channel, 'retract', '', 1, ?, ?,
                      'retract:' || id, 'retract', external_id
               FROM outbox
               WHERE case_id = ? AND status = 'sent' AND kind = 'message' AND external_id IS NOT NULL
               ON CONFLICT (dedupe_key) DO NOTHING""",
            (now, now, now, case_id),
        )
        await tx.execute("UPDATE outbox SET text = '', blocks = NULL WHERE case_id = ?", (case_id,))
        return cancelled

    async def delivered_to(self, tx: Tx, case_id: int) -> list[str]:
        """Everyone a message about the case has been delivered to, in the order first delivered."""
        rows = await tx.fetchall(
            "SELECT recipient_id FROM outbox WHERE case_id = ? AND status = 'sent' AND kind = 'message' "
            "GROUP BY recipient_id ORDER BY MIN(id)",
            (case_id,),
        )
        return [r["recipient_id"] for r in rows]

    async def withdraw_recipients(self, tx: Tx, case_id: int, person_ids: list[str]) -> int:
        """Consent withdrawn for one unit: the same as `withdraw_case`, but only for the messages of the case
        to these people (the unit's staff), who lose access while the case goes on. Returns how many were
        cancelled."""
        if not person_ids:
            return 0
        marks = ", ".join("?" for _ in person_ids)
        mine = f"case_id = ? AND recipient_id IN ({marks})"
        params = (case_id, *person_ids)
        cancelled = await tx.execute(
            f"UPDATE outbox SET status = 'cancelled', last_error = 'consent withdrawn for the unit' "
            f"WHERE {mine} AND status = 'pending'",
            params,
        )
        now = self.clock.now().isoformat()
        await tx.execute(
            f"""INSERT INTO outbox (created_at, case_id, case_ref, recipient_id, channel, template, text, urgent,
                                    not_before, next_attempt_at, dedupe_key, kind, target)
                SELECT ?, case_id, case_ref, recipient_id, channel, 'retract', '', 1, ?, ?,
                       'retract:' || id, 'retract', external_id
                FROM outbox
                WHERE {mine} AND status = 'sent' AND kind = 'message' AND external_id IS NOT NULL
                ON CONFLICT (dedupe_key) DO NOTHING""",
            (now, now, now, *params),
        )
        await tx.execute(f"UPDATE outbox SET text = '', blocks = NULL WHERE {mine}", params)
        return cancelled

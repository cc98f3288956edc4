"""The transactional outbox: messages are written in the same transaction as the state change.

A message is stored as what it is (`bot.messages.model.Message`: kind, case, lines with free-text marks, the
actions offered), not as a rendered text: each channel's sender renders it at delivery, the console's plain text
included (`OutboxMessage.from_row`); the row's `text` column stays empty, as it does for a retraction or a
calendar event (no text of their own). Only a row from before messages were described has its text stored, and
delivers it. A dispatcher (`bot/dispatcher.py`) delivers them later; nothing is sent inside a business transaction.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any, overload

from bot import metrics
from bot.clock import Clock
from bot.directory import Channel, Directory, Person
from bot.messages.describe import describe
from bot.messages.model import Message, Offer
from bot.messages.text import plain_text
from bot.rendering import Renderer
from bot.store import Database, Tx
from bot.store import outbox as store

log = logging.getLogger(__name__)

# (recipient, now, urgent) -> earliest delivery time; the Time module plugs quiet hours in here.
DeliveryPolicy = Callable[[Person, datetime, bool], datetime]


# (template, context, message, recipient) -> (refs of the cases whose free text the message shows, refs of those
# the recipient may not see in full). The rule is the core's (`bot.cases.visibility.free_text_check`): passed in,
# so that the outbox does not import the cases that queue through it.
FreeTextCheck = Callable[[str, dict[str, Any], Message, str], tuple[list[str], list[str]]]


def encode(message: Message) -> str:
    """The message as the outbox stores it: compact JSON (no spaces, defaults left out), read by `Message.from_json`."""
    return json.dumps(message.to_json(), ensure_ascii=False, separators=(",", ":"))


def deliver_now(person: Person, now: datetime, urgent: bool) -> datetime:
    """Default policy: deliver at once."""
    return now


class _PlainText:
    """`OutboxMessage.text`, a field made when first read: given as None, it is the plain rendering of the message
    with console commands (`plain_text`), which only the console, e-mail fallbacks and older rows ask for; a
    Slack or Teams row renders its own from `message`, and building it for every row cost each send the render of
    a text nobody read. Given as a text (a row from before messages were described), it is that text."""

    def __set_name__(self, owner: type, name: str) -> None:
        self._slot = f"_{name}"

    @overload
    def __get__(self, obj: None, owner: type | None = None) -> None: ...

    @overload
    def __get__(self, obj: OutboxMessage, owner: type | None = None) -> str: ...

    def __get__(self, obj: OutboxMessage | None, owner: type | None = None) -> str | None:
        if obj is None:
            return None  # the field's default (the dataclass asks the class): rendered from the message
        text: str | None = obj.__dict__[self._slot]
        if text is None:
            text = plain_text(obj.message) if obj.message is not None else ""
            obj.__dict__[self._slot] = text
        return text

    def __set__(self, obj: OutboxMessage, value: str | None) -> None:
        obj.__dict__[self._slot] = value  # the dataclass's __init__ (frozen: once)


@dataclass(frozen=True)
class OutboxMessage:
    """A row of the outbox as the dispatcher sees it. `message` is what to render for the channel; `text`
    is its plain rendering with console commands, rendered from the message when first read (`_PlainText`; a row
    without one: its stored text)."""

    id: int
    recipient_id: str
    channel: str
    template: str
    blocks: list[dict[str, Any]] | None
    case_ref: str | None
    urgent: bool
    attempts: int
    kind: str = "message"  # or "retract": delete the delivered message `target` (consent withdrawn)
    target: str | None = None
    reads: tuple[str, ...] = ()  # the cases whose free text it shows: logged as read when it is sent
    message: Message | None = None
    text: _PlainText = _PlainText()  # last: its default (None) renders `message` when first read

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> OutboxMessage:
        message = Message.from_json(json.loads(row["message"])) if row.get("message") else None
        return cls(
            id=row["id"],
            recipient_id=row["recipient_id"],
            channel=row["channel"],
            template=row["template"],
            text=None if message is not None else row["text"],  # rendered when a channel asks for it
            blocks=json.loads(row["blocks"]) if row.get("blocks") else None,
            case_ref=row["case_ref"],
            urgent=bool(row["urgent"]),
            attempts=row["attempts"],
            kind=row.get("kind") or "message",
            target=row.get("target"),
            reads=tuple(json.loads(row["reads"])) if row.get("reads") else (),
            message=message,
        )


@dataclass(frozen=True)
class Prepared:
    """A message described and checked before its transaction (`Outbox.prepare`), queued in it (`Outbox.put`)."""

    recipient_id: str
    template: str
    channel: str
    created_at: datetime
    urgent: bool
    earliest: datetime
    dedupe_key: str | None
    message: str  # the Message as JSON (compact: `Message.to_json`); its text is rendered at delivery
    reads: str | None  # JSON list of the cases whose free text it shows

    def with_ref(self, placeholder: str, ref: str) -> Prepared:
        """The same message for a case whose reference was not known when it was described: `placeholder`
        (unique, made only of characters that JSON and every renderer keep as they are) becomes `ref`."""
        return replace(self, message=self.message.replace(placeholder, ref),
                       reads=self.reads.replace(placeholder, ref) if self.reads else None)

    def mentions(self, text: str) -> bool:
        """Whether `text` is anywhere in the message (a placeholder that `with_ref` could not find whole)."""
        return text in self.message or bool(self.reads and text in self.reads)


class Outbox:
    """Describes and queues messages inside the caller's transaction."""

    def __init__(self, directory: Directory, renderer: Renderer, clock: Clock, free_text: FreeTextCheck) -> None:
        self.directory = directory
        self.free_text = free_text
        self.renderer = renderer
        self.clock = clock
        self.policy: DeliveryPolicy = deliver_now

    def describe(self, template: str, /, *, recipient_id: str, offers: Sequence[Offer] = (),
                 case_ref: str | None = None, **ctx: Any) -> Message:
        """The message `template` describes for one recipient (not queued)."""
        ctx.setdefault("recipient", recipient_id)
        return describe(self.renderer, template, offers=offers, case_ref=case_ref, **ctx)

    def prepare(
        self,
        recipient_id: str,
        template: str,
        *,
        case_ref: str | None = None,
        urgent: bool = False,
        dedupe_key: str | None = None,
        not_before: datetime | None = None,
        offers: Sequence[Offer] = (),
        **ctx: Any,
    ) -> Prepared | None:
        """Describe and check one message before its transaction (the plan; `put` queues it inside the unit of
        work): the Python work, rendering included, stays off the database thread and out of the write lock.
        None when the recipient is unknown or the message would show free text of a case the person may not
        see in full (it is withheld)."""
        person = self.directory.person(recipient_id)
        if person is None:
            return None
        ctx.setdefault("recipient", recipient_id)
        message = describe(self.renderer, template, offers=offers, case_ref=case_ref, **ctx)
        shown, hidden = self.free_text(template, ctx, message, recipient_id)
        if hidden:
            log.warning("message withheld", extra={"event": "privacy.withheld", "template": template,
                                                   "recipient": recipient_id, "case_refs": hidden})
            return None
        now = self.clock.now()
        channel = person.channel.value if isinstance(person.channel, Channel) else str(person.channel)
        return Prepared(
            recipient_id=recipient_id, template=template, channel=channel, created_at=now, urgent=urgent,
            earliest=self.policy(person, max(now, not_before or now), urgent), dedupe_key=dedupe_key,
            message=encode(message), reads=json.dumps(shown) if shown else None,
        )

    async def put(self, tx: Tx, prepared: Prepared, *, case_id: int | None = None,
                  case_ref: str | None = None, want_id: bool = True) -> int | None:
        """Queue a prepared message in the caller's transaction; its id (None if its `dedupe_key` was queued).
        With `want_id=False` the id is not read back (None): a message without `dedupe_key` is then queued
        without waiting for the store's answer (pipelined on PostgreSQL, see `Tx.write`)."""
        queued = await store.insert(
            tx, created_at=prepared.created_at, case_id=case_id, case_ref=case_ref,
            recipient_id=prepared.recipient_id, channel=prepared.channel, template=prepared.template,
            text="", message=prepared.message, urgent=prepared.urgent, earliest=prepared.earliest,
            dedupe_key=prepared.dedupe_key, reads=prepared.reads, want_id=want_id,
        )
        if queued is not None or (not want_id and prepared.dedupe_key is None):
            # counted once committed: a transaction rolled back queued nothing
            channel = prepared.channel
            tx.after_commit(lambda: metrics.outbox_event(channel, "queued"))
        return queued

    @staticmethod
    def rows(planned: Sequence[tuple[Prepared, int | None, str | None]]) -> list[store.OutboxRow]:
        """Prepared messages, each with its case id and reference, as the rows `put_rows` queues (plain code: made
        before the transaction)."""
        return [store.row(
            created_at=p.created_at, case_id=case_id, case_ref=case_ref, recipient_id=p.recipient_id,
            channel=p.channel, template=p.template, text="", message=p.message, urgent=p.urgent,
            earliest=p.earliest, dedupe_key=p.dedupe_key, reads=p.reads,
        ) for p, case_id, case_ref in planned]

    async def put_rows(self, tx: Tx, rows: Sequence[store.OutboxRow]) -> int:
        """Queue the rows of prepared messages (`rows`) in a few statements (`put` for many: a sweep's batch);
        returns how many were queued (those whose `dedupe_key` was queued before are not)."""
        if not rows:
            return 0
        channels = await store.insert_many(tx, rows)

        def counted() -> None:  # once committed: a transaction rolled back queued nothing
            for channel in channels:
                metrics.outbox_event(channel, "queued")

        tx.after_commit(counted)
        return len(channels)

    async def put_encoded(self, tx: Tx, encoded: store.Encoded) -> None:
        """`put_rows` of rows encoded before the transaction (`store.encode`), sent without waiting for the store's
        answer where the engine allows it (`store.send_many`); the queued rows are counted once committed."""
        if not encoded.rows:
            return
        soons = await store.send_many(tx, encoded)

        def counted() -> None:  # once committed: a transaction rolled back queued nothing
            for soon in soons:
                for channel in soon.value["channels"] or ():
                    metrics.outbox_event(channel, "queued")

        tx.after_commit(counted)

    async def put_many(self, tx: Tx, planned: Sequence[tuple[Prepared, int | None, str | None]]) -> int:
        """`put_rows` of prepared messages, each with its case id and reference."""
        return await self.put_rows(tx, self.rows(planned))

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
        offers: Sequence[Offer] = (),
        **ctx: Any,
    ) -> int | None:
        """Queue one message to one person, offering `offers` (see `bot.cases.offers`); returns its id (None if
        `dedupe_key` was already queued, or if the message would show free text of a case the person may not
        see in full: it is withheld). Described here, inside the transaction: where it can be described before,
        `prepare` it first and `put` it inside."""
        prepared = self.prepare(recipient_id, template, case_ref=case_ref, urgent=urgent, dedupe_key=dedupe_key,
                                not_before=not_before, offers=offers, **ctx)
        if prepared is None:
            return None
        return await self.put(tx, prepared, case_id=case_id, case_ref=case_ref)

    async def withdraw_case(self, tx: Tx, case_id: int) -> int:
        """Consent withdrawn: cancel every undelivered message of the case, erase the stored message of all of
        them (it may quote the brief), and queue a retraction of each one already delivered, so that the
        channel deletes it too. Messages that show the case without being its own (a distribution queue: their
        `reads` name it) are erased, cancelled or retracted whole. Returns how many were cancelled."""
        return await store.withdraw(tx, case_id, self.clock.now(), "case closed: consent withdrawn")

    async def delivered_to(self, tx: Tx, case_id: int) -> list[str]:
        """Everyone a message about the case has been delivered to, in the order first delivered."""
        return await store.delivered_to(tx, case_id)

    async def withdraw_recipients(self, tx: Tx, case_id: int, person_ids: list[str]) -> int:
        """Consent withdrawn for one unit: the same as `withdraw_case`, but only for the messages of the case
        to these people (the unit's staff), who lose access while the case goes on. Returns how many were
        cancelled."""
        if not person_ids:
            return 0
        return await store.withdraw(tx, case_id, self.clock.now(), "consent withdrawn for the unit", person_ids)


    async def withdraw_shown(self, tx: Tx, case_id: int, person_ids: list[str] | None = None) -> int:
        """`withdraw_case` (or `withdraw_recipients`) once more at the end of the withdrawal's transaction, for
        the messages that show the case's free text only (`reads`): those queued by a unit that did not wait for
        the case's row, and committed after the withdrawal's first pass (a sweep's batch holding the case's awaited
        items, which the withdrawal then waited for). Its own notices, which show no text, stay."""
        reason = "case closed: consent withdrawn" if person_ids is None else "consent withdrawn for the unit"
        if person_ids is not None and not person_ids:
            return 0
        return await store.withdraw(tx, case_id, self.clock.now(), reason, person_ids, shown_only=True)


async def drop_old_texts(db: Database, now: datetime, days: int) -> int:
    """Data minimisation: blank the text and stored message of every message final (sent, failed, cancelled,
    retracted) more than `days` days ago, in short transactions. Its status, recipient, times, case reference
    and channel message id (for a retraction) stay, and so does the read log. Idempotent; returns how many
    rows were blanked."""
    count = await store.drop_texts(db, now - timedelta(days=days))
    if count:
        await db.scrub()  # the blanked text is overwritten on disk and out of the write-ahead log
        log.info("outbox texts dropped", extra={"event": "outbox.texts_dropped", "rows": count, "days": days})
    return count

"""The Outlook event of a case's GFI meeting, kept in step with the case through the outbox.

Why the outbox and not a queue of its own: the outbox already gives what calendar calls need (written in
the business transaction, retried with backoff, `Retry-After` honoured, every row ending sent/failed with
coordinators told of failures). A calendar row is `kind = 'calendar'`, `channel = 'calendar'`, no text; its
`target` names the action that queued it (the reason given when an event is cancelled).

A row does not carry the event: when it is delivered, `CalendarSender` reads the case and brings its one
event to the case's current state (create, update, cancel, or nothing). So rows delivered late or out of
order (Graph down for a while, then a rebooking and a no-show) still end in the right state, and a retried
create cannot make a second event: its `transactionId` is stored before the first attempt.

No free text about the individual reaches Graph: subject `GFI-möte <ref>`, the time, the place and the
participating units; never the brief or the contact. The event is private (`sensitivity: private`): someone
with whom an attendee shares calendar details sees the time as busy, not the subject or the place. The place
is shown as typed (attendees need it), after the identity-number guard once more: a place stored before the
guard knew a disguise goes out as no place rather than with the number. External participants' first names in
the body pass the same guard on the way out (a refused one leaves the role alone).
"""

from __future__ import annotations

import hashlib
import json
import logging
import uuid
from dataclasses import asdict
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from bot.cases.models import Case, CaseState, MeetingKind
from bot.channels.graph.client import EventSpec, GraphClient
from bot.channels.graph.templates import GraphTemplates
from bot.clock import Clock
from bot.directory import Channel, Directory, Person
from bot.dispatcher import DeliveryError
from bot.outbox import OutboxMessage
from bot.privacy import IdentityNumberFound, check_free_text
from bot.store import Database, Tx
from bot.store import cases as case_store
from bot.store import graph as graph_store

log = logging.getLogger(__name__)

CHANNEL = "calendar"
RECIPIENT = "calendar"  # outbox rows need a recipient; calendar rows are for the organiser mailbox
MEETING_MINUTES = 60
# The case actions after which the event may have to change (book/rebook, no-show, units, close, reopen).
# "hold_now": a booked meeting replaced by one held now has no event any more (it is cancelled).
SYNC_ACTIONS = frozenset({"book", "no_show", "close", "reopen", "withdraw_consent", "withdraw_consent_unit",
                          "hold_now", "appoint"})


def m365_address(person: Person) -> str | None:
    """A person's Microsoft 365 address: the UPN, else the e-mail of someone who is reached through M365."""
    if person.m365_upn:
        return person.m365_upn
    if person.channel in (Channel.EMAIL, Channel.M365, Channel.TEAMS) and person.email:
        return person.email
    return None


async def queue_sync(tx: Tx, case: Case, reason: str, now: datetime) -> int:
    """Queue "bring the case's Outlook event up to date" in the caller's transaction."""
    return await graph_store.queue_calendar_sync(tx, case_id=case.id, case_ref=case.ref, recipient=RECIPIENT,
                                                 channel=CHANNEL, reason=reason, now=now)


class CalendarHook:
    """A CaseHook: after the actions that touch the meeting, queue a calendar sync (same transaction)."""

    async def after_action(self, tx: Tx, case: Case, action: str, actor_id: str, now: datetime) -> None:
        if action in SYNC_ACTIONS:
            await queue_sync(tx, case, action, now)


class CalendarSender:
    """Delivers calendar rows: creates, updates or cancels the case's event as the organiser (`GRAPH_SENDER`)."""

    def __init__(self, graph: GraphClient, db: Database, directory: Directory, templates: GraphTemplates,
                 clock: Clock, load_case: object, tz: str = "Europe/Stockholm") -> None:
        self.graph = graph
        self.db = db
        self.directory = directory
        self.templates = templates
        self.clock = clock
        self.load_case = load_case  # async (tx, ref) -> Case: the case service's loader
        self.tz = tz

    def wanted(self, case: Case) -> bool:
        """True when the case should have an event: open, meeting booked and still ahead."""
        return (case.state is CaseState.MEETING_BOOKED and case.meeting_at is not None
                and case.meeting_at > self.clock.now())

    def spec(self, case: Case, transaction_id: str | None) -> EventSpec:
        """The event as Graph gets it: no brief, no contact, nothing typed about the individual but the place."""
        assert case.meeting_at is not None
        attendees: list[str] = []
        for pid in case.participants():
            person = self.directory.person(pid)
            address = m365_address(person) if person else None
            if address and address.lower() not in {a.lower() for a in attendees}:
                attendees.append(address)
        return EventSpec(
            subject=f"{'Tjänstepersonmöte' if case.meeting_kind == MeetingKind.STAFF else 'GFI-möte'} {case.ref}",
            start=case.meeting_at,
            end=case.meeting_at + timedelta(minutes=MEETING_MINUTES),
            timezone=self.tz,
            location=self._place(case),
            body_html=self.templates.render("graph_event.html.j2", case=case, withheld=self._withheld_names(case)),
            attendees=tuple(attendees),
            transaction_id=transaction_id,
        )

    def _passes(self, field: str, text: str) -> bool:
        """Whether free text passes the identity-number guard as it stands today (it may know a disguise that
        it did not know when the text was stored)."""
        try:
            check_free_text(field, text, self.clock.now().astimezone(ZoneInfo(self.tz)).date())
        except IdentityNumberFound:
            return False
        return True

    def _place(self, case: Case) -> str:
        place = case.meeting_place or ""
        if not self._passes("plats", place):
            log.warning("meeting place withheld from the event",
                        extra={"event": "calendar.place_withheld", "case_ref": case.ref})
            return ""
        return place

    def _withheld_names(self, case: Case) -> set[str]:
        """External participants' first names (free text) that the guard now refuses: the event names their
        role only, like a participant whose name was never given."""
        withheld = {name for name in case.external_first_names if not self._passes("fornamn", name)}
        if withheld:
            log.warning("external first name withheld from the event",
                        extra={"event": "calendar.name_withheld", "case_ref": case.ref})
        return withheld

    async def send(self, message: OutboxMessage) -> str | None:
        if message.kind != "calendar" or not message.case_ref:
            raise DeliveryError("calendar:not_a_calendar_row", permanent=True)
        async with self.db.transaction() as tx:
            case: Case = await self.load_case(tx, message.case_ref)  # type: ignore[operator]
            row = await graph_store.calendar_event(tx, case.id)
        state = row["state"] if row else None
        if self.wanted(case):
            if state == "active":
                return await self._update(case, row)  # type: ignore[arg-type]
            return await self._create(case, row)
        if state == "active":
            return await self._cancel(case, row, message.target or "close")  # type: ignore[arg-type]
        if state == "creating":
            # A create was tried but never confirmed, and the meeting is off: forget it (see the report). A create
            # of it still under way elsewhere finds the row moved on, and cancels what it made (`_set`).
            await self._set(case, row, state="cancelled")  # type: ignore[arg-type]
        return None

    async def _create(self, case: Case, row: dict[str, object] | None) -> str | None:
        if row is None or row["state"] != "creating":
            seq = int(row["seq"]) + 1 if row else 1  # type: ignore[call-overload]
            transaction_id = str(uuid.uuid4())
            was = None if row is None else (str(row["state"]), _text(row.get("transaction_id")),
                                            _text(row.get("event_id")))
            async with self.db.transaction() as tx:  # stored before the first attempt: retries reuse it
                # the case's lock first (DESIGN, "lock order"), then the case read again: it may have been called
                # off since it was read (consent withdrawn, its sync done and finding nothing to cancel)
                await case_store.lock(tx, case.id)
                case = await self.load_case(tx, case.ref)  # type: ignore[operator]
                begun = self.wanted(case) and await graph_store.begin_calendar_create(
                    tx, case_id=case.id, case_ref=case.ref, seq=seq, transaction_id=transaction_id,
                    now=self.clock.now(), was=was)
            if not begun:
                log.info("calendar create not begun", extra={"event": "graph.event_create_moved",
                                                             "case_ref": case.ref})
                return None
            row = {"state": "creating", "transaction_id": transaction_id, "event_id": None}
        else:  # a retry of a create begun before (never confirmed): the same check before Graph is called again
            transaction_id = str(row["transaction_id"])
            async with self.db.transaction() as tx:
                await case_store.lock(tx, case.id)
                case = await self.load_case(tx, case.ref)  # type: ignore[operator]
                now_row = await graph_store.calendar_event(tx, case.id)
                retried = self.wanted(case) and now_row is not None and now_row["state"] == "creating" \
                    and _text(now_row.get("transaction_id")) == transaction_id
            if not retried:  # called off since (its sync cancels the row), or the row moved on
                log.info("calendar create not retried", extra={"event": "graph.event_create_moved",
                                                               "case_ref": case.ref})
                return None
        spec = self.spec(case, transaction_id)
        event_id = await self.graph.create_event(spec)
        if not await self._set(case, row, state="active", event_id=event_id, fingerprint=_fingerprint(spec)):
            # another sync moved the case's event on while Graph answered (the meeting called off and the unconfirmed
            # create forgotten): the event made here is nobody's, so it is cancelled now
            await self.graph.cancel_event(event_id, self.templates.render(
                "graph_event_cancel.txt.j2", reason="close", ref=case.ref))
            log.warning("calendar event superseded", extra={"event": "graph.event_superseded", "case_ref": case.ref})
            return event_id
        log.info("calendar event created", extra={"event": "graph.event_created", "case_ref": case.ref})
        return event_id

    async def _update(self, case: Case, row: dict[str, object]) -> str:
        event_id = str(row["event_id"])
        spec = self.spec(case, None)
        fingerprint = _fingerprint(spec)
        if fingerprint != row["fingerprint"]:
            await self.graph.update_event(event_id, spec)
            if await self._set(case, row, state="active", fingerprint=fingerprint):
                log.info("calendar event updated", extra={"event": "graph.event_updated", "case_ref": case.ref})
        return event_id

    async def _cancel(self, case: Case, row: dict[str, object], reason: str) -> str:
        event_id = str(row["event_id"])
        comment = self.templates.render("graph_event_cancel.txt.j2", reason=reason, ref=case.ref)
        await self.graph.cancel_event(event_id, comment)
        await self._set(case, row, state="cancelled")
        log.info("calendar event cancelled", extra={"event": "graph.event_cancelled", "case_ref": case.ref,
                                                    "reason": reason})
        return event_id

    async def _set(self, case: Case, read: dict[str, object], *, state: str, event_id: str | None = None,
                   fingerprint: str | None = None) -> bool:
        """Write the event's row after the call to Graph, under the case's row lock (DESIGN, "lock order"), only if
        the row is still as this sync read it before the call (the call is slow, and a sync of the same case on
        another instance may have written it meanwhile: its write is not overwritten). False when it was not."""
        was = (str(read["state"]), _text(read.get("transaction_id")), _text(read.get("event_id")))
        async with self.db.transaction() as tx:
            await case_store.lock(tx, case.id)
            written = await graph_store.set_calendar_state(tx, case.id, state=state, event_id=event_id,
                                                           fingerprint=fingerprint, now=self.clock.now(), was=was)
        if not written:
            log.info("calendar row moved on", extra={"event": "graph.event_row_moved", "case_ref": case.ref})
        return written


def _text(value: object) -> str | None:
    return None if value is None else str(value)


def _fingerprint(spec: EventSpec) -> str:
    data = {k: (v.isoformat() if isinstance(v, datetime) else v) for k, v in asdict(spec).items()
            if k != "transaction_id"}
    return hashlib.sha256(json.dumps(data, sort_keys=True, default=list).encode()).hexdigest()


async def event_of(db: Database, ref: str) -> dict[str, object] | None:
    """The stored Outlook event of a case (event id, state), or None."""
    async with db.transaction() as tx:
        return await graph_store.calendar_event_by_ref(tx, ref)

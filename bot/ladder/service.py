"""Ladder service: open, climb and resolve awaiting-answer items (DESIGN §5).

Which items are open follows from the case: `sync` compares what the case's state awaits with what is
open, resolves what is no longer awaited and opens (re-arms) what is missing, inside the caller's
transaction. `climb` moves one due item one rung up; the periodic sweep calls it in due order.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from bot import audit, metrics
from bot.calendar import BusinessCalendar, office_of
from bot.cases.disputes import check_coordinator_assigns
from bot.cases.models import Case, CaseState
from bot.clock import Clock, iso
from bot.directory import Directory, Role, Unit
from bot.errors import Refusal
from bot.ladder import disputes, messaging
from bot.ladder.models import AwaitingItem, AwaitingKind, FrozenLadder, FrozenRung, TakeOver, add_business_time
from bot.outbox import Outbox
from bot.presence import present
from bot.stats.facts import record_escalation
from bot.store import Database, Tx
from bot.store import ladder as store

if TYPE_CHECKING:
    from bot.cases.service import CaseService

log = logging.getLogger(__name__)

SYSTEM = "system"
# Rung titles the bot adds itself (labels in _labels.j2 RUNGS); the unit's own rungs carry their titles.
RUNG_ASSIGNEES = "@assignees"
RUNG_DISTRIBUTOR = "@distributor"
RUNG_OWNER = "@owner"
# The resolution of the items a case's expired consent paused (bot.ladder.scheduled): re-armed on renewal.
PAUSED = "consent_expired"
# Actions after which nobody more is told anything (consent withdrawn: DESIGN §7).
SILENT_RESOLUTIONS = frozenset({"withdraw_consent"})


@dataclass(frozen=True)
class Wanted:
    """An item the case's state awaits: kind, subject, who answers first, from when, until when, ladder."""

    kind: AwaitingKind
    subject: str
    unit_id: str
    answerers: tuple[str, ...]
    since: datetime
    due_at: datetime
    ladder: FrozenLadder


# What never drafts a brist i samverkan however long it waits (issue #18 item 11): naming who attends a meeting
# and answering a follow-up proposal are questions, not failures of the collaboration; they climb as reminders.
NO_DRAFT = frozenset({AwaitingKind.PARTICIPANT, AwaitingKind.FOLLOW_UP_PROPOSAL})


def drafts_brist(item: AwaitingItem, case: Case, *, top: bool, ran_out: bool) -> bool:
    """Whether reaching the top rung drafts a brist: only when the whole ladder ran out, rung by rung in its
    own time (`ran_out`: no rung was skipped for want of someone on duty, no fallback to the coordinators), and
    only for what the parties owe each other."""
    return top and ran_out and item.kind not in NO_DRAFT and not about_the_individual(item, case)


def about_the_individual(item: AwaitingItem, case: Case) -> bool:
    """Whether an unanswered item is about the individual rather than the parties: booking again after a
    no-show. Such an item climbs as a reminder but never drafts a *brist i samverkan* (a brist is about the
    parties, not the individual; a case waiting for an unreachable individual awaits nothing at all)."""
    return item.kind is AwaitingKind.BOOKING and case.no_shows > 0


class LadderService:
    """Awaiting answers and escalations. All methods taking `tx` run inside the caller's transaction."""

    def __init__(
        self, db: Database, directory: Directory, clock: Clock, outbox: Outbox, calendar: BusinessCalendar,
        cases: CaseService,
    ) -> None:
        self.db = db
        self.directory = directory
        self.clock = clock
        self.outbox = outbox
        self.calendar = calendar
        self.cases = cases

    # --- what a case awaits ------------------------------------------------------------------------
    def consent_expired(self, case: Case, now: datetime) -> bool:
        """True once the consent's valid-until date has passed (local date): the case is paused."""
        return now.astimezone(self.calendar.tz).date() > case.consent_valid_until

    def _unit_rungs(self, unit: Unit) -> list[FrozenRung]:
        return [FrozenRung(r.title, tuple(r.people), None, r.business_days, r.business_hours) for r in unit.ladder]

    def _distributor_rung(self, unit: Unit) -> FrozenRung:
        return FrozenRung(RUNG_DISTRIBUTOR, tuple(unit.distributors), unit.deputy)

    def _ladder(self, first: FrozenRung, unit: Unit, *, with_distributor: bool = True) -> FrozenLadder:
        rungs = [first]
        if with_distributor:
            rungs.append(self._distributor_rung(unit))
        rungs.extend(self._unit_rungs(unit))
        return FrozenLadder(tuple(rungs), office_of(unit))

    def next_slot(self, unit: Unit, now: datetime) -> datetime:
        """The unit's next distribution slot strictly after `now` (a holiday moves it forward)."""
        spec = unit.distribution
        return min(self.calendar.next_weekly_slot(now, day, spec.time) for day in spec.days)

    def wanted(self, case: Case, now: datetime) -> list[Wanted]:
        """The items the case awaits in its current state (nothing when closed, paused, or waiting for the
        individual: those are resolved, and armed again with fresh due times when the case resumes)."""
        unit = self.directory.unit(case.target_unit)
        if unit is None or not case.is_open or self.consent_expired(case, now):
            return []
        office = office_of(unit)
        due = unit.due
        state = case.state
        if state is CaseState.WAITING:  # nothing is awaited while it waits; past its date, resuming it is
            return self._resume_wanted(case, unit, now)
        if state is CaseState.REQUESTED:
            first = FrozenRung(RUNG_DISTRIBUTOR, tuple(unit.distributors), unit.deputy)
            start = now if case.urgent else self.next_slot(unit, now)
            at = self.calendar.add_business_hours(start, due.distribution_hours_after_slot, office)
            ladder = self._ladder(first, unit, with_distributor=False)
            answerers = tuple(self.directory.active_distributors(unit.id, now) or unit.distributors)
            return [Wanted(AwaitingKind.DISTRIBUTION, "", unit.id, answerers, case.created_at, at, ladder)]
        responsible = tuple(case.responsible())
        assignees = FrozenRung(RUNG_ASSIGNEES, responsible)
        if state is CaseState.ASSIGNED:
            at = add_business_time(self.calendar, now, office, days=due.acknowledge_days)
            return [Wanted(AwaitingKind.ACKNOWLEDGEMENT, "", unit.id, responsible, case.assigned_at or now, at,
                           self._ladder(assignees, unit))]
        if state is CaseState.ACKNOWLEDGED:
            at = add_business_time(self.calendar, now, office, days=due.book_days)
            return [Wanted(AwaitingKind.BOOKING, "", unit.id, responsible, now, at, self._ladder(assignees, unit))]
        if state is CaseState.MEETING_BOOKED and case.meeting_at is not None:
            at = add_business_time(self.calendar, case.meeting_at, office, days=due.outcome_days)
            return [Wanted(AwaitingKind.OUTCOME, iso(case.meeting_at), unit.id, responsible, case.meeting_at, at,
                           self._ladder(assignees, unit)), *self._participants_wanted(case, now)]
        out: list[Wanted] = []
        if state in (CaseState.MEETING_HELD, CaseState.FOLLOW_UP):
            for f in case.follow_ups:
                owner_unit = self.directory.unit_of(f.owner_id)
                if not f.is_open or owner_unit is None:  # done, declined, cancelled or handed over at closing
                    continue
                owner_office = office_of(owner_unit)
                ladder = self._ladder(FrozenRung(RUNG_OWNER, (f.owner_id,)), owner_unit)
                if f.proposed:  # an unanswered proposal climbs like any unanswered message, named as a proposal
                    since = f.created_at or now
                    at = add_business_time(self.calendar, since, owner_office, days=owner_unit.due.acknowledge_days)
                    out.append(Wanted(AwaitingKind.FOLLOW_UP_PROPOSAL, str(f.id), owner_unit.id, (f.owner_id,),
                                      since, at, ladder))
                    continue
                day = self.calendar.working_day_on_or_after(f.due_date)
                at = self.calendar.at_local(day, owner_office.end)
                # awaited since it fell due (not since the item was opened): the escalation names the due date
                out.append(Wanted(AwaitingKind.FOLLOW_UP, str(f.id), owner_unit.id, (f.owner_id,), at, at, ladder))
        return out

    def awaited(self, case: Case, now: datetime) -> list[Wanted]:
        """What the case awaits: `wanted`, except that while the receiving unit disputes the case (a *tvist*,
        bot.disputes) its own unanswered steps do not climb; the dispute climbs both units' ladders instead."""
        wanted = self.wanted(case, now)
        if not case.disputed or case.disputed_at is None or self.consent_expired(case, now):
            return wanted
        ladder = disputes.dispute_ladder(case, self.directory)
        first = ladder.rungs[0]
        at = add_business_time(self.calendar, case.disputed_at, ladder.office, days=first.days, hours=first.hours)
        dispute = Wanted(AwaitingKind.DISPUTE, iso(case.disputed_at), case.target_unit, first.people,
                         case.disputed_at, at, ladder)
        return [*(w for w in wanted if w.unit_id != case.target_unit), dispute]
    def _resume_wanted(self, case: Case, unit: Unit, now: datetime) -> list[Wanted]:
        """A waiting case past its date (the first working day on or after it, from office hours) awaits those
        responsible: resume it, extend the wait or close it; unanswered, it climbs like any other bevakning."""
        if case.waiting_until is None:
            return []
        office = office_of(unit)
        since = self.calendar.at_local(self.calendar.working_day_on_or_after(case.waiting_until), office.start)
        if now < since:
            return []
        at = add_business_time(self.calendar, since, office, days=unit.due.acknowledge_days)
        responsible = tuple(case.responsible())
        return [Wanted(AwaitingKind.RESUME, case.waiting_until.isoformat(), unit.id, responsible, since, at,
                       self._ladder(FrozenRung(RUNG_ASSIGNEES, responsible), unit))]

    def _participants_wanted(self, case: Case, now: datetime) -> list[Wanted]:
        """Each meeting unit still without a named participant awaits its distributors' answer within the unit's
        own limit (`due.acknowledge_days`), then climbs the unit's ladder like any unanswered message."""
        out: list[Wanted] = []
        for unit_id in case.pending_units():
            unit = self.directory.unit(unit_id)
            if unit is None:
                continue
            at = add_business_time(self.calendar, now, office_of(unit), days=unit.due.acknowledge_days)
            answerers = tuple(self.directory.active_distributors(unit.id) or unit.distributors)
            ladder = self._ladder(self._distributor_rung(unit), unit, with_distributor=False)
            out.append(Wanted(AwaitingKind.PARTICIPANT, unit.id, unit.id, answerers, now, at, ladder))
        return out

    # --- keeping items in step with the case ------------------------------------------------------
    async def open_items(self, tx: Tx, case_id: int) -> list[AwaitingItem]:
        return [AwaitingItem.from_row(r) for r in await store.open_rows(tx, case_id)]

    async def sync(
        self, tx: Tx, case: Case, action: str, actor_id: str, now: datetime,
        *, force: Iterable[AwaitingKind] = (),
    ) -> None:
        """Resolve open items the case no longer awaits and open those it does. `force` re-arms kinds
        even when an item is open (a reassignment means new answerers)."""
        forced = set(force)
        wanted = {(w.kind, w.subject): w for w in self.awaited(case, now)}
        still_open: set[tuple[AwaitingKind, str]] = set()
        for item in await self.open_items(tx, case.id):
            key = (item.kind, item.subject)
            if key in wanted and item.kind not in forced:
                still_open.add(key)
                continue
            await self.resolve(tx, item, actor_id, action, now, notify=action not in SILENT_RESOLUTIONS)
        for key, w in wanted.items():
            if key not in still_open:
                await self._open(tx, case, w, now)

    async def _open(self, tx: Tx, case: Case, w: Wanted, now: datetime) -> int:
        arm = await store.next_arm(tx, case.id, w.kind.value, w.subject)
        since, due_at, skipped = w.since, w.due_at, []
        if arm > 1 and await store.last_resolution(tx, case.id, w.kind.value, w.subject) == PAUSED:
            # re-armed after the consent ran out and was renewed: counted from the renewal, and the first rung
            # gets its own time again (a due time that passed during the pause would alert the next rung at once)
            first = w.ladder.rungs[0]
            since = now
            due_at = max(w.due_at, add_business_time(self.calendar, now, w.ladder.office, days=first.days,
                                                     hours=first.hours))
        if not w.ladder.rungs[0].present(self.directory, now):
            # nobody present to answer: skip the first rung at once
            due_at, skipped = now, [w.ladder.rungs[0].title]
            log.warning("rung skipped", extra={"event": "ladder.rung_skipped", "case_ref": case.ref,
                                               "kind": w.kind.value, "rung": 0})
            await self._skipped(tx, case.id, case.ref, w.kind, w.ladder.rungs[0].title, now)
        item_id = await store.insert_item(
            tx, case_id=case.id, case_ref=case.ref, kind=w.kind.value, subject=w.subject, arm=arm,
            unit_id=w.unit_id, answerers=list(w.answerers), since=since, due_at=due_at,
            ladder=w.ladder.dumps(), skipped=skipped, now=now,
        )
        log.info("awaiting opened", extra={"event": "ladder.opened", "case_ref": case.ref, "item_id": item_id,
                                           "kind": w.kind.value, "arm": arm, "due_at": iso(due_at)})
        if w.kind is AwaitingKind.DISPUTE and not skipped:  # the line managers are asked at once
            await disputes.ask_first_rung(self, tx, case, item_id, w.ladder, now)
        return item_id

    async def resolve(
        self, tx: Tx, item: AwaitingItem, actor_id: str, resolution: str, now: datetime, *, notify: bool = True
    ) -> None:
        """Stop the climb; everyone alerted (except the one who answered) is told, unless `notify` is off."""
        if not await store.resolve(tx, item.id, actor_id, resolution, now):
            return
        log.info("awaiting resolved", extra={"event": "ladder.resolved", "case_ref": item.case_ref,
                                             "item_id": item.id, "kind": item.kind.value, "rung": item.rung,
                                             "resolution": resolution})
        if notify:
            for pid in dict.fromkeys(item.alerted):
                if pid != actor_id:
                    await messaging.resolved(self.outbox, tx, item, pid, actor_id, resolution, now)
            # those reminded to answer learn that someone else did (issue #18 item 12)
            for pid in await store.nudged(tx, item.case_id, item.id):
                if pid != actor_id and pid not in item.alerted:
                    await messaging.resolved(self.outbox, tx, item, pid, actor_id, resolution, now, nudged=True)

    async def _skipped(self, tx: Tx, case_id: int, case_ref: str, kind: AwaitingKind, title: str,
                       now: datetime) -> None:
        """A rung with nobody on duty (vacant, or absent without a stand-in) goes in the case history."""
        await audit.record(tx, at=now, actor_id=SYSTEM, action="ladder_skipped", case_id=case_id,
                           case_ref=case_ref, kind=kind.value, rung=title)

    # --- climbing --------------------------------------------------------------------------------
    async def get(self, tx: Tx, item_id: int) -> AwaitingItem | None:
        row = await store.item_row(tx, item_id)
        return AwaitingItem.from_row(row) if row else None

    async def climb(
        self, tx: Tx, item_id: int, now: datetime, *, row: dict[str, Any] | None = None, case: Case | None = None
    ) -> None:
        """Move a due item one rung up (skipping rungs with nobody present) and alert that rung.

        The next rung's time limit counts from the moment the previous one ran out (its stored due
        time), not from now: after downtime a catch-up reaches, one rung per call, exactly the rungs
        the ladder would have reached, each alerted once. `row` and `case`, when given, are the item's row
        and its case as read earlier in this transaction (the sweep reads a batch at once).
        """
        item = AwaitingItem.from_row(row) if row is not None else await self.get(tx, item_id)
        if item is None or not item.is_open or item.due_at is None:
            return
        case = case if case is not None and case.ref == item.case_ref else await self.cases.load(tx, item.case_ref)
        if not case.is_open:
            await self.resolve(tx, item, SYSTEM, "close", now, notify=False)
            return
        ladder = item.ladder
        start = item.due_at
        nxt = item.rung + 1
        skipped: list[str] = []
        people: list[str] = []
        while nxt <= ladder.top:
            people = ladder.rungs[nxt].present(self.directory, now)
            if people:
                break
            skipped.append(ladder.rungs[nxt].title)
            log.warning("rung skipped", extra={"event": "ladder.rung_skipped", "case_ref": item.case_ref,
                                               "item_id": item.id, "kind": item.kind.value, "rung": nxt})
            await self._skipped(tx, item.case_id, item.case_ref, item.kind, ladder.rungs[nxt].title, now)
            nxt += 1
        all_skipped = [*item.skipped, *skipped]
        ran_out = not all_skipped  # every rung had its time: none skipped for want of someone on duty
        if nxt > ladder.top:
            ran_out = False
            # Nobody is present on any rung left: the present coordinators answer as the top rung, so that
            # an unanswered message never stops without reaching a person.
            people = [p.id for p in self.directory.coordinators() if present(self.directory, p.id, now)]
            nxt = ladder.top
            if not people:
                log.error("ladder exhausted", extra={"event": "ladder.exhausted", "case_ref": item.case_ref,
                                                     "item_id": item.id, "kind": item.kind.value})
                await store.park(tx, item.id, ladder.top, all_skipped)
                return
            log.warning("ladder fallback to coordinators", extra={
                "event": "ladder.fallback", "case_ref": item.case_ref, "item_id": item.id, "kind": item.kind.value})
        top = nxt == ladder.top
        draft_id = (
            await messaging.create_brist_draft(self, tx, item, case, people, now, all_skipped)
            if drafts_brist(item, case, top=top, ran_out=ran_out) else None
        )
        not_answered = list(dict.fromkeys([*item.answerers, *item.alerted]))
        for pid in people:
            await messaging.escalation(
                self.outbox, tx, item, case, pid, rung=nxt, not_answered=not_answered, skipped=all_skipped,
                top=top, draft_id=draft_id,
            )
        await messaging.requester_escalated(self.outbox, tx, item, case, nxt, people)
        due = None if top else ladder.wait(self.calendar, start, nxt)
        alerted = list(dict.fromkeys([*item.alerted, *people]))
        await store.set_climbed(tx, item.id, rung=nxt, due_at=due, alerted=alerted, skipped=all_skipped, now=now)
        await record_escalation(tx, item.unit_id, item.kind.value, nxt, ladder.rungs[nxt].title, now)
        rung = metrics.rung(nxt)
        tx.after_commit(lambda: metrics.ESCALATIONS.labels(rung).inc())  # a rolled-back climb did not happen
        log.info("escalated", extra={"event": "ladder.escalated", "case_ref": item.case_ref, "item_id": item.id,
                                     "kind": item.kind.value, "rung": nxt, "top": top,
                                     "next_due": iso(due) if due else None})

    # --- views and answers -----------------------------------------------------------------------
    async def open_escalations(self, person_id: str | None = None) -> list[AwaitingItem]:
        """Open items that have climbed at least one rung, and open disputes (their line managers are asked at
        once). A coordinator (or None) sees all of them, anyone else those they were alerted or asked about."""
        async with self.db.transaction() as tx:
            rows = await store.open_escalation_rows(tx)
        items = [AwaitingItem.from_row(r) for r in rows]
        person = self.directory.person(person_id) if person_id else None
        if person_id is None or (person is not None and Role.COORDINATOR in person.roles):
            return items
        return [i for i in items if person_id in i.alerted]

    def _may_answer(self, item: AwaitingItem, actor_id: str) -> bool:
        ladder_people = {p for r in item.ladder.rungs for p in (*r.people, *([r.deputy] if r.deputy else []))}
        coordinators = {p.id for p in self.directory.coordinators()}
        return actor_id in ladder_people | coordinators | set(item.alerted)

    async def _answerable(self, tx: Tx, actor_id: str, item_id: int) -> AwaitingItem:
        if self.directory.person(actor_id) is None:
            raise Refusal("unknown_person", person=actor_id)
        item = await self.get(tx, item_id)
        if item is None:
            raise Refusal("escalation_not_found", item=item_id)
        if not item.is_open:
            raise Refusal("escalation_resolved", ref=item.case_ref, at=item.resolved_at, item=item_id)
        if not self._may_answer(item, actor_id):
            raise Refusal("not_on_ladder", ref=item.case_ref, item=item_id)
        return item

    async def answerable(self, actor_id: str, item_id: int) -> AwaitingItem:
        """The open item `actor_id` may answer (read only), or the Refusal take_over/nudge would give.
        For UIs that show a form before acting, e.g. *omfördela*'s assign form."""
        async with self.db.transaction() as tx:
            return await self._answerable(tx, actor_id, item_id)

    async def take_over(self, actor_id: str, item_id: int) -> TakeOver:
        """*Ta över*: the actor becomes responsible. For a distribution the UI should open the assign
        form; for an assignee-stage item the case is reassigned to the actor (CaseService rules apply,
        e.g. only staff of the target unit can be assigned); a follow-up is finished with /klar."""
        async with self.db.transaction() as tx:
            item = await self._answerable(tx, actor_id, item_id)
            self._may_take_over(item, actor_id)
            await audit.record(tx, at=self.clock.now(), actor_id=actor_id, action="ladder_take_over",
                               case_id=item.case_id, case_ref=item.case_ref, item_id=item.id, kind=item.kind.value)
            case = await self.cases.load(tx, item.case_ref)
            await messaging.requester_taken_over(self.outbox, tx, item, case, actor_id)
        if item.kind is AwaitingKind.DISTRIBUTION:
            return TakeOver("assign", item.id, item.case_ref, item.unit_id)
        if item.kind is AwaitingKind.FOLLOW_UP:
            return TakeOver("complete", item.id, item.case_ref, item.unit_id)
        if item.kind is AwaitingKind.FOLLOW_UP_PROPOSAL:
            return TakeOver("accept", item.id, item.case_ref, item.unit_id)
        if item.kind is AwaitingKind.PARTICIPANT:  # name who attends (the appoint form)
            return TakeOver("appoint", item.id, item.case_ref, item.unit_id)
        await self.cases.assign(actor_id, item.case_ref, [actor_id], reassign=True)
        return TakeOver("reassigned", item.id, item.case_ref, item.unit_id)

    async def nudge(self, actor_id: str, item_id: int) -> list[str]:
        """*Påminn*: remind the first answerers who are present; returns who was reminded."""
        async with self.db.transaction() as tx:
            item = await self._answerable(tx, actor_id, item_id)
            now = self.clock.now()
            people = item.ladder.rungs[0].present(self.directory, now)
            case = await self.cases.load(tx, item.case_ref)
            for pid in people:
                await messaging.nudge(self.outbox, tx, item, pid, actor_id, now, case)
            await audit.record(tx, at=now, actor_id=actor_id, action="ladder_nudge", case_id=item.case_id,
                               case_ref=item.case_ref, item_id=item.id, kind=item.kind.value, nudged=people)
        return people

    def check_take_over(self, item: AwaitingItem, actor_id: str) -> None:
        """Refusal when `actor_id` may not take `item` over (for pages that show what will happen first)."""
        self._may_take_over(item, actor_id)

    def _may_take_over(self, item: AwaitingItem, actor_id: str) -> None:
        """A dispute is settled, not taken over; a coordinator takes over nothing in another organisation."""
        if item.kind is AwaitingKind.DISPUTE:
            raise Refusal("dispute_not_taken_over", ref=item.case_ref, item=item.id)
        check_coordinator_assigns(actor_id, item.unit_id, item.case_ref, self.directory)

    async def reassign(self, actor_id: str, ref: str, person_ids: list[str]) -> Case:
        """*Omfördela*: the ordinary reassignment (the item is resolved by the assignment)."""
        return await self.cases.assign(actor_id, ref, person_ids, reassign=True)

    async def history(self, ref: str) -> list[dict[str, Any]]:
        """Every item of a case, oldest first (for views and tests)."""
        async with self.db.transaction() as tx:
            return await store.history_rows(tx, ref)

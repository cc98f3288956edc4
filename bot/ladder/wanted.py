"""What a case awaits (DESIGN §5): the items its state wants open, each with its first answerers, due time and
the ladder it climbs. Rules only, no store: `LadderService.sync` compares them with what is open."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from bot.calendar import BusinessCalendar, office_of
from bot.cases.models import Case, CaseState
from bot.clock import iso
from bot.directory import Directory, Unit
from bot.ladder import disputes
from bot.ladder.models import AwaitingItem, AwaitingKind, FrozenLadder, FrozenRung, add_business_time

# Rung titles the bot adds itself (labels in _labels.j2 RUNGS); the unit's own rungs carry their titles.
RUNG_ASSIGNEES = "@assignees"
RUNG_DISTRIBUTOR = "@distributor"
RUNG_OWNER = "@owner"


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


class WantedRules:
    """The rules of what a case awaits; `LadderService` has them (directory and calendar are its own)."""

    directory: Directory
    calendar: BusinessCalendar

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
        if state in (CaseState.MEETING_HELD, CaseState.FOLLOW_UP):
            return self._follow_ups_wanted(case, now)
        return []

    def _follow_ups_wanted(self, case: Case, now: datetime) -> list[Wanted]:
        """Each open follow-up awaits its owner from its due date; an unanswered proposal of one climbs too."""
        out: list[Wanted] = []
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

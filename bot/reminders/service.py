"""Reminder service: arm, cancel and fire one-shot timers, kept in step with the case.

Like the ladder, the timers a case wants follow from its state (`wanted`); `sync` cancels pending
timers that are no longer wanted and arms the missing ones. Arming is idempotent: a (case, kind, key)
timer exists once, and only a cancelled one is re-armed. `fire` sends one due timer's messages and
marks it done in the caller's transaction.
"""

from __future__ import annotations

import logging
from datetime import datetime, time, timedelta
from typing import TYPE_CHECKING, Any

from bot.calendar import BusinessCalendar, office_of
from bot.cases.models import Case, CaseState
from bot.clock import iso
from bot.directory import Directory
from bot.fires import Fire
from bot.outbox import Outbox
from bot.reminders import messaging
from bot.reminders.models import FOLLOW_UP_KINDS, MEETING_KINDS, Timer, TimerKind
from bot.store import Tx, timers
from bot.store import closing as closing_store

if TYPE_CHECKING:
    from bot.cases.service import CaseService

log = logging.getLogger(__name__)

CONSENT_WARNING_DAYS = 5
MEETING_LENGTH = timedelta(hours=1)


class ReminderService:
    """One-shot reminders for cases. Methods taking `tx` run inside the caller's transaction."""

    def __init__(self, directory: Directory, outbox: Outbox, calendar: BusinessCalendar, cases: CaseService) -> None:
        self.directory = directory
        self.outbox = outbox
        self.calendar = calendar
        self.cases = cases

    def wanted(self, case: Case, now: datetime) -> dict[tuple[TimerKind, str], datetime]:
        """{(kind, key): due} for the timers the case wants now. Reminders whose time has passed are left
        out, except those that still make sense at once (on the day, consent expiry)."""
        unit = self.directory.unit(case.target_unit)
        if unit is None or not case.is_open:
            return {}
        cal, office = self.calendar, office_of(unit)
        today = now.astimezone(cal.tz).date()
        out: dict[tuple[TimerKind, str], datetime] = {}
        until = case.consent_valid_until
        key = until.isoformat()
        out[(TimerKind.CONSENT_EXPIRED, key)] = max(now, cal.at_local(until + timedelta(days=1), time(0)))
        if today > until:
            return out  # paused: nothing else until the consent is renewed
        warn = cal.subtract_business_days(cal.at_local(until, office.start), CONSENT_WARNING_DAYS)
        if warn > now:
            out[(TimerKind.CONSENT_EXPIRING, key)] = warn
        if case.state is CaseState.WAITING and case.waiting_until is not None:
            resume = cal.at_local(cal.working_day_on_or_after(case.waiting_until), office.start)
            out[(TimerKind.WAITING_ENDS, case.waiting_until.isoformat())] = max(now, resume)
        if case.state is CaseState.MEETING_BOOKED and case.meeting_at is not None:
            meeting = case.meeting_at
            mkey = iso(meeting)
            meeting_day = meeting.astimezone(cal.tz).date()
            prepare = cal.subtract_business_days(meeting, unit.due.prepare_days_before)
            if prepare > now:
                out[(TimerKind.PREPARE, mkey)] = prepare
            elif today < meeting_day:
                out[(TimerKind.PREPARE, mkey)] = now  # booked at short notice: the checklist at once
            morning = min(cal.at_local(meeting_day, office.start), meeting)
            if morning > now:
                out[(TimerKind.MEETING_DAY, mkey)] = morning
            elif now < meeting:
                out[(TimerKind.MEETING_DAY, mkey)] = now
            if meeting + MEETING_LENGTH > now:
                out[(TimerKind.OUTCOME, mkey)] = meeting + MEETING_LENGTH
        if case.state in (CaseState.MEETING_HELD, CaseState.FOLLOW_UP):
            for f in case.follow_ups:
                owner_unit = self.directory.unit_of(f.owner_id)
                if f.done_at is not None or not f.counts or owner_unit is None:  # a proposal counts once accepted
                    continue
                on = cal.at_local(f.due_date, office_of(owner_unit).start)
                before = cal.subtract_business_days(on, 1)
                if before > now:
                    out[(TimerKind.FOLLOW_UP_BEFORE, str(f.id))] = before
                if on > now:
                    out[(TimerKind.FOLLOW_UP_DUE, str(f.id))] = on
                elif today <= f.due_date:
                    out[(TimerKind.FOLLOW_UP_DUE, str(f.id))] = now
        return out

    async def pending(self, tx: Tx, case_id: int) -> list[Timer]:
        return [Timer.from_row(r) for r in await timers.pending_rows(tx, case_id)]

    async def sync(self, tx: Tx, case: Case, now: datetime, *, filed: bool = False) -> None:
        """Cancel pending timers the case no longer wants; arm (or re-arm cancelled) wanted ones. `filed`: the case
        was filed in this transaction, so it has no timers yet (none are read)."""
        wanted = self.wanted(case, now)
        for timer in [] if filed else await self.pending(tx, case.id):
            if (timer.kind, timer.key) not in wanted:
                await timers.cancel(tx, timer.id, now)
                log.info("timer cancelled", extra={"event": "timer.cancelled", "case_ref": case.ref,
                                                   "timer_id": timer.id, "kind": timer.kind.value})
        for (kind, key), due in wanted.items():
            await timers.arm(tx, case.id, case.ref, kind.value, key, due, now)

    def _still_valid(self, timer: Timer, case: Case, now: datetime) -> bool:
        """False when the timer no longer fits the case (a stale item after downtime, a changed booking)."""
        if not case.is_open:
            return False
        if timer.kind in MEETING_KINDS:
            if case.state is not CaseState.MEETING_BOOKED or case.meeting_at is None:
                return False
            if iso(case.meeting_at) != timer.key:
                return False
            return timer.kind is TimerKind.OUTCOME or now < case.meeting_at
        if timer.kind is TimerKind.WAITING_ENDS:
            return case.state is CaseState.WAITING and case.waiting_until is not None \
                and timer.key == case.waiting_until.isoformat()
        if timer.kind in FOLLOW_UP_KINDS:
            return any(str(f.id) == timer.key and f.done_at is None and f.counts for f in case.follow_ups)
        return timer.key == case.consent_valid_until.isoformat()

    def plan_fire(self, row: dict[str, Any], case: Case, now: datetime) -> Fire | None:
        """A due timer's writes and messages, described before the sweep's transaction (its row and case as
        read); None when firing it changes the case's other items and timers (the consent expired, a wait
        ended): the sweep fires those in a transaction of their own (`fire`)."""
        timer = Timer.from_row(row)
        fire = Fire(table="timers", row_id=timer.id, due_at=str(row["due_at"]), case_id=timer.case_id,
                    case_ref=timer.case_ref, case_version=case.version)
        if not self._still_valid(timer, case, now):
            fire.outcome = "stale"
            fire.done = lambda: log.info("timer stale", extra={
                "event": "timer.stale", "case_ref": case.ref, "timer_id": timer.id, "kind": timer.kind.value})
            return fire
        if timer.kind in (TimerKind.CONSENT_EXPIRED, TimerKind.WAITING_ENDS):
            return None
        fire.outcome = "fired"
        fire.messages = messaging.plan(self, timer, case, now)
        fire.done = lambda: log.info("timer fired", extra={
            "event": "timer.fired", "case_ref": case.ref, "timer_id": timer.id, "kind": timer.kind.value})
        return fire

    async def fire(
        self, tx: Tx, timer_id: int, now: datetime, *, row: dict[str, Any] | None = None, case: Case | None = None
    ) -> Case | None:
        """Send one due timer's messages and mark it done. Returns the case when its other awaited items
        and timers must be brought in step (the consent expired, a wait ended), else None. `row` and `case`, when given,
        are the pending timer's row and its case as read earlier in this transaction."""
        row = row if row is not None else await timers.pending_row(tx, timer_id)
        if row is None:
            return None
        timer = Timer.from_row(row)
        case = case if case is not None and case.ref == timer.case_ref else await self.cases.load(tx, timer.case_ref)
        if not self._still_valid(timer, case, now):
            await timers.finish(tx, timer.id, "stale", now)
            log.info("timer stale", extra={"event": "timer.stale", "case_ref": case.ref, "timer_id": timer.id,
                                           "kind": timer.kind.value})
            return None
        await messaging.send(self, tx, timer, case, now)
        await timers.finish(tx, timer.id, "fired", now)
        log.info("timer fired", extra={"event": "timer.fired", "case_ref": case.ref, "timer_id": timer.id,
                                       "kind": timer.kind.value})
        if timer.kind is TimerKind.CONSENT_EXPIRED:
            await closing_store.mark_consent_expired(tx, case.id, now)
            return case
        if timer.kind is TimerKind.WAITING_ENDS:  # resuming (or closing) is now awaited, and climbs the ladder
            return case
        return None

    async def for_case(self, tx: Tx, case_id: int) -> list[Timer]:
        """Every timer of a case (for views and tests)."""
        return [Timer.from_row(r) for r in await timers.rows_for_case(tx, case_id)]

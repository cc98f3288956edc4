"""The texts a fired timer sends, and to whom. Reminders carry the case reference, never the brief."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING

from bot.cases import offers
from bot.cases.consent import may_record
from bot.cases.models import Case, MeetingKind
from bot.outbox import Prepared
from bot.reminders.models import Timer, TimerKind
from bot.store import Tx

if TYPE_CHECKING:
    from bot.reminders.service import ReminderService

TEMPLATES: dict[TimerKind, str] = {
    TimerKind.PREPARE: "reminder_prepare",
    TimerKind.MEETING_DAY: "reminder_meeting_day",
    TimerKind.OUTCOME: "reminder_outcome",
    TimerKind.FOLLOW_UP_BEFORE: "reminder_follow_up",
    TimerKind.FOLLOW_UP_DUE: "reminder_follow_up",
    TimerKind.CONSENT_EXPIRING: "reminder_consent_expiring",
    TimerKind.CONSENT_EXPIRED: "consent_expired",
    TimerKind.WAITING_ENDS: "reminder_waiting_ends",
}


def recipients(timer: Timer, case: Case) -> list[str]:
    """Meeting and consent reminders go to the requester and those responsible; the outcome reminder and
    the end of a wait to those responsible; a follow-up reminder to its owner."""
    if timer.kind in (TimerKind.OUTCOME, TimerKind.WAITING_ENDS):
        return case.responsible()
    if timer.kind in (TimerKind.FOLLOW_UP_BEFORE, TimerKind.FOLLOW_UP_DUE):
        return [f.owner_id for f in case.follow_ups if str(f.id) == timer.key]
    return case.participants()


def _local_date(service: ReminderService, now: datetime) -> date:
    return now.astimezone(service.calendar.tz).date()


def plan(service: ReminderService, timer: Timer, case: Case, now: datetime) -> list[Prepared]:
    """The timer's messages, described (deduplicated per timer and person when queued)."""
    number, due = 0, None
    for i, f in enumerate(case.follow_ups, start=1):
        if str(f.id) == timer.key:
            number, due = i, f.due_date
    follow_up_due: date | None = due
    planned = [service.outbox.prepare(
        pid, TEMPLATES[timer.kind], case_ref=case.ref,
        dedupe_key=f"timer:{timer.id}:{pid}",
        ref=case.ref, kind=timer.kind.value, meeting_at=case.meeting_at, units=case.meeting_units,
        until=case.consent_valid_until, number=number, due=follow_up_due,
        on_the_day=timer.kind is TimerKind.FOLLOW_UP_DUE,
        tomorrow=follow_up_due is not None and follow_up_due == _local_date(service, now) + timedelta(days=1),
        consent_scope=case.consent_scope, waiting_until=case.waiting_until,
        children=case.children.value if case.children else None,
        staff_only=case.meeting_kind is MeetingKind.STAFF,  # a tjänstepersonmöte: the individual does not come
        may_renew=may_record(case, pid, service.directory), requester=case.requester_id,
        offers=offers.for_message(TEMPLATES[timer.kind], case, pid, service.directory, number=number),
    ) for pid in dict.fromkeys(recipients(timer, case))]
    return [p for p in planned if p is not None]


async def send(service: ReminderService, tx: Tx, timer: Timer, case: Case, now: datetime) -> None:
    """Queue the timer's messages in the caller's transaction."""
    await service.outbox.put_many(tx, [(p, case.id, case.ref) for p in plan(service, timer, case, now)])

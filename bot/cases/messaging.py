"""Who is told what after each case action. Queues outbox messages inside the caller's transaction."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Protocol

from bot.calendar import BusinessCalendar, office_of
from bot.cases import offers
from bot.cases.models import Case, CaseState
from bot.cases.rules import Action
from bot.directory import Directory
from bot.messages.model import Offer
from bot.outbox import Outbox, Prepared
from bot.store import Tx


class CaseEngine(Protocol):
    """What telling people needs of the case engine (`bot.cases.base.CaseEngine` is one): named here, so this
    module does not import the engine that imports it."""

    @property
    def directory(self) -> Directory: ...
    @property
    def outbox(self) -> Outbox: ...
    @property
    def calendar(self) -> BusinessCalendar: ...
    def today(self) -> date: ...


def next_slot_text(service: CaseEngine, unit_id: str, now: datetime) -> str:
    """The unit's next distribution slot as Swedish text (holidays move it to the next working day)."""
    unit = service.directory.units[unit_id]
    slots = [
        service.calendar.next_weekly_slot(now, day, unit.distribution.time) for day in unit.distribution.days
    ]
    return service.outbox.renderer.format_datetime(min(slots))


def plan_case_filed(
    service: CaseEngine, case: Case, now: datetime, *, default_days: int | None = None
) -> list[Prepared]:
    """The messages a filing sends, described before its transaction (see `case_filed`)."""
    directory = service.directory
    distributors = directory.active_distributors(case.target_unit)
    unit = directory.units[case.target_unit]
    hours = office_of(unit)
    # urgent outside the unit's office hours: say it is closed and who to call, not that the manager has it
    closed_until = (service.calendar.next_business_start(now, hours)
                    if case.urgent and not service.calendar.is_business_time(now, hours) else None)
    offered = offers.for_message("case_filed", case, case.requester_id, directory)
    if default_days:  # another period than the default: renewed with the period the individual agreed to
        offered = (*offers.renew(case, case.requester_id, directory), *offered)
    planned = [service.outbox.prepare(
        case.requester_id, "case_filed", case_ref=case.ref, urgent=True, offers=offered,
        case=case, distributors=distributors or service.directory.distributors_of(case.target_unit),
        next_slot=next_slot_text(service, case.target_unit, now), default_days=default_days,
        closed_until=closed_until, office=unit.office_hours, after_hours=unit.after_hours,
    )]
    if case.urgent:
        planned += [service.outbox.prepare(
            pid, "urgent_request", case_ref=case.ref, urgent=True, case=case,
            offers=offers.for_message("urgent_request", case, pid, directory),
        ) for pid in distributors]
    return [p for p in planned if p is not None]


async def put_planned(service: CaseEngine, tx: Tx, planned: list[Prepared], case: Case) -> None:
    """Queue messages planned for `case` (`plan_case_filed`) in the filing's transaction."""
    for prepared in planned:
        await service.outbox.put(tx, prepared, case_id=case.id, case_ref=case.ref, want_id=False)


async def case_filed(
    service: CaseEngine, tx: Tx, case: Case, now: datetime, *, default_days: int | None = None
) -> None:
    """Tell the requester the reference (and, when no period was given, that the default period applies
    and how to change it); an urgent request goes to the distributors at once. A filing plans these before its
    transaction (`plan_case_filed`, `bot.cases.request`); this describes them inside it."""
    await put_planned(service, tx, plan_case_filed(service, case, now, default_days=default_days), case)


def removed_participants(before: Case, case: Case) -> list[str]:
    """Named meeting participants a new booking no longer names (and who are not on the case otherwise)."""
    return [p for p in before.meeting_people() if p not in case.participants()]


async def ask_for_participants(service: CaseEngine, tx: Tx, before: Case, case: Case, actor_id: str) -> None:
    """Each meeting unit without a named participant: its distributors are asked to name one (the ladder climbs
    if nobody does: `AwaitingKind.PARTICIPANT`). Units already asked at an earlier booking are asked again only
    when the time changed."""
    again = before.meeting_at != case.meeting_at
    for unit_id in case.pending_units():
        if unit_id in before.pending_units() and not again:
            continue
        asked = service.directory.active_distributors(unit_id) or service.directory.distributors_of(unit_id)
        for pid in dict.fromkeys(asked):
            if pid != actor_id:
                await service.outbox.enqueue(
                    tx, pid, "participant_wanted", case_id=case.id, case_ref=case.ref, urgent=case.urgent,
                    case=case, actor=actor_id, unit=unit_id,
                    offers=offers.for_message("participant_wanted", case, pid, service.directory),
                )


async def after_action(
    service: CaseEngine, tx: Tx, before: Case, case: Case, action: Action, actor_id: str, now: datetime
) -> None:
    """Queue the notifications that follow a case action (never to the actor about their own act)."""
    out = service.outbox
    directory = service.directory

    def offered(template: str, pid: str) -> tuple[Offer, ...]:
        return offers.for_message(template, case, pid, directory)

    async def tell(recipients: list[str], template: str, **ctx: Any) -> None:
        for pid in dict.fromkeys(recipients):
            if pid != actor_id:
                await out.enqueue(
                    tx, pid, template, case_id=case.id, case_ref=case.ref, urgent=case.urgent,
                    case=case, actor=actor_id, offers=offered(template, pid), **ctx,
                )

    if action is Action.ASSIGN:
        for pid in case.assignees:
            if pid == actor_id:  # nobody is told about their own act
                continue
            await out.enqueue(
                tx, pid, "assigned_to_you", case_id=case.id, case_ref=case.ref, urgent=case.urgent, case=case,
                offers=offered("assigned_to_you", pid),
            )
        removed = [p for p in before.assignees if p not in case.assignees]
        await tell([case.requester_id], "case_assigned")
        await tell(removed, "case_reassigned_away")
    elif action is Action.ACKNOWLEDGE:
        await tell([case.requester_id], "case_acknowledged")
    elif action is Action.BOOK:
        await tell(case.participants(), "meeting_booked", rebooked=before.state is CaseState.MEETING_BOOKED)
        await ask_for_participants(service, tx, before, case, actor_id)
        await tell(removed_participants(before, case), "participant_removed")
    elif action is Action.HOLD_NOW:
        await tell(case.participants(), "meeting_held_now")
        await ask_for_participants(service, tx, before, case, actor_id)
        await tell(removed_participants(before, case), "participant_removed")
    elif action is Action.APPOINT:
        named = [p for p in case.meeting_people() if p not in before.meeting_people()]
        await tell(named, "meeting_held_now" if case.held_now else "meeting_booked", appointed=True, rebooked=False)
    elif action is Action.WAIT:
        await tell(case.participants(), "case_waiting")
    elif action is Action.RESUME:
        await tell(case.participants(), "case_resumed")
    elif action is Action.NO_SHOW:
        await tell(case.participants(), "meeting_no_show", missed_at=before.meeting_at)
    elif action in (Action.RECORD_OUTCOME, Action.CORRECT_OUTCOME):
        await tell(case.participants(), "outcome_recorded",
                   support=directory.sip_support(case.target_unit, case.requester_unit),
                   previous=before.outcome.value if action is Action.CORRECT_OUTCOME and before.outcome else None)
    elif action is Action.ADD_FOLLOW_UP and case.follow_ups[-1].proposed:
        await follow_up_proposed(service, tx, case, actor_id)
    elif action is Action.ADD_FOLLOW_UP and case.follow_ups[-1].owner_id != actor_id:  # not told of one's own
        latest = case.follow_ups[-1]
        await out.enqueue(
            tx, latest.owner_id, "follow_up_assigned", case_id=case.id, case_ref=case.ref,
            case=case, actor=actor_id, due=latest.due_date, what=latest.what,
            offers=offered("follow_up_assigned", latest.owner_id),
        )
    elif action is Action.CLOSE:
        # follow-ups still open at closing were cancelled or handed over: their owners are told too
        ended = [n for n, (old, new) in enumerate(zip(before.follow_ups, case.follow_ups, strict=True), start=1)
                 if old.is_open and not new.is_open]
        owners = [case.follow_ups[n - 1].owner_id for n in ended]
        await tell([*case.participants(), *owners], "case_closed", ended=ended)
    elif action is Action.REOPEN:
        await tell(case.participants(), "case_reopened")
    elif action is Action.WITHDRAW_CONSENT:
        await tell(case.participants(), "consent_withdrawn")
    elif action is Action.WITHDRAW_CONSENT_UNIT:
        gone = [u for u in case.consent_withdrawn if u not in before.consent_withdrawn]
        left_meeting = [u for u in before.meeting_units if u in gone]
        await tell(case.participants(), "consent_withdrawn_unit", units=gone, left_meeting=left_meeting,
                   lost_access=False, meeting_at=before.meeting_at)
        # The unit's own people who heard of the case: they no longer have access (their messages are retracted).
        told = []
        for pid in await out.delivered_to(tx, case.id):
            person = service.directory.person(pid)
            if person is not None and person.unit in gone and pid not in case.participants():
                told.append(pid)
        await tell(told, "consent_withdrawn_unit", units=gone, left_meeting=left_meeting, lost_access=True,
                   meeting_at=before.meeting_at)
    elif action is Action.RENEW_CONSENT:
        await tell(case.participants(), "consent_renewed", paused=before.consent_valid_until < service.today())


def proposal_recipients(service: CaseEngine, case: Case, number: int) -> list[str]:
    """Who is asked to accept proposed follow-up `number`: its owner and the present distributors of the owner's
    unit (the deputy when they are away)."""
    owner = case.follow_ups[number - 1].owner_id
    unit = service.directory.unit_of(owner)
    distributors = (service.directory.active_distributors(unit.id) or service.directory.distributors_of(unit.id)) \
        if unit else []
    return list(dict.fromkeys([owner, *distributors]))


async def follow_up_proposed(service: CaseEngine, tx: Tx, case: Case, actor_id: str) -> None:
    """A follow-up given to someone of the other principal: ask its owner and their distributor to accept it."""
    number = len(case.follow_ups)
    latest = case.follow_ups[-1]
    for pid in proposal_recipients(service, case, number):
        if pid == actor_id:
            continue
        await service.outbox.enqueue(
            tx, pid, "follow_up_proposed", case_id=case.id, case_ref=case.ref, case=case, actor=actor_id,
            number=number, owner=latest.owner_id, due=latest.due_date, what=latest.what,
            offers=offers.for_message("follow_up_proposed", case, pid, service.directory, number=number),
        )


async def follow_up_answered(service: CaseEngine, tx: Tx, case: Case, number: int, actor_id: str,
                             kind: str) -> None:
    """Tell the one who proposed the follow-up, and its owner when their distributor answered, that it was
    accepted (`kind` follow_up_accepted) or declined (follow_up_declined)."""
    follow_up = case.follow_ups[number - 1]
    for pid in dict.fromkeys([p for p in (follow_up.created_by, follow_up.owner_id) if p]):
        if pid == actor_id:
            continue
        await service.outbox.enqueue(
            tx, pid, kind, case_id=case.id, case_ref=case.ref, case=case, actor=actor_id,
            number=number, owner=follow_up.owner_id, due=follow_up.due_date,
            offers=offers.for_message(kind, case, pid, service.directory, number=number),
        )

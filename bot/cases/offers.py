"""Which actions a person has on a case now, as offers a message carries: pure functions, no I/O.

The one place that turns the state machine (`rules.ALLOWED_FROM`) and who may act (`rules.authorize`) into
buttons and console hints. Messages, replies and views ask here; templates and listeners never re-derive it.
"""

from __future__ import annotations

from collections.abc import Iterable

from bot.cases import consent
from bot.cases.disputes import is_coordinator, outside_own_organisation
from bot.cases.models import Case, CaseState, MeetingKind
from bot.cases.rules import (
    Action,
    authorize,
    check_accept_follow_up,
    check_complete_follow_up,
    may,
    may_complete_follow_up,
    open_proposals,
)
from bot.cases.visibility import Level, level
from bot.directory import Directory
from bot.errors import Refusal
from bot.messages import actions as A
from bot.messages.model import Offer

S = CaseState

# The next steps of a case in each state, first the main one: (offered action, the rule it needs).
NEXT_STEPS: dict[CaseState, tuple[tuple[str, Action], ...]] = {
    S.REQUESTED: ((A.ASSIGN, Action.ASSIGN),),
    S.ASSIGNED: ((A.ACKNOWLEDGE, Action.ACKNOWLEDGE),),
    S.ACKNOWLEDGED: ((A.BOOK, Action.BOOK), (A.HOLD_NOW, Action.HOLD_NOW), (A.WAIT, Action.WAIT)),
    S.MEETING_BOOKED: ((A.RECORD_OUTCOME, Action.RECORD_OUTCOME), (A.NO_SHOW, Action.NO_SHOW),
                       (A.REBOOK, Action.BOOK)),
    S.WAITING: ((A.RESUME, Action.RESUME), (A.WAIT, Action.WAIT), (A.BOOK, Action.BOOK),
                (A.HOLD_NOW, Action.HOLD_NOW), (A.CLOSE, Action.CLOSE)),
    S.MEETING_HELD: ((A.ADD_FOLLOW_UP, Action.ADD_FOLLOW_UP), (A.CLOSE, Action.CLOSE)),
    S.FOLLOW_UP: ((A.ADD_FOLLOW_UP, Action.ADD_FOLLOW_UP), (A.CLOSE, Action.CLOSE)),
    S.CLOSED: ((A.REOPEN, Action.REOPEN),),
}

def withdraw_offer(case: Case) -> Offer:
    """Withdrawing the consent: at once (confirmed) when it can only be withdrawn whole; a form with the choice
    (whole, or one unit) when it covers more units than the requester's and the target unit."""
    if consent.withdrawable_units(case):
        return Offer(A.WITHDRAW_CONSENT_FORM, case.ref)
    return Offer(A.WITHDRAW_CONSENT, case.ref)


def next_steps(case: Case, person_id: str, directory: Directory, *, withdraw: bool = False,
               skip: Iterable[str] = ()) -> tuple[Offer, ...]:
    """The person's next steps on the case now (the first one primary), and, with `withdraw`, withdrawing
    the consent when they may. `skip` leaves out offered actions by name."""
    left_out = set(skip)
    if case.held_now:  # the individual is there: no no-show, and nothing to rebook
        left_out |= {A.NO_SHOW, A.REBOOK}
    if case.meeting_kind is MeetingKind.STAFF:  # a tjänstepersonmöte: the individual was never to come
        left_out.add(A.NO_SHOW)
    out: list[Offer] = []
    for name, action in NEXT_STEPS.get(case.state, ()):
        if name not in left_out and may(action, case, person_id, directory):
            out.append(Offer(name, case.ref, primary=not out))
    if withdraw and may(Action.WITHDRAW_CONSENT, case, person_id, directory):
        out.append(withdraw_offer(case))
    return tuple(out)


def has_next(case: Case, person_id: str, directory: Directory) -> bool:
    """Whether the person has a next step on the case."""
    return bool(next_steps(case, person_id, directory))


def renew(case: Case, person_id: str, directory: Directory, *, primary: bool = False) -> tuple[Offer, ...]:
    """Renewing the consent, for those who may record it (the requester's side)."""
    return (Offer(A.RENEW_CONSENT, case.ref, primary=primary),) if consent.may_record(case, person_id, directory) \
        else ()


def follow_up_done(case: Case, person_id: str, number: int) -> tuple[Offer, ...]:
    """Marking follow-up `number` done, for its owner and those responsible, while it is open."""
    if not 1 <= number <= len(case.follow_ups):
        return ()
    follow_up = case.follow_ups[number - 1]
    if follow_up.done_at is not None or not follow_up.counts or case.state not in (S.MEETING_HELD, S.FOLLOW_UP):
        return ()
    if not may_complete_follow_up(case, person_id, number):
        return ()
    return (Offer(A.FOLLOW_UP_DONE, case.ref, item=number, primary=True),)


def journal(case: Case, person_id: str, directory: Directory) -> tuple[Offer, ...]:
    """The journal record, once the meeting was held (or the case closed), for those who see the whole case."""
    if case.state not in (S.MEETING_HELD, S.FOLLOW_UP, S.CLOSED):
        return ()
    if level(case, person_id, directory) is not Level.FULL:
        return ()
    return (Offer(A.JOURNAL, case.ref),)


def accept_follow_up(case: Case, person_id: str, directory: Directory, number: int) -> tuple[Offer, ...]:
    """Accepting (or declining) proposed follow-up `number`, for its owner and their unit's distributors, while it
    is open."""
    if number not in open_proposals(case, person_id, directory):
        return ()
    return (Offer(A.ACCEPT_FOLLOW_UP, case.ref, item=number, primary=True),
            Offer(A.DECLINE_FOLLOW_UP, case.ref, item=number))


def refusal_now(case: Case, person_id: str, directory: Directory, action: str, item: int | None) -> Refusal | None:
    """None when the person may take `action` (on follow-up `item`) on the case now; else the refusal the
    service would give (the e-mail link pages ask this before showing a button). The same checks as the
    services', from `rules`."""
    try:
        if action == A.ACKNOWLEDGE:
            authorize(Action.ACKNOWLEDGE, case, person_id, directory)
        elif action == A.FOLLOW_UP_DONE:
            check_complete_follow_up(case, person_id, item or 0)
        elif action in (A.ACCEPT_FOLLOW_UP, A.DECLINE_FOLLOW_UP):
            check_accept_follow_up(case, person_id, item or 0, directory)
        elif action == A.NO_SHOW:
            if case.held_now:  # the meeting is being held: nobody failed to come (as next_steps)
                raise Refusal("wrong_state", ref=case.ref, action=action, state=case.state.value)
            if case.meeting_kind is MeetingKind.STAFF:  # as the service (bot/cases/meeting.py)
                raise Refusal("staff_meeting_no_show", ref=case.ref)
            authorize(Action.NO_SHOW, case, person_id, directory)
        elif action == A.RESUME:
            authorize(Action.RESUME, case, person_id, directory)
        elif action == A.REOPEN:
            authorize(Action.REOPEN, case, person_id, directory)
        elif action == A.WITHDRAW_CONSENT:
            authorize(Action.WITHDRAW_CONSENT, case, person_id, directory)
        else:
            return Refusal("link_incomplete", ref=case.ref)
    except Refusal as refusal:
        return refusal
    return None


def escalation(item_id: int, ref: str) -> tuple[Offer, ...]:
    """What an alerted rung may do about an escalation: take over, nudge, or reassign."""
    return (Offer(A.LADDER_TAKE_OVER, ref, item=item_id, primary=True), Offer(A.LADDER_NUDGE, ref, item=item_id),
            Offer(A.LADDER_REASSIGN, ref, item=item_id))


def escalation_for(item_id: int, ref: str, kind: str, unit_id: str, person_id: str,
                   directory: Directory) -> tuple[Offer, ...]:
    """What one alerted person may do about an escalation: a dispute is settled (and a coordinator may take it
    to the samverkansnivå); a coordinator outside the unit's organisation nudges or takes the question to the
    samverkansnivå but assigns nobody there (bot.disputes.rules); everyone else gets `escalation`."""
    coordinator = is_coordinator(person_id, directory)
    if kind == "dispute":
        settle = (Offer(A.SETTLE_DISPUTE, ref, primary=True),)
        return (*settle, Offer(A.TO_SAMVERKAN, ref, item=item_id)) if coordinator else settle
    if outside_own_organisation(person_id, unit_id, directory):
        return (Offer(A.TO_SAMVERKAN, ref, item=item_id, primary=True), Offer(A.LADDER_NUDGE, ref, item=item_id))
    if kind == "resume":  # a waiting case is decided by those who reach the individual: nudge them, assign nobody
        return (Offer(A.LADDER_NUDGE, ref, item=item_id, primary=True),)
    return escalation(item_id, ref)


def dispute(case: Case, person_id: str, directory: Directory) -> tuple[Offer, ...]:
    """Saying the case is not the receiving unit's (*inte vårt*), for those who may, while it is not disputed."""
    if case.disputed or not may(Action.DISPUTE, case, person_id, directory):
        return ()
    return (Offer(A.DISPUTE, case.ref),)


def settle(case: Case, person_id: str, directory: Directory) -> tuple[Offer, ...]:
    """Settling the open dispute, for those who may."""
    if not case.disputed or not may(Action.SETTLE_DISPUTE, case, person_id, directory):
        return ()
    return (Offer(A.SETTLE_DISPUTE, case.ref, primary=True),)


def confirm_agreement(case: Case, person_id: str, directory: Directory) -> tuple[Offer, ...]:
    """Confirming the other side's proposal in the open dispute (a button; the dispute service checks the side),
    or proposing another agreement instead."""
    if not case.disputed or not may(Action.SETTLE_DISPUTE, case, person_id, directory):
        return ()
    return (Offer(A.CONFIRM_AGREEMENT, case.ref, primary=True), Offer(A.SETTLE_DISPUTE, case.ref))


# Messages about a case that offer the recipient's next steps on it.
NEXT_STEP_MESSAGES = frozenset({
    "urgent_request", "assigned_to_you", "meeting_booked", "meeting_no_show", "outcome_recorded", "case_closed",
    "case_reopened", "consent_renewed", "ladder_nudge", "reminder_meeting_day", "reminder_outcome",
    "meeting_held_now", "case_waiting", "case_resumed", "reminder_waiting_ends",
})
# Messages to the receiving unit that also offer saying the case is not theirs (a tvist), after the next steps.
DISPUTE_OFFERED = frozenset({"urgent_request", "assigned_to_you", "ladder_nudge"})
# The next steps a reminder leaves out (before the meeting, its outcome is not asked for).
LEFT_OUT: dict[str, frozenset[str]] = {
    "reminder_prepare": frozenset({A.RECORD_OUTCOME, A.NO_SHOW}),
    "reminder_outcome": frozenset({A.REBOOK}),
}


def for_message(kind: str, case: Case, person_id: str, directory: Directory, *, number: int = 0) -> tuple[
        Offer, ...]:
    """The actions a message of `kind` about `case` offers `person_id` (`number`: a follow-up's number)."""
    if kind == "case_filed":
        return next_steps(case, person_id, directory, withdraw=True)
    if kind == "participant_wanted":
        return appoint(case, person_id, directory)
    if kind == "follow_up_assigned":
        return follow_up_done(case, person_id, number or len(case.follow_ups))
    if kind in ("reminder_follow_up", "follow_up_accepted"):
        return follow_up_done(case, person_id, number)
    if kind == "follow_up_proposed":
        return accept_follow_up(case, person_id, directory, number or len(case.follow_ups))
    if kind in ("reminder_consent_expiring", "consent_expired"):
        return renew(case, person_id, directory, primary=kind == "consent_expired")
    if kind in NEXT_STEP_MESSAGES or kind in LEFT_OUT:
        steps = next_steps(case, person_id, directory, skip=LEFT_OUT.get(kind, ()))
        if kind == "meeting_no_show":  # the meeting must be booked again
            steps = tuple(Offer(A.BOOK_AGAIN, o.ref, o.item, o.primary) if o.action == A.BOOK else o for o in steps)
        if kind == "reminder_prepare":
            steps = tuple(Offer(o.action, o.ref, o.item, False) for o in steps)
        if kind in ("case_closed", "outcome_recorded"):
            steps += journal(case, person_id, directory)
        if kind in DISPUTE_OFFERED:
            steps = (*steps, *dispute(case, person_id, directory))
        return steps
    return ()


def after_accept(case: Case, person_id: str, directory: Directory, number: int) -> tuple[Offer, ...]:
    """What the answer to accepting follow-up `number` offers: marking it done (for its owner), then the next
    steps."""
    return (*follow_up_done(case, person_id, number), *after_action(case, person_id, directory))


def appoint(case: Case, person_id: str, directory: Directory) -> tuple[Offer, ...]:
    """Naming who attends the meeting for a unit still waiting for a name, for those who may."""
    return (Offer(A.APPOINT, case.ref, primary=True),) if may(Action.APPOINT, case, person_id, directory) else ()


def after_action(case: Case, person_id: str, directory: Directory) -> tuple[Offer, ...]:
    """What the answer to the one who acted offers: their next steps, and withdrawing the consent (nothing
    after distributing: the case now waits for those it was given to)."""
    if case.state is S.ASSIGNED and person_id not in case.responsible():
        return ()
    return next_steps(case, person_id, directory, withdraw=True) + journal(case, person_id, directory)

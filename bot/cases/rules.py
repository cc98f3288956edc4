"""The case state machine and who may do what: pure functions, no I/O."""

from __future__ import annotations

from enum import StrEnum

from bot.cases.consent import covers, may_record
from bot.cases.disputes import check_coordinator_assigns, may_dispute, settlers
from bot.cases.models import OPEN_STATES, Case, CaseState, CloseReason
from bot.directory import Directory
from bot.errors import FieldError, Refusal


class Action(StrEnum):
    ASSIGN = "assign"
    ACKNOWLEDGE = "acknowledge"
    BOOK = "book"
    NO_SHOW = "no_show"
    RECORD_OUTCOME = "record_outcome"
    CORRECT_OUTCOME = "correct_outcome"  # a wrong outcome put right by those who may record it (history keeps both)
    ADD_FOLLOW_UP = "add_follow_up"
    CLOSE = "close"
    REOPEN = "reopen"
    WITHDRAW_CONSENT = "withdraw_consent"
    WITHDRAW_CONSENT_UNIT = "withdraw_consent_unit"  # for one unit only: the case goes on with the others
    RENEW_CONSENT = "renew_consent"
    WAIT = "wait"  # vilande: the individual cannot be reached or asked for time
    RESUME = "resume"
    HOLD_NOW = "hold_now"  # the meeting is being held now (the individual turned up unannounced)
    DISPUTE = "dispute"  # the receiving unit: "vi bedömer att ärendet inte är vårt" (bot.disputes)
    SETTLE_DISPUTE = "settle_dispute"  # the other side confirms what was proposed: the dispute is settled
    PROPOSE_AGREEMENT = "propose_agreement"  # one side of a dispute proposes what was agreed (issue #18 item 2)
    APPOINT = "appoint"  # a unit's distributor names who attends the meeting for the unit


S = CaseState
ALLOWED_FROM: dict[Action, frozenset[CaseState]] = {
    Action.ASSIGN: frozenset({S.REQUESTED, S.ASSIGNED, S.ACKNOWLEDGED}),
    Action.ACKNOWLEDGE: frozenset({S.ASSIGNED}),
    Action.BOOK: frozenset({S.ACKNOWLEDGED, S.MEETING_BOOKED, S.WAITING}),
    Action.NO_SHOW: frozenset({S.MEETING_BOOKED}),
    Action.RECORD_OUTCOME: frozenset({S.MEETING_BOOKED}),
    Action.CORRECT_OUTCOME: frozenset({S.MEETING_HELD, S.FOLLOW_UP}),
    Action.ADD_FOLLOW_UP: frozenset({S.MEETING_HELD, S.FOLLOW_UP}),
    Action.CLOSE: OPEN_STATES,
    Action.REOPEN: frozenset({S.CLOSED}),
    Action.WITHDRAW_CONSENT: OPEN_STATES,
    Action.WITHDRAW_CONSENT_UNIT: OPEN_STATES,
    Action.RENEW_CONSENT: OPEN_STATES,
    Action.WAIT: frozenset({S.ACKNOWLEDGED, S.WAITING}),  # from waiting: the wait is extended
    Action.RESUME: frozenset({S.WAITING}),
    Action.HOLD_NOW: frozenset({S.ACKNOWLEDGED, S.MEETING_BOOKED, S.WAITING}),
    Action.DISPUTE: OPEN_STATES,  # the state stays: a disputed case is neither closed nor moved on
    Action.SETTLE_DISPUTE: OPEN_STATES,
    Action.PROPOSE_AGREEMENT: OPEN_STATES,
    Action.APPOINT: frozenset({S.MEETING_BOOKED}),
}

TARGET_STATE: dict[Action, CaseState] = {
    Action.ASSIGN: S.ASSIGNED,
    Action.ACKNOWLEDGE: S.ACKNOWLEDGED,
    Action.BOOK: S.MEETING_BOOKED,
    Action.NO_SHOW: S.ACKNOWLEDGED,  # the meeting must be booked again
    Action.RECORD_OUTCOME: S.MEETING_HELD,
    Action.ADD_FOLLOW_UP: S.FOLLOW_UP,
    Action.CLOSE: S.CLOSED,
    Action.WITHDRAW_CONSENT: S.CLOSED,
    Action.WAIT: S.WAITING,
    Action.RESUME: S.ACKNOWLEDGED,  # the meeting is to be booked: what was awaited is armed again
    Action.HOLD_NOW: S.MEETING_BOOKED,  # booked for now: the outcome is what is awaited next
}


# Actions of those responsible that the requester may do too: both parties own the case after the meeting
# (issue #10 item 6). Everything else in the assignees' group stays theirs alone.
REQUESTER_TOO: frozenset[Action] = frozenset({Action.RECORD_OUTCOME, Action.CORRECT_OUTCOME, Action.ADD_FOLLOW_UP})


def assigners(case: Case, directory: Directory) -> list[str]:
    """Who may distribute the case: the target unit's distributors, deputy, and the people on its ladder."""
    ids = directory.distributors_of(case.target_unit)
    unit = directory.units[case.target_unit]
    for rung in unit.ladder:
        ids.extend(p for p in rung.people if p not in ids)
    return ids


def unit_appointers(unit_id: str, directory: Directory) -> list[str]:
    """Who may name the person attending a meeting for `unit_id`: its distributors, deputy and ladder."""
    unit = directory.unit(unit_id)
    if unit is None:
        return []
    ids = directory.distributors_of(unit_id)
    for rung in unit.ladder:
        ids.extend(p for p in rung.people if p not in ids)
    return ids


def appointers(case: Case, unit_id: str, directory: Directory) -> list[str]:
    """Who may name the attendee for `unit_id`: the unit's distributors, deputy and ladder, and those who booked
    (the requester and those responsible)."""
    return list(dict.fromkeys([*unit_appointers(unit_id, directory), case.requester_id, *case.responsible()]))


def next_state(action: Action, case: Case) -> CaseState:
    """The state the case moves to; reopening returns to where it was closed from, and renewing the
    consent or withdrawing it for one unit leaves the state as it is."""
    if action is Action.REOPEN:
        return case.state_before_close or S.REQUESTED
    return TARGET_STATE.get(action, case.state)


def may(action: Action, case: Case, actor_id: str, directory: Directory) -> bool:
    """Whether `actor_id` may do `action` on `case` now (`authorize` without the reason)."""
    try:
        authorize(action, case, actor_id, directory)
    except Refusal:
        return False
    return True


def check_assign(case: Case, *, reassign: bool) -> None:
    """Distributing a case that already has someone is a reassignment, and must be asked for as one."""
    if case.state is not S.REQUESTED and not reassign:
        raise Refusal("already_assigned", ref=case.ref, by=case.assigned_by or "", at=case.assigned_at)


def may_complete_follow_up(case: Case, actor_id: str, number: int) -> bool:
    """A follow-up is marked done by its owner or by those responsible for the case."""
    follow_up = case.follow_ups[number - 1]
    return actor_id == follow_up.owner_id or actor_id in case.responsible()


# --- follow-ups across principals (issue #10 item 6) ----------------------------------------------
FOLLOW_UP_STATES = frozenset({S.MEETING_HELD, S.FOLLOW_UP})


def check_complete_follow_up(case: Case, actor_id: str, number: int) -> None:
    """Raise Refusal unless `actor_id` may mark follow-up `number` (1-based) done now."""
    if case.state not in FOLLOW_UP_STATES:
        raise Refusal("wrong_state", ref=case.ref, action="complete_follow_up", state=case.state.value)
    if not 1 <= number <= len(case.follow_ups):
        raise Refusal("follow_up_not_found", ref=case.ref, number=number)
    follow_up = case.follow_ups[number - 1]
    if not may_complete_follow_up(case, actor_id, number):
        raise Refusal("not_follow_up_owner", ref=case.ref)
    if follow_up.done_at is not None:
        raise Refusal("follow_up_already_done", ref=case.ref, number=number)
    if follow_up.proposed:
        raise Refusal("follow_up_not_accepted", ref=case.ref, number=number)
    if follow_up.declined:
        raise Refusal("follow_up_declined", ref=case.ref, number=number)


def is_proposal(actor_id: str, owner_id: str, directory: Directory) -> bool:
    """Whether a follow-up `actor_id` gives to `owner_id` is a proposal: the owner works for another principal
    (huvudman: kommun or region) than the one who gives it, so it counts only once they accept it. Within the
    same principal it counts at once."""
    mine, theirs = directory.unit_of(actor_id), directory.unit_of(owner_id)
    if mine is None or theirs is None:
        return False
    return mine.principal != theirs.principal


def follow_up_acceptors(case: Case, number: int, directory: Directory) -> list[str]:
    """Who may accept proposed follow-up `number`: its owner and the distributors (and deputy) of the owner's
    unit."""
    owner = case.follow_ups[number - 1].owner_id
    unit = directory.unit_of(owner)
    return list(dict.fromkeys([owner, *(directory.distributors_of(unit.id) if unit else [])]))


def open_proposals(case: Case, person_id: str, directory: Directory) -> list[int]:
    """The numbers of the case's proposed follow-ups that `person_id` may accept now."""
    if case.state not in FOLLOW_UP_STATES:
        return []
    return [n for n, f in enumerate(case.follow_ups, start=1)
            if f.proposed and f.done_at is None and person_id in follow_up_acceptors(case, n, directory)]


def check_accept_follow_up(case: Case, actor_id: str, number: int, directory: Directory) -> None:
    """Raise Refusal unless `actor_id` may accept (or decline) proposed follow-up `number` now."""
    if case.state not in FOLLOW_UP_STATES:
        raise Refusal("wrong_state", ref=case.ref, action="accept_follow_up", state=case.state.value)
    if not 1 <= number <= len(case.follow_ups):
        raise Refusal("follow_up_not_found", ref=case.ref, number=number)
    if actor_id not in follow_up_acceptors(case, number, directory):
        raise Refusal("not_follow_up_acceptor", ref=case.ref, number=number)
    follow_up = case.follow_ups[number - 1]
    if follow_up.done_at is not None:
        raise Refusal("follow_up_already_done", ref=case.ref, number=number)
    if follow_up.declined:
        raise Refusal("follow_up_declined", ref=case.ref, number=number)
    if not follow_up.proposed:
        raise Refusal("follow_up_already_accepted", ref=case.ref, number=number)


def follow_up_owners(case: Case, directory: Directory) -> list[str]:
    """Who may own a follow-up of the case: those responsible, the requester, and the staff of the target
    and the requester's unit (in that order, each once), as far as the consent covers their unit (the owner
    is told what to follow up)."""
    ids = list(dict.fromkeys([*case.responsible(), case.requester_id,
                              *(p.id for p in directory.staff_of(case.target_unit)),
                              *(p.id for p in directory.staff_of(case.requester_unit))]))
    return [pid for pid in ids if (p := directory.person(pid)) is not None and covers(case, p.unit)]


def check_follow_up_owner(case: Case, owner_id: str, directory: Directory) -> None:
    """Raise FieldError (on `agare`) when the consent does not cover the owner's unit: a follow-up would tell
    them about the case. The error names the unit and who can record a wider consent."""
    person = directory.person(owner_id)
    if person is not None and not covers(case, person.unit):
        raise FieldError.one("agare", "owner_outside_consent", person=owner_id, unit=person.unit, ref=case.ref,
                             requester=case.requester_id)


def authorize(action: Action, case: Case, actor_id: str, directory: Directory) -> None:
    """Raise Refusal unless `actor_id` may do `action` on `case` in its current state."""
    if case.state not in ALLOWED_FROM[action]:
        raise Refusal("wrong_state", ref=case.ref, action=action.value, state=case.state.value, at=case.meeting_at)
    if action is Action.ASSIGN:
        allowed = assigners(case, directory)
        if actor_id not in allowed:
            raise Refusal("not_distributor", ref=case.ref, unit=case.target_unit)
        check_coordinator_assigns(actor_id, case.target_unit, case.ref, directory)
        if case.disputed:  # whose the case is, is what the dispute decides: nobody is assigned until it is settled
            raise Refusal("disputed_not_assigned", ref=case.ref)
        return
    if action is Action.DISPUTE:
        if not may_dispute(case, actor_id, directory):
            raise Refusal("not_receiving_unit", ref=case.ref, unit=case.target_unit)
        return
    if action in (Action.SETTLE_DISPUTE, Action.PROPOSE_AGREEMENT):
        if actor_id not in settlers(case, directory):
            raise Refusal("not_dispute_settler", ref=case.ref)
        return
    if action is Action.APPOINT:  # which unit still awaits a name is checked by the service
        units = case.pending_units() or case.meeting_units
        if not any(actor_id in appointers(case, u, directory) for u in units) \
                and actor_id not in appointers(case, case.target_unit, directory):
            raise Refusal("not_appointer", ref=case.ref, units=units or [case.target_unit])
        return
    if action in (Action.ACKNOWLEDGE, Action.BOOK, Action.NO_SHOW, Action.RECORD_OUTCOME, Action.CORRECT_OUTCOME,
                  Action.ADD_FOLLOW_UP, Action.WAIT, Action.RESUME, Action.HOLD_NOW):
        if actor_id in case.responsible():
            return
        if action in REQUESTER_TOO:
            if actor_id != case.requester_id:
                raise Refusal("not_case_party", ref=case.ref, action=action.value)
            return
        raise Refusal("not_assignee", ref=case.ref, action=action.value)
    # close, reopen, withdraw or renew consent: the case's own staff (renewing: only the requester's side)
    staff = {case.requester_id, *case.responsible(), *directory.distributors_of(case.target_unit)}
    if actor_id not in staff:
        raise Refusal("not_case_staff", ref=case.ref, action=action.value)
    if action is Action.REOPEN and case.closed_reason is CloseReason.CONSENT_WITHDRAWN:
        raise Refusal("reopen_after_withdrawal", ref=case.ref)
    if action is Action.RENEW_CONSENT and not may_record(case, actor_id, directory):
        raise Refusal("consent_not_recorder", ref=case.ref, requester=case.requester_id)

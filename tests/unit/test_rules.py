"""The state machine: every action from every state, and who may do it."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from bot.cases.models import Case, CaseState, CaseType, CloseReason, FollowUp, FollowUpStatus
from bot.cases.rules import (
    ALLOWED_FROM,
    Action,
    authorize,
    check_accept_follow_up,
    is_proposal,
    next_state,
    open_proposals,
)
from bot.config import DEFAULT_DIRECTORY
from bot.directory import Directory, load_directory
from bot.errors import Refusal

DIRECTORY: Directory = load_directory(DEFAULT_DIRECTORY)
NOW = datetime(2026, 11, 23, 9, tzinfo=UTC)

# The person allowed to do each action on the sample case below.
ACTOR: dict[Action, str] = {
    Action.ASSIGN: "fatima.ali",
    Action.ACKNOWLEDGE: "linnea.fors",
    Action.BOOK: "linnea.fors",
    Action.NO_SHOW: "linnea.fors",
    Action.RECORD_OUTCOME: "linnea.fors",
    Action.CORRECT_OUTCOME: "linnea.fors",
    Action.ADD_FOLLOW_UP: "linnea.fors",
    Action.CLOSE: "maria.sand",
    Action.REOPEN: "maria.sand",
    Action.WITHDRAW_CONSENT: "maria.sand",
    Action.WITHDRAW_CONSENT_UNIT: "maria.sand",
    Action.RENEW_CONSENT: "maria.sand",
    Action.WAIT: "linnea.fors",
    Action.RESUME: "linnea.fors",
    Action.HOLD_NOW: "linnea.fors",
    Action.DISPUTE: "fatima.ali",  # the receiving unit: its distributor (or those responsible)
    Action.SETTLE_DISPUTE: "helena.ros",  # the receiving unit's line manager (first rung of its ladder)
    Action.PROPOSE_AGREEMENT: "carina.berg",  # the requester's unit's line manager proposes (issue #18 item 2)
    Action.APPOINT: "fatima.ali",  # the target unit's distributor
}
# Someone who may never do it.
OUTSIDER: dict[Action, str] = {
    Action.ASSIGN: "linnea.fors",  # staff of the target unit, not its distributor
    Action.ACKNOWLEDGE: "sofia.grahn",  # same unit, not assigned
    Action.BOOK: "maria.sand",  # the requester
    Action.NO_SHOW: "fatima.ali",
    Action.RECORD_OUTCOME: "omar.haddad",  # the requester's colleague, not on the case
    Action.CORRECT_OUTCOME: "omar.haddad",
    Action.ADD_FOLLOW_UP: "yusuf.kaya",
    Action.CLOSE: "yusuf.kaya",  # another unit
    Action.REOPEN: "petra.lund",
    Action.WITHDRAW_CONSENT: "lena.mark",
    Action.WITHDRAW_CONSENT_UNIT: "yusuf.kaya",
    Action.RENEW_CONSENT: "omar.haddad",  # same unit as the requester, but not on the case
    Action.WAIT: "maria.sand",  # the requester: waiting is for those who reach the individual
    Action.RESUME: "sofia.grahn",  # same unit, not assigned
    Action.HOLD_NOW: "maria.sand",
    Action.DISPUTE: "maria.sand",  # the requester cannot say the case is not the receiving unit's
    Action.SETTLE_DISPUTE: "linnea.fors",  # staff, on no ladder
    Action.PROPOSE_AGREEMENT: "maria.sand",  # the requester proposes nothing: she is on no ladder
    Action.APPOINT: "yusuf.kaya",  # another unit, not on the case
}


def sample(state: CaseState, **overrides: object) -> Case:
    data: dict[str, object] = dict(
        id=1,
        ref="GFI-2026-0001",
        state=state,
        case_type=CaseType.NEW_ONE,
        target_unit="beroende",
        requester_id="maria.sand",
        requester_unit="soc-norr",
        contact=None,
        brief="x",
        consent_scope=["soc-norr", "beroende"],
        consent_valid_until=date(2027, 1, 1),
        urgent=False,
        created_at=NOW,
        updated_at=NOW,
        version=1,
        assignees=[] if state is CaseState.REQUESTED else ["linnea.fors"],
        assigned_by=None if state is CaseState.REQUESTED else "fatima.ali",
        state_before_close=CaseState.ASSIGNED if state is CaseState.CLOSED else None,
        closed_reason=CloseReason.COMPLETED if state is CaseState.CLOSED else None,
    )
    data.update(overrides)
    return Case(**data)  # type: ignore[arg-type]


ALL = [(action, state) for action in Action for state in CaseState]


@pytest.mark.parametrize(("action", "state"), ALL, ids=[f"{a.value}-from-{s.value}" for a, s in ALL])
def test_every_action_from_every_state(action: Action, state: CaseState) -> None:
    case = sample(state)
    if state in ALLOWED_FROM[action]:
        authorize(action, case, ACTOR[action], DIRECTORY)
    else:
        with pytest.raises(Refusal) as exc:
            authorize(action, case, ACTOR[action], DIRECTORY)
        assert exc.value.code == "wrong_state"


@pytest.mark.parametrize("action", list(Action), ids=[a.value for a in Action])
def test_outsiders_are_refused(action: Action) -> None:
    state = sorted(ALLOWED_FROM[action])[0]
    with pytest.raises(Refusal) as exc:
        authorize(action, sample(state), OUTSIDER[action], DIRECTORY)
    assert exc.value.code in {"not_distributor", "not_assignee", "not_case_staff", "not_receiving_unit",
                              "not_dispute_settler", "not_case_party", "not_appointer"}


# Both parties own the case (issue #10 item 6): of the assignees' actions, the requester may do these, and only these.
REQUESTER_MAY = {Action.RECORD_OUTCOME, Action.ADD_FOLLOW_UP}
ASSIGNEE_GROUP = [Action.ACKNOWLEDGE, Action.BOOK, Action.NO_SHOW, Action.RECORD_OUTCOME, Action.ADD_FOLLOW_UP,
                  Action.WAIT, Action.RESUME, Action.HOLD_NOW]


@pytest.mark.parametrize("action", ASSIGNEE_GROUP, ids=[a.value for a in ASSIGNEE_GROUP])
def test_the_requester_records_the_outcome_and_adds_follow_ups(action: Action) -> None:
    case = sample(sorted(ALLOWED_FROM[action])[0])
    if action in REQUESTER_MAY:
        authorize(action, case, "maria.sand", DIRECTORY)
        with pytest.raises(Refusal) as exc:
            authorize(action, case, "omar.haddad", DIRECTORY)
        assert exc.value.code == "not_case_party"
    else:
        with pytest.raises(Refusal) as exc:
            authorize(action, case, "maria.sand", DIRECTORY)
        assert exc.value.code == "not_assignee"


@pytest.mark.parametrize(("actor", "owner", "proposal"), [
    ("maria.sand", "linnea.fors", True),  # kommun gives the region's kurator a task
    ("linnea.fors", "maria.sand", True),  # the region gives the kommun's socialsekreterare a task
    ("linnea.fors", "yusuf.kaya", False),  # both region (another unit, same principal)
    ("maria.sand", "petra.lund", False),  # both kommun
    ("maria.sand", "maria.sand", False),  # oneself
])
def test_a_follow_up_for_the_other_principal_is_a_proposal(actor: str, owner: str, proposal: bool) -> None:
    assert is_proposal(actor, owner, DIRECTORY) is proposal


def proposed(state: CaseState = CaseState.FOLLOW_UP) -> Case:
    f = FollowUp(11, "linnea.fors", date(2026, 12, 1), "Ring upp", status=FollowUpStatus.PROPOSED,
                 created_by="maria.sand")
    return sample(state, follow_ups=[f])


@pytest.mark.parametrize(("actor", "number", "case", "code"), [
    ("linnea.fors", 1, proposed(), None),  # the owner
    ("fatima.ali", 1, proposed(), None),  # the distributor of the owner's unit
    ("gustav.lund", 1, proposed(), None),  # its deputy
    ("maria.sand", 1, proposed(), "not_follow_up_acceptor"),  # who proposed it
    ("sofia.grahn", 1, proposed(), "not_follow_up_acceptor"),  # the owner's colleague
    ("helena.ros", 1, proposed(), "not_follow_up_acceptor"),  # the ladder above the distributor
    ("anna.lind", 1, proposed(), "not_follow_up_acceptor"),  # the other principal's distributor
    ("linnea.fors", 2, proposed(), "follow_up_not_found"),
    ("linnea.fors", 1, proposed(CaseState.CLOSED), "wrong_state"),
    ("linnea.fors", 1, sample(CaseState.FOLLOW_UP, follow_ups=[FollowUp(11, "linnea.fors", date(2026, 12, 1), "x")]),
     "follow_up_already_accepted"),
])
def test_who_may_accept_a_proposed_follow_up(actor: str, number: int, case: Case, code: str | None) -> None:
    if code is None:
        check_accept_follow_up(case, actor, number, DIRECTORY)
        assert open_proposals(case, actor, DIRECTORY) == [1]
    else:
        with pytest.raises(Refusal) as exc:
            check_accept_follow_up(case, actor, number, DIRECTORY)
        assert exc.value.code == code


def test_lifecycle_order() -> None:
    expected = {
        Action.ASSIGN: CaseState.ASSIGNED,
        Action.ACKNOWLEDGE: CaseState.ACKNOWLEDGED,
        Action.BOOK: CaseState.MEETING_BOOKED,
        Action.NO_SHOW: CaseState.ACKNOWLEDGED,
        Action.RECORD_OUTCOME: CaseState.MEETING_HELD,
        Action.ADD_FOLLOW_UP: CaseState.FOLLOW_UP,
        Action.CLOSE: CaseState.CLOSED,
        Action.WITHDRAW_CONSENT: CaseState.CLOSED,
        Action.WAIT: CaseState.WAITING,
        Action.RESUME: CaseState.ACKNOWLEDGED,
        Action.HOLD_NOW: CaseState.MEETING_BOOKED,
    }
    for action, state in expected.items():
        assert next_state(action, sample(CaseState.REQUESTED)) is state
    assert next_state(Action.REOPEN, sample(CaseState.CLOSED)) is CaseState.ASSIGNED


def test_deputy_and_ladder_may_assign_but_not_other_units_distributors() -> None:
    case = sample(CaseState.REQUESTED)
    for person in ("gustav.lund", "helena.ros", "jonas.sjo"):
        authorize(Action.ASSIGN, case, person, DIRECTORY)
    with pytest.raises(Refusal):
        authorize(Action.ASSIGN, case, "anna.lind", DIRECTORY)


def test_annan_assignment_makes_the_distributor_responsible() -> None:
    case = sample(CaseState.ASSIGNED, assignees=[], other_assignee="Kommunens mottagning")
    authorize(Action.ACKNOWLEDGE, case, "fatima.ali", DIRECTORY)
    with pytest.raises(Refusal):
        authorize(Action.ACKNOWLEDGE, case, "linnea.fors", DIRECTORY)


def test_no_reopen_after_consent_withdrawal() -> None:
    case = sample(CaseState.CLOSED, closed_reason=CloseReason.CONSENT_WITHDRAWN)
    with pytest.raises(Refusal) as exc:
        authorize(Action.REOPEN, case, "maria.sand", DIRECTORY)
    assert exc.value.code == "reopen_after_withdrawal"


# Vilande and "mötet hölls nu" (issue #10 item 4 and 3): which states they are allowed from.
WAITING_TABLE = [
    (Action.WAIT, {CaseState.ACKNOWLEDGED, CaseState.WAITING}),  # from waiting: extends it (issue #18 item 9)
    (Action.RESUME, {CaseState.WAITING}),
    (Action.HOLD_NOW, {CaseState.ACKNOWLEDGED, CaseState.MEETING_BOOKED, CaseState.WAITING}),
    (Action.BOOK, {CaseState.ACKNOWLEDGED, CaseState.MEETING_BOOKED, CaseState.WAITING}),
    (Action.ACKNOWLEDGE, {CaseState.ASSIGNED}),
]


@pytest.mark.parametrize(("action", "states"), WAITING_TABLE, ids=[a.value for a, _ in WAITING_TABLE])
def test_waiting_and_holding_now_states(action: Action, states: set[CaseState]) -> None:
    allowed = set()
    for state in CaseState:
        try:
            authorize(action, sample(state), "linnea.fors", DIRECTORY)
        except Refusal:
            continue
        allowed.add(state)
    assert allowed == states


def test_a_waiting_case_can_be_closed_by_its_staff_but_not_resumed_by_the_requester() -> None:
    case = sample(CaseState.WAITING)
    authorize(Action.CLOSE, case, "maria.sand", DIRECTORY)
    with pytest.raises(Refusal) as exc:
        authorize(Action.RESUME, case, "maria.sand", DIRECTORY)
    assert exc.value.code == "not_assignee"

"""The state machine: every action from every state, and who may do it."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from bot.cases.models import Case, CaseState, CaseType, CloseReason
from bot.cases.rules import ALLOWED_FROM, Action, authorize, next_state
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
    Action.APPOINT: "fatima.ali",  # the target unit's distributor
}
# Someone who may never do it.
OUTSIDER: dict[Action, str] = {
    Action.ASSIGN: "linnea.fors",  # staff of the target unit, not its distributor
    Action.ACKNOWLEDGE: "sofia.grahn",  # same unit, not assigned
    Action.BOOK: "maria.sand",  # the requester
    Action.NO_SHOW: "fatima.ali",
    Action.RECORD_OUTCOME: "maria.sand",
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
                              "not_dispute_settler", "not_appointer"}


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
    (Action.WAIT, {CaseState.ACKNOWLEDGED}),
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

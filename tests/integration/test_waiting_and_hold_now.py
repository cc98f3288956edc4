"""Issue #10 items 3 and 4: meeting times that can happen (unusual times ask first; "mötet hölls nu"), and a case
waiting for the individual (vilande): nothing climbs while it waits, no brist, and on the date the assignees are
asked to resume or close."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from bot.cases import offers
from bot.cases.models import CaseState
from bot.clock import FrozenClock
from bot.core import Core
from bot.errors import FieldError, Refusal
from bot.messages import actions as A
from bot.reminders.models import TimerKind
from tests.conftest import RecordingSender, local
from tests.timekit import advance, assigned_case, outbox_rows, times

UNITS = ["soc-norr", "beroende"]


async def acknowledged(core: Core) -> str:
    case = await assigned_case(core)
    await core.cases.acknowledge("linnea.fors", case.ref)
    await core.tick()
    return case.ref


async def brist_drafts(core: Core) -> list[dict[str, object]]:
    async with core.db.transaction() as tx:
        return await tx.fetchall("SELECT * FROM brist_drafts")


# --- item 3: unusual times ask, and a confirmed one is booked --------------------------------------------------
@pytest.mark.parametrize(
    ("at", "units", "says"),
    [
        pytest.param("2026-12-24T10:00", UNITS, "infaller på en helgdag (julafton)", id="julafton"),
        pytest.param("2026-12-25T10:00", UNITS, "infaller på en helgdag (juldagen)", id="juldagen"),
        pytest.param("2026-12-31T10:00", UNITS, "infaller på en helgdag (nyårsafton)", id="nyarsafton"),
        pytest.param("2027-06-25T10:00", UNITS, "infaller på en helgdag (midsommarafton)", id="midsommarafton"),
        pytest.param("2026-11-28T10:00", UNITS, "infaller på en helg", id="saturday"),
        pytest.param("2026-11-30T07:00", UNITS, "utanför verksamheternas kontorstid (08:00–17:00)", id="early"),
        # vc-centrum closes at 16:30: 16:45 is inside soc-norr's hours but not theirs
        pytest.param("2026-11-30T16:45", ["soc-norr", "beroende", "vc-centrum"],
                     "utanför verksamheternas kontorstid (08:00–16:30)", id="one-unit-closed"),
    ],
)
async def test_an_unusual_time_asks_for_confirmation_and_a_confirmed_one_is_booked(
    core: Core, clock: FrozenClock, at: str, units: list[str], says: str
) -> None:
    ref = await acknowledged(core)
    if "vc-centrum" in units:
        await core.cases.renew_consent("maria.sand", ref, date(2027, 2, 1), ["soc-norr", "beroende", "vc-centrum"])
    with pytest.raises(FieldError) as exc:
        await core.cases.book("linnea.fors", ref, local(at), "Rum 3", units)
    assert exc.value.errors["tid"][0] == "unusual_time"
    message = core.renderer.field_errors(exc.value)["tid"]  # on a form: its checkbox
    assert says in message and "Ja, tiden är rätt" in message and "bekräfta=ja" not in message
    typed = core.renderer.field_errors(exc.value, channel="console")["tid"]  # in the console: what to type
    assert says in typed and "bekräfta=ja" in typed
    assert (await core.cases.get(ref)).state is CaseState.ACKNOWLEDGED  # nothing was booked
    case = await core.cases.book("linnea.fors", ref, local(at), "Rum 3", units, confirmed=True)
    assert case.state is CaseState.MEETING_BOOKED and case.meeting_at == local(at)


async def test_an_ordinary_working_hour_is_booked_without_asking(core: Core) -> None:
    ref = await acknowledged(core)
    case = await core.cases.book("linnea.fors", ref, local("2026-11-30T16:00"), "Rum 3", UNITS)
    assert case.state is CaseState.MEETING_BOOKED


# --- item 3: "mötet hölls nu" -------------------------------------------------------------------------------------
async def test_the_meeting_held_now_is_recorded_without_a_future_time(
    core: Core, clock: FrozenClock, sender: RecordingSender
) -> None:
    ref = await acknowledged(core)
    clock.set(local("2026-11-24T13:20"))
    sender.clear()
    case = await core.cases.hold_now("linnea.fors", ref, UNITS)
    await core.tick()
    assert case.state is CaseState.MEETING_BOOKED and case.meeting_at == local("2026-11-24T13:20")
    assert case.meeting_units == UNITS and case.meeting_place is None
    [told] = sender.to("maria.sand", "meeting_held_now")
    assert f"GFI-mötet i {ref} hölls tis 24 nov 2026 kl. 13:20, utan bokad tid." in told.text
    # no preparation or meeting-day reminder for a meeting that is already happening; the outcome is asked for
    async with core.db.transaction() as tx:
        timers = await core.reminders.for_case(tx, case.id)
    kinds = {t.kind for t in timers if t.done_at is None}
    assert TimerKind.PREPARE not in kinds and TimerKind.MEETING_DAY not in kinds and TimerKind.OUTCOME in kinds
    # the individual is there: the outcome is offered, not a no-show or a new time
    assert [o.action for o in offers.next_steps(case, "linnea.fors", core.directory)] == [A.RECORD_OUTCOME]
    # the outcome may be recorded at once (after a booked meeting it may not be before the meeting)
    held = await core.cases.record_outcome("linnea.fors", ref, "sip", evaluation_done=True)
    assert held.state is CaseState.MEETING_HELD


async def test_hold_now_after_waiting_and_its_rules(core: Core, clock: FrozenClock) -> None:
    ref = await acknowledged(core)
    await core.cases.wait("linnea.fors", ref, date(2026, 12, 14), "Går inte att nå")
    with pytest.raises(Refusal) as refused:
        await core.cases.hold_now("maria.sand", ref, UNITS)  # the requester is not responsible
    assert refused.value.code == "not_assignee"
    with pytest.raises(FieldError) as exc:
        await core.cases.hold_now("linnea.fors", ref, ["beroende"])
    assert exc.value.errors["enheter"][0] == "too_few_units"
    with pytest.raises(Refusal) as outside:
        await core.cases.hold_now("linnea.fors", ref, ["beroende", "soc-norr", "psykiatri"])
    assert outside.value.code == "units_outside_consent"
    # the individual turns up unannounced while the case waits (Folke in the handbook): held now
    case = await core.cases.hold_now("linnea.fors", ref, UNITS)
    assert case.state is CaseState.MEETING_BOOKED and case.waiting_until is None and case.waiting_reason is None


# --- item 4: vilande ----------------------------------------------------------------------------------------------
async def test_waiting_stops_the_ladder_creates_no_brist_and_asks_to_resume_on_the_date(
    core: Core, clock: FrozenClock, sender: RecordingSender
) -> None:
    ref = await acknowledged(core)  # Monday 23 Nov 10:00: five business days to book
    out = await advance(core, clock, sender, local("2026-11-30T11:00"))
    assert times(out, "escalation") == [("fatima.ali", "2026-11-30T10:00")]  # the booking has climbed one rung
    sender.clear()
    case = await core.cases.wait("linnea.fors", ref, date(2026, 12, 14), "Går inte att nå, ringt tre gånger")
    await core.tick()
    assert case.state is CaseState.WAITING and case.waiting_until == date(2026, 12, 14)
    [resolved] = sender.to("fatima.ali", "escalation_resolved")
    assert "ärendet vilar i väntan på den enskilde" in resolved.text
    [told] = sender.to("maria.sand", "case_waiting")
    assert f"{ref} vilar till mån 14 dec 2026 i väntan på den enskilde." in told.text
    assert "Går inte att nå, ringt tre gånger" in told.text
    # past every due time the ladder would have had: nothing climbs, and no brist draft is made
    sender.clear()
    out = await advance(core, clock, sender, local("2026-12-14T07:00"), step=timedelta(hours=2))
    assert times(out, "escalation") == [] and await brist_drafts(core) == []
    assert [r for r in await core.ladder.history(ref) if r["resolved_at"] is None] == []
    # on the date, at office start, those responsible are asked to resume or close (buttons)
    out = await advance(core, clock, sender, local("2026-12-14T09:00"))
    assert times(out, "reminder_waiting_ends") == [("linnea.fors", "2026-12-14T08:00")]
    [row] = await outbox_rows(core, "reminder_waiting_ends")
    assert '"resume"' in row["message"] and '"close"' in row["message"]
    assert f"{ref} har vilat till i dag (mån 14 dec 2026)." in out[0].text
    assert times(out, "escalation") == []


async def test_resume_re_arms_the_booking_with_a_fresh_due_time(
    core: Core, clock: FrozenClock, sender: RecordingSender
) -> None:
    ref = await acknowledged(core)
    await core.cases.wait("linnea.fors", ref, date(2026, 12, 14), "Vill ha betänketid")
    clock.set(local("2026-12-14T09:00"))
    case = await core.cases.resume("linnea.fors", ref)
    await core.tick()
    assert case.state is CaseState.ACKNOWLEDGED and case.waiting_until is None and case.waiting_reason is None
    rows = [r for r in await core.ladder.history(ref) if r["kind"] == "booking"]
    assert [(r["arm"], r["resolution"]) for r in rows] == [(1, "wait"), (2, None)]
    [told] = sender.to("maria.sand", "case_resumed")
    assert f"{ref} är återupptaget av Linnea Fors. Status: kvitterad, möte ska bokas." in told.text
    sender.clear()
    out = await advance(core, clock, sender, local("2026-12-21T12:00"))
    assert times(out, "escalation") == [("fatima.ali", "2026-12-21T09:00")]  # five business days after resuming


async def test_waiting_is_for_those_responsible_and_needs_a_reason_and_a_later_date(core: Core) -> None:
    ref = await acknowledged(core)
    with pytest.raises(FieldError) as exc:
        await core.cases.wait("linnea.fors", ref, date(2026, 11, 23), "  ")
    assert exc.value.errors["vantar_skal"][0] == "required" and exc.value.errors["till"][0] == "not_future_date"
    with pytest.raises(Refusal) as refused:
        await core.cases.wait("maria.sand", ref, date(2026, 12, 14), "Går inte att nå")
    assert refused.value.code == "not_assignee"
    case = await core.cases.wait("linnea.fors", ref, date(2026, 12, 14), "Går inte att nå")
    assert [o.action for o in offers.next_steps(case, "linnea.fors", core.directory)] == [
        A.RESUME, A.WAIT, A.BOOK, A.HOLD_NOW, A.CLOSE]


async def test_withdrawal_erases_the_waiting_reason(core: Core) -> None:
    ref = await acknowledged(core)
    await core.cases.wait("linnea.fors", ref, date(2026, 12, 14), "Går inte att nå")
    await core.cases.withdraw_consent("maria.sand", ref)
    async with core.db.transaction() as tx:
        [row] = await tx.fetchall("SELECT waiting_reason FROM cases")
    assert row["waiting_reason"] is None


async def test_a_no_show_never_drafts_a_brist(core: Core, clock: FrozenClock, sender: RecordingSender) -> None:
    ref = await acknowledged(core)
    await core.cases.book("linnea.fors", ref, local("2026-11-24T13:00"), "Rum 3", UNITS)
    clock.set(local("2026-11-24T15:00"))
    await core.cases.no_show("linnea.fors", ref)
    out = await advance(core, clock, sender, local("2026-12-10T12:00"), step=timedelta(hours=1))
    escalations = [s for s in out if s.template == "escalation"]
    assert escalations and "sista steget" in escalations[-1].text  # the booking climbed to the top
    assert "brist i samverkan" not in escalations[-1].text
    assert await brist_drafts(core) == []

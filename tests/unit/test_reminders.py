"""Reminders (DESIGN §6): preparation, meeting day, outcome, follow-ups, consent expiry."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from bot.cases.models import Case
from bot.clock import FrozenClock
from bot.core import Core
from bot.errors import FieldError, Refusal
from bot.ladder.service import iso
from tests.conftest import RecordingSender, local
from tests.timekit import advance, assigned_case, form, times

UNITS = ["soc-norr", "beroende"]


async def booked(core: Core, at: str = "2026-11-30T13:00") -> Case:
    case = await assigned_case(core)
    await core.cases.acknowledge("linnea.fors", case.ref)
    return await core.cases.book("linnea.fors", case.ref, local(at), "Rum 3", UNITS)


async def test_meeting_preparation_day_and_outcome(core: Core, clock: FrozenClock, sender: RecordingSender) -> None:
    case = await booked(core)  # booked Monday 23 Nov for Monday 30 Nov 13:00
    await core.tick()
    sender.clear()
    out = await advance(core, clock, sender, local("2026-12-01T16:00"))
    # two business days before at the meeting's time, to the requester and the assignee
    assert times(out, "reminder_prepare") == [("maria.sand", "2026-11-26T13:00"), ("linnea.fors", "2026-11-26T13:00")]
    prepare = next(s for s in out if s.template == "reminder_prepare").text
    for point in ("syftet", "mandat att fatta beslut", "samtycket alla verksamheter", "förmötet",
                  "tjänstepersonmöte", "betalningsansvaret", "oense om ansvaret"):
        assert point in prepare
    assert "Man, 45 år" not in prepare
    assert times(out, "reminder_meeting_day") == [("maria.sand", "2026-11-30T08:00"),
                                                  ("linnea.fors", "2026-11-30T08:00")]
    assert times(out, "reminder_outcome") == [("linnea.fors", "2026-11-30T14:00")]
    assert "delaktighetsutvärderingen" in next(s for s in out if s.template == "reminder_outcome").text
    # no outcome one business day after the meeting: the climb starts at the distributor
    assert times(out, "escalation") == [("fatima.ali", "2026-12-01T13:00")]
    assert "registrering av mötets utfall" in next(s for s in out if s.template == "escalation").text
    sender.clear()
    await core.cases.record_outcome("linnea.fors", case.ref, "kartlaggning", True)
    await core.tick()
    assert [s.recipient for s in sender.sent if s.template == "escalation_resolved"] == ["fatima.ali"]


async def test_rebooking_moves_the_reminders_and_no_show_cancels_them(
    core: Core, clock: FrozenClock, sender: RecordingSender
) -> None:
    case = await booked(core)
    await core.cases.book("linnea.fors", case.ref, local("2026-12-03T10:00"), "Rum 3", UNITS)
    await core.tick()
    sender.clear()
    out = await advance(core, clock, sender, local("2026-12-03T09:00"))
    assert times(out, "reminder_prepare") == [("maria.sand", "2026-12-01T10:00"), ("linnea.fors", "2026-12-01T10:00")]
    assert [s.at.day for s in out if s.template == "reminder_meeting_day"] == [3, 3]
    await core.cases.no_show("linnea.fors", case.ref)
    sender.clear()
    out = await advance(core, clock, sender, local("2026-12-04T12:00"))
    assert [s for s in out if s.template.startswith("reminder_")] == []


async def test_booked_later_the_same_day_reminds_at_once(
    core: Core, clock: FrozenClock, sender: RecordingSender
) -> None:
    await booked(core, "2026-11-23T15:00")
    await core.tick()
    assert sorted(s.recipient for s in sender.sent if s.template == "reminder_meeting_day") == [
        "linnea.fors", "maria.sand"]  # different recipients are served at once: in no particular order
    assert [s for s in sender.sent if s.template == "reminder_prepare"] == []


async def test_follow_ups_remind_before_and_on_the_day_climb_when_overdue_and_can_be_completed(
    core: Core, clock: FrozenClock, sender: RecordingSender
) -> None:
    case = await booked(core)
    clock.set(local("2026-11-30T15:00"))
    await core.cases.record_outcome("linnea.fors", case.ref, "kartlaggning", True)
    await core.cases.add_follow_up("linnea.fors", case.ref, "maria.sand", date(2026, 12, 14), "Stämma av")
    await core.cases.accept_follow_up("maria.sand", case.ref, 1)  # the region's proposal to the kommun: accepted
    await core.cases.add_follow_up("linnea.fors", case.ref, "linnea.fors", date(2026, 12, 15), "Ringa")
    await core.tick()
    sender.clear()
    out = await advance(core, clock, sender, local("2026-12-15T12:00"), step=timedelta(minutes=30))
    assert times(out, "reminder_follow_up") == [
        ("maria.sand", "2026-12-11T08:00"),   # one business day before (Friday)
        ("maria.sand", "2026-12-14T08:00"),   # on the due date
        ("linnea.fors", "2026-12-14T08:00"),  # the second one's "before"
        ("linnea.fors", "2026-12-15T08:00"),
    ]
    assert "/klar " + case.ref + " 1" in out[0].text
    # overdue at the end of the due date (17:00): the owner's unit's distributor (soc-norr: anna.lind)
    # is told, but quiet hours hold the message until the next business morning
    assert times(out, "escalation") == [("anna.lind", "2026-12-15T08:00")]
    sender.clear()
    await core.cases.complete_follow_up("maria.sand", case.ref, 1)
    with pytest.raises(Refusal) as refused:
        await core.cases.complete_follow_up("maria.sand", case.ref, 1)
    assert refused.value.code == "follow_up_already_done"
    with pytest.raises(Refusal) as refused:
        await core.cases.complete_follow_up("maria.sand", case.ref, 2)
    assert refused.value.code == "not_follow_up_owner"
    with pytest.raises(Refusal) as refused:
        await core.cases.complete_follow_up("linnea.fors", case.ref, 3)
    assert refused.value.code == "follow_up_not_found"
    await core.cases.complete_follow_up("linnea.fors", case.ref, 2)
    out = await advance(core, clock, sender, local("2026-12-22T12:00"), step=timedelta(hours=1))
    assert [s.recipient for s in out if s.template == "escalation_resolved"] == ["anna.lind"]
    assert [s for s in out if s.template == "escalation"] == []


async def test_consent_expiry_warns_then_pauses_the_case(
    core: Core, clock: FrozenClock, sender: RecordingSender
) -> None:
    case = await assigned_case(core, consent_valid_until=date(2026, 12, 31))
    await core.cases.acknowledge("linnea.fors", case.ref)
    await core.tick()
    sender.clear()
    out = await advance(core, clock, sender, local("2027-01-04T09:00"), step=timedelta(hours=1))
    # five business days before Thursday 31 Dec (24 Dec is julafton): Tuesday 22 Dec, office start
    assert times(out, "reminder_consent_expiring") == [("maria.sand", "2026-12-22T08:00"),
                                                       ("linnea.fors", "2026-12-22T08:00")]
    # fired at local midnight after the valid-until date (delivery may wait for office hours)
    assert [r for r, _ in times(out, "consent_expired")] == ["maria.sand", "linnea.fors"]
    async with core.db.transaction() as tx:
        fired = await tx.scalar("SELECT done_at FROM timers WHERE kind = 'consent_expired'")
        assert fired == iso(local("2027-01-01T00:00"))
        assert await tx.scalar("SELECT consent_expired_at FROM cases WHERE ref = ?", (case.ref,)) is not None
        assert await tx.scalar("SELECT COUNT(*) FROM awaiting WHERE resolved_at IS NULL") == 0
    # the booking climb was under way (fatima, helena, jonas alerted) and is stopped; alerted are told
    assert [s.recipient for s in out if s.template == "escalation"] == ["fatima.ali", "helena.ros", "jonas.sjo"]
    resolved = [s for s in out if s.template == "escalation_resolved"]
    assert sorted(s.recipient for s in resolved) == ["fatima.ali", "helena.ros", "jonas.sjo"]
    assert "samtycket har gått ut" in resolved[0].text
    with pytest.raises(Refusal) as refused:
        await core.cases.book("linnea.fors", case.ref, local("2027-01-08T10:00"), "Rum 3", UNITS)
    assert refused.value.code == "consent_expired"
    assert "pausat" in core.renderer.refusal(refused.value)


async def test_book_is_refused_after_expiry_even_before_the_sweep_runs(core: Core, clock: FrozenClock) -> None:
    case = await assigned_case(core, consent_valid_until=date(2026, 11, 24))
    await core.cases.acknowledge("linnea.fors", case.ref)
    clock.set(local("2026-11-25T10:00"))
    with pytest.raises(Refusal) as refused:
        await core.cases.book("linnea.fors", case.ref, local("2026-11-27T10:00"), "Rum 3", UNITS)
    assert refused.value.code == "consent_expired"


async def test_withdrawal_stops_pending_reminders_at_once(
    core: Core, clock: FrozenClock, sender: RecordingSender
) -> None:
    case = await booked(core)
    await core.cases.withdraw_consent("maria.sand", case.ref)
    await core.tick()
    sender.clear()
    out = await advance(core, clock, sender, local("2027-03-01T10:00"), step=timedelta(hours=4))
    assert out == []
    async with core.db.transaction() as tx:
        outcomes = {r["outcome"] for r in await tx.fetchall("SELECT outcome FROM timers")}
    assert outcomes == {"cancelled"}


async def test_reopen_re_arms_what_the_state_needs(core: Core, clock: FrozenClock, sender: RecordingSender) -> None:
    case = await core.cases.request("maria.sand", form())
    await core.cases.close("maria.sand", case.ref, "ej-aktuellt")
    clock.set(local("2026-11-24T10:00"))
    await core.cases.reopen("maria.sand", case.ref)
    rows = await core.ladder.history(case.ref)
    assert [(r["kind"], r["arm"], r["resolution"]) for r in rows] == [
        ("distribution", 1, "close"), ("distribution", 2, None)]
    async with core.db.transaction() as tx:
        pending = await tx.fetchall("SELECT kind FROM timers WHERE done_at IS NULL ORDER BY due_at")
    assert [r["kind"] for r in pending] == ["consent_expiring", "consent_expired"]


async def test_renewed_consent_resumes_a_paused_case(
    core: Core, clock: FrozenClock, sender: RecordingSender
) -> None:
    case = await assigned_case(core, consent_valid_until=date(2026, 11, 24))
    await core.cases.acknowledge("linnea.fors", case.ref)
    await advance(core, clock, sender, local("2026-11-25T10:00"))
    [mine] = sender.to("maria.sand", "consent_expired")
    assert "/förnya" in mine.text
    # the assignee (the other principal) may not record it, and is told who does
    [theirs] = sender.to("linnea.fors", "consent_expired")
    assert "/förnya" not in theirs.text and "registrerar Maria Sand, som begärde mötet, det." in theirs.text
    with pytest.raises(FieldError):
        await core.cases.renew_consent("maria.sand", case.ref, date(2026, 11, 25))  # not after today
    with pytest.raises(Refusal, match="not_case_staff"):
        await core.cases.renew_consent("omar.haddad", case.ref, date(2027, 3, 1))
    sender.clear()
    case = await core.cases.renew_consent("maria.sand", case.ref, date(2027, 3, 1), ["psykiatri"])
    assert case.consent_valid_until == date(2027, 3, 1) and "psykiatri" in case.consent_scope
    await core.tick()
    [told] = sender.to("linnea.fors", "consent_renewed")
    assert "fortsätter nu: boka GFI-möte" in told.text
    # the booking is awaited again and booking is allowed again
    async with core.db.transaction() as tx:
        assert await tx.scalar(
            "SELECT COUNT(*) FROM awaiting WHERE resolved_at IS NULL AND kind = 'booking'"
        ) == 1
    booked = await core.cases.book("linnea.fors", case.ref, local("2026-11-30T10:00"), "Rum 3", UNITS)
    assert booked.meeting_at == local("2026-11-30T10:00")

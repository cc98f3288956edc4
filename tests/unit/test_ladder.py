"""The responsibility ladder (DESIGN §5) with an injected clock: timelines, skips, answers, re-arming."""

from __future__ import annotations

import logging
from datetime import timedelta

import pytest

from bot.clock import FrozenClock
from bot.core import Core
from bot.errors import Refusal
from bot.ladder.service import iso
from tests.conftest import CoreFactory, RecordingSender, local
from tests.timekit import advance, assigned_case, directory_with, form, outbox_rows, slack_blocks, times


@pytest.mark.parametrize(
    ("start", "expected"),
    [
        pytest.param(  # over a weekend
            "2026-11-27T10:00",
            [("fatima.ali", "2026-11-30T10:00"), ("helena.ros", "2026-12-01T10:00"),
             ("jonas.sjo", "2026-12-02T10:00")],
            id="weekend",
        ),
        pytest.param(  # Kristi himmelsfärds dag, Thursday 14 May 2026
            "2026-05-13T10:00",
            [("fatima.ali", "2026-05-15T10:00"), ("helena.ros", "2026-05-18T10:00"),
             ("jonas.sjo", "2026-05-19T10:00")],
            id="holiday",
        ),
        pytest.param(  # midsommarafton, Friday 19 June 2026
            "2026-06-18T10:00",
            [("fatima.ali", "2026-06-22T10:00"), ("helena.ros", "2026-06-23T10:00"),
             ("jonas.sjo", "2026-06-24T10:00")],
            id="midsummer",
        ),
        pytest.param(  # DST ends Sunday 25 October 2026: local 10:00 is kept
            "2026-10-23T10:00",
            [("fatima.ali", "2026-10-26T10:00"), ("helena.ros", "2026-10-27T10:00"),
             ("jonas.sjo", "2026-10-28T10:00")],
            id="dst-autumn",
        ),
        pytest.param(  # DST starts Sunday 29 March 2026
            "2026-03-27T15:30",
            [("fatima.ali", "2026-03-30T15:30"), ("helena.ros", "2026-03-31T15:30"),
             ("jonas.sjo", "2026-04-01T15:30")],
            id="dst-spring",
        ),
        pytest.param(  # julafton, juldagen, annandag jul, then the weekend
            "2026-12-23T10:00",
            [("fatima.ali", "2026-12-28T10:00"), ("helena.ros", "2026-12-29T10:00"),
             ("jonas.sjo", "2026-12-30T10:00")],
            id="christmas",
        ),
    ],
)
async def test_acknowledgement_climbs_one_rung_at_a_time(
    core: Core, clock: FrozenClock, sender: RecordingSender, start: str, expected: list[tuple[str, str]]
) -> None:
    clock.set(local(start))
    case = await assigned_case(core)
    await core.tick()
    sender.clear()
    out = await advance(core, clock, sender, local(start) + timedelta(days=8), step=timedelta(minutes=30))
    assert times(out, "escalation") == expected
    first, second, top = (s for s in out if s.template == "escalation")
    assert f"{case.ref} väntar på kvittering av fördelat ärende sedan" in first.text
    waiting = "Väntar fortfarande på svar från: Linnea Fors (kurator)"
    assert "Ansvarstrappan (fördelare)" in first.text and f"{waiting}." in first.text
    assert "Ansvarstrappan (verksamhetschef)" in second.text
    assert "Väntar fortfarande på svar från: Linnea Fors (kurator), Fatima Ali (enhetschef)." in second.text
    assert f"{waiting}, Fatima Ali (enhetschef), Helena Ros (verksamhetschef psykiatri och beroende)." in top.text
    assert "brist i samverkan" in top.text and "brist i samverkan" not in second.text
    async with core.db.transaction() as tx:
        [draft] = await tx.fetchall("SELECT * FROM brist_drafts")
    assert draft["case_ref"] == case.ref
    assert '"kommunikation/information"' in draft["causes"]
    assert '"soc-norr"' in draft["units"] and '"beroende"' in draft["units"]
    assert '"astad"' in draft["principals"] and '"region-sydvast"' in draft["principals"]
    assert "Man, 45 år" not in draft["what_happened"]  # generated, never the requester's free text
    # the top rung stays open (listed for coordinators) and never climbs further
    [open_item] = await core.ladder.open_escalations("jonas.sjo")
    assert open_item.rung == 3 and open_item.due_at is None
    assert await core.ladder.open_escalations("linnea.fors") == []
    assert [i.case_ref for i in await core.ladder.open_escalations("helena.ros")] == [case.ref]


async def test_escalation_blocks_carry_the_three_answers(core: Core, clock: FrozenClock) -> None:
    await assigned_case(core)
    clock.set(local("2026-11-24T10:00"))
    await core.tick()
    [row] = await outbox_rows(core, "escalation")
    assert row["recipient_id"] == "fatima.ali"

    actions = next(b for b in slack_blocks(row) if b["type"] == "actions")["elements"]
    assert [a["action_id"] for a in actions] == ["ladder_take_over", "ladder_nudge", "ladder_reassign"]
    [item] = await core.ladder.open_escalations()
    assert {a["value"] for a in actions} == {str(item.id)}


async def test_answer_mid_climb_stops_it_and_tells_everyone_alerted(
    core: Core, clock: FrozenClock, sender: RecordingSender
) -> None:
    case = await assigned_case(core)  # Monday 23 Nov 10:00
    await core.tick()
    sender.clear()
    await advance(core, clock, sender, local("2026-11-25T11:00"))  # fatima (Tue) and helena (Wed) alerted
    assert [s.recipient for s in sender.sent if s.template == "escalation"] == ["fatima.ali", "helena.ros"]
    sender.clear()
    await core.cases.acknowledge("linnea.fors", case.ref)
    out = await advance(core, clock, sender, local("2026-11-27T11:00"))
    resolved = sorted(s.recipient for s in out if s.template == "escalation_resolved")
    assert resolved == ["fatima.ali", "helena.ros"]
    assert "Eskaleringen i " + case.ref + " är avslutad: ärendet är kvitterat (Linnea Fors)" in next(
        s.text for s in out if s.template == "escalation_resolved")
    assert [s for s in out if s.template == "escalation"] == []  # jonas is never reached
    assert await core.ladder.open_escalations() == []
    rows = await core.ladder.history(case.ref)
    ack = next(r for r in rows if r["kind"] == "acknowledgement")
    assert ack["resolution"] == "acknowledge" and ack["resolved_by"] == "linnea.fors"


async def test_acknowledgement_without_booking_re_arms_the_climb(
    core: Core, clock: FrozenClock, sender: RecordingSender
) -> None:
    case = await assigned_case(core)
    await core.cases.acknowledge("linnea.fors", case.ref)  # Monday 23 Nov 10:00: 5 business days to book
    await core.tick()
    sender.clear()
    out = await advance(core, clock, sender, local("2026-12-01T12:00"))
    assert times(out, "escalation") == [("fatima.ali", "2026-11-30T10:00"), ("helena.ros", "2026-12-01T10:00")]
    assert "väntar på bokning av GFI-möte" in out[0].text
    # the booking answers it; a no-show re-arms the booking climb, as a new item
    sender.clear()
    await core.cases.book("linnea.fors", case.ref, local("2026-12-02T13:00"), "Rum 3", ["soc-norr", "beroende"])
    await core.tick()
    assert sorted(s.recipient for s in sender.sent if s.template == "escalation_resolved") == [
        "fatima.ali", "helena.ros"]
    clock.set(local("2026-12-02T15:00"))
    await core.cases.no_show("linnea.fors", case.ref)
    sender.clear()
    out = await advance(core, clock, sender, local("2026-12-10T12:00"))
    assert times(out, "escalation") == [("fatima.ali", "2026-12-09T15:00")]  # 5 business days after the no-show
    rows = [r for r in await core.ladder.history(case.ref) if r["kind"] == "booking"]
    assert [r["arm"] for r in rows] == [1, 2]
    assert rows[0]["resolution"] == "book" and rows[1]["resolved_at"] is None


async def test_reassignment_re_arms_for_the_new_assignees(core: Core, clock: FrozenClock) -> None:
    case = await assigned_case(core)
    clock.set(local("2026-11-23T15:00"))
    await core.cases.assign("fatima.ali", case.ref, ["sofia.grahn"], reassign=True)
    rows = [r for r in await core.ladder.history(case.ref) if r["kind"] == "acknowledgement"]
    assert [(r["arm"], r["resolution"]) for r in rows] == [(1, "assign"), (2, None)]
    assert rows[1]["answerers"] == '["sofia.grahn"]'
    assert rows[1]["due_at"] == iso(local("2026-11-24T15:00"))


async def test_absent_and_vacant_rungs_are_skipped_at_once_logged_and_shown(
    make_core: CoreFactory, clock: FrozenClock, sender: RecordingSender, caplog: pytest.LogCaptureFixture
) -> None:
    # the distributor is away (her deputy answers for the rung) and the verksamhetschef is absent
    core = await make_core(directory_with(absent=("fatima.ali", "helena.ros")))
    case = await core.cases.request("maria.sand", form())
    await core.cases.assign("gustav.lund", case.ref, ["linnea.fors"])
    await core.tick()
    sender.clear()
    with caplog.at_level(logging.INFO):
        out = await advance(core, clock, sender, local("2026-11-26T12:00"))
    # Tue: the deputy (for the absent distributor); the same Wednesday tick skips helena and reaches jonas
    assert times(out, "escalation") == [("gustav.lund", "2026-11-24T10:00"), ("jonas.sjo", "2026-11-25T10:00")]
    top = [o for o in out if o.template == "escalation"][-1].text
    assert "Steget verksamhetschef hoppades över eftersom ingen var i tjänst." in top
    assert "Väntar fortfarande på svar från: Linnea Fors (kurator), Gustav Lund (avdelningschef)." in top
    skips = [r for r in caplog.records if getattr(r, "event", None) == "ladder.rung_skipped"]
    assert [(r.case_ref, r.rung) for r in skips] == [(case.ref, 2)]


async def test_when_every_rung_is_away_the_present_coordinators_are_alerted(
    make_core: CoreFactory, clock: FrozenClock, sender: RecordingSender
) -> None:
    # beroende's ladder: fatima (deputy gustav) → helena → jonas; all away
    core = await make_core(directory_with(absent=("fatima.ali", "gustav.lund", "helena.ros", "jonas.sjo")))
    case = await assigned_case(core)
    await core.tick()
    sender.clear()
    out = await advance(core, clock, sender, local("2026-11-25T12:00"))
    # nobody left on the ladder: the kommun's coordinator, who is present, is alerted as the top rung
    assert times(out, "escalation") == [("sara.holm", "2026-11-24T10:00")]
    assert case.ref in out[0].text and "sista steget" in out[0].text


async def test_nobody_present_on_the_first_rung_climbs_at_once(
    make_core: CoreFactory, clock: FrozenClock, sender: RecordingSender
) -> None:
    core = await make_core(directory_with(absent=("linnea.fors",)))
    case = await assigned_case(core)
    await core.tick()
    [esc] = [s for s in sender.sent if s.template == "escalation"]
    assert esc.recipient == "fatima.ali"
    assert "Steget ansvarig medarbetare hoppades över eftersom ingen var i tjänst." in esc.text
    assert case.ref in esc.text


async def test_ladder_is_frozen_when_the_climb_starts(
    make_core: CoreFactory, clock: FrozenClock, sender: RecordingSender
) -> None:
    core = await make_core()
    await assigned_case(core)
    await core.tick()
    await core.close()
    # a directory edit puts someone else on the verksamhetschef rung; the running climb keeps helena
    edited = directory_with(beroende={"ladder": [
        {"title": "verksamhetschef", "people": ["nils.alm"], "business_days": 1},
        {"title": "psykiatrisamordnare", "people": ["jonas.sjo"], "business_days": 1},
    ]})
    core = await make_core(edited)
    sender.clear()
    out = await advance(core, clock, sender, local("2026-11-25T12:00"))
    assert [s.recipient for s in out if s.template == "escalation"] == ["fatima.ali", "helena.ros"]


async def test_per_unit_due_times_and_rung_hours(
    make_core: CoreFactory, clock: FrozenClock, sender: RecordingSender
) -> None:
    core = await make_core(directory_with(beroende={
        "due": {"acknowledge_days": 0.5},
        "ladder": [
            {"title": "verksamhetschef", "people": ["helena.ros"], "business_hours": 2},
            {"title": "psykiatrisamordnare", "people": ["jonas.sjo"]},
        ],
    }))
    await assigned_case(core)  # Monday 10:00; half a day = 4.5 business hours
    await core.tick()
    sender.clear()
    out = await advance(core, clock, sender, local("2026-11-25T17:00"))
    assert times(out, "escalation") == [
        ("fatima.ali", "2026-11-23T14:30"),  # + 4.5 business hours
        ("helena.ros", "2026-11-24T14:30"),  # the distributor rung: 1 business day by default
        ("jonas.sjo", "2026-11-24T16:30"),   # verksamhetschef: 2 business hours
    ]


async def test_take_over_nudge_and_reassign(core: Core, clock: FrozenClock, sender: RecordingSender) -> None:
    case = await assigned_case(core)
    clock.set(local("2026-11-24T10:00"))
    await core.tick()
    [item] = await core.ladder.open_escalations("fatima.ali")
    sender.clear()
    assert await core.ladder.nudge("fatima.ali", item.id) == ["linnea.fors"]
    await core.tick()
    [nudged] = sender.to("linnea.fors", "ladder_nudge")
    assert "Påminnelse från Fatima Ali" in nudged.text and case.ref in nudged.text
    with pytest.raises(Refusal) as refused:
        await core.ladder.nudge("maria.sand", item.id)
    assert refused.value.code == "not_on_ladder"
    # the verksamhetschef works at another unit: taking over by reassigning to her is refused
    with pytest.raises(Refusal) as refused:
        await core.ladder.take_over("helena.ros", item.id)
    assert refused.value.code == "assignee_wrong_unit"
    result = await core.ladder.take_over("fatima.ali", item.id)
    assert result.action == "reassigned"
    case = await core.cases.get(case.ref)
    assert case.assignees == ["fatima.ali"]
    with pytest.raises(Refusal) as refused:
        await core.ladder.take_over("fatima.ali", item.id)
    assert refused.value.code == "escalation_resolved"
    assert "är redan klar" in core.renderer.refusal(refused.value)
    # the reassignment re-armed the acknowledgement for the new assignee
    rows = [r for r in await core.ladder.history(case.ref) if r["kind"] == "acknowledgement"]
    assert [r["answerers"] for r in rows] == ['["linnea.fors"]', '["fatima.ali"]']


async def test_take_over_a_distribution_asks_the_ui_to_assign(
    core: Core, clock: FrozenClock, sender: RecordingSender
) -> None:
    case = await core.cases.request("maria.sand", form())  # Monday: next slot Tue 09:00, due Tue 13:00
    await core.tick()
    out = await advance(core, clock, sender, local("2026-11-24T13:00"))
    assert times(out, "queue") == [("fatima.ali", "2026-11-24T09:00")]
    assert times(out, "escalation") == [("helena.ros", "2026-11-24T13:00")]
    [item] = await core.ladder.open_escalations("helena.ros")
    result = await core.ladder.take_over("helena.ros", item.id)
    assert (result.action, result.case_ref, result.unit_id) == ("assign", case.ref, "beroende")
    await core.ladder.reassign("helena.ros", case.ref, ["linnea.fors"])  # ladder people may assign
    await core.tick()
    assert await core.ladder.open_escalations() == []


async def test_urgent_request_is_due_four_business_hours_from_now(
    core: Core, clock: FrozenClock, sender: RecordingSender
) -> None:
    clock.set(local("2026-11-27T15:00"))  # Friday
    await core.cases.request("maria.sand", form(urgent=True))
    await core.tick()
    out = await advance(core, clock, sender, local("2026-11-30T12:00"))
    assert times(out, "escalation") == [("helena.ros", "2026-11-30T10:00")]


async def test_closing_stops_everything_and_withdrawal_sends_nothing_more(
    core: Core, clock: FrozenClock, sender: RecordingSender
) -> None:
    first = await assigned_case(core)
    second = await assigned_case(core)
    clock.set(local("2026-11-24T10:00"))
    await core.tick()
    assert sorted(s.case_ref for s in sender.to("fatima.ali", "escalation")) == [first.ref, second.ref]
    sender.clear()
    await core.cases.close("maria.sand", first.ref, "ej-aktuellt")
    await core.cases.withdraw_consent("maria.sand", second.ref)
    out = await advance(core, clock, sender, local("2026-12-10T10:00"), step=timedelta(hours=1))
    assert [s.template for s in out if s.recipient != "maria.sand" and s.recipient != "linnea.fors"] == [
        "escalation_resolved", "retract"]  # fatima is told the first case was closed; nothing about the second,
    # and the escalation she already got about the second case is taken back
    [retract] = [s for s in out if s.template == "retract" and s.recipient == "fatima.ali"]
    assert (retract.case_ref, retract.text) == (second.ref, "")
    assert [s for s in out if s.case_ref == second.ref and s.template not in ("consent_withdrawn", "retract")] == []
    async with core.db.transaction() as tx:
        assert await tx.scalar("SELECT COUNT(*) FROM timers WHERE done_at IS NULL") == 0
        assert await tx.scalar("SELECT COUNT(*) FROM awaiting WHERE resolved_at IS NULL") == 0

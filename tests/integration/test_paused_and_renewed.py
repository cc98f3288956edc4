"""Issue #18 item 8: renewing an expired consent re-arms the paused bevakningar from the renewal, one rung at a
time, never two at once, and no brist draft counts the paused time."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from bot.clock import FrozenClock
from bot.core import Core
from tests.conftest import RecordingSender, local
from tests.timekit import advance, assigned_case, times

UNITS = ["soc-norr", "beroende"]


async def test_a_renewal_re_arms_the_paused_outcome_from_the_renewal_one_rung_at_a_time(
    core: Core, clock: FrozenClock, sender: RecordingSender
) -> None:
    case = await assigned_case(core, consent_valid_until=date(2026, 11, 24))
    await core.cases.acknowledge("linnea.fors", case.ref)
    await core.cases.book("linnea.fors", case.ref, local("2026-11-24T13:00"), "Rum 3", UNITS)
    # the meeting is held on the consent's last day; the outcome is due a business day later, but the consent
    # runs out at midnight: the case is paused and nothing climbs
    out = await advance(core, clock, sender, local("2026-12-03T10:00"), step=timedelta(hours=2))
    assert times(out, "escalation") == []
    sender.clear()
    await core.cases.renew_consent("maria.sand", case.ref, date(2027, 3, 1))
    await core.tick()
    # the outcome fell due during the pause: re-armed from the renewal with the first rung's own time, so nobody
    # is alerted at the renewal, and the distributor (the next rung) only a business day later
    [item] = [r for r in await core.ladder.history(case.ref) if r["kind"] == "outcome" and r["resolution"] is None]
    assert datetime.fromisoformat(item["since"]) == local("2026-12-03T10:00")
    out = await advance(core, clock, sender, local("2026-12-04T09:45"), step=timedelta(minutes=30))
    assert times(out, "escalation") == []
    out = await advance(core, clock, sender, local("2026-12-04T12:00"), step=timedelta(minutes=30))
    assert [r for r, _ in times(out, "escalation")] == ["fatima.ali"]  # one rung, not two at once
    # the top of the ladder: the brist draft counts from the renewal, not the paused days
    out = await advance(core, clock, sender, local("2026-12-10T12:00"), step=timedelta(hours=2))
    assert any("utkast" in s.text for s in out if s.template == "escalation")
    async with core.db.transaction() as tx:
        draft = await tx.fetchone("SELECT what_happened FROM brist_drafts ORDER BY id LIMIT 1")
    assert draft is not None
    assert "väntade sedan tor 3 dec 2026" in draft["what_happened"], draft
    assert "nov" not in draft["what_happened"]

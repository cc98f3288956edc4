"""A stand-in distributes for the absent distributor only while the cover lasts (`Directory.distributors_of`):
when the absence is cancelled, an urgent request sent to them as the stand-in and not yet delivered is stopped, by
the one rule (`visibility.level`, `bot.cases.leavers.stop_for_people`); what they read another way stays (#22
item 3; status note of session 8, `bot/absence/service.py` cancel)."""

from __future__ import annotations

import asyncio
from datetime import date, timedelta

import pytest

from bot.cases import access
from bot.cases.visibility import Level
from bot.core import Core
from bot.store import Tx
from tests.conftest import CoreFactory
from tests.races import settled, two
from tests.timekit import form

pytestmark = pytest.mark.parametrize("engine", ["sqlite", "postgresql"])


async def _rows(core: Core, person: str, template: str) -> list[tuple[str, bool]]:
    async def rows(tx: Tx) -> list[tuple[str, bool]]:
        return [(str(r["status"]), r["message"] is not None) for r in await tx.fetchall(
            "SELECT status, message FROM outbox WHERE recipient_id = ? AND template = ? ORDER BY id",
            (person, template))]
    return list(await core.db.run_read(rows))


async def test_a_cancelled_cover_stops_the_urgent_request_still_to_go_to_the_stand_in(
        core: Core, engine: str) -> None:
    absence = await core.absences.mark("fatima.ali", date(2026, 11, 23), date(2026, 11, 25),
                                       stand_in_id="sofia.grahn")
    assigned = await core.cases.request("maria.sand", form())
    await core.cases.assign("gustav.lund", assigned.ref, ["sofia.grahn"])  # her own case: she reads it anyway
    urgent = await core.cases.request("maria.sand", form(urgent=True))
    assert await _rows(core, "sofia.grahn", "urgent_request") == [("pending", True)]
    assert await access.level_of(core.db, urgent, core.directory, "sofia.grahn") is Level.FULL

    await core.absences.cancel("fatima.ali", absence.id)
    assert await access.level_of(core.db, urgent, core.directory, "sofia.grahn") is not Level.FULL
    assert await _rows(core, "sofia.grahn", "urgent_request") == [("cancelled", False)]
    assert await _rows(core, "sofia.grahn", "assigned_to_you") == [("pending", True)]  # her own case: kept
    assert await _rows(core, "sofia.grahn", "absence_cancelled") == [("pending", True)]  # told the cover ended
    # the unit's urgent request is not lost: it goes to whoever distributes now, fatima.ali back (review of
    # 5382ede, finding 1: it reached nobody)
    assert await _rows(core, "fatima.ali", "urgent_request") == [("pending", True)]
    assert await _rows(core, "gustav.lund", "urgent_request") == []


async def test_a_cover_cancelled_while_a_case_action_runs_does_not_deadlock(make_core: CoreFactory,
                                                                            engine: str) -> None:
    """A case action holds its case's row and then takes the audit chain; the cancel took the audit chain (its
    audit row) and then the stand-in's cases: a deadlock, the cancel refused (review of 5382ede, finding 2). The
    stand-in's pass now runs after the cancel commits, in a unit of its own whose case locks come first."""
    from bot.store.chain import LOCKS

    if engine == "sqlite":
        pytest.skip("one writer on SQLite: no deadlock")
    a, b = await two(make_core)
    absence = await a.absences.mark("fatima.ali", date(2026, 11, 23), date(2026, 11, 25), stand_in_id="sofia.grahn")
    urgent = await a.cases.request("maria.sand", form(urgent=True))
    locked = asyncio.Event()

    async def case_action() -> None:  # as a case action: its case's row, then the audit chain
        async with b.db.transaction() as tx:
            await tx.fetchall("SELECT id FROM cases WHERE ref = ? FOR NO KEY UPDATE", (urgent.ref,))
            locked.set()
            await asyncio.sleep(1.0)
            await tx.fetchall("SELECT pg_advisory_xact_lock(?)", (LOCKS["audit"],))

    async def cancel() -> None:
        await locked.wait()
        await a.absences.cancel("fatima.ali", absence.id)

    await asyncio.wait_for(settled(case_action(), cancel()), 30)
    assert await _rows(a, "sofia.grahn", "urgent_request") == [("cancelled", False)]


async def test_a_cover_that_ends_sends_on_only_the_urgent_requests_its_own_pass_stopped(
        core: Core, engine: str) -> None:
    """The pass after a cover ends sends on exactly the urgent requests it stopped (their rows, returned by the
    stop), not every urgent request ever stopped to the stand-in for that reason: sofia.grahn's urgent request of
    an earlier cover, sent on to fatima.ali then, is not sent again to fatima.ali's new stand-in when sofia.grahn's
    next cover (for gustav.lund) ends. Before, found by the stop's reason, it went to linnea.fors too."""
    first = await core.absences.mark("fatima.ali", date(2026, 11, 23), date(2026, 11, 25), stand_in_id="sofia.grahn")
    urgent = await core.cases.request("maria.sand", form(urgent=True))
    await core.absences.cancel("fatima.ali", first.id)
    assert await _rows(core, "fatima.ali", "urgent_request") == [("pending", True)]  # sent on, once

    await core.absences.mark("fatima.ali", date(2026, 11, 23), date(2026, 11, 25), stand_in_id="linnea.fors")
    other = await core.absences.mark("gustav.lund", date(2026, 11, 23), date(2026, 11, 25),
                                     stand_in_id="sofia.grahn")
    await core.absences.cancel("gustav.lund", other.id)
    assert (await core.cases.get(urgent.ref)).state == "requested"
    assert await _rows(core, "linnea.fors", "urgent_request") == []
    assert await _rows(core, "fatima.ali", "urgent_request") == [("pending", True)]


async def test_a_cover_that_runs_out_on_its_end_date_runs_the_pass_once(core: Core, engine: str) -> None:
    """A cover ended by its date, not a cancel: the timekeeper's sweep runs the pass (sofia.grahn's urgent request
    stopped, sent on to fatima.ali, back), once: a second finds it run. Before, nothing was stopped."""
    await core.absences.mark("fatima.ali", date(2026, 11, 23), date(2026, 11, 25), stand_in_id="sofia.grahn")
    await core.cases.request("maria.sand", form(urgent=True))
    assert await core.absences.pass_ended_covers() == 0  # the cover still runs
    assert await _rows(core, "sofia.grahn", "urgent_request") == [("pending", True)]
    core.clock.advance(timedelta(days=3))  # type: ignore[attr-defined]  # Thursday 26 November
    assert await core.absences.pass_ended_covers() == 1
    assert await core.absences.pass_ended_covers() == 0
    assert await _rows(core, "sofia.grahn", "urgent_request") == [("cancelled", False)]
    assert await _rows(core, "fatima.ali", "urgent_request") == [("pending", True)]


async def test_a_cancel_whose_pass_was_lost_is_passed_at_the_next_start(
        make_core: CoreFactory, engine: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """The process stops between the cancel's commit and its pass: the cancel's commit marks the pass as owed, and
    the next start runs it (before, the stand-in's urgent request still went out)."""
    from bot.absence import service

    a = await make_core()
    absence = await a.absences.mark("fatima.ali", date(2026, 11, 23), date(2026, 11, 25), stand_in_id="sofia.grahn")
    await a.cases.request("maria.sand", form(urgent=True))

    async def stopped(*args: object) -> int:
        raise RuntimeError("the process stops here")

    monkeypatch.setattr(service, "stop_for_stand_in", stopped)
    with pytest.raises(RuntimeError):
        await a.absences.cancel("fatima.ali", absence.id)
    monkeypatch.undo()
    assert await _rows(a, "sofia.grahn", "urgent_request") == [("pending", True)]
    restarted = await make_core()
    assert await restarted.absences.pass_ended_covers() == 1  # as the serving bot's start runs it (slack/server.py)
    assert await _rows(restarted, "sofia.grahn", "urgent_request") == [("cancelled", False)]
    assert await _rows(restarted, "fatima.ali", "urgent_request") == [("pending", True)]
    assert await restarted.absences.pass_ended_covers() == 0


async def test_a_cover_pass_that_fails_stays_owed_and_the_sweep_goes_on(
        core: Core, engine: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """A pass that fails (rolled back, still owed) does not stop the timekeeper's sweep: the next cover's pass runs,
    the sweeps after it and the dispatcher too, and the failed one runs at the next sweep. Before, the error ended the
    tick."""
    from bot.absence import service

    await core.absences.mark("fatima.ali", date(2026, 11, 23), date(2026, 11, 25), stand_in_id="sofia.grahn")
    await core.absences.mark("gustav.lund", date(2026, 11, 23), date(2026, 11, 25), stand_in_id="linnea.fors")
    run = service.stop_for_stand_in
    failed: list[int] = []

    async def fails_once(tx: Tx, *args: object) -> int:
        if not failed:
            failed.append(1)
            raise RuntimeError("a pass that fails")
        return await run(tx, *args)  # type: ignore[arg-type]

    monkeypatch.setattr(service, "stop_for_stand_in", fails_once)
    core.clock.advance(timedelta(days=3))  # type: ignore[attr-defined]
    assert await core.absences.pass_ended_covers() == 1
    assert await core.absences.pass_ended_covers() == 1
    assert await core.absences.pass_ended_covers() == 0


async def test_the_leaders_sweep_with_a_stale_book_does_not_steal_the_cancels_pass(
        make_core: CoreFactory, engine: str) -> None:
    """Review of 13d3c10: a cover cancelled on B; the leader A's sweep finds the pass owed before A has reloaded
    its absences (the announcement is heard and `load` waits for the hop form: asynchronous). A claims the pass and
    judges with its stale book (sofia.grahn still the stand-in): nothing stopped; B's own pass then finds it claimed.
    The stand-in's urgent request (the case text) still goes out after the cover ended."""
    if engine == "sqlite":
        pytest.skip("one instance")
    a = await make_core()
    b = await make_core()
    absence = await b.absences.mark("fatima.ali", date(2026, 11, 23), date(2026, 11, 25), stand_in_id="sofia.grahn")
    await a.absences.load()  # A has heard of the cover
    await b.cases.request("maria.sand", form(urgent=True))
    assert await _rows(b, "sofia.grahn", "urgent_request") == [("pending", True)]

    async def not_yet() -> None:  # A's reload has not run yet (the window between B's commit and A's reload)
        return None

    a.changes.reloads["absences"] = [not_yet]
    original = b.absences._cover_ended

    async def leader_first(*args: object) -> int:
        await a.absences.pass_ended_covers()  # the leader's tick, between B's cancel commit and B's pass
        return await original(*args)  # type: ignore[arg-type]

    b.absences._cover_ended = leader_first  # type: ignore[method-assign]
    await b.absences.cancel("fatima.ali", absence.id)
    assert await _rows(b, "sofia.grahn", "urgent_request") == [("cancelled", False)]


async def test_a_due_report_as_of_a_later_day_does_not_end_a_running_cover(
        make_core: CoreFactory, engine: str) -> None:
    """Review of 13d3c10: `gfi-bot due --now <later>` (bot/cli/reports.py) opens a core with a frozen clock at that
    moment; `open_core` now runs `pass_ended_covers` with that clock's today: a cover still running (today is
    Monday 23 November) is taken as ended, its pass claimed and run. The stand-in's urgent request is stopped while
    they still stand in, and the cover is marked passed, so its real end runs no pass."""
    from bot.clock import FrozenClock
    from bot.core import open_core

    a = await make_core()
    await a.absences.mark("fatima.ali", date(2026, 11, 23), date(2026, 11, 25), stand_in_id="sofia.grahn")
    await a.cases.request("maria.sand", form(urgent=True))
    report = await open_core(a.settings, clock=FrozenClock(a.clock.now() + timedelta(days=10)),
                             publish_directory=False)
    await report.close()
    assert await _rows(a, "sofia.grahn", "urgent_request") == [("pending", True)]  # she still stands in

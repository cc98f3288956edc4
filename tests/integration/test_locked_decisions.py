"""Units that decide what they change on a case must decide on the case as locked (issue #22, the review of the
case-row locks): the nightly purge, a directory hand-over, a consent withdrawn for one unit, an outcome recorded
or corrected, an agreement proposed or confirmed. Each race is forced as in `test_case_locks`: the two units meet
after their read; with the lock they cannot meet (the second waits on the case's row), without it they both
decide on the case as it was. Two cores on one PostgreSQL database stand for two `gfi-bot run` processes; on
SQLite the one writer already serialises them (run there too: same outcome)."""

from __future__ import annotations

import asyncio
import threading
from datetime import date
from typing import Any

import pytest

from bot.cases.leavers import stop_for_leavers
from bot.clock import FrozenClock
from bot.errors import Refusal
from bot.stats.retention import purge
from bot.store import Tx
from tests.conftest import CoreFactory, local
from tests.races import WAIT, Meeting, in_unit, two
from tests.timekit import assigned_case, form

pytestmark = pytest.mark.parametrize("engine", ["sqlite", "postgresql"])


def _met_after(meeting: Meeting, fn: Any) -> Any:
    """`fn` (a coroutine function run in a unit, on its connection's thread), awaited after the meeting."""
    return meeting.then(fn)


def _read_then_meet(meeting: Meeting, fn: Any) -> Any:
    """`fn` (a coroutine function of the hop form, on the event loop), then the meeting."""
    async def read_first(*args: Any, **kwargs: Any) -> Any:
        found = await fn(*args, **kwargs)
        await asyncio.to_thread(meeting.wait)
        return found
    return read_first


class Hold:
    """The first unit to come here holds its case's row (paused on its connection's thread after its locked read)
    until the second has decided (`decided`), or `WAIT` at most; `holding` is set once it holds it, so the second
    starts then. With the lock the second decides only after the first committed (the hold times out); without
    it the second decides on the case as it was."""

    def __init__(self) -> None:
        self._loop = asyncio.get_running_loop()
        self.holding = asyncio.Event()
        self.decided = threading.Event()
        self.timed_out = False
        self._first = threading.Lock()

    def after(self, fn: Any) -> Any:
        """`fn` (a coroutine function run in a unit), the first time after holding."""
        async def held_first(*args: Any, **kwargs: Any) -> Any:
            if self._first.acquire(blocking=False):
                self._loop.call_soon_threadsafe(self.holding.set)
                self.timed_out = not await in_unit(args[0], self.decided.wait, WAIT)
            return await fn(*args, **kwargs)
        return held_first

    def deciding(self, fn: Any) -> Any:
        """`fn` (a plain function: the second unit's decision), which says the second has decided."""
        def decides(*args: Any, **kwargs: Any) -> Any:
            try:
                return fn(*args, **kwargs)
            finally:
                if self.holding.is_set():
                    self.decided.set()
        return decides

    async def second(self, work: Any) -> Any:
        """Run the awaitable `work` once the first holds its case."""
        await self.holding.wait()
        return await work


async def test_a_case_reopened_while_the_nightly_purge_runs_is_not_purged(
    make_core: CoreFactory, clock: FrozenClock, monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The purge locks its cases (id order, before the audit chain) and then reads which are still closed: a
    case reopened on another instance meanwhile is either reopened first (then kept) or purged first (then the
    reopening is refused). Without the lock the purge read it closed and deleted it after the reopening
    committed: an open case gone with all its rows."""
    a, b = await two(make_core)
    case = await assigned_case(a)
    await a.cases.close("linnea.fors", case.ref, "ej-aktuellt")
    clock.set(local("2029-01-10T10:00"))
    meeting = Meeting()
    import bot.store.closing as closing_store
    import bot.store.stats as stats_store

    monkeypatch.setattr(stats_store, "purgeable_cases", _read_then_meet(meeting, stats_store.purgeable_cases))
    monkeypatch.setattr(closing_store, "clear_closed", _met_after(meeting, closing_store.clear_closed))
    purged, reopened = await asyncio.gather(purge(b.db, clock.now(), 24, "Europe/Stockholm"),
                                            a.cases.reopen("maria.sand", case.ref), return_exceptions=True)
    assert not isinstance(purged, BaseException), purged

    async def state(tx: Tx) -> str | None:
        found = await tx.scalar("SELECT state FROM cases WHERE ref = ?", (case.ref,))
        return None if found is None else str(found)

    stored = await a.db.run_read(state)
    if isinstance(reopened, BaseException):  # the purge went first
        assert isinstance(reopened, Refusal), reopened
        assert stored is None and purged is not None and [i.ref for i in purged.items] == [case.ref]
    else:  # the reopening went first: the purge read it open
        assert stored is not None and stored != "closed", stored
        assert purged is not None and purged.items == []
    assert not meeting.met  # the second read the case only once the first had committed


async def test_a_hand_over_hands_over_what_the_leaving_person_holds_when_it_runs(
    make_core: CoreFactory, clock: FrozenClock,
) -> None:
    """`gfi-bot directory import --force` lists the holdings, then hands them over: what linnea.fors holds is read
    again in the hand-over's transaction, after her cases are locked. A case assigned to her after the list was
    read is handed over too (before, it was left with a person no longer in the directory), and a case she no
    longer holds is left alone and not noted as handed over (before, it was noted and its version bumped)."""
    from bot.directory.changes import diff
    from bot.directory.handover import find_holdings, hand_over

    a, b = await two(make_core)
    left = await assigned_case(a)  # linnea.fors is assigned; sofia.grahn takes it over before the hand-over
    joined = await a.cases.request("omar.haddad", form())
    await a.cases.assign("fatima.ali", joined.ref, ["sofia.grahn"])
    old = a.directory.data
    new = old.model_copy(update={"people": tuple(p for p in old.people if p.id != "linnea.fors")})
    changes = diff(old, new)
    listed = await find_holdings(b.db, new, changes)
    assert {h.ref for h in listed if h.kind == "assignment"} == {left.ref}
    await a.cases.assign("fatima.ali", left.ref, ["sofia.grahn"], reassign=True)
    await a.cases.assign("fatima.ali", joined.ref, ["sofia.grahn", "linnea.fors"], reassign=True)

    await hand_over(b.db, new, changes.leaving, clock.now(), lost_readers=stop_for_leavers)
    assert (await a.cases.get(left.ref)).assignees == ["sofia.grahn"]
    assert "linnea.fors" not in (await a.cases.get(joined.ref)).assignees
    assert "fatima.ali" in (await a.cases.get(joined.ref)).assignees

    async def handed(tx: Tx) -> list[str]:
        return [r["case_ref"] for r in await tx.fetchall(
            "SELECT case_ref FROM audit WHERE action = 'directory_handover' ORDER BY id")]

    assert left.ref not in await a.db.run_read(handed)


async def test_a_hand_over_and_a_reassignment_of_one_case_take_turns(
    make_core: CoreFactory, clock: FrozenClock, monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The hand-over locks the leaving person's open cases before it reads what she holds: a reassignment on
    another instance that took the case first is read (nothing of hers left to hand over), one that comes after
    waits and decides on the handed-over case. Without the lock both read the case with her assigned: the
    hand-over noted a holding being taken away meanwhile (or the two deadlocked)."""
    import bot.directory.handover as handover
    import bot.store.cases as case_store
    from bot.directory.changes import diff

    a, b = await two(make_core)
    case = await assigned_case(a)
    old = a.directory.data
    new = old.model_copy(update={"people": tuple(p for p in old.people if p.id != "linnea.fors")})
    meeting = Meeting()
    monkeypatch.setattr(handover, "_stored_holdings", meeting.after(handover._stored_holdings))
    monkeypatch.setattr(case_store, "replace_assignees", _met_after(meeting, case_store.replace_assignees))
    handed, reassigned = await asyncio.gather(
        handover.hand_over(b.db, new, diff(old, new).leaving, clock.now(), lost_readers=stop_for_leavers),
        a.cases.assign("fatima.ali", case.ref, ["sofia.grahn"], reassign=True), return_exceptions=True)
    assert not isinstance(handed, BaseException), handed
    assert not isinstance(reassigned, BaseException), reassigned
    assert reassigned.assignees == ["sofia.grahn"]

    async def actions(tx: Tx) -> list[str]:
        return [r["action"] for r in await tx.fetchall(
            "SELECT action FROM audit WHERE case_ref = ? AND action IN ('assign', 'directory_handover') ORDER BY id",
            (case.ref,))]

    done = await a.db.run_read(actions)
    assert done in (["assign", "assign"], ["assign", "directory_handover", "directory_handover", "assign"]), done
    assert not meeting.met  # the second read the case only once the first had committed


async def test_a_withdrawal_for_one_unit_is_whole_or_partial_as_the_locked_case_says(
    make_core: CoreFactory, monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Whether a withdrawal for one unit must withdraw the whole consent is decided on the case as locked. In
    today's flows that cannot change for a unit (the requester's and the receiving unit are always in scope), so
    the scope is edited in the store to one where it does: psykiatri and beroende only, where withdrawing
    psykiatri would leave one unit (whole). A renewal adding soc-norr that holds the case first makes it partial:
    the withdrawal waits, then withdraws psykiatri only. Decided on an earlier read, the case was closed and its
    text erased."""
    import json

    import bot.cases.consent as consent
    import bot.store.closing as closing_store

    a, b = await two(make_core)
    case = await a.cases.request("maria.sand", form(consent_scope=["psykiatri"], consent_form="skriftligt",
                                                    consent_covers=["kontaktuppgifter", "halsa-behandling"]))

    async def narrow(tx: Tx) -> None:
        await tx.execute("UPDATE cases SET consent_scope = ? WHERE id = ?",
                         (json.dumps(["psykiatri", "beroende"]), case.id))

    await a.db.run(narrow)
    assert consent.withdraw_for(await a.cases.get(case.ref), "psykiatri").whole
    hold = Hold()
    monkeypatch.setattr(closing_store, "set_consent", hold.after(closing_store.set_consent))
    monkeypatch.setattr(consent, "withdraw_for", hold.deciding(consent.withdraw_for))
    renewed, withdrawn = await asyncio.gather(
        a.cases.renew_consent("maria.sand", case.ref, date(2027, 2, 21), ["soc-norr"], form="skriftligt"),
        hold.second(b.cases.withdraw_consent("maria.sand", case.ref, unit="psykiatri")), return_exceptions=True)
    assert not isinstance(renewed, BaseException), renewed
    assert not isinstance(withdrawn, BaseException), withdrawn
    assert withdrawn.is_open and withdrawn.brief, withdrawn.closed_reason  # not erased: psykiatri only
    assert withdrawn.consent_withdrawn == ["psykiatri"]
    assert hold.timed_out  # the withdrawal decided only once the renewal had committed


async def test_an_outcome_recorded_on_two_instances_at_once_is_recorded_then_corrected(
    make_core: CoreFactory, clock: FrozenClock, monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Record or correct is chosen on the case as locked: the second of two recordings at once waits for the
    first and corrects it (the history keeps both). Chosen on an earlier read, both chose to record and the
    second was refused as a wrong state."""
    import bot.store.cases as case_store
    from bot.cases.codes import Outcome

    a, b = await two(make_core)
    case = await assigned_case(a)
    await a.cases.acknowledge("linnea.fors", case.ref)
    await a.cases.book("linnea.fors", case.ref, local("2026-11-30T13:00"), "Rum 3", ["soc-norr", "beroende"])
    clock.set(local("2026-11-30T15:00"))
    hold = Hold()
    monkeypatch.setattr(case_store, "set_outcome", hold.after(case_store.set_outcome))
    first, second = await asyncio.gather(
        a.cases.record_or_correct_outcome("linnea.fors", case.ref, "kartlaggning", True),
        hold.second(b.cases.record_or_correct_outcome("linnea.fors", case.ref, "sip", True)),
        return_exceptions=True)
    assert not isinstance(first, BaseException), first
    assert not isinstance(second, BaseException), second
    assert first[1] is None and second[1] is Outcome.KARTLAGGNING  # recorded, then corrected from it
    assert second[0].outcome is Outcome.SIP

    async def actions(tx: Tx) -> list[str]:
        return [r["action"] for r in await tx.fetchall(
            "SELECT action FROM audit WHERE case_ref = ? AND action LIKE '%outcome' ORDER BY id", (case.ref,))]

    assert await a.db.run_read(actions) == ["record_outcome", "correct_outcome"]


async def test_the_same_agreement_proposed_by_both_sides_at_once_settles_the_dispute(
    make_core: CoreFactory, monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Whether an /enig proposes or confirms is chosen on the case as locked: the psykiatri's line manager
    proposes a text while the soc-norr's sends the same text; the second waits, finds the other side's proposal
    and confirms it: settled. Chosen on an earlier read (no proposal yet), the second became a new proposal,
    overwriting the first, and the dispute stayed open."""
    import bot.store.disputes as dispute_store
    from tests.integration.test_disputes import disputed_case

    a, b = await two(make_core)
    case = await disputed_case(a)
    text = "Psykiatrin behåller ärendet"
    hold = Hold()
    monkeypatch.setattr(dispute_store, "propose", hold.after(dispute_store.propose))
    first, second = await asyncio.gather(a.disputes.settle("helena.ros", case.ref, text),
                                         hold.second(b.disputes.settle("carina.berg", case.ref, text)),
                                         return_exceptions=True)
    assert not isinstance(first, BaseException), first
    assert not isinstance(second, BaseException), second
    assert first.disputed and not second.disputed
    assert not (await a.cases.get(case.ref)).disputed

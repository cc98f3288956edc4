"""The units that come to a case by another row lock the case's row first (issue #22, DESIGN "lock order"): an
escalation's *ta över* by its item, the samverkansnivå's decision by its matter, a due row the sweep fires alone.
Each race is forced between two instances on one database as in `test_case_locks`: the answer meets a case
action on the same case after both read (the action holding its case's row and the audit chain). With the lock
the answer waits for the action and decides on what it committed; without it the answer decided on the case as
it was: a take-over of an item already answered, a decision's text kept on a case whose text was erased,
skipped rungs noted for an item already resolved. On SQLite the one writer serialises them (run there too: the
same rules hold)."""

from __future__ import annotations

import asyncio
import threading
from typing import Any

import pytest

from bot.clock import FrozenClock
from bot.errors import Refusal
from bot.store import Tx
from bot.store import ladder as ladder_store
from tests.conftest import CoreFactory, RecordingSender, local
from tests.races import BOTH_ENGINES, WAIT, Meeting, in_unit, two
from tests.timekit import advance, assigned_case, directory_with, form

pytestmark = BOTH_ENGINES


# the names test_access_lost imports from here (tests.races has them)
_meet_then = Meeting.then


async def _audited(core: Any, ref: str) -> list[tuple[str, str]]:
    async def rows(tx: Tx) -> list[tuple[str, str]]:
        return [(r["action"], r["result"]) for r in await tx.fetchall(
            "SELECT action, result FROM audit WHERE case_ref = ? ORDER BY id", (ref,))]
    return list(await core.db.run_read(rows))


async def test_ta_over_of_an_item_answered_on_another_instance_meanwhile_is_refused(
    make_core: CoreFactory, monkeypatch: pytest.MonkeyPatch,
) -> None:
    """helena.ros (psykiatri's line manager, on its ladder) takes over the acknowledgement that yusuf.kaya gives
    at the same moment on another instance. With the case locked first, the take-over waits and finds the item
    answered; without it, it read the item open, and took over (telling the requester) what was answered."""
    a, b = await two(make_core)
    case = await a.cases.request("maria.sand", form(target_unit="psykiatri"))
    await a.cases.assign("ingrid.vik", case.ref, ["yusuf.kaya"])

    async def item(tx: Tx) -> int:
        [row] = [r for r in await ladder_store.open_rows(tx, case.id) if r["kind"] == "acknowledgement"]
        return int(row["id"])

    item_id = await a.db.run_read(item)
    meeting = Meeting()
    monkeypatch.setattr(b.ladder, "get", meeting.after_call(b.ladder.get))
    monkeypatch.setattr(a.ladder, "sync", meeting.then(a.ladder.sync))
    taken, acknowledged = await asyncio.gather(b.ladder.take_over("helena.ros", item_id),
                                               a.cases.acknowledge("yusuf.kaya", case.ref), return_exceptions=True)
    done = await _audited(a, case.ref)
    acked = done.index(("acknowledge", "ok")) if ("acknowledge", "ok") in done else None
    took = done.index(("ladder_take_over", "ok")) if ("ladder_take_over", "ok") in done else None
    assert took is None or acked is None or took < acked, done  # a take-over only of an item still open
    if took is None:
        assert isinstance(taken, Refusal) and taken.code == "escalation_resolved", taken
    if acked is None:  # taken over first (SQLite's one writer let it go first): the case is hers now
        assert isinstance(acknowledged, Refusal) and acknowledged.code == "not_assignee", acknowledged
        assert took is not None, done


async def test_a_samverkan_decision_and_a_withdrawn_consent_at_once_keep_no_decision_text(
    make_core: CoreFactory, clock: FrozenClock, sender: RecordingSender, monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The samverkansnivå records its decision while the consent is withdrawn on another instance (which erases
    the case's text, the matter's decision with it). With the case locked first, the decision waits and is
    recorded on the erased case without its text; without it, it was read on the case as it was and its text
    written after the erasure, on a case that must keep none."""
    import bot.store.samverkan as samverkan_store
    from tests.integration.test_disputes import disputed_case

    a, b = await two(make_core)
    case = await disputed_case(a)
    await advance(a, clock, sender, local("2026-11-24T10:30"))  # the coordinators were alerted
    item = next(h["id"] for h in await a.ladder.history(case.ref) if h["kind"] == "dispute")
    taken = await a.disputes.take_to_samverkan("sara.holm", item)
    assert taken.matter is not None
    meeting = Meeting()
    # the decision meets the withdrawal once it has read the matter and the case (its 2nd read of the matter)
    monkeypatch.setattr(samverkan_store, "get", meeting.after_call(samverkan_store.get, call=2))
    monkeypatch.setattr(a.ladder, "sync", meeting.then(a.ladder.sync))
    decided, withdrawn = await asyncio.gather(
        b.disputes.samverkan.decide("jonas.sjo", taken.matter.id, "Kommunen ansvarar"),
        a.cases.withdraw_consent("maria.sand", case.ref), return_exceptions=True)
    assert not isinstance(withdrawn, BaseException), withdrawn
    assert not isinstance(decided, BaseException), decided

    async def outcome(tx: Tx) -> Any:
        return await tx.scalar("SELECT outcome FROM samverkan_matters WHERE id = ?", (taken.matter.id,))

    assert await a.db.run_read(outcome) is None  # erased, whichever came first


async def test_a_due_item_fired_alone_while_it_is_answered_on_another_instance_notes_nothing(
    make_core: CoreFactory, clock: FrozenClock, monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The sweep fires a due acknowledgement alone (its batch failed) while linnea.fors acknowledges on another
    instance. The distributor's rung has nobody present, so a climb notes it as skipped in the case's history.
    With the case locked first, the fire waits and finds the item answered; without it, it read the item due
    and noted a skipped rung for an item already answered."""
    from bot.ladder import scheduled
    from bot.ladder.scheduled import TimeHook

    directory = directory_with(absent=("fatima.ali", "gustav.lund"))
    a, b = await make_core(directory), await make_core(directory)
    case = await assigned_case(a)

    async def item(tx: Tx) -> int:
        [row] = [r for r in await ladder_store.open_rows(tx, case.id) if r["kind"] == "acknowledgement"]
        return int(row["id"])

    item_id = await a.db.run_read(item)
    clock.set(local("2026-11-26T10:00"))  # long due
    meeting, read = Meeting(), threading.Event()
    still_due, item_row, sync = scheduled._still_due, ladder_store.item_row, a.ladder.sync

    async def due_then_meet(*args: Any, **kwargs: Any) -> bool:
        found = await still_due(*args, **kwargs)
        await meeting.wait_in(args[0])  # in the fire's unit
        return found

    async def read_item(*args: Any, **kwargs: Any) -> Any:
        found = await item_row(*args, **kwargs)
        read.set()
        return found

    async def meet_then_sync(*args: Any, **kwargs: Any) -> None:
        await meeting.wait_in(args[0])  # holding the case's row and the audit chain
        await in_unit(args[0], read.wait, WAIT / 3)  # the fire reads the item before the acknowledgement resolves
        # it (it could)
        await sync(*args, **kwargs)

    monkeypatch.setattr(scheduled, "_still_due", due_then_meet)
    monkeypatch.setattr(ladder_store, "item_row", read_item)
    monkeypatch.setattr(a.ladder, "sync", meet_then_sync)
    fired, acknowledged = await asyncio.gather(
        scheduled._fire_alone(b, TimeHook(b.ladder, b.reminders), "awaiting", item_id, clock.now()),
        a.cases.acknowledge("linnea.fors", case.ref), return_exceptions=True)
    assert not isinstance(fired, BaseException), fired
    assert not isinstance(acknowledged, BaseException), acknowledged
    done = await _audited(a, case.ref)
    acked = done.index(("acknowledge", "ok"))
    assert ("ladder_skipped", "ok") not in done[acked:], done  # nothing climbed once it was answered

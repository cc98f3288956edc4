"""A coordinator who reads a case only because its dispute reached him (the ladder's alert, `visibility.level`) no
longer reads it once the dispute is settled: the case's text still to go to him is stopped, as after any action
that takes access away (`bot.cases.access_lost`). What still goes: the settlement's own notices, and the messages
of those who still read the case (status note of session 8, "a coordinator reading only through a dispute alert is
not covered at settle time").

Defence in depth (review of 0817c25): no bot code queues such a text today, since `outbox.prepare` checks every
message with `free_text_check`, which judges without the alerts; the rows are inserted here by hand."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest

from bot.cases import access
from bot.cases.visibility import Level
from bot.clock import FrozenClock
from bot.core import Core
from bot.store import Tx
from bot.store import outbox as outbox_store
from tests.conftest import RecordingSender, local
from tests.integration.test_disputes import disputed_case
from tests.timekit import advance

pytestmark = pytest.mark.parametrize("engine", ["sqlite", "postgresql"])


async def _shown(core: Core, case: Any, recipient: str) -> None:
    """A message showing the case's text still to go to `recipient` (an escalation quoting a follow-up)."""
    async with core.db.transaction() as tx:
        await outbox_store.insert_many(tx, [outbox_store.row(
            created_at=core.clock.now(), case_id=case.id, case_ref=case.ref, recipient_id=recipient, channel="slack",
            template="escalation", text="", message='{"what": "Tvist"}', urgent=False, earliest=core.clock.now(),
            dedupe_key=None, reads=json.dumps([case.ref]))])


async def _rows(core: Core, recipient: str) -> list[dict[str, Any]]:
    async def rows(tx: Tx) -> list[dict[str, Any]]:
        return await tx.fetchall("SELECT template, status, message, reads FROM outbox WHERE recipient_id = ? "
                                 "AND created_at >= ? ORDER BY id", (recipient, core.clock.now().isoformat()))
    return list(await core.db.run_read(rows))


async def test_a_settled_dispute_stops_its_text_to_a_coordinator_who_read_it_only_through_the_alert(
        core: Core, clock: FrozenClock, sender: RecordingSender, engine: str) -> None:
    case = await disputed_case(core)
    await advance(core, clock, sender, local("2026-11-27T10:30"), step=timedelta(hours=6))
    async with core.db.transaction() as tx:
        alerts = await access.alerts_for(tx, case.id)
    assert "jonas.sjo" in alerts.alerted  # psykiatri's coordinator, the dispute's top rung
    assert await access.level_of(core.db, case, core.directory, "jonas.sjo") is Level.FULL
    await _shown(core, case, "jonas.sjo")
    await _shown(core, case, "maria.sand")  # the requester reads the case either way
    await core.disputes.settle("helena.ros", case.ref, "Psykiatrin behåller ärendet")
    await core.disputes.settle("carina.berg", case.ref, None)
    settled = await core.cases.get(case.ref)
    assert not settled.disputed
    assert await access.level_of(core.db, settled, core.directory, "jonas.sjo") is Level.SUMMARY

    jonas = await _rows(core, "jonas.sjo")
    stopped = [r for r in jonas if r["template"] == "escalation"]
    assert [(r["status"], r["message"]) for r in stopped] == [("cancelled", None)], jonas
    # the dispute's end still tells him, without the text (queued after the pass, by the settlement's own hooks)
    told = [r for r in jonas if r["template"] != "escalation"]
    assert told and all(r["status"] == "pending" for r in told), jonas
    assert all(case.ref not in (r["reads"] or "") for r in told), told
    maria = await _rows(core, "maria.sand")
    assert [r["status"] for r in maria if r["template"] == "escalation"] == ["pending"], maria
    assert any(r["template"] == "dispute_settled" and r["status"] == "pending" for r in maria), maria


async def test_an_action_during_the_dispute_keeps_the_text_of_a_coordinator_it_reached(
        core: Core, clock: FrozenClock, sender: RecordingSender, engine: str) -> None:
    """The keeps side: while the dispute is open an action that takes nothing from him (here the meeting booked)
    leaves his message alone: judged with the alerts before and after, he reads the case throughout."""
    case = await disputed_case(core)
    await advance(core, clock, sender, local("2026-11-27T10:30"), step=timedelta(hours=6))
    await _shown(core, case, "jonas.sjo")
    await core.cases.book("yusuf.kaya", case.ref, local("2026-12-03T13:00"), "Rum 3", ["soc-norr", "psykiatri"])
    jonas = await _rows(core, "jonas.sjo")
    assert [r["status"] for r in jonas if r["template"] == "escalation"] == ["pending"], jonas

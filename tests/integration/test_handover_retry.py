"""A forced hand-over that PostgreSQL aborts for a deadlock (its cancelled messages met an outcomes batch) is run
again on a fresh transaction, with what it counts started afresh (review of d84a2a4: it ran in a hop-form
transaction, never retried, and the forced directory update failed). It is one unit of work now, run again by the
store's one retry (`Database.run(retry=True)`)."""

from __future__ import annotations

from typing import Any

import psycopg.errors
import pytest

from bot.cases.leavers import stop_for_leavers
from bot.core import Core
from bot.store import Tx
from bot.store import closing as closing_store
from tests.timekit import assigned_case


@pytest.mark.parametrize("engine", ["postgresql"])
async def test_a_hand_over_chosen_as_a_deadlocks_victim_is_run_again(core: Core, monkeypatch: Any) -> None:
    from bot.directory.changes import diff
    from bot.directory.handover import hand_over

    case = await assigned_case(core)
    stop_shown = closing_store.stop_shown
    calls: list[int] = []

    async def deadlocked_once(tx: Tx, *args: Any) -> list[closing_store.Stopped]:
        calls.append(1)
        if len(calls) == 1:
            raise psycopg.errors.DeadlockDetected("deadlock detected")
        return await stop_shown(tx, *args)

    monkeypatch.setattr(closing_store, "stop_shown", deadlocked_once)
    old = core.directory.data
    new = old.model_copy(update={"people": tuple(p for p in old.people if p.id != "linnea.fors")})
    handed = await hand_over(core.db, new, diff(old, new).leaving, core.clock.now(),
                           lost_readers=stop_for_leavers)
    assert handed > 0 and len(calls) == 2
    assert (await core.cases.get(case.ref)).assignees == ["fatima.ali"]

    async def facts(tx: Tx) -> tuple[int, list[str]]:
        noted = await tx.scalar("SELECT COUNT(*) FROM audit WHERE action = 'directory_handover'")
        rows = await tx.fetchall("SELECT status FROM outbox WHERE recipient_id = 'linnea.fors' "
                                 "AND template = 'assigned_to_you'")
        return int(noted), [str(r["status"]) for r in rows]

    assert await core.db.run_read(facts) == (handed, ["cancelled"])  # each holding noted once

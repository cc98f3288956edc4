"""A leaver whose only message of a case is 'failed' (another instance's send gave up on it, and a late send may yet
deliver it) is checked too: the row is cancelled as a pending one is (`closing.cancel_shown` treats failed rows as
still to go; the hand-over's look-ups read only pending ones before: review of 72d8891, finding 5)."""

from __future__ import annotations

import json

import pytest

from bot.cases.leavers import stop_for_leavers
from bot.core import Core
from bot.directory.changes import diff
from bot.directory.handover import hand_over
from bot.store import Tx
from bot.store import outbox as outbox_store
from tests.timekit import form

pytestmark = pytest.mark.parametrize("engine", ["sqlite", "postgresql"])


async def test_a_leavers_failed_message_of_a_case_he_only_assigned_is_cancelled(core: Core, engine: str) -> None:
    case = await core.cases.request("maria.sand", form())
    await core.cases.assign("gustav.lund", case.ref, ["linnea.fors"])
    async with core.db.transaction() as tx:
        await tx.execute("UPDATE outbox SET status = 'sent' WHERE recipient_id = 'gustav.lund' AND status = 'pending'")
        await outbox_store.insert_many(tx, [outbox_store.row(
            created_at=core.clock.now(), case_id=case.id, case_ref=case.ref, recipient_id="gustav.lund",
            channel="slack", template="escalation", text="", message='{"what": "Ringa upp"}', urgent=False,
            earliest=core.clock.now(), dedupe_key=None, reads=json.dumps([case.ref]))])
        await tx.execute("UPDATE outbox SET status = 'failed' WHERE recipient_id = 'gustav.lund' "
                         "AND template = 'escalation'")
    old = core.directory.data
    new = old.model_copy(update={"people": tuple(
        p.model_copy(update={"unit": "psykiatri"}) if p.id == "gustav.lund" else p for p in old.people)})
    await hand_over(core.db, new, diff(old, new).leaving, core.clock.now(), lost_readers=stop_for_leavers)

    async def rows(tx: Tx) -> list[tuple[str, bool]]:
        return [(str(r["status"]), r["message"] is not None) for r in await tx.fetchall(
            "SELECT status, message FROM outbox WHERE recipient_id = 'gustav.lund' AND template = 'escalation'")]

    assert await core.db.run_read(rows) == [("cancelled", False)]

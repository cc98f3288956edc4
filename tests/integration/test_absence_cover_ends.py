"""A stand-in distributes for the absent distributor only while the cover lasts (`Directory.distributors_of`):
when the absence is cancelled, an urgent request sent to them as the stand-in and not yet delivered is stopped, by
the one rule (`visibility.level`, `bot.cases.leavers.stop_for_people`); what they read another way stays (#22
item 3; status note of session 8, `bot/absence/service.py` cancel)."""

from __future__ import annotations

from datetime import date

import pytest

from bot.cases import access
from bot.cases.visibility import Level
from bot.core import Core
from bot.store import Tx
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

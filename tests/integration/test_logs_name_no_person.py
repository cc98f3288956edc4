"""A log line names no person (issue: logging carries case references, never personal data): who acted, who
was told, whose absence, whose reading stay in the audit table and the read log; the application log, kept
longer and shown to more people on a log platform, carries codes, case references and unit names."""

from __future__ import annotations

import logging
from datetime import timedelta

import pytest

from bot import readlog
from bot.clock import FrozenClock
from bot.core import Core
from bot.logs import JsonFormatter
from tests.timekit import form


async def test_a_case_life_logs_no_person_id(core: Core, clock: FrozenClock, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    case = await core.cases.request("maria.sand", form())
    await core.cases.assign("fatima.ali", case.ref, ["linnea.fors", "sofia.grahn"])
    await core.cases.acknowledge("linnea.fors", case.ref)
    await readlog.record_now(core.db, at=clock.now(), person_id="sofia.grahn", refs=[case.ref], view="visa",
                             channel="slack")
    clock.advance(timedelta(days=3))
    await core.tick()
    lines = [JsonFormatter().format(r) for r in caplog.records if r.name.startswith("gfi")]
    assert any(case.ref in line for line in lines)  # the events are logged, with the case reference
    people = list(core.directory.people)
    named = [line for line in lines if any(pid in line for pid in people)]
    assert named == []

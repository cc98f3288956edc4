"""Frånvaro (issue #10, item 12): absences registered in the bot, used by the ladder and the distribution.

The handbook's own setting: Beroendemottagningen (fatima.ali distributes, gustav.lund is the deputy), its
verksamhetschef helena.ros (psykiatri) and psykiatrisamordnare jonas.sjo; requests come from maria.sand.
"""

from __future__ import annotations

import io
import logging
from datetime import date
from pathlib import Path

import pytest
import yaml

from bot.channels.console import ConsoleSession
from bot.clock import FrozenClock
from bot.config import DEFAULT_DIRECTORY
from bot.core import Core
from bot.directory import parse_directory
from bot.errors import Refusal
from bot.presence import present, stand_in
from tests.conftest import CoreFactory, RecordingSender, local
from tests.timekit import advance, assigned_case, form

EXAMPLE = Path(DEFAULT_DIRECTORY).read_text(encoding="utf-8")


async def console(core: Core, clock: FrozenClock, person: str, line: str) -> str:
    """What the bot answers `person` in the console (messages to others go to the recording sender)."""
    out = io.StringIO()
    session = ConsoleSession(core, person, clock=clock, out=out)  # type: ignore[arg-type]
    await session.handle(line)
    return out.getvalue()


def texts(sender: RecordingSender, person: str, template: str) -> str:
    return "\n".join(s.text for s in sender.to(person, template))


async def test_absence_is_set_listed_and_the_stand_in_told(
    core: Core, clock: FrozenClock, sender: RecordingSender
) -> None:
    said = await console(core, clock, "helena.ros", "/frånvaro från=2026-11-23 till=2026-11-30 ersättare=karl.dahl")
    assert "Frånvaro 1 registrerad: du är borta mån 23 nov 2026–mån 30 nov 2026" in said
    assert "Ersättare: Karl Dahl" in said
    listed = await console(core, clock, "helena.ros", "/franvaro")
    assert "1: Helena Ros: mån 23 nov 2026–mån 30 nov 2026 (pågår). Ersättare: Karl Dahl." in listed
    # the stand-in sees it too, and is told what period and for whom; nobody is told about their own action
    assert "Helena Ros" in await console(core, clock, "karl.dahl", "/frånvaro")
    assert "Du är ersättare för Helena Ros mån 23 nov 2026–mån 30 nov 2026" in texts(sender, "karl.dahl",
                                                                                     "absence_stand_in")
    assert not sender.to("helena.ros")
    # someone else cannot see it
    assert "Ingen pågående eller kommande frånvaro" in await console(core, clock, "maria.sand", "/frånvaro")
    assert not present(core.directory, "helena.ros", local("2026-11-30T16:00"))
    assert present(core.directory, "helena.ros", local("2026-12-01T08:00"))
    assert stand_in(core.directory, "helena.ros", local("2026-11-25T10:00")) == "karl.dahl"


async def test_a_distributor_marks_staff_away_and_the_person_gets_a_receipt(
    core: Core, clock: FrozenClock, sender: RecordingSender
) -> None:
    said = await console(core, clock, "fatima.ali",
                         "/frånvaro person=linnea.fors till=2026-11-25 ersättare=sofia.grahn")
    assert "Linnea Fors är borta mån 23 nov 2026–ons 25 nov 2026" in said  # från= defaults to today
    await core.tick()
    assert "Fatima Ali har registrerat frånvaro för dig mån 23 nov 2026–ons 25 nov 2026" in texts(
        sender, "linnea.fors", "absence_registered")
    assert "Du är ersättare för Linnea Fors" in texts(sender, "sofia.grahn", "absence_stand_in")
    # assigning a new case to the absent person warns the distributor
    case = await core.cases.request("maria.sand", form())
    said = await console(core, clock, "fatima.ali", f"/fördela {case.ref} linnea.fors")
    assert "Obs: Linnea Fors är frånvarande mån 23 nov 2026–ons 25 nov 2026 (ersättare: Sofia Grahn)" in said


async def test_someone_outside_the_unit_cannot_mark_another_person_away(core: Core, clock: FrozenClock) -> None:
    refused = "Du kan bara registrera frånvaro för dig själv, eller som enhetschef (fördelare)"
    # staff of another unit, and the distributor of another unit
    assert refused in await console(core, clock, "maria.sand", "/frånvaro person=linnea.fors till=2026-11-26")
    assert refused in await console(core, clock, "david.nord", "/frånvaro person=linnea.fors till=2026-11-26")
    # staff of the same unit who distributes nothing
    assert refused in await console(core, clock, "sofia.grahn", "/frånvaro person=linnea.fors till=2026-11-26")
    assert "Ingen pågående" in await console(core, clock, "fatima.ali", "/frånvaro")
    async with core.db.transaction() as tx:
        rows = await tx.fetchall("SELECT actor_id, result FROM audit WHERE action = 'absence_set'")
    assert [(r["actor_id"], r["result"]) for r in rows] == [
        ("maria.sand", "refused"), ("david.nord", "refused"), ("sofia.grahn", "refused")]


async def test_a_stand_in_must_exist_and_belong_to_the_unit(core: Core, clock: FrozenClock) -> None:
    said = await console(core, clock, "fatima.ali", "/frånvaro till=2026-11-26 ersättare=okand.person")
    assert "Ersättaren okand.person finns inte i katalogen" in said
    said = await console(core, clock, "fatima.ali", "/frånvaro till=2026-11-26 ersättare=maria.sand")
    assert "Maria Sand arbetar inte på Beroendemottagningen Åstad" in said
    said = await console(core, clock, "fatima.ali", "/frånvaro till=2026-11-26 ersättare=fatima.ali")
    assert "Ersättaren kan inte vara den som är frånvarande" in said
    said = await console(core, clock, "fatima.ali", "/frånvaro från=2026-11-26 till=2026-11-24")
    assert "ligger före startdatumet" in said
    assert "Ingen pågående" in await console(core, clock, "fatima.ali", "/frånvaro")
    # the unit's deputy in the directory may stand in even for someone it does not share a unit with
    said = await console(core, clock, "fatima.ali", "/frånvaro till=2026-11-26 ersättare=gustav.lund")
    assert "Frånvaro 1 registrerad" in said


async def test_an_absent_rung_sends_the_escalation_to_the_stand_in(
    core: Core, clock: FrozenClock, sender: RecordingSender
) -> None:
    await core.absences.mark("helena.ros", date(2026, 11, 23), date(2026, 11, 30), stand_in_id="karl.dahl")
    await assigned_case(core)  # assigned Monday; nobody acknowledges
    await advance(core, clock, sender, local("2026-11-27T12:00"))
    assert "Du får detta som ersättare för Helena Ros, som är frånvarande." in texts(sender, "karl.dahl", "escalation")
    assert not sender.to("helena.ros", "escalation")
    # the stand-in may answer: take over the climb
    items = await core.ladder.open_escalations("karl.dahl")
    assert items and items[0].case_ref == "GFI-2026-0001"


async def test_an_absent_rung_without_stand_in_is_skipped_with_a_history_line(
    core: Core, clock: FrozenClock, sender: RecordingSender
) -> None:
    await core.absences.mark("helena.ros", date(2026, 11, 23), date(2026, 11, 30))
    case = await assigned_case(core)
    await advance(core, clock, sender, local("2026-11-27T12:00"))
    assert not sender.to("helena.ros", "escalation")
    top = texts(sender, "jonas.sjo", "escalation")
    assert "Steget verksamhetschef hoppades över eftersom ingen var i tjänst." in top
    shown = await console(core, clock, "maria.sand", f"/visa {case.ref}")
    assert "Steget verksamhetschef hoppades över eftersom ingen var i tjänst" in shown


async def test_when_the_absence_ends_the_ladder_is_normal_again(
    core: Core, clock: FrozenClock, sender: RecordingSender
) -> None:
    await core.absences.mark("helena.ros", date(2026, 11, 23), date(2026, 11, 24), stand_in_id="karl.dahl")
    clock.set(local("2026-11-25T09:00"))  # the absence ended yesterday
    await assigned_case(core)
    await advance(core, clock, sender, local("2026-11-30T12:00"))
    assert sender.to("helena.ros", "escalation")
    assert not sender.to("karl.dahl", "escalation")


async def test_an_absent_distributors_slot_goes_to_the_stand_in_and_back(
    core: Core, clock: FrozenClock, sender: RecordingSender
) -> None:
    await console(core, clock, "fatima.ali", "/frånvaro från=2026-11-23 till=2026-11-24 ersättare=linnea.fors")
    case = await core.cases.request("maria.sand", form())
    # Tuesday's slot: the queue goes to the stand-in, not to the absent distributor nor the deputy
    await advance(core, clock, sender, local("2026-11-24T09:15"))
    assert [s.recipient for s in sender.sent if s.template == "queue"] == ["linnea.fors"]
    # the stand-in distributes for the period
    assert case.ref in await console(core, clock, "linnea.fors", "/kö")
    # Thursday: the absence is over, Fatima has her queue again (and the stand-in no longer distributes)
    sender.clear()
    await advance(core, clock, sender, local("2026-11-26T09:15"))
    assert [s.recipient for s in sender.sent if s.template == "queue"] == ["fatima.ali"]
    with pytest.raises(Refusal):
        await core.cases.assign("linnea.fors", case.ref, ["sofia.grahn"])


async def test_without_stand_in_the_slot_goes_to_the_deputy(
    core: Core, clock: FrozenClock, sender: RecordingSender
) -> None:
    await core.absences.mark("fatima.ali", date(2026, 11, 23), date(2026, 11, 24))
    await core.cases.request("maria.sand", form())
    await advance(core, clock, sender, local("2026-11-24T09:15"))
    assert [s.recipient for s in sender.sent if s.template == "queue"] == ["gustav.lund"]


async def test_an_absence_is_cancelled_and_everyone_concerned_told(
    core: Core, clock: FrozenClock, sender: RecordingSender
) -> None:
    await console(core, clock, "fatima.ali", "/frånvaro person=linnea.fors till=2026-11-25 ersättare=sofia.grahn")
    assert "Ange frånvarons nummer" in await console(core, clock, "maria.sand", "/frånvaro ta-bort")
    assert "Hittar ingen frånvaro med nummer 1" in await console(core, clock, "maria.sand", "/frånvaro ta-bort 1")
    said = await console(core, clock, "linnea.fors", "/frånvaro ta-bort 1")
    assert "Frånvaro 1 är borttagen" in said
    await core.tick()
    assert "Du är inte längre ersättare" in texts(sender, "sofia.grahn", "absence_cancelled")
    assert present(core.directory, "linnea.fors", local("2026-11-24T10:00"))


async def test_an_absence_of_someone_gone_from_the_directory_is_ignored(
    make_core: CoreFactory, clock: FrozenClock, caplog: pytest.LogCaptureFixture
) -> None:
    core = await make_core()
    await core.absences.mark("sofia.grahn", date(2026, 11, 23), date(2026, 11, 25))
    await core.close()
    raw = yaml.safe_load(EXAMPLE)
    raw["people"] = [p for p in raw["people"] if p["id"] != "sofia.grahn"]
    with caplog.at_level(logging.WARNING):
        again = await make_core(parse_directory(raw, Path(DEFAULT_DIRECTORY)))
    assert any(getattr(r, "event", None) == "absence.unknown_person" for r in caplog.records)
    assert again.directory.absences.all() == []

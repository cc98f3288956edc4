"""Removing or moving someone who holds open work: refused with the list, or handed over with --force; on
PostgreSQL too, where the update finds the store through GFI_DATABASE_URL (issue #22)."""

from __future__ import annotations

import asyncio
import io
import json
import os
import sys
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from bot.cases import access
from bot.cases.leavers import stop_for_leavers
from bot.channels.console.output import readable_history
from bot.clock import FrozenClock
from bot.config import DEFAULT_DIRECTORY
from bot.core import Core
from bot.directory import load_directory
from bot.directory.csv_import import read_csv
from bot.directory.update import EXIT_REFUSED, Request, apply
from bot.store import audit
from tests.conftest import RecordingSender, local
from tests.timekit import advance, form

PLACE = "Beroendemottagningen, rum 3"
BEROENDE_WITHOUT_LINNEA = (
    "namn,enhet,epost,titel\n"
    "Fatima Ali,beroende,fatima.ali@rsv.example.se,enhetschef\n"
    "Gustav Lund,beroende,gustav.lund@rsv.example.se,avdelningschef\n"
    "Sofia Grahn,beroende,sofia.grahn@rsv.example.se,sjuksköterska\n"
)


async def linnea_holds_work(core: Core, clock: FrozenClock, sender: RecordingSender) -> tuple[str, str]:
    """Two open cases of beroende: one at follow-up owned by linnea.fors, one she is assigned and must book."""
    first = await core.cases.request("maria.sand", form())
    await core.cases.assign("fatima.ali", first.ref, ["linnea.fors"])
    await core.cases.acknowledge("linnea.fors", first.ref)
    await core.cases.book("linnea.fors", first.ref, local("2026-11-25T13:00"), PLACE, ["soc-norr", "beroende"])
    await advance(core, clock, sender, local("2026-11-25T15:00"), step=timedelta(hours=1))
    await core.cases.record_outcome("linnea.fors", first.ref, "kartläggning", True)
    await core.cases.add_follow_up("linnea.fors", first.ref, "linnea.fors", local("2026-12-09T12:00").date(),
                                   "Uppföljning av kartläggningen")
    second = await core.cases.request("omar.haddad", form())
    await core.cases.assign("fatima.ali", second.ref, ["linnea.fors"])
    await core.cases.acknowledge("linnea.fors", second.ref)  # the ladder now awaits her booking
    return first.ref, second.ref


def store(core: Core) -> dict[str, Any]:
    """Where the update finds the store: the SQLite file, or GFI_DATABASE_URL (PostgreSQL)."""
    url = core.settings.database_url
    return {"db_path": core.settings.db_path, "database_url": url.get_secret_value() if url is not None else None}


def csv_file(tmp_path: Path) -> Path:
    path = tmp_path / "hr.csv"
    path.write_text(BEROENDE_WITHOUT_LINNEA, encoding="utf-8")
    return path


async def test_removing_a_person_with_open_work_is_refused_with_the_list(
        core: Core, clock: FrozenClock, sender: RecordingSender, tmp_path: Path) -> None:
    first, second = await linnea_holds_work(core, clock, sender)
    target = tmp_path / "katalog.yaml"
    target.write_text(DEFAULT_DIRECTORY.read_text(encoding="utf-8"), encoding="utf-8")
    before = target.read_bytes()
    current = load_directory(target)
    people, scope, _ = read_csv(csv_file(tmp_path), current.data)
    out, err = io.StringIO(), io.StringIO()
    request = Request(directory_path=target, out=target, **store(core), how="import")
    code = await apply(request, current, people, scope, clock, out, err, lost_readers=stop_for_leavers)
    assert code == EXIT_REFUSED
    listed = err.getvalue()
    assert f"linnea.fors: tilldelad ärendet {first} (beroende) → lämnas till fatima.ali" in listed
    assert f"linnea.fors: tilldelad ärendet {second} (beroende) → lämnas till fatima.ali" in listed
    assert f"linnea.fors: äger en uppföljning i {first} (beroende) → lämnas till fatima.ali" in listed
    assert f"linnea.fors: ska svara i ansvarstrappan för {second} (beroende)" in listed
    assert "Kör igen med --force" in listed
    assert listed.count("linnea.fors:") == 5, listed
    assert target.read_bytes() == before  # nothing written
    case = await core.cases.get(second)
    assert case.assignees == ["linnea.fors"]

    # the dry run shows the same list and that it would be refused, and exits 0
    out, err = io.StringIO(), io.StringIO()
    dry = Request(directory_path=target, out=target, **store(core), how="import", dry_run=True)
    assert await apply(dry, current, people, scope, clock, out, err, lost_readers=stop_for_leavers) == 0
    assert f"linnea.fors: tilldelad ärendet {first}" in out.getvalue()
    assert "Utan --force skulle ändringen nekas." in out.getvalue()
    assert target.read_bytes() == before


async def test_force_hands_everything_to_the_distributor_and_says_so_in_the_history(
        core: Core, clock: FrozenClock, sender: RecordingSender, tmp_path: Path, engine: str) -> None:
    first, second = await linnea_holds_work(core, clock, sender)
    target = tmp_path / "katalog.yaml"
    target.write_text(DEFAULT_DIRECTORY.read_text(encoding="utf-8"), encoding="utf-8")
    current = load_directory(target)
    people, scope, _ = read_csv(csv_file(tmp_path), current.data)
    out, err = io.StringIO(), io.StringIO()
    request = Request(directory_path=target, out=target, **store(core), how="import", force=True)
    code = await apply(request, current, people, scope, clock, out, err, lost_readers=stop_for_leavers)
    assert code == 0, err.getvalue()
    assert "5 åtaganden lämnades över till fördelarna" in out.getvalue(), err.getvalue()
    assert "linnea.fors" not in load_directory(target).people
    if engine == "postgresql":  # the running instances serve the new directory at once (issue #22 item 5)
        assert "Katalogen delas nu med alla instanser" in out.getvalue()
        deadline = time.monotonic() + 10
        while "linnea.fors" in core.directory.people:
            assert time.monotonic() < deadline, "the instance did not take the published directory"
            await asyncio.sleep(0.05)

    assert (await core.cases.get(first)).assignees == ["fatima.ali"]
    assert (await core.cases.get(second)).assignees == ["fatima.ali"]
    async with core.db.transaction() as tx:
        owners = await tx.fetchall("SELECT owner_id FROM follow_ups WHERE done_at IS NULL")
        awaiting = await tx.fetchall("SELECT answerers FROM awaiting WHERE resolved_at IS NULL AND case_ref = ?",
                                     (second,))
        history = await audit.for_case(tx, second)
    assert [r["owner_id"] for r in owners] == ["fatima.ali"]
    assert [json.loads(r["answerers"]) for r in awaiting] == [["fatima.ali"]]
    handed = [h for h in history if h["action"] == "directory_handover"]
    assert {json.loads(h["detail"])["what"] for h in handed} == {"assignment", "awaiting"}
    assert all(h["actor_id"] == "system" for h in handed)
    # the history as staff read it (/visa)
    lines = core.renderer.macro("console", "case_view", case=await core.cases.get(second),
                                history=readable_history(history))
    # (on PostgreSQL the instance serves the new directory already, where she is no longer named)
    gone = "linnea.fors" if engine == "postgresql" else "Linnea Fors"
    assert f"Överlämnat vid katalogändring från {gone} till Fatima Ali" in lines
    # the new holder can act on the case at once (she is its assignee now)
    case = await core.cases.book("fatima.ali", second, local("2026-12-01T10:00"), PLACE, ["soc-norr", "beroende"])
    assert case.meeting_at is not None


async def test_the_command_refuses_as_a_process(core: Core, clock: FrozenClock, sender: RecordingSender,
                                                tmp_path: Path) -> None:
    first, _ = await linnea_holds_work(core, clock, sender)
    target = tmp_path / "katalog.yaml"
    target.write_text(DEFAULT_DIRECTORY.read_text(encoding="utf-8"), encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith("GFI_")}
    url = store(core)["database_url"]
    if url is not None:  # PostgreSQL: the store the running instances share, named as they name it
        env["GFI_DATABASE_URL"] = url
    where = [] if url is not None else ["--db", str(core.settings.db_path)]
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot.cli", "directory", "import", "--csv", str(csv_file(tmp_path)),
        "--directory", str(target), *where, env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )
    stdout, stderr = await asyncio.wait_for(proc.communicate(), timeout=60)
    assert proc.returncode == EXIT_REFUSED, stderr.decode()
    assert "  - linnea.fors  Linnea Fors (beroende)" in stdout.decode()
    assert f"linnea.fors: tilldelad ärendet {first} (beroende) → lämnas till fatima.ali" in stderr.decode()
    assert "Traceback" not in stderr.decode()


@pytest.mark.parametrize("engine", ["sqlite", "postgresql"])
async def test_a_hand_over_stops_the_brief_still_to_go_to_the_person_who_left(
        core: Core, clock: FrozenClock, tmp_path: Path, engine: str) -> None:
    """linnea.fors leaves beroende with her assignment not yet delivered (the brief): handed to the distributor, she
    no longer reads the case, and the message is stopped as after a reassignment (`bot.cases.access_lost`)."""
    case = await core.cases.request("maria.sand", form())
    await core.cases.assign("fatima.ali", case.ref, ["linnea.fors"])
    target = tmp_path / "katalog.yaml"
    target.write_text(DEFAULT_DIRECTORY.read_text(encoding="utf-8"), encoding="utf-8")
    current = load_directory(target)
    people, scope, _ = read_csv(csv_file(tmp_path), current.data)
    out, err = io.StringIO(), io.StringIO()
    request = Request(directory_path=target, out=target, **store(core), how="import", force=True)
    assert await apply(request, current, people, scope,
                       clock, out, err, lost_readers=stop_for_leavers) == 0, err.getvalue()
    assert (await core.cases.get(case.ref)).assignees == ["fatima.ali"]
    async with core.db.transaction() as tx:
        rows = await tx.fetchall("SELECT recipient_id, status, message FROM outbox WHERE template = 'assigned_to_you' "
                                 "ORDER BY id")
    assert [(r["recipient_id"], r["status"]) for r in rows] == [("linnea.fors", "cancelled")], rows
    assert rows[0]["message"] is None


GUSTAV_TO_PSYKIATRI = BEROENDE_WITHOUT_LINNEA.replace("Gustav Lund,beroende,", "Gustav Lund,psykiatri,") + (
    "Linnea Fors,beroende,linnea.fors@rsv.example.se,kurator\n")


async def _move_gustav(core: Core, clock: FrozenClock, tmp_path: Path) -> None:
    """An import with --force moves beroende's deputy gustav.lund to psykiatri (he stays in the directory)."""
    target = tmp_path / "katalog.yaml"
    target.write_text(DEFAULT_DIRECTORY.read_text(encoding="utf-8"), encoding="utf-8")
    current = load_directory(target)
    source = tmp_path / "hr.csv"
    source.write_text(GUSTAV_TO_PSYKIATRI, encoding="utf-8")
    people, _, _ = read_csv(source, current.data)
    out, err = io.StringIO(), io.StringIO()
    request = Request(directory_path=target, out=target, **store(core), how="import", force=True)
    assert await apply(request, current, people, {"beroende"},
                       clock, out, err, lost_readers=stop_for_leavers) == 0, err.getvalue()
    moved = load_directory(target)
    assert moved.person("gustav.lund").unit == "psykiatri"  # type: ignore[union-attr]
    assert "gustav.lund" not in moved.distributors_of("beroende")


async def _pending(core: Core, template: str) -> list[tuple[str, str]]:
    async with core.db.transaction() as tx:
        rows = await tx.fetchall("SELECT recipient_id, status FROM outbox WHERE template = ? ORDER BY id", (template,))
    return [(r["recipient_id"], r["status"]) for r in rows]


@pytest.mark.parametrize("engine", ["sqlite", "postgresql"])
async def test_a_deputy_moved_to_another_unit_gets_no_meeting_place_still_to_go(
        core: Core, clock: FrozenClock, tmp_path: Path, engine: str) -> None:
    """gustav.lund (beroende's deputy) assigns the case to linnea.fors and himself; she books the meeting. Moved to
    psykiatri, his assignment goes to fatima.ali: judged by the directory as written (no longer the deputy, nor a
    distributor who assigned it) he no longer reads the case, and the place still to go to him is stopped. By the
    directory before his role was handed over he still read it, and it stayed pending."""
    case = await core.cases.request("maria.sand", form())
    await core.cases.assign("gustav.lund", case.ref, ["linnea.fors", "gustav.lund"])
    await core.cases.acknowledge("linnea.fors", case.ref)
    await core.cases.book("linnea.fors", case.ref, local("2026-12-10T13:00"), PLACE, ["soc-norr", "beroende"])
    assert ("gustav.lund", "pending") in await _pending(core, "meeting_booked")
    await _move_gustav(core, clock, tmp_path)
    assert (await core.cases.get(case.ref)).assignees == ["linnea.fors", "fatima.ali"]
    booked = await _pending(core, "meeting_booked")
    assert ("gustav.lund", "cancelled") in booked and ("gustav.lund", "pending") not in booked, booked
    assert ("maria.sand", "pending") in booked, booked  # the requester still reads it


@pytest.mark.parametrize("engine", ["sqlite", "postgresql"])
async def test_a_deputy_moved_who_only_assigned_the_case_gets_none_of_its_text_still_to_go(
        core: Core, clock: FrozenClock, tmp_path: Path, engine: str) -> None:
    """gustav.lund assigned the case to linnea.fors and holds nothing stored in it; an escalation showing a
    follow-up's text is still to go to him (he reads the case: he assigned it). Moved to psykiatri he is not among
    what was handed over, yet no longer reads the case: the message is stopped too."""
    from bot.store import outbox as outbox_store

    case = await core.cases.request("maria.sand", form())
    await core.cases.assign("gustav.lund", case.ref, ["linnea.fors"])
    async with core.db.transaction() as tx:
        await outbox_store.insert_many(tx, [outbox_store.row(
            created_at=clock.now(), case_id=case.id, case_ref=case.ref, recipient_id="gustav.lund", channel="slack",
            template="escalation", text="", message='{"what": "Ringa upp"}', urgent=False, earliest=clock.now(),
            dedupe_key=None, reads=json.dumps([case.ref]))])
    assert await _pending(core, "escalation") == [("gustav.lund", "pending")]
    await _move_gustav(core, clock, tmp_path)
    assert await _pending(core, "escalation") == [("gustav.lund", "cancelled")]


@pytest.mark.parametrize("engine", ["sqlite", "postgresql"])
async def test_a_coordinator_moved_who_still_reads_the_dispute_keeps_its_text_still_to_go(
        core: Core, clock: FrozenClock, sender: RecordingSender, tmp_path: Path, engine: str) -> None:
    """jonas.sjo (psykiatri's coordinator, on its ladder) is alerted about a disputed case, then moves to beroende
    and stays a coordinator: a message of the case still to go to him makes him a candidate, yet through the ladder's
    alerts he still reads the case in full, and the message stays (it was cancelled when level() was asked without
    the alerts)."""
    from bot.directory.changes import diff
    from bot.directory.handover import hand_over
    from bot.store import outbox as outbox_store
    from tests.integration.test_disputes import disputed_case

    case = await disputed_case(core)
    await advance(core, clock, sender, local("2026-11-27T10:30"), step=timedelta(hours=6))
    async with core.db.transaction() as tx:
        alerted = (await access.alerts_for(tx, case.id)).alerted
        await outbox_store.insert_many(tx, [outbox_store.row(
            created_at=clock.now(), case_id=case.id, case_ref=case.ref, recipient_id="jonas.sjo", channel="slack",
            template="escalation", text="", message='{"what": "Tvist"}', urgent=False, earliest=clock.now(),
            dedupe_key=None, reads=json.dumps([case.ref]))])
    assert "jonas.sjo" in alerted
    old = core.directory.data
    new = old.model_copy(update={"people": tuple(
        p.model_copy(update={"unit": "beroende"}) if p.id == "jonas.sjo" else p for p in old.people)})
    assert diff(old, new).leaving == {"jonas.sjo": "psykiatri"}
    await hand_over(core.db, new, diff(old, new).leaving, clock.now(), lost_readers=stop_for_leavers)
    escalations = await _pending(core, "escalation")
    assert ("jonas.sjo", "pending") in escalations and ("jonas.sjo", "cancelled") not in escalations, escalations

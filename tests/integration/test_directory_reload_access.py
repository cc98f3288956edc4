"""The publication gap (#22 item 2; review finding 5 of session 8): a hand-over commits before the instances serve
its directory, and until each reloads, a unit on the old directory may still queue a case's text to someone who
left and holds nothing stored in it. So each instance, once it serves a newer directory, stops the messages still
to go to the people whose roles changed that they no longer read in full (`bot.cases.leavers.stop_after_reload`,
plugged in by the core). The people whose roles changed and still read the case keep theirs.

fatima.ali, beroende's distributor, moves to psykiatri (her role goes to gustav.lund, the deputy). The hand-over
commits; before the instance reloads, an urgent request is filed there and goes to her (the old directory); then
the instance serves the new directory (its file's reload, both engines; on PostgreSQL also a second instance
reloading what another published)."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

import pytest

from bot.cases.leavers import stop_for_leavers
from bot.config import DEFAULT_DIRECTORY
from bot.core import Core
from bot.directory import load_directory
from bot.directory.changes import diff
from bot.directory.handover import _role_holdings, hand_over, hand_over_roles
from bot.directory.model import DirectoryFile
from bot.directory.reload import DirectoryWatcher
from bot.directory.shared import digest_of
from bot.directory.writing import file_text
from bot.store import Tx, open_database
from bot.store.directory_versions import publish
from tests.conftest import CoreFactory
from tests.races import two
from tests.timekit import form


def _fatima_moves(old: DirectoryFile) -> tuple[DirectoryFile, dict[str, str]]:
    new = old.model_copy(update={"people": tuple(
        p.model_copy(update={"unit": "psykiatri"}) if p.id == "fatima.ali" else p for p in old.people)})
    leaving = diff(old, new).leaving
    assert leaving == {"fatima.ali": "beroende"}
    return hand_over_roles(new, [h for h in _role_holdings(new, leaving) if h.to is not None]), leaving


async def _status(core: Core, person: str, template: str) -> list[str]:
    async def rows(tx: Tx) -> list[str]:
        return [str(r["status"]) for r in await tx.fetchall(
            "SELECT status FROM outbox WHERE recipient_id = ? AND template = ? ORDER BY id", (person, template))]
    return list(await core.db.run_read(rows))


async def _before_the_reload(on: Core, handed_on: Core) -> tuple[DirectoryFile, Any]:
    """The hand-over commits (on `handed_on`); `on`, still serving the old directory, files an urgent request
    (to fatima.ali) and has gustav.lund's assignment (he reads that case) still to go."""
    written, leaving = _fatima_moves(on.directory.data)
    await hand_over(handed_on.db, written, leaving, handed_on.clock.now(), written, lost_readers=stop_for_leavers)
    kept = await on.cases.request("maria.sand", form())
    await on.cases.assign("fatima.ali", kept.ref, ["gustav.lund"])
    urgent = await on.cases.request("maria.sand", form(urgent=True))
    assert await _status(on, "fatima.ali", "urgent_request") == ["pending"]
    return written, urgent


async def _after_the_reload(core: Core) -> None:
    assert await _status(core, "fatima.ali", "urgent_request") == ["cancelled"]
    assert await _status(core, "gustav.lund", "urgent_request") == ["pending"]  # sent on to who distributes now
    assert await _status(core, "gustav.lund", "assigned_to_you") == ["pending"]  # his standing changed; he reads it
    assert "pending" in await _status(core, "maria.sand", "case_filed")


@pytest.mark.parametrize("engine", ["sqlite", "postgresql"])
async def test_an_instance_reloading_its_file_stops_what_it_queued_on_the_old_directory(
        make_core: CoreFactory, tmp_path: Path, engine: str) -> None:
    path = tmp_path / "katalog.yaml"
    path.write_text(DEFAULT_DIRECTORY.read_text(encoding="utf-8"), encoding="utf-8")
    core = await make_core(load_directory(path))
    watcher = DirectoryWatcher(core.directory, path, core.shared_directory)  # as `gfi-bot run` watches it
    written, _ = await _before_the_reload(core, core)
    path.write_text(file_text(written, path, "import --csv hr.csv"), encoding="utf-8")  # the command writes it
    assert await watcher.check()
    assert "fatima.ali" not in core.directory.distributors_of("beroende")
    await _after_the_reload(core)
    # a second reload of the same version (another instance's pass, a SIGHUP) finds nothing more to stop
    assert await watcher.check(forced=True)
    await _after_the_reload(core)


@pytest.mark.parametrize("engine", ["postgresql"])
async def test_an_instance_serving_what_another_published_stops_what_it_queued_on_the_old_directory(
        make_core: CoreFactory, engine: str) -> None:
    a, b = await two(make_core)
    written, _ = await _before_the_reload(b, a)
    text = file_text(written, Path("katalog.yaml"), "import --csv hr.csv")
    assert await publish(a.db, digest=digest_of(text.encode("utf-8")), format="yaml", text=text, origin="test")
    deadline = time.monotonic() + 10
    while await _status(b, "fatima.ali", "urgent_request") != ["cancelled"]:
        assert time.monotonic() < deadline, "the instance did not stop what it queued on the old directory"
        await asyncio.sleep(0.05)
    assert "fatima.ali" not in b.directory.distributors_of("beroende")
    await _after_the_reload(b)


@pytest.mark.parametrize("engine", ["sqlite", "postgresql"])
async def test_a_moved_distributors_stand_in_gets_none_of_the_units_text_after_the_reload(
        make_core: CoreFactory, tmp_path: Path, engine: str) -> None:
    """fatima.ali is away with sofia.grahn standing in, then moves to psykiatri: sofia's own roles did not change,
    yet she no longer distributes for beroende; the urgent request she got on the old directory is stopped (review
    of 72d8891, finding 3: she was no candidate)."""
    from datetime import date

    path = tmp_path / "katalog.yaml"
    path.write_text(DEFAULT_DIRECTORY.read_text(encoding="utf-8"), encoding="utf-8")
    core = await make_core(load_directory(path))
    watcher = DirectoryWatcher(core.directory, path, core.shared_directory)
    await core.absences.mark("fatima.ali", date(2026, 11, 23), date(2026, 11, 25), stand_in_id="sofia.grahn")
    written, leaving = _fatima_moves(core.directory.data)
    await hand_over(core.db, written, leaving, core.clock.now(), written, lost_readers=stop_for_leavers)
    await core.cases.request("maria.sand", form(urgent=True))  # on the old directory: to the stand-in
    assert await _status(core, "sofia.grahn", "urgent_request") == ["pending"]
    path.write_text(file_text(written, path, "import --csv hr.csv"), encoding="utf-8")
    assert await watcher.check()
    assert await _status(core, "sofia.grahn", "urgent_request") == ["cancelled"]
    assert await _status(core, "gustav.lund", "urgent_request") == ["pending"]  # sent on: who distributes now


@pytest.mark.parametrize("engine", ["postgresql"])
async def test_an_instance_restarted_on_its_old_file_stops_what_it_queued_on_it(
        make_core: CoreFactory, tmp_path: Path, engine: str) -> None:
    """The instance queued on the old directory, stopped, and another published the new one meanwhile: restarted
    on its old file it serves the store's newest, and runs the pass then too (review of 72d8891, finding 4: the
    hook was added after the start)."""
    path = tmp_path / "katalog.yaml"
    path.write_text(DEFAULT_DIRECTORY.read_text(encoding="utf-8"), encoding="utf-8")
    first = await make_core(load_directory(path))
    written, _ = await _before_the_reload(first, first)
    await first.close()
    url = first.settings.database_url
    assert url is not None
    store = open_database(url.get_secret_value(), first.settings.db_path)  # `gfi-bot directory import` publishes
    await store.open()
    text = file_text(written, Path("katalog.yaml"), "import --csv hr.csv")
    assert await publish(store, digest=digest_of(text.encode("utf-8")), format="yaml", text=text, origin="test")
    await store.close()
    restarted = await make_core(load_directory(path))  # its file, unchanged since it served it: the store's served
    assert "fatima.ali" not in restarted.directory.distributors_of("beroende")
    await _after_the_reload(restarted)


@pytest.mark.parametrize("engine", ["sqlite", "postgresql"])
async def test_an_urgent_request_stopped_by_the_handover_goes_on_to_who_distributes_now_once(
        make_core: CoreFactory, tmp_path: Path, engine: str) -> None:
    """Review of 7141fb5, finding 1: the urgent request was filed (to fatima.ali) before the hand-over, which stops
    it (`directory_handover`); the reload pass sends it on to gustav.lund, who distributes now, once (finding 2:
    with a dedupe key; a second pass, as another instance's, queues nothing more)."""
    path = tmp_path / "katalog.yaml"
    path.write_text(DEFAULT_DIRECTORY.read_text(encoding="utf-8"), encoding="utf-8")
    core = await make_core(load_directory(path))
    watcher = DirectoryWatcher(core.directory, path, core.shared_directory)
    await core.cases.request("maria.sand", form(urgent=True))
    assert await _status(core, "fatima.ali", "urgent_request") == ["pending"]
    written, leaving = _fatima_moves(core.directory.data)
    await hand_over(core.db, written, leaving, core.clock.now(), written, lost_readers=stop_for_leavers)
    assert await _status(core, "fatima.ali", "urgent_request") == ["cancelled"]
    path.write_text(file_text(written, path, "import --csv hr.csv"), encoding="utf-8")
    assert await watcher.check()
    assert await _status(core, "gustav.lund", "urgent_request") == ["pending"]
    assert await watcher.check(forced=True)  # the pass again (another instance's, a SIGHUP)
    assert await _status(core, "gustav.lund", "urgent_request") == ["pending"]

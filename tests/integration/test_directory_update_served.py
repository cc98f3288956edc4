"""`gfi-bot directory import|sync` on PostgreSQL starts from the directory being served (the store's newest), not
from the local file (review of lock-h's rollback, bug 3): a stale copy merged and published undid a rollback or a
change made on another machine, and people it had in an old unit were counted as leaving it, their cases handed
over. A copy with edits never published is refused."""

from __future__ import annotations

import asyncio
import io
import os
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from bot.cases.leavers import stop_for_leavers
from bot.clock import FrozenClock
from bot.core import Core
from bot.directory import Directory, load_directory
from bot.directory.csv_import import read_csv
from bot.directory.shared import digest_of, host_of
from bot.directory.update import EXIT_REFUSED, Request, apply, served
from bot.store import directory_versions
from tests.conftest import CoreFactory, RecordingSender
from tests.integration.test_directory_handover import csv_file, linnea_holds_work, store
from tests.integration.test_directory_shared import Instance, add_person, copy, instance
from tests.races import run_first


async def _served(a: Core, path: Path, **options: Any) -> tuple[Request, Directory, io.StringIO, io.StringIO]:
    """The update's first step on the machine whose copy is `path`, against instance a's store: what it starts
    from (the store's newest, or the copy), and what it said."""
    request = Request(directory_path=path, out=path, **store(a), **options)
    out, err = io.StringIO(), io.StringIO()
    current = await served(request, load_directory(path), out, err)
    assert not isinstance(current, int), err.getvalue()
    return request, current, out, err


async def _applied(request: Request, current: Directory, tmp_path: Path, clock: FrozenClock, out: io.StringIO,
                   err: io.StringIO) -> int:
    """The update's second step: the HR file (beroende without linnea.fors) merged into `current` and published."""
    people, scope, _ = read_csv(csv_file(tmp_path), current.data)
    return await apply(request, current, people, scope, clock, out, err, lost_readers=stop_for_leavers)


async def _newest_is(a: Core, text: bytes, version: int = 2) -> None:
    """The store's newest directory, the one every instance serves, is `version`, with `text`."""
    newest = await directory_versions.latest(a.db)
    assert newest is not None and newest.version == version and newest.digest == digest_of(text)


def _published_meanwhile(monkeypatch: pytest.MonkeyPatch, instance_a: Instance) -> None:
    """Machine A publishes version 2 (nils.ny) at the last moment: just before the update's own publication."""
    import bot.directory.update as update

    a_file, a_watch = instance_a

    async def publish() -> None:
        add_person(a_file)
        assert await a_watch.check()  # version 2, published

    monkeypatch.setattr(update, "_share", run_first(publish, update._share))


@pytest.mark.parametrize("engine", ["postgresql"])
async def test_an_update_on_a_machine_with_an_older_copy_starts_from_the_directory_served(
    make_core: CoreFactory, tmp_path: Path, clock: FrozenClock, engine: str,
) -> None:
    a_file = copy(tmp_path, "a.yaml")
    a, a_watch = await instance(make_core, a_file)  # version 1
    stale = copy(tmp_path, "c.yaml")  # machine C's copy: version 1, not updated since
    add_person(a_file)
    assert await a_watch.check()  # version 2 (nils.ny) on machine A: what every instance serves
    request, current, out, err = await _served(a, stale, how="import")
    assert "är en äldre version än katalogen som boten använder (version 2" in out.getvalue()
    assert await _applied(request, current, tmp_path, clock, out, err) == 0, err.getvalue()
    written = load_directory(stale)
    assert "nils.ny" in written.people  # merged into what was served, not into the stale copy
    assert "linnea.fors" not in written.people
    newest = await directory_versions.latest(a.db)
    assert newest is not None and newest.digest == digest_of(stale.read_bytes())
    assert a.directory.person("nils.ny") is not None


@pytest.mark.parametrize("engine", ["postgresql"])
async def test_an_update_of_a_local_file_with_edits_never_published_is_refused(
    make_core: CoreFactory, tmp_path: Path, engine: str,
) -> None:
    a, _ = await instance(make_core, copy(tmp_path, "a.yaml"))
    edited = copy(tmp_path, "c.yaml")
    edited.write_text(edited.read_text(encoding="utf-8").replace("Linnea", "Linn"), encoding="utf-8")
    before = edited.read_bytes()
    request = Request(directory_path=edited, out=edited, **store(a), how="import")
    out, err = io.StringIO(), io.StringIO()
    assert await served(request, load_directory(edited), out, err) == EXIT_REFUSED
    [line] = err.getvalue().splitlines()
    assert line.startswith(f"Nekas: {edited} har ändringar som boten inte använder") and "SIGHUP" not in line
    assert "Kör först samma kommando med --dry-run" in line
    assert edited.read_bytes() == before
    request = Request(directory_path=edited, out=edited, **store(a), how="import", dry_run=True)
    out, err = io.StringIO(), io.StringIO()
    current = await served(request, load_directory(edited), out, err)  # a dry run: from what is served
    assert not isinstance(current, int) and "Linnea" in current.data.model_dump_json(), err.getvalue()
    assert "provkörningen utgår från den version som används (version 1" in out.getvalue()


def old_copy_edited(tmp_path: Path, name: str) -> Path:
    """A machine's copy the store never saw: version 1 with a name changed by hand."""
    path = copy(tmp_path, name)
    path.write_text(path.read_text(encoding="utf-8").replace("Linnea", "Linn"), encoding="utf-8")
    return path


@pytest.mark.parametrize("engine", ["postgresql"])
async def test_an_update_on_a_machine_that_was_served_the_store_instead_of_its_copy_starts_from_it(
    make_core: CoreFactory, tmp_path: Path, engine: str,
) -> None:
    """Review of dir-i, 1: machine C's old copy, never published, was turned away at C's start (C serves the
    store's newest and recorded its copy as seen). The nightly sync on C starts from what is served, says so, and
    does not tell the operator to publish the old copy (which would undo what every instance serves)."""
    a, _ = await instance(make_core, copy(tmp_path, "a.yaml"))
    stale = old_copy_edited(tmp_path, "c.yaml")
    await directory_versions.seen(a.db, host_of(stale), digest_of(stale.read_bytes()))  # as C's start records it
    _, current, out, err = await _served(a, stale, how="sync --entra")
    assert err.getvalue() == "" and "SIGHUP" not in out.getvalue() and "reload" not in out.getvalue()
    assert out.getvalue() == (f"{stale} är en äldre kopia som aldrig har publicerats (katalogen som boten använder "
                              "är version 1 i databasen): ändringen görs i den som används.\n")
    assert "Linnea" in current.data.model_dump_json()  # what is served, not the copy's edit


@pytest.mark.parametrize("engine", ["postgresql"])
async def test_an_update_on_a_new_machine_with_a_copy_older_than_the_newest_starts_from_what_is_served(
    make_core: CoreFactory, tmp_path: Path, engine: str,
) -> None:
    """A machine never recorded whose copy, never published, was last changed before the store's newest: an
    older copy, not an edit made here."""
    a, _ = await instance(make_core, copy(tmp_path, "a.yaml"))
    stale = old_copy_edited(tmp_path, "c.yaml")
    yesterday = time.time() - 86400
    os.utime(stale, (yesterday, yesterday))
    out = (await _served(a, stale, how="import"))[2]
    assert out.getvalue().startswith(f"{stale} är en äldre kopia som aldrig har publicerats")


@pytest.mark.parametrize("engine", ["postgresql"])
async def test_an_update_of_the_file_served_starts_from_it(
    make_core: CoreFactory, tmp_path: Path, engine: str,
) -> None:
    path = copy(tmp_path, "a.yaml")
    a, _ = await instance(make_core, path)
    local = load_directory(path)
    request = Request(directory_path=path, out=path, **store(a), how="import")
    out, err = io.StringIO(), io.StringIO()
    assert await served(request, local, out, err) is local
    assert out.getvalue() == err.getvalue() == ""


@pytest.mark.parametrize("engine", ["postgresql"])
async def test_the_command_refuses_a_local_file_with_edits_never_published_as_a_process(
    make_core: CoreFactory, tmp_path: Path, engine: str,
) -> None:
    a, _ = await instance(make_core, copy(tmp_path, "a.yaml"))
    edited = copy(tmp_path, "c.yaml")
    edited.write_text(edited.read_text(encoding="utf-8").replace("Linnea", "Linn"), encoding="utf-8")
    before = edited.read_bytes()
    env = {k: v for k, v in os.environ.items() if not k.startswith("GFI_")}
    env["GFI_DATABASE_URL"] = store(a)["database_url"]
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot.cli", "directory", "import", "--csv", str(csv_file(tmp_path)),
        "--directory", str(edited), env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    stdout, stderr = await asyncio.wait_for(proc.communicate(), timeout=60)
    assert proc.returncode == EXIT_REFUSED, stderr.decode()
    [line] = stderr.decode().splitlines()
    assert line.startswith(f"Nekas: {edited} har ändringar som boten inte använder")
    assert stdout.decode() == ""
    assert edited.read_bytes() == before


@pytest.mark.parametrize("engine", ["postgresql"])
async def test_an_update_made_while_another_directory_was_published_loses_and_says_so(
    make_core: CoreFactory, tmp_path: Path, clock: FrozenClock, engine: str,
) -> None:
    """The import starts from version 1; machine A publishes version 2 (nils.ny) while the HR file is read. The
    import is refused before it hands anything over or writes the file, and says which lost; without the expected
    version it merged into version 1 and published over version 2 (nils.ny gone everywhere)."""
    a_file = copy(tmp_path, "a.yaml")
    a, a_watch = await instance(make_core, a_file)  # version 1
    local = copy(tmp_path, "c.yaml")
    request, current, out, err = await _served(a, local, how="import")
    add_person(a_file)
    assert await a_watch.check()  # version 2, meanwhile
    before = local.read_bytes()
    assert await _applied(request, current, tmp_path, clock, out, err) == EXIT_REFUSED
    assert "en annan katalog publicerades medan den här ändringen gjordes (version 2" in err.getvalue()
    assert "Ingenting skrevs" in err.getvalue()
    assert local.read_bytes() == before
    await _newest_is(a, a_file.read_bytes())


@pytest.mark.parametrize("engine", ["postgresql"])
async def test_a_publication_meeting_another_at_the_last_moment_loses_and_says_so(
    make_core: CoreFactory, tmp_path: Path, clock: FrozenClock, engine: str, monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Version 2 is published between the update's last check and its publication (as its file is written): the
    publication expects version 1 and is refused (`publish(expected=…)`); version 2 stays the newest."""
    a_file = copy(tmp_path, "a.yaml")
    a, a_watch = await instance(make_core, a_file)
    local = copy(tmp_path, "c.yaml")
    request, current, out, err = await _served(a, local, how="import")
    _published_meanwhile(monkeypatch, (a_file, a_watch))
    assert await _applied(request, current, tmp_path, clock, out, err) == EXIT_REFUSED
    assert "Den här ändringen förlorade och publicerades inte; version 2 gäller" in err.getvalue()
    await _newest_is(a, a_file.read_bytes())


@pytest.mark.parametrize("engine", ["postgresql"])
async def test_a_lost_publication_leaves_the_file_as_it_was_and_its_watcher_publishes_nothing(
    make_core: CoreFactory, tmp_path: Path, clock: FrozenClock, engine: str, monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Review of 6554329: the command wrote its file and then lost the publication; the `gfi-bot run` on the same
    machine (its watcher, within 30 s) found a digest the store did not know and published it with no expected
    version: the losing change over version 2 on every instance. Now the file is written only once published."""
    a_file = copy(tmp_path, "a.yaml")
    a, a_watch = await instance(make_core, a_file)
    local = copy(tmp_path, "c.yaml")
    _, c_watch = await instance(make_core, local)  # the bot running on the command's machine, watching its file
    before = local.read_bytes()
    request, current, out, err = await _served(a, local, how="import")
    _published_meanwhile(monkeypatch, (a_file, a_watch))
    assert await _applied(request, current, tmp_path, clock, out, err) == EXIT_REFUSED
    assert f"{local} har redan skrivits" not in err.getvalue() and "Ingenting skrevs" in err.getvalue()
    assert local.read_bytes() == before
    os.utime(local, ns=(time.time_ns(), time.time_ns() + 10**9))  # whatever the watcher looks at: it looks again
    await c_watch.check()
    await _newest_is(a, a_file.read_bytes())


@pytest.mark.parametrize("engine", ["postgresql"])
async def test_a_watcher_running_during_the_update_never_publishes_its_file_unguarded(
    make_core: CoreFactory, tmp_path: Path, clock: FrozenClock, engine: str, monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The watcher on the command's file runs just before the publication and just after the command: the file is
    written after its publication, so the watcher finds it as the store's newest and publishes nothing (written
    first, the watcher published it unguarded and the command's own publication then lost to it)."""
    import bot.directory.update as update

    a, _ = await instance(make_core, copy(tmp_path, "a.yaml"))
    local = copy(tmp_path, "c.yaml")
    c, c_watch = await instance(make_core, local)
    request, current, out, err = await _served(a, local, how="import")
    monkeypatch.setattr(update, "_share", run_first(c_watch.check, update._share))
    assert await _applied(request, current, tmp_path, clock, out, err) == 0, err.getvalue()
    assert out.getvalue().splitlines()[-2:] == [update.say("written", path=local), update.say("shared", version=2)]
    await c_watch.check()  # its 30-second check after the command
    await _newest_is(a, local.read_bytes())
    assert c.directory.person("linnea.fors") is None


@pytest.mark.parametrize("engine", ["postgresql"])
async def test_a_forced_update_losing_at_the_publication_says_what_it_handed_over(
    make_core: CoreFactory, tmp_path: Path, clock: FrozenClock, sender: RecordingSender, engine: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """--force hands over what linnea.fors holds before the publication; when that loses, the refusal says the
    hand-overs were made (review of 6554329: it said only that the change lost and was not published)."""
    a_file = copy(tmp_path, "a.yaml")
    a, a_watch = await instance(make_core, a_file)
    await linnea_holds_work(a, clock, sender)
    local = copy(tmp_path, "c.yaml")
    before = local.read_bytes()
    request, current, out, err = await _served(a, local, how="import", force=True)
    _published_meanwhile(monkeypatch, (a_file, a_watch))
    assert await _applied(request, current, tmp_path, clock, out, err) == EXIT_REFUSED
    assert "5 åtaganden lämnades över till fördelarna" in out.getvalue()
    assert f"{local} skrevs inte, men 5 åtaganden hade redan lämnats över" in err.getvalue()
    assert "Ingenting skrevs" not in err.getvalue()
    assert local.read_bytes() == before

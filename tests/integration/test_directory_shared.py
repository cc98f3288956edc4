"""One directory for every instance on PostgreSQL (issue #22 item 5): a directory file changed on one instance's
machine (the 30-second check, SIGHUP) or written by `gfi-bot directory import|sync` is served by every instance at
once; an instance whose own copy is older serves the store's newest, at start too; SIGHUP puts an older version
back on purpose. Two cores on one database, each with a file of its own, stand for two machines (the real
processes: tests/faults/test_postgres_instances.py). On SQLite the file is read as before."""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from bot.clock import FrozenClock
from bot.config import DEFAULT_DIRECTORY
from bot.core import Core
from bot.directory import DirectoryError, load_directory
from bot.directory.reload import DirectoryWatcher
from bot.directory.shared import digest_of
from tests.conftest import CoreFactory

NEW = ("  - {id: nils.ny, name: Nils Ny, unit: soc-norr, title: socialsekreterare, roles: [staff], "
       "slack_user_id: U01NILS, email: nils.ny@astad.example.se}\n")


async def until(done: Callable[[], bool], seconds: float = 10.0) -> None:
    deadline = time.monotonic() + seconds
    while not done():
        assert time.monotonic() < deadline, "timed out"
        await asyncio.sleep(0.05)


def copy(tmp_path: Path, name: str) -> Path:
    path = tmp_path / name
    path.write_text(DEFAULT_DIRECTORY.read_text(encoding="utf-8"), encoding="utf-8")
    return path


def edit(path: Path, old: str, new: str) -> None:
    """A copy edited on its machine: `old` becomes `new` in its text."""
    path.write_text(path.read_text(encoding="utf-8").replace(old, new), encoding="utf-8")


def add_person(path: Path) -> None:
    edit(path, "people:\n", "people:\n" + NEW)


Instance = tuple[Core, DirectoryWatcher]


async def instance(make_core: CoreFactory, path: Path) -> Instance:
    core = await make_core(load_directory(path))
    return core, DirectoryWatcher(core.directory, path, core.shared_directory)


async def two_machines(make_core: CoreFactory, tmp_path: Path) -> tuple[Path, Path, Instance, Instance]:
    """Two instances on one store, A and B, each with a copy of the directory of its own (a.yaml, b.yaml)."""
    a_file, b_file = copy(tmp_path, "a.yaml"), copy(tmp_path, "b.yaml")
    return a_file, b_file, await instance(make_core, a_file), await instance(make_core, b_file)


@pytest.mark.parametrize("engine", ["postgresql"])
async def test_a_file_changed_on_one_machine_is_served_by_every_instance_at_once(
    make_core: CoreFactory, tmp_path: Path, engine: str,
) -> None:
    a_file, b_file, (a, a_watch), (b, b_watch) = await two_machines(make_core, tmp_path)
    add_person(a_file)
    assert await a_watch.check()  # the 30-second check on A's machine
    assert a.directory.person("nils.ny") is not None
    await until(lambda: b.directory.person("nils.ny") is not None)  # B's file is unchanged
    assert b.directory.by_slack_id("U01NILS") is not None
    assert not await b_watch.check()  # B's own copy did not change: nothing to read, nothing published
    assert b.directory.person("nils.ny") is not None

    # B restarts with its old copy: it serves the store's newest, and does not publish the old one
    c, _ = await instance(make_core, b_file)
    assert c.directory.person("nils.ny") is not None
    await asyncio.sleep(0.3)
    assert a.directory.person("nils.ny") is not None

    # SIGHUP on B puts its (older) file back on purpose: every instance follows
    assert await b_watch.check(forced=True)
    await until(lambda: a.directory.person("nils.ny") is None and c.directory.person("nils.ny") is None)


@pytest.mark.parametrize("engine", ["postgresql"])
async def test_a_directory_published_while_a_listener_is_cut_off_is_read_when_it_is_back(
    make_core: CoreFactory, tmp_path: Path, engine: str,
) -> None:
    from tests.integration.test_instances_agree import _drop_listeners

    a_file, _, (_, a_watch), (b, _) = await two_machines(make_core, tmp_path)
    assert _drop_listeners(b.changes._url) == 2  # type: ignore[attr-defined]
    add_person(a_file)
    assert await a_watch.check(forced=True)
    await until(lambda: b.directory.person("nils.ny") is not None)


async def test_on_sqlite_the_file_is_read_as_before(make_core: CoreFactory, tmp_path: Path, engine: str) -> None:
    path = copy(tmp_path, "dir.yaml")
    core, watch = await instance(make_core, path)
    assert core.shared_directory is not None and not core.shared_directory.enabled
    add_person(path)
    assert await watch.check()
    assert core.directory.person("nils.ny") is not None
    async with core.db.transaction() as tx:
        assert await tx.scalar("SELECT COUNT(*) FROM directory_versions") == 0


@pytest.mark.parametrize("engine", ["sqlite", "postgresql"])
async def test_a_file_changed_between_the_start_and_its_watcher_is_applied_at_the_first_check(
    make_core: CoreFactory, tmp_path: Path, engine: str,
) -> None:
    """The watcher starts from the file as it was read at start, not as it is when the watcher is made: an edit
    in between is not taken as served already (it would be applied nowhere, on no instance)."""
    path = copy(tmp_path, "dir.yaml")
    core = await make_core(load_directory(path))  # read, validated and (PostgreSQL) published
    add_person(path)  # edited before the background (and its watcher) is made
    watch = DirectoryWatcher(core.directory, path, core.shared_directory)
    assert await watch.check()
    assert core.directory.person("nils.ny") is not None
    if core.shared_directory is not None and core.shared_directory.enabled:
        assert await newest_digest(core) == digest_of(path.read_bytes())  # and every instance serves it


def stamp(path: Path, seconds_ago: float) -> None:
    """Set the file's modification time `seconds_ago` before now (a copy changed then)."""
    at = time.time() - seconds_ago
    os.utime(path, (at, at))


async def newest_digest(core: Core) -> str | None:
    async with core.db.transaction() as tx:
        return await tx.scalar("SELECT digest FROM directory_versions ORDER BY version DESC LIMIT 1")


@pytest.mark.parametrize("engine", ["postgresql"])
async def test_at_start_the_file_is_offered_as_it_was_read_and_validated_not_read_again(
    make_core: CoreFactory, tmp_path: Path, engine: str,
) -> None:
    """The start publishes the bytes that were validated: a file changed (here: not UTF-8) between the load and the
    publication neither stops the start nor reaches the other instances."""
    path = copy(tmp_path, "a.yaml")
    loaded = load_directory(path)
    validated = path.read_bytes()
    path.write_bytes("people: Åsa\n".encode("latin-1"))
    core = await make_core(loaded)
    assert await newest_digest(core) == digest_of(validated)
    assert core.directory.read is None  # the bytes are not kept for the process's life


@pytest.mark.parametrize("engine", ["postgresql"])
async def test_a_file_never_published_but_older_than_the_stores_newest_is_not_published_at_start(
    make_core: CoreFactory, tmp_path: Path, engine: str,
) -> None:
    a_file = copy(tmp_path, "a.yaml")
    add_person(a_file)
    a, _ = await instance(make_core, a_file)  # published: the store's newest, its file changed just now
    old = copy(tmp_path, "old.yaml")
    edit(old, "Linnea", "Linn")
    stamp(old, 3600)  # a copy left on a machine an hour ago, never published
    b, b_watch = await instance(make_core, old)
    assert await newest_digest(b) == digest_of(a_file.read_bytes())
    assert b.directory.person("nils.ny") is not None  # B serves the store's newest
    assert not await b_watch.check()  # and its file, unchanged, is not offered again
    assert await b_watch.check(forced=True)  # SIGHUP publishes it on purpose
    await until(lambda: a.directory.person("nils.ny") is None)

    newer = copy(tmp_path, "newer.yaml")  # never published, changed after the newest: published at start
    edit(newer, "Linnea", "Lina")
    c, _ = await instance(make_core, newer)
    assert await newest_digest(c) == digest_of(newer.read_bytes())


@pytest.mark.parametrize("engine", ["postgresql"])
async def test_a_rollback_by_sighup_stays_rolled_back_when_machines_with_other_copies_start(
    make_core: CoreFactory, tmp_path: Path, clock: FrozenClock, engine: str,
) -> None:
    """The operator puts an older file back with SIGHUP: that file is what runs, on every instance, also after
    restarts. A machine whose copy was edited after the old file but before the rollback, and never published
    (a stray copy), does not publish it when it starts: the rollback counts as changed when it was made, not
    when its file was. Before, the rollback kept its file's old modification time and the stray copy, "newer",
    was published over it at the next start."""
    now = clock.now().timestamp()
    current, old, stray = copy(tmp_path, "current.yaml"), copy(tmp_path, "old.yaml"), copy(tmp_path, "stray.yaml")
    add_person(current)
    stray.write_text(stray.read_text(encoding="utf-8").replace("Linnea", "Lina"), encoding="utf-8")
    for path, hours_ago in ((old, 3), (stray, 2), (current, 1)):
        os.utime(path, (now - hours_ago * 3600, now - hours_ago * 3600))
    a, _ = await instance(make_core, current)  # the newest: published
    b, b_watch = await instance(make_core, old)  # older than the newest, never seen: B serves the newest
    assert b.directory.person("nils.ny") is not None
    assert await b_watch.check(forced=True)  # SIGHUP on B: the old file, back on purpose
    await until(lambda: a.directory.person("nils.ny") is None)
    c, _ = await instance(make_core, stray)  # a machine with the stray copy starts
    d, _ = await instance(make_core, current)  # and one with the file rolled back from
    for core in (a, b, c, d):
        assert await newest_digest(core) == digest_of(old.read_bytes())
        assert core.directory.person("nils.ny") is None
        assert core.directory.person("linnea.fors") is not None and "Lina" not in core.directory.name("linnea.fors")


@pytest.mark.parametrize("engine", ["postgresql"])
async def test_the_console_serves_the_stores_newest_and_never_publishes_its_file(
    make_core: CoreFactory, tmp_path: Path, engine: str,
) -> None:
    a_file, console_file = copy(tmp_path, "a.yaml"), copy(tmp_path, "console.yaml")
    add_person(a_file)
    _, a_watch = await instance(make_core, a_file)
    edit(console_file, "Linnea", "Linn")
    console = await make_core(load_directory(console_file), publish_directory=False)  # as `gfi-bot console` does
    assert await newest_digest(console) == digest_of(a_file.read_bytes())
    assert console.directory.person("nils.ny") is not None
    # ... and follows what the instances publish while it runs
    edit(a_file, "Nils Ny", "Nils Nyman")
    assert await a_watch.check()
    await until(lambda: (p := console.directory.person("nils.ny")) is not None and p.name == "Nils Nyman")


def test_a_directory_file_that_is_not_utf8_is_one_problem_in_swedish(tmp_path: Path) -> None:
    path = tmp_path / "latin1.yaml"
    path.write_bytes(DEFAULT_DIRECTORY.read_text(encoding="utf-8").encode("latin-1", errors="replace"))
    with pytest.raises(DirectoryError) as refused:
        load_directory(path)
    [problem] = refused.value.problems
    assert "inte UTF-8" in problem.reason

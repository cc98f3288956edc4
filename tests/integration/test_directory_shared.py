"""One directory for every instance on PostgreSQL (issue #22 item 5): a directory file changed on one instance's
machine (the 30-second check, SIGHUP) or written by `gfi-bot directory import|sync` is served by every instance at
once; an instance whose own copy is older serves the store's newest, at start too; SIGHUP puts an older version
back on purpose. Two cores on one database, each with a file of its own, stand for two machines (the real
processes: tests/faults/test_postgres_instances.py). On SQLite the file is read as before."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from bot.config import DEFAULT_DIRECTORY
from bot.core import Core
from bot.directory import load_directory
from bot.directory.reload import DirectoryWatcher
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


def add_person(path: Path) -> None:
    path.write_text(path.read_text(encoding="utf-8").replace("people:\n", "people:\n" + NEW, 1), encoding="utf-8")


async def instance(make_core: CoreFactory, path: Path) -> tuple[Core, DirectoryWatcher]:
    core = await make_core(load_directory(path))
    return core, DirectoryWatcher(core.directory, path, core.shared_directory)


@pytest.mark.parametrize("engine", ["postgresql"])
async def test_a_file_changed_on_one_machine_is_served_by_every_instance_at_once(
    make_core: CoreFactory, tmp_path: Path, engine: str,
) -> None:
    a_file, b_file = copy(tmp_path, "a.yaml"), copy(tmp_path, "b.yaml")
    (a, a_watch), (b, b_watch) = await instance(make_core, a_file), await instance(make_core, b_file)
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

    a_file, b_file = copy(tmp_path, "a.yaml"), copy(tmp_path, "b.yaml")
    (_, a_watch), (b, _) = await instance(make_core, a_file), await instance(make_core, b_file)
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

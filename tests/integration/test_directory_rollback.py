"""A directory put back on PostgreSQL stays put back (review of lock-h's rollback, bugs 1-2): every publication
while running counts as changed when it was published, by the database's clock, not at its file's modification
time; a SIGHUP of the version already newest counts it as changed again; and at start a machine publishes its
file only when the file changed on that machine since it last published or served it, never by comparing its
file's time with another machine's clock (a machine never recorded falls back to that comparison)."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from bot.directory.shared import digest_of
from bot.store import directory_versions
from tests.conftest import CoreFactory
from tests.integration.test_directory_shared import add_person, copy, instance, newest_digest, stamp, until


def edit(path: Path, old: str, new: str) -> None:
    path.write_text(path.read_text(encoding="utf-8").replace(old, new), encoding="utf-8")


@pytest.mark.parametrize("engine", ["postgresql"])
async def test_a_rollback_picked_up_by_the_check_stays_rolled_back_when_a_stray_copy_starts(
    make_core: CoreFactory, tmp_path: Path, engine: str,
) -> None:
    """The operator restores a backup keeping its old modification time (cp -p, rsync -a), lets the 30-second
    check publish it, then sends SIGHUP; a new machine with a copy changed between the backup and the rollback
    starts. Before, the check recorded the backup's old time and the stray copy, "newer", was published."""
    current = copy(tmp_path, "current.yaml")
    add_person(current)
    stamp(current, 3600)
    a, _ = await instance(make_core, current)  # the newest, published at start
    b_file = copy(tmp_path, "b.yaml")
    b_file.write_bytes(current.read_bytes())
    b, b_watch = await instance(make_core, b_file)  # serves it too
    old = copy(tmp_path, "old.yaml")  # the backup, last changed three hours ago, never published
    stamp(old, 3 * 3600)
    b_file.write_bytes(old.read_bytes())
    stamp(b_file, 3 * 3600)  # restored with its time
    assert await b_watch.check()  # the check publishes it
    assert await b_watch.check(forced=True)  # SIGHUP: already the newest, read again
    await until(lambda: a.directory.person("nils.ny") is None)
    stray = copy(tmp_path, "stray.yaml")
    edit(stray, "Linnea", "Lina")
    stamp(stray, 2 * 3600)  # changed after the backup, before the rollback
    c, _ = await instance(make_core, stray)  # a machine never recorded starts with it
    for core in (a, b, c):
        assert await newest_digest(core) == digest_of(old.read_bytes())
        assert core.directory.person("nils.ny") is None
        assert "Lina" not in core.directory.name("linnea.fors")


@pytest.mark.parametrize("engine", ["postgresql"])
async def test_a_sighup_of_the_newest_counts_it_as_changed_now_by_the_databases_clock(
    make_core: CoreFactory, tmp_path: Path, engine: str,
) -> None:
    path = copy(tmp_path, "a.yaml")
    stamp(path, 3 * 3600)
    a, watch = await instance(make_core, path)  # published at start with its file's time
    before = await directory_versions.latest(a.db)
    assert before is not None and before.file_modified is not None and before.changed is not None
    assert await watch.check(forced=True)  # SIGHUP: the file is already the newest
    after = await directory_versions.latest(a.db)
    assert after is not None and after.version == before.version
    assert after.file_modified is None and after.changed is not None and after.changed > before.changed
    assert abs(after.changed.timestamp() - time.time()) < 60  # the database's clock, not the file's


@pytest.mark.parametrize("engine", ["postgresql"])
async def test_at_start_a_machine_publishes_its_file_only_when_it_changed_there_since_it_last_served(
    make_core: CoreFactory, tmp_path: Path, engine: str,
) -> None:
    current = copy(tmp_path, "current.yaml")
    add_person(current)
    a, _ = await instance(make_core, current)  # the newest
    stray = copy(tmp_path, "b.yaml")
    edit(stray, "Linnea", "Linn")
    stamp(stray, 3600)  # a machine never recorded, its copy older than the newest: not published
    await instance(make_core, stray)
    assert await newest_digest(a) == digest_of(current.read_bytes())
    stamp(stray, -86400)  # the same file, its time now a day ahead (a fast clock, a copy without -p)
    b, _ = await instance(make_core, stray)  # unchanged on this machine since it served: still not published
    assert await newest_digest(a) == digest_of(current.read_bytes())
    assert b.directory.person("nils.ny") is not None
    edit(stray, "Linn", "Lina")
    stamp(stray, 5 * 3600)  # edited on this machine, its clock hours slow: changed here, so published
    b, _ = await instance(make_core, stray)
    assert await newest_digest(a) == digest_of(stray.read_bytes())
    await until(lambda: "Lina" in a.directory.name("linnea.fors"))

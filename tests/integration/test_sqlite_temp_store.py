"""SQLite's write connection keeps its temporary storage in memory (issue #21 item 2): the savepoint journal of a
group of units (`bot.store.group`: each unit in a savepoint) used to spill past 64 KiB to a temporary file, about
50 writes of 4 KiB per filing, and the case text in those pages to a file outside the store."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path
from typing import Any

import pytest

from bot.store import Tx, group, rollups
from bot.store.sqlite import Database
from tests.conftest import CoreFactory

pytestmark = pytest.mark.skipif(not Path("/proc/self/fd").is_dir(), reason="reads the process's open files (Linux)")


def temporary_files() -> list[str]:
    """The open files SQLite made for temporary storage (unix VFS: `etilqs_…`, deleted as soon as opened)."""
    found = []
    for fd in os.listdir("/proc/self/fd"):
        try:
            target = os.readlink(f"/proc/self/fd/{fd}")
        except OSError:
            continue
        if "etilqs_" in target:
            found.append(target)
    return found


async def test_a_group_of_units_writes_no_temporary_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    sizes: list[int] = []
    apply = group.apply

    def counted(conn: Any, tx_type: type[Tx], begin: str, queued: list[Any]) -> list[group.Outcome]:
        sizes.append(len(queued))
        return apply(conn, tx_type, begin, queued)

    monkeypatch.setattr(group, "apply", counted)
    db = Database(tmp_path / "gfi.sqlite3")
    await db.open()
    await db.memory_temp()  # as `open_core` does once the start's heavy work is done
    try:
        async def fill(tx: Tx) -> None:
            await tx.execute("CREATE TABLE filler (id INTEGER PRIMARY KEY, x TEXT)")
            await tx.executemany("INSERT INTO filler (x) VALUES (?)", [("a" * 4000,) for _ in range(64)])

        await db.run(fill)
        seen: list[list[str]] = []

        async def rewrite(tx: Tx, letter: str) -> None:  # 64 pages as they were, 256 KiB, in the savepoint's journal
            await tx.execute("UPDATE filler SET x = ?", (letter * 4000,))
            seen.append(temporary_files())

        async def b(tx: Tx) -> None:
            await rewrite(tx, "b")

        async def c(tx: Tx) -> None:
            await rewrite(tx, "c")

        await asyncio.gather(db.run(b), db.run(c))  # queued together: one transaction, a savepoint each
        assert sizes[-1] == 2 and seen == [[], []]
        assert await db.run_read(lambda tx: tx.scalar("SELECT count(*) FROM filler WHERE x = ?", ("c" * 4000,))) == 64
    finally:
        await db.close()


MEMORY = 2  # PRAGMA temp_store: 0 the build's default, 1 FILE, 2 MEMORY


async def test_the_rollups_rebuild_at_start_sorts_in_files_and_serving_keeps_temp_in_memory(
    make_core: CoreFactory, monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The rollups' rebuild from every fact (at the first start on an upgraded store, or after a bulk load) sorts
    all of `case_facts` and `escalation_facts`: with temporary storage in memory the sort stayed in the process
    (225 MiB of peak RSS for 3×10⁶ facts, never given back). So it runs before `temp_store=MEMORY`, which the
    write connection has once the core is open (the groups' savepoint journals in memory, the test above)."""
    first = await make_core()

    async def unbuilt(tx: Tx) -> None:  # as a bulk load leaves it
        await tx.execute("DELETE FROM stats_rollup_state")

    await first.db.run(unbuilt)
    await first.close()
    seen: list[int] = []
    rebuild = rollups.rebuild

    async def recorded(tx: Tx, now_iso: str) -> None:
        seen.append(int(await tx.scalar("PRAGMA temp_store")))
        await rebuild(tx, now_iso)

    monkeypatch.setattr(rollups, "rebuild", recorded)
    core = await make_core()
    assert seen and seen[0] != MEMORY  # the rebuild ran at open, its sorts in temporary files
    assert await core.db.run(rollups.built)
    assert int(await core.db.run(lambda tx: tx.scalar("PRAGMA temp_store"))) == MEMORY  # the write connection

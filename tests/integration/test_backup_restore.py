"""Backup, restore and upgrade (issue #19 item 3): `gfi-bot backup` of a store while the bot writes to it,
restored into a new folder and started: the same cases, audit trail and read log. A store of a newer schema
is refused naming both versions; a store is copied beside itself before it is migrated; every file 0600."""

from __future__ import annotations

import asyncio
import os
import shutil
import sqlite3
import stat
import sys
from pathlib import Path
from typing import Any

import pytest

from bot import readlog
from bot.config import DEFAULT_DIRECTORY
from bot.core import Core
from bot.startup import StartupError, describe
from bot.store.db import Database
from bot.store.migrations import MIGRATIONS
from tests.conftest import CoreFactory, local
from tests.timekit import form

TABLES = ("cases", "audit", "case_reads")


def rows(db: Path, table: str) -> dict[int, tuple[Any, ...]]:
    with sqlite3.connect(db) as conn:
        return {r[0]: tuple(r) for r in conn.execute(f"SELECT rowid, * FROM {table}")}


def backups_of(folder: Path, version: int) -> list[Path]:
    return list(folder.glob(f"gfi.sqlite3.v{version}-*.bak"))


async def gfi_bot(*args: str, umask: int = 0o022) -> tuple[int, str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "GFI_", "TEAMS_", "GRAPH_"))}
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot.cli", *args, env=env, stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE, preexec_fn=lambda: os.umask(umask),
    )
    out, err = await asyncio.wait_for(proc.communicate(), 120)
    return int(proc.returncode or 0), out.decode(), err.decode()


async def file_with_reads(core: Core, n: int) -> list[str]:
    refs = []
    for _ in range(n):
        case = await core.cases.request("maria.sand", form())
        async with core.db.transaction() as tx:
            await readlog.record(tx, at=local("2026-11-23T10:05"), person_id="fatima.ali", refs=[case.ref],
                                 view="queue", channel="slack")
        refs.append(case.ref)
    return refs


async def test_a_backup_under_load_restores_to_the_same_cases_audit_and_read_log(
        core: Core, make_core: CoreFactory, tmp_path: Path) -> None:
    await file_with_reads(core, 15)
    source, out = tmp_path / "gfi.sqlite3", tmp_path / "backups" / "gfi-backup.sqlite3"
    out.parent.mkdir()
    stop = asyncio.Event()
    written = 0

    async def load() -> None:  # the bot goes on filing and reading while the backup runs
        nonlocal written
        while not stop.is_set():
            await file_with_reads(core, 1)
            written += 1
            await asyncio.sleep(0)

    loader = asyncio.create_task(load())
    code, out_text, err = await gfi_bot("backup", "--db", str(source), "--out", str(out))
    stop.set()
    await loader
    assert code == 0, err
    assert "Säkerhetskopian är skriven" in out_text and err == ""  # no progress lines off a terminal
    assert written > 0
    assert stat.S_IMODE(out.stat().st_mode) == 0o600

    # restore: the copy into a new folder, and a bot started on it
    restored = tmp_path / "restored" / "gfi.sqlite3"
    restored.parent.mkdir()
    shutil.copyfile(out, restored)
    again = await make_core(db_name="restored/gfi.sqlite3")
    await again.close()
    for table in TABLES:
        before, after = rows(source, table), rows(restored, table)
        assert len(after) >= 15, table
        assert all(before[key] == row for key, row in after.items()), table  # a consistent prefix of the store
    with sqlite3.connect(restored) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    # with the bot quiet, the copy is the store, row for row
    code, _, err = await gfi_bot("backup", "--db", str(source), "--out", str(out))
    assert code == 0, err
    for table in TABLES:
        assert rows(out, table) == rows(source, table), table
    assert not list(restored.parent.glob("*.bak"))  # same schema: nothing to migrate, no copy made


async def test_a_store_of_a_newer_schema_is_refused_naming_both_versions(tmp_path: Path) -> None:
    path = tmp_path / "gfi.sqlite3"
    async with Database(path):
        pass
    known = max(v for v, _ in MIGRATIONS)
    with sqlite3.connect(path) as conn:
        conn.execute("INSERT INTO schema_migrations (version, applied_at) VALUES (?, 'x')", (known + 3,))
    with pytest.raises(StartupError) as caught:
        await Database(path).open()
    line = describe(caught.value)
    assert str(known + 3) in line and str(known) in line and "nyare" in line


async def test_a_store_is_backed_up_beside_itself_before_migrating(tmp_path: Path) -> None:
    path = tmp_path / "gfi.sqlite3"
    async with Database(path):
        pass
    latest = max(v for v, _ in MIGRATIONS)
    with sqlite3.connect(path) as conn:  # as if the last migration had not shipped yet
        conn.execute("DELETE FROM schema_migrations WHERE version = ?", (latest,))
        conn.execute("CREATE TABLE marker (x TEXT)")
        conn.execute("INSERT INTO marker VALUES ('före uppgraderingen')")
    try:
        async with Database(path):
            pass
    except StartupError:
        pass  # re-running the last migration on its own tables may fail; the copy is made before it
    copies = backups_of(tmp_path, latest - 1)
    assert len(copies) == 1
    assert stat.S_IMODE(copies[0].stat().st_mode) == 0o600
    with sqlite3.connect(copies[0]) as conn:
        assert conn.execute("SELECT x FROM marker").fetchall() == [("före uppgraderingen",)]
        assert conn.execute("SELECT MAX(version) FROM schema_migrations").fetchone() == (latest - 1,)


async def test_store_files_reports_and_folders_are_private_whatever_the_umask(core: Core, tmp_path: Path) -> None:
    await file_with_reads(core, 1)
    await core.close()
    for name in ("gfi.sqlite3", "gfi.sqlite3-wal", "gfi.sqlite3-shm"):
        if (tmp_path / name).exists():
            assert stat.S_IMODE((tmp_path / name).stat().st_mode) == 0o600, name
    # a new store in a new folder, made by gfi-bot under a permissive umask
    fresh = tmp_path / "ny" / "gfi.sqlite3"
    code, _, err = await gfi_bot("due", "--db", str(fresh), "--directory", str(DEFAULT_DIRECTORY), umask=0)
    assert code == 0, err
    assert stat.S_IMODE(fresh.parent.stat().st_mode) == 0o700
    for path in fresh.parent.iterdir():
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path.name
    reports = tmp_path / "rapporter"
    code, _, err = await gfi_bot("report", "brister", "--db", str(tmp_path / "gfi.sqlite3"), "--directory",
                                 str(DEFAULT_DIRECTORY), "--year", "2026", "--out", str(reports), umask=0)
    assert code == 0, err
    assert stat.S_IMODE(reports.stat().st_mode) == 0o700
    assert [stat.S_IMODE(p.stat().st_mode) for p in reports.iterdir()] == [0o600] * len(list(reports.iterdir()))


async def test_an_old_world_readable_store_is_tightened(tmp_path: Path) -> None:
    path = tmp_path / "gfi.sqlite3"
    async with Database(path):
        pass
    os.chmod(path, 0o644)
    async with Database(path):
        assert stat.S_IMODE(path.stat().st_mode) == 0o600

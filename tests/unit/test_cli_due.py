"""`gfi-bot due`: what is due or overdue, read from the database without firing anything."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

from bot.config import DEFAULT_DIRECTORY
from bot.core import Core
from tests.timekit import form


def due(db: Path, now: str) -> str:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SLACK_")}
    result = subprocess.run(
        [sys.executable, "-m", "bot.cli", "due", "--db", str(db), "--directory", str(DEFAULT_DIRECTORY), "--now", now],
        capture_output=True, text=True, env=env, timeout=60, check=False,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


async def test_due_lists_overdue_answers_and_undelivered_messages(core: Core, tmp_path: Path) -> None:
    case = await core.cases.request("maria.sand", form())  # receipt queued, distribution awaited
    await core.close()
    db = tmp_path / "gfi.sqlite3"

    early = due(db, "2026-11-23T10:30")
    assert "Meddelanden som väntar på leverans:" in early
    assert f"{case.ref}   maria.sand     case_filed" in early
    assert "Väntar på svar" not in early  # the distribution is due Tuesday 09:00 + 4 business hours

    late = due(db, "2026-11-24T13:05")
    assert "Väntar på svar (ansvarstrappan):" in late
    assert f"{case.ref}   fördelning" in late and "fatima.ali" in late
    assert "tis 24 nov 2026 kl. 13:00" in late
    # read only: running it changed nothing
    assert due(db, "2026-11-24T13:05") == late


async def test_nothing_due(tmp_path: Path) -> None:
    assert "Inget är förfallet." in due(tmp_path / "empty.sqlite3", "2026-11-23T10:00")


async def test_report_reads_a_database_without_the_time_tables(core: Core) -> None:
    """The report checks sqlite_master, so it works on a store where the ladder tables don't exist."""
    from bot.due import due_report

    await core.cases.request("maria.sand", form())
    async with core.db.transaction() as tx:
        for table in [r["name"] for r in await tx.fetchall(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name IN ('awaiting', 'timers')"
        )]:
            await tx.execute(f"DROP TABLE {table}")
    report = await due_report(core.db, core.clock.now())
    assert report.awaiting == [] and report.timers == [] and report.open_awaiting == 0
    assert [m["template"] for m in report.outbox] == ["case_filed"]
    assert report.outbox[0]["status"] == "pending"


async def test_messages_held_by_quiet_hours_are_counted_not_listed(core: Core, tmp_path: Path) -> None:
    async with core.db.transaction() as tx:  # a non-urgent message queued on a Saturday waits for Monday
        await core.outbox.enqueue(tx, "linnea.fors", "slack_brist", coordinators=[],
                                  not_before=datetime(2026, 11, 28, 12, tzinfo=UTC))
    await core.close()
    out = due(tmp_path / "gfi.sqlite3", "2026-11-28T13:00")
    assert "slack_brist" not in out
    assert "Meddelanden som väntar på kontorstid eller nytt försök: 1." in out
    monday = due(tmp_path / "gfi.sqlite3", "2026-11-30T08:05")
    assert "slack_brist" in monday and "väntar" in monday and "mån 30 nov 2026 kl. 08:00" in monday

"""`gfi-bot read-log`: the read log of a case, or of a person over a period, for operators on the server."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from bot import readlog
from bot.config import DEFAULT_DIRECTORY
from bot.core import Core
from tests.conftest import local
from tests.timekit import form


def read_log(db: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SLACK_")}
    return subprocess.run(
        [sys.executable, "-m", "bot.cli", "read-log", "--db", str(db), "--directory", str(DEFAULT_DIRECTORY), *args],
        capture_output=True, text=True, env=env, timeout=60, check=False,
    )


async def test_read_log_by_case_and_by_person(core: Core, tmp_path: Path) -> None:
    case = await core.cases.request("maria.sand", form())
    async with core.db.transaction() as tx:
        await readlog.record(tx, at=local("2026-11-23T10:05"), person_id="fatima.ali", refs=[case.ref],
                             view="queue", channel="slack")
        await readlog.record(tx, at=local("2026-11-25T23:30"), person_id="fatima.ali", refs=[case.ref],
                             view="visa", channel="console")
    await core.close()
    db = tmp_path / "gfi.sqlite3"

    by_case = read_log(db, "--ref", case.ref.lower())
    assert by_case.returncode == 0, by_case.stderr
    assert f"Läsloggar för {case.ref} (2):" in by_case.stdout
    assert "mån 23 nov 2026 kl. 10:05  Fatima Ali (fatima.ali)  kön, Slack" in by_case.stdout

    # the period is whole local days: 25 Nov 23:30 Stockholm is inside 23–25 Nov, not inside 26–30 Nov
    by_person = read_log(db, "--person", "fatima.ali", "--from", "2026-11-23", "--to", "2026-11-25")
    assert "(2):" in by_person.stdout
    assert "ons 25 nov 2026 kl. 23:30  GFI-2026-0001  /visa, konsolen" in by_person.stdout
    later = read_log(db, "--person", "fatima.ali", "--from", "2026-11-26", "--to", "2026-11-30")
    assert "har inte visats fritexten i något ärende" in later.stdout

    missing = read_log(db, "--person", "fatima.ali")
    assert missing.returncode == 2 and "--from" in missing.stderr
    bad = read_log(db, "--person", "fatima.ali", "--from", "igår", "--to", "2026-11-30")
    assert bad.returncode != 0 and "ogiltigt datum" in bad.stderr and "Traceback" not in bad.stderr

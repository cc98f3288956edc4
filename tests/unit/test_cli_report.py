"""`gfi-bot report brister --year YYYY --out DIR`: the yearly report's three files from the database."""

from __future__ import annotations

import csv
import os
import subprocess
import sys
from pathlib import Path

from bot.brister.models import BristForm
from bot.clock import FrozenClock
from bot.config import DEFAULT_DIRECTORY
from bot.core import Core
from tests.conftest import local


def report(db: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SLACK_")}
    return subprocess.run(
        [sys.executable, "-m", "bot.cli", "report", "brister", "--db", str(db), "--directory",
         str(DEFAULT_DIRECTORY), *args],
        capture_output=True, text=True, env=env, timeout=120, check=False,
    )


async def test_report_brister_writes_html_png_and_csv(core: Core, clock: FrozenClock, tmp_path: Path) -> None:
    clock.set(local("2025-12-30T10:00"))
    await core.brister.file("maria.sand", BristForm(units=["beroende"], causes=["sip"], what="Från förra året."))
    clock.set(local("2026-03-02T10:00"))
    first = await core.brister.file("maria.sand", BristForm(units=["soc-norr", "beroende"],
                                                            causes=["kommunikation", "rutiner"], what="Obesvarat."))
    await core.brister.file("petra.lund", BristForm(units=["soc-soder", "psykiatri"], causes=["kommunikation"],
                                                    what="Ingen återkoppling efter utskrivning."))
    await core.brister.record_measures("fatima.ali", first.ref, "Rutinen för återkoppling är förtydligad.")
    await core.close()

    out = tmp_path / "rapporter"
    done = report(tmp_path / "gfi.sqlite3", "--year", "2026", "--out", str(out))
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == [str(out / f"brister-2026.{ext}") for ext in ("html", "png", "csv")] + [
        str(out / f"brister-2026-{p}.csv") for p in ("astad", "region-sydvast")]  # one per principal
    html = (out / "brister-2026.html").read_text(encoding="utf-8")
    assert "Under 2026 inkom 2 brister i samverkan." in html  # not the one from 2025
    assert '<td>Kommunikation/information</td><td class="tal">2</td><td class="tal">100 %</td>' in html
    assert '<td>Rutiner</td><td class="tal">1</td><td class="tal">50 %</td>' in html  # of the 2 reports
    assert "Rutinen för återkoppling är förtydligad." in html
    assert (out / "brister-2026.png").read_bytes()[:4] == b"\x89PNG"
    with (out / "brister-2026.csv").open(encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.reader(fh, delimiter=";"))
    assert [r[0] for r in rows] == ["Referens", "BRIST-2026-0001", "BRIST-2026-0002"]

    missing = report(tmp_path / "gfi.sqlite3", "--out", str(out))
    assert missing.returncode == 2 and "--year" in missing.stderr

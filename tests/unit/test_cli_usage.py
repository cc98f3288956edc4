"""The command line itself: Swedish usage errors, --version, a closed pipe, progress only on a terminal."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from importlib import metadata

import pytest

from bot.cli.parser import swedish
from bot.progress import Progress


def gfi_bot(*args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "GFI_", "TEAMS_", "GRAPH_"))}
    return subprocess.run([sys.executable, "-m", "bot.cli", *args], capture_output=True, text=True, env=env,
                          timeout=60, check=False)


@pytest.mark.parametrize(("args", "fragment"), [
    (("backup",), "dessa argument saknas: --out"),
    (("stats", "--from", "2026-01-01", "--to"), "argument --to: kräver ett värde"),
    (("report", "brister", "--year", "tjugo", "--out", "x"),
     "argument --year: ogiltigt värde 'tjugo', ange ett heltal"),
    (("nej",), "argument command: ogiltigt val 'nej'"),
    (("due", "--extra"), "okända argument: --extra"),
])
def test_usage_errors_are_swedish(args: tuple[str, ...], fragment: str) -> None:
    result = gfi_bot(*args)
    assert result.returncode == 2
    assert result.stderr.startswith("användning: gfi-bot")
    assert fragment in result.stderr.splitlines()[-1]
    assert "error:" not in result.stderr and "usage:" not in result.stderr


def test_an_unknown_message_passes_unchanged() -> None:
    assert swedish("something new") == "something new"


def test_version() -> None:
    result = gfi_bot("--version")
    assert result.returncode == 0
    assert result.stdout.strip() == f"gfi-bot {metadata.version('gfi-bot')}"


def test_a_closed_pipe_ends_quietly() -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "GFI_", "TEAMS_", "GRAPH_"))}
    proc = subprocess.Popen([sys.executable, "-m", "bot.cli", "check-config"], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, env=env)
    assert proc.stdout is not None and proc.stderr is not None
    proc.stdout.close()  # like `| head -0`: closed long before gfi-bot has imported its modules and writes
    err = proc.stderr.read().decode()
    assert proc.wait(timeout=60) == 0
    assert err == "", err


class Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_only_on_a_terminal() -> None:
    quiet, tty = io.StringIO(), Tty()
    for stream in (quiet, tty):
        progress = Progress("Säkerhetskopierar", stream)
        progress.update(1, 4)
        progress.update(4, 4)
        progress.finish()
    assert quiet.getvalue() == ""
    assert "Säkerhetskopierar: 25 %" in tty.getvalue() and "klart" in tty.getvalue()


def test_a_failed_progress_ends_its_line() -> None:
    tty = Tty()
    progress = Progress("Kopierar", tty)
    progress.update(1, 2)
    progress.abandon()
    progress.finish()  # after abandon: nothing more
    assert tty.getvalue() == "\rKopierar: 50 %\n"
    untouched = Tty()
    Progress("Kopierar", untouched).abandon()  # nothing drawn: no empty line
    assert untouched.getvalue() == ""

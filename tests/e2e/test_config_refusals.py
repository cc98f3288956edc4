"""`gfi-bot run` with a bad configuration, as a real process: it exits non-zero with one Swedish line per
problem naming the variable, no traceback, before touching the store. (How fast: bench/startup_refusal.py;
here HANG_GUARD only catches a hang.)"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from bot.config import DEFAULT_DIRECTORY
from tests.e2e.test_process_guards import Result, gfi_bot

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX processes")

SLACK = {"SLACK_BOT_TOKEN": "xoxb-test", "SLACK_SIGNING_SECRET": "s" * 32}
SECRET = "k" * 40


def clean_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "GFI_", "TEAMS_", "GRAPH_"))}
    env.pop("CREDENTIALS_DIRECTORY", None)
    env.update({"GFI_DB_PATH": str(tmp_path / "gfi.sqlite3"), "GFI_HTTP_PORT": "0", **extra})
    return env


def assert_lines(result: Result, tmp_path: Path, *per_line: tuple[str, ...]) -> None:
    """Non-zero exit, no traceback, exactly one stderr line per expected problem (each holding its fragments),
    and the store never created."""
    assert result.code != 0, result.err
    assert "Traceback" not in result.err, result.err
    assert len(result.lines) == len(per_line), result.err
    for line, fragments in zip(result.lines, per_line, strict=True):
        for fragment in fragments:
            assert fragment in line, line
    assert not (tmp_path / "gfi.sqlite3").exists()


async def run(tmp_path: Path, **env: str) -> Result:
    return await gfi_bot("run", env=clean_env(tmp_path, **env), cwd=tmp_path)


async def test_a_slack_token_without_its_signing_secret_is_refused(tmp_path: Path) -> None:
    result = await run(tmp_path, SLACK_BOT_TOKEN="xoxb-test")
    assert_lines(result, tmp_path, ("Slack", "delvis", "SLACK_SIGNING_SECRET"))


async def test_a_teams_app_id_alone_is_refused(tmp_path: Path) -> None:
    result = await run(tmp_path, TEAMS_APP_ID="00000000-0000-0000-0000-000000000001")
    assert_lines(result, tmp_path, ("Teams", "TEAMS_TENANT_ID", "TEAMS_APP_PASSWORD"))


async def test_a_graph_tenant_alone_is_refused(tmp_path: Path) -> None:
    result = await run(tmp_path, GRAPH_TENANT_ID="tenant-1")
    assert_lines(result, tmp_path, ("Graph", "GRAPH_CLIENT_ID", "GRAPH_SENDER"))


@pytest.mark.parametrize(("name", "value", "fragment"), [
    ("GFI_TIMEZONE", "Mars/Olympus", "Europe/Stockholm"),
    ("GFI_LOG_LEVEL", "HÖGT", "INFO"),
    ("GFI_HTTP_PORT", "70000", "65535"),
    ("GFI_RETENTION_MONTHS", "tolv", "heltal"),
])
async def test_a_bad_value_is_one_line_naming_the_variable(tmp_path: Path, name: str, value: str,
                                                            fragment: str) -> None:
    result = await run(tmp_path, **SLACK, **{name: value})
    assert_lines(result, tmp_path, (name, repr(value), fragment))


async def test_an_http_public_url_is_refused_except_on_loopback(tmp_path: Path) -> None:
    result = await run(tmp_path, **SLACK, GFI_ALLOW_EXAMPLE_DIRECTORY="1", GFI_PUBLIC_URL="http://gfi.kommun.se",
                       GFI_LINK_SECRET=SECRET)
    assert_lines(result, tmp_path, ("GFI_PUBLIC_URL", "https://"))


async def test_a_short_link_secret_is_refused(tmp_path: Path) -> None:
    result = await run(tmp_path, **SLACK, GFI_ALLOW_EXAMPLE_DIRECTORY="1", GFI_PUBLIC_URL="https://gfi.kommun.se",
                       GFI_LINK_SECRET="för-kort")
    assert_lines(result, tmp_path, ("GFI_LINK_SECRET", "32"))


async def test_real_credentials_with_the_example_directory_are_refused(tmp_path: Path) -> None:
    result = await run(tmp_path, **SLACK, GFI_DIRECTORY=str(DEFAULT_DIRECTORY))
    assert_lines(result, tmp_path, ("GFI_DIRECTORY", "GFI_ALLOW_EXAMPLE_DIRECTORY=1"))


async def test_every_problem_is_its_own_line(tmp_path: Path) -> None:
    result = await run(tmp_path, SLACK_BOT_TOKEN="xoxb-test", TEAMS_APP_ID="app", GFI_LINK_SECRET="kort")
    assert_lines(result, tmp_path, ("SLACK_SIGNING_SECRET",), ("TEAMS_TENANT_ID",), ("GFI_PUBLIC_URL",),
                 ("GFI_LINK_SECRET", "32"))


async def test_no_channel_and_no_terminal_does_not_start_the_console(tmp_path: Path) -> None:
    result = await run(tmp_path)  # stdin is a pipe here
    assert_lines(result, tmp_path, ("SLACK_*", "terminal", "gfi-bot console"))


async def test_an_unreadable_secret_file_is_named(tmp_path: Path) -> None:
    result = await run(tmp_path, SLACK_BOT_TOKEN_FILE=str(tmp_path / "saknas"), SLACK_SIGNING_SECRET="s" * 32)
    assert_lines(result, tmp_path, ("SLACK_BOT_TOKEN_FILE", "saknas"), ("SLACK_BOT_TOKEN",))

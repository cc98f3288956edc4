"""`gfi-bot` as a real process: one bot per store, clean failures, and slow HTTP clients closed.

Every refusal is one Swedish line on stderr, a non-zero exit and no traceback, and comes at once (the
timeouts below only guard against a hang; before this, a read-only store hung without listening).

Read-only files and folders: root ignores permission bits, so when the tests run as root they run the bot
under `setpriv` without CAP_DAC_OVERRIDE / CAP_DAC_READ_SEARCH, which makes the permission bits apply to
root too (a real read-only file or folder, no simulation in the bot). Without setpriv those tests skip
when run as root, and fail under CI (tests/tools.py). A path under a regular file and a file that is not a
database need no privileges.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import socket
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from bot.config import DEFAULT_DIRECTORY
from tests.e2e.test_slack_server import SECRET, TOKEN, gfi_bot_run
from tests.fakes.slack_api import FakeSlackAPI
from tests.tools import missing_tool

HANG_GUARD = 30  # seconds; the bot answers in well under one

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX locks and signals")


@dataclass
class Result:
    code: int
    out: str
    err: str

    @property
    def lines(self) -> list[str]:
        return [line for line in self.err.splitlines() if line.strip()]


def bot_env(db: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "GFI_"))}
    env.update({
        "SLACK_BOT_TOKEN": TOKEN, "SLACK_SIGNING_SECRET": SECRET, "SLACK_API_URL": "http://127.0.0.1:9/api/",
        "GFI_HTTP_HOST": "127.0.0.1", "GFI_HTTP_PORT": "0", "GFI_LOG_LEVEL": "INFO", "GFI_DB_PATH": str(db),
        "GFI_DIRECTORY": str(DEFAULT_DIRECTORY), "GFI_ALLOW_EXAMPLE_DIRECTORY": "1", **extra,
    })
    return env


async def gfi_bot(*args: str, env: dict[str, str], cwd: Path, prefix: tuple[str, ...] = (), stdin: str = "") -> Result:
    proc = await asyncio.create_subprocess_exec(
        *prefix, sys.executable, "-m", "bot.cli", *args, cwd=cwd, env=env,
        stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )
    try:
        out, err = await asyncio.wait_for(proc.communicate(stdin.encode()), timeout=HANG_GUARD)
    except TimeoutError:
        proc.kill()
        await proc.wait()
        raise AssertionError(f"gfi-bot {' '.join(args)} hung instead of exiting") from None
    assert proc.returncode is not None
    return Result(proc.returncode, out.decode(), err.decode())


def assert_refused(result: Result, *expected: str) -> None:
    """Exit non-zero with exactly one line on stderr, containing every expected fragment, no traceback."""
    assert result.code != 0, result.err
    assert "Traceback" not in result.err
    assert len(result.lines) == 1, result.err
    for fragment in expected:
        assert fragment in result.lines[0], result.lines[0]


def _unprivileged() -> tuple[str, ...] | None:
    """A command prefix under which permission bits apply (None: not possible here)."""
    if os.geteuid() != 0:
        return ()
    setpriv = shutil.which("setpriv")
    if setpriv is None:
        return None
    prefix = (setpriv, "--inh-caps=-dac_override,-dac_read_search", "--bounding-set=-dac_override,-dac_read_search")
    probe = subprocess.run([*prefix, "true"], capture_output=True, check=False)
    return prefix if probe.returncode == 0 else None


UNPRIVILEGED = _unprivileged()


def unprivileged() -> tuple[str, ...]:
    """The prefix; the test is skipped without one (failed under CI, which installs setpriv)."""
    if UNPRIVILEGED is None:
        missing_tool("running as root without a working setpriv (util-linux): file modes cannot be tested")
    return UNPRIVILEGED


# --- one bot per store ---------------------------------------------------------------------------
async def test_a_second_bot_on_the_same_store_is_refused_while_readers_still_work(tmp_path: Path) -> None:
    db = tmp_path / "gfi.sqlite3"
    async with FakeSlackAPI(token=TOKEN) as fake, gfi_bot_run(tmp_path, fake):
        env = bot_env(db, SLACK_API_URL=fake.base_url)
        second = await gfi_bot("run", env=env, cwd=tmp_path)
        assert_refused(second, "används redan av en annan gfi-bot-process", str(db))
        console = await gfi_bot("console", "--as", "maria.sand", env=env, cwd=tmp_path)
        assert_refused(console, "används redan")
        # operators read a running bot's store: `gfi-bot due` is not locked out
        due = await gfi_bot("due", env=env, cwd=tmp_path)
        assert due.code == 0, due.err
        assert "Förfallet per" in due.out
    # the first bot stopped (SIGTERM): the store is free again
    again = await gfi_bot("console", "--as", "maria.sand", env=bot_env(db), cwd=tmp_path, stdin="/hjälp\n")
    assert again.code == 0, again.err


async def test_the_lock_dies_with_a_killed_bot(tmp_path: Path) -> None:
    db = tmp_path / "gfi.sqlite3"
    env = bot_env(db)
    holder = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot.cli", "console", "--as", "maria.sand", cwd=tmp_path, env=env,
        stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )
    assert holder.stdout is not None
    await asyncio.wait_for(holder.stdout.readline(), timeout=HANG_GUARD)  # the welcome: it holds the store
    assert_refused(await gfi_bot("console", "--as", "maria.sand", env=env, cwd=tmp_path), "används redan")
    holder.send_signal(signal.SIGKILL)
    await holder.wait()
    after = await gfi_bot("console", "--as", "maria.sand", env=env, cwd=tmp_path, stdin="/hjälp\n")
    assert after.code == 0, after.err


# --- clean failures ------------------------------------------------------------------------------
async def test_a_database_path_under_a_regular_file(tmp_path: Path) -> None:
    (tmp_path / "not-a-folder").write_text("x")
    db = tmp_path / "not-a-folder" / "gfi.sqlite3"
    result = await gfi_bot("run", env=bot_env(db), cwd=tmp_path)
    assert_refused(result, "finns inte och går inte att skapa", "not-a-folder")


@pytest.mark.parametrize("command", [("run",), ("console", "--as", "maria.sand"), ("due",),
                                     ("read-log", "--ref", "GFI-2026-0001")], ids=["run", "console", "due", "read-log"])
async def test_a_database_path_that_is_a_folder(tmp_path: Path, command: tuple[str, ...]) -> None:
    # issue #23 item 5: the right message and exit 1 were followed by "Event loop is closed" tracebacks of
    # aiosqlite's worker thread
    folder = tmp_path / "data"
    folder.mkdir()
    result = await gfi_bot(*command, env=bot_env(folder), cwd=tmp_path)
    assert_refused(result, "är en mapp", str(folder))
    assert "Event loop is closed" not in result.err and "Exception in thread" not in result.err


async def test_a_file_that_is_not_a_database(tmp_path: Path) -> None:
    db = tmp_path / "gfi.sqlite3"
    db.write_text("this is a directory file, not a database\n" * 100)
    result = await gfi_bot("run", env=bot_env(db), cwd=tmp_path)
    assert_refused(result, "är ingen SQLite-databas", str(db))
    console = await gfi_bot("console", "--as", "maria.sand", env=bot_env(db), cwd=tmp_path)
    assert_refused(console, "är ingen SQLite-databas")


async def test_a_read_only_database(tmp_path: Path) -> None:
    prefix = unprivileged()
    db = tmp_path / "gfi.sqlite3"
    created = await gfi_bot("console", "--as", "maria.sand", env=bot_env(db), cwd=tmp_path, stdin="/hjälp\n")
    assert created.code == 0, created.err
    db.chmod(0o444)
    result = await gfi_bot("run", env=bot_env(db), cwd=tmp_path, prefix=prefix)
    assert_refused(result, "är skrivskyddad", str(db))


async def test_an_unwritable_folder(tmp_path: Path) -> None:
    prefix = unprivileged()
    folder = tmp_path / "data"
    folder.mkdir()
    folder.chmod(0o555)
    try:
        result = await gfi_bot("run", env=bot_env(folder / "gfi.sqlite3"), cwd=tmp_path, prefix=prefix)
    finally:
        folder.chmod(0o755)
    assert_refused(result, "kan inte skriva i mappen", str(folder))


async def test_a_port_in_use(tmp_path: Path) -> None:
    with socket.create_server(("127.0.0.1", 0)) as taken:
        port = taken.getsockname()[1]
        result = await gfi_bot("run", env=bot_env(tmp_path / "gfi.sqlite3", GFI_HTTP_PORT=str(port)), cwd=tmp_path)
    assert_refused(result, f"Porten {port}", "används redan")
    assert not (tmp_path / "gfi.sqlite3").exists()  # stopped before the store was touched


async def test_an_invalid_setting(tmp_path: Path) -> None:
    result = await gfi_bot("run", env=bot_env(tmp_path / "gfi.sqlite3", GFI_HTTP_PORT="tre"), cwd=tmp_path)
    assert_refused(result, "GFI_HTTP_PORT")


# --- slow clients ------------------------------------------------------------------------------
async def test_the_running_bot_closes_a_slow_client(tmp_path: Path) -> None:
    async with FakeSlackAPI(token=TOKEN) as fake, gfi_bot_run(
        tmp_path, fake, GFI_HTTP_HEADER_TIMEOUT="0.5", GFI_HTTP_BODY_TIMEOUT="0.5"
    ) as seen:
        port = seen[-1]["port"]
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(b"POST /slack/events HTTP/1.1\r\nHost: bot\r\nContent-Le")
        await writer.drain()
        assert await asyncio.wait_for(reader.read(), timeout=HANG_GUARD) == b""  # closed by the bot
        writer.close()
        # the bot still serves others
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(b"GET /healthz HTTP/1.1\r\nHost: bot\r\nConnection: close\r\n\r\n")
        await writer.drain()
        answer = await asyncio.wait_for(reader.read(), timeout=HANG_GUARD)
        assert answer.startswith(b"HTTP/1.1 200")
        writer.close()

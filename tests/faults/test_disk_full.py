"""Fault: the disk holding the store fills up in the middle of a burst of request forms (issue #23 item 7).

The store lives on a real, small filesystem: `gfi-bot run` is started in its own mount namespace
(`unshare --mount --map-root-user`, so no root and no cleanup are needed: the mount dies with the process) on a
tmpfs of `SIZE`, and the test reaches that filesystem through `/proc/<pid>/root`. Mid-burst the test fills the
filesystem with a file until the kernel says ENOSPC, so SQLite gets the very error a full disk gives
(SQLITE_FULL), at whatever write it happens to be doing.

What must hold: every submission answered "registrerad" is stored; the ones that could not be stored are told
so in Swedish on the form (never a 500, never silence); the operator's log says `store.full` in one structured
line (no traceback); once the file is removed the bot stores again without a restart, the refused forms can be
sent again and each becomes exactly one case, and every receipt is delivered."""

from __future__ import annotations

import asyncio
import contextlib
import errno
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from bot.config import DEFAULT_DIRECTORY
from tests.fakes.slack_api import FakeSlackAPI
from tests.faults.burst import REF, SUBMITTERS, answer_text, filed_ref, post, submission
from tests.faults.process import TOKEN, BotProcess, start_bot
from tests.tools import missing_tool

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="mount namespaces")

SIZE = "6m"  # the store after its migrations is about 350 kB; each filing adds ~100 kB to the WAL
BURST = 36
IN_FLIGHT = 6
FILL_AFTER = 8  # answered submissions before the disk fills
GUARD = 30.0  # seconds; only against a hang
FULL_TEXT = "lagringsutrymmet är fullt"
# Run the bot on its own tmpfs: mount it over the store's folder, then exec the bot (the rest of the arguments).
MOUNT = 'mount -t tmpfs -o "size=$1,mode=0700" gfi-small "$2" && shift 2 && exec "$@"'


def small_filesystem(folder: Path, size: str = SIZE) -> list[str]:
    """The command prefix that runs what follows on a tmpfs of `size` mounted over `folder`, or skips (fails
    under CI) when this machine cannot make a mount namespace."""
    prefix = ["unshare", "--mount", "--map-root-user", "--propagation", "private", "sh", "-c", MOUNT, "sh", size,
              str(folder)]
    try:
        probe = subprocess.run([*prefix, "true"], capture_output=True, timeout=GUARD, check=False)
    except FileNotFoundError:
        missing_tool("unshare (util-linux) is needed to give the store a small filesystem")
    if probe.returncode != 0:
        missing_tool(f"cannot mount a tmpfs in a mount namespace here: {probe.stderr.decode(errors='replace')}")
    return prefix


def fill(folder: Path) -> int:
    """Write a file into `folder` until the filesystem is full; the bytes written."""
    chunk = b"\0" * 4096
    written = 0
    with (folder / "filler").open("wb", buffering=0) as out:
        while True:
            try:
                written += out.write(chunk)
            except OSError as exc:
                if exc.errno != errno.ENOSPC:
                    raise
                break
        with contextlib.suppress(OSError):
            os.fsync(out.fileno())
    return written


READ = """import json, sqlite3, sys
conn = sqlite3.connect(f"file:{sys.argv[1]}?mode=ro", uri=True)
print(json.dumps(conn.execute(sys.argv[2]).fetchall()))"""


CHECKPOINT = """import sqlite3, sys
conn = sqlite3.connect(sys.argv[1], timeout=10)
print(conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchall())"""


def truncate_wal_of(pid: int, db: Path) -> None:
    """Empty the bot's write-ahead log (a checkpoint, from inside its mount namespace), so that once the disk is
    full the log has no room left from start-up's migrations: commits after the fill must grow it and meet the
    full disk. Without this, a log rewound by a checkpoint just before the fill could hold the whole rest of the
    burst, and whether the test saw a refusal depended on that timing."""
    command = ["nsenter", f"--target={pid}", "--user", "--mount", "--preserve-credentials",
               sys.executable, "-c", CHECKPOINT, str(db)]
    done = subprocess.run(command, capture_output=True, text=True, timeout=GUARD, check=False)
    assert done.returncode == 0, done.stderr


def rows_seen_by(pid: int, db: Path, sql: str) -> list[tuple[Any, ...]]:
    """Read the bot's store as the bot sees it: from inside its mount namespace (SQLite resolves the symbolic
    link `/proc/<pid>/root`, so it cannot open the file through it)."""
    command = ["nsenter", f"--target={pid}", "--user", "--mount", "--preserve-credentials",
               sys.executable, "-c", READ, str(db), sql]
    done = subprocess.run(command, capture_output=True, text=True, timeout=GUARD, check=False)
    assert done.returncode == 0, done.stderr
    return [tuple(r) for r in json.loads(done.stdout)]


def log_events(bot: BotProcess, event: str) -> list[dict[str, object]]:
    found = []
    for line in bot.text().splitlines():
        with contextlib.suppress(ValueError):
            record = json.loads(line)
            if isinstance(record, dict) and record.get("event") == event:
                found.append(record)
    return found


async def test_disk_full_mid_burst_refuses_in_swedish_loses_nothing_and_recovers(tmp_path: Path) -> None:
    folder = tmp_path / "store"
    folder.mkdir()
    prefix = small_filesystem(folder)
    subs = [submission(n) for n in range(1, BURST + 1)]
    async with FakeSlackAPI(token=TOKEN) as fake:
        bot = await start_bot(folder / "gfi.sqlite3", fake, tmp_path, prefix=prefix)
        seen = Path(f"/proc/{bot.proc.pid}/root") / folder.relative_to("/")  # the bot's view of its tmpfs
        truncate_wal_of(bot.proc.pid, folder / "gfi.sqlite3")

        def rows(sql: str) -> list[tuple[Any, ...]]:
            return rows_seen_by(bot.proc.pid, folder / "gfi.sqlite3", sql)

        try:
            answers: dict[int, tuple[int, str] | None] = {}
            filled = asyncio.Event()
            gate = asyncio.Semaphore(IN_FLIGHT)

            async def one(http: aiohttp.ClientSession, n: int) -> None:
                async with gate:
                    answers[n] = await post(http, bot.url, subs[n - 1].body)
                if sum(filed_ref(a) is not None for a in answers.values()) == FILL_AFTER and not filled.is_set():
                    filled.set()
                    await asyncio.to_thread(fill, seen)

            async with aiohttp.ClientSession() as http:
                await asyncio.wait_for(asyncio.gather(*(one(http, s.n) for s in subs)), GUARD)
            assert filled.is_set()

            confirmed = {n: ref for n, a in answers.items() if (ref := filed_ref(a)) is not None}
            refused = sorted(n for n, a in answers.items() if FULL_TEXT in answer_text(a))
            for n, answer in answers.items():  # each is a confirmation or the Swedish refusal: no 500, no silence
                assert answer is not None and answer[0] == 200, (n, answer)
                assert (n in confirmed) != (n in refused), (n, answer)
            assert refused, "the disk filled but every submission was stored"
            assert len(confirmed) >= FILL_AFTER
            # what was confirmed is stored, as that very submission (counted while the disk is still full)
            stored = {ref: brief for ref, brief in rows("SELECT ref, brief FROM cases")}
            assert len(stored) == len(confirmed)
            for n, ref in confirmed.items():
                assert stored[ref] == subs[n - 1].brief
            # the operator's log: disk full in one structured line, no traceback
            full = log_events(bot, "store.full")
            assert len(full) == 1, full
            assert "Traceback" not in bot.text()

            # space returns: the bot stores again without a restart; the refused forms sent again are filed once
            (seen / "filler").unlink()
            async with aiohttp.ClientSession() as http:
                again = {s.n: await post(http, bot.url, s.body) for s in subs}
            for n, answer in again.items():
                ref = filed_ref(answer)
                assert ref is not None, (n, answer)
                assert ref == confirmed.get(n, ref), n  # a confirmed one is the same case, not a second
            cases = rows("SELECT ref, requester_id, brief FROM cases ORDER BY id")
            assert len(cases) == BURST
            assert sorted(brief for _, _, brief in cases) == sorted(s.brief for s in subs)
            assert log_events(bot, "store.writable")  # and the log says the store writes again
            # the application log tells of each filed case once, and of none that was rolled back
            assert sorted(str(e["case_ref"]) for e in log_events(bot, "case.request")) == sorted(r for r, _, _ in cases)
            # every case's receipt is delivered, also those whose outbox rows waited out the full disk: wait until
            # none is queued (each is marked sent only after Slack's answer), then every call made is in the fake
            for _ in range(int(GUARD / 0.1)):
                if not rows("SELECT 1 FROM outbox WHERE template = 'case_filed' AND status = 'pending' LIMIT 1"):
                    break
                await asyncio.sleep(0.1)
            assert rows("SELECT status, COUNT(*) FROM outbox WHERE template = 'case_filed' GROUP BY status") == [
                ("sent", BURST)]
            assert rows("PRAGMA integrity_check") == [("ok",)]
        finally:
            code = await bot.stop()
        assert code == 0, bot.text()[-3000:]
        assert "Traceback" not in bot.text()
    # each receipt once: one whose delivery could not be recorded on the full disk is recorded, not sent again
    slack_of = {person: user for user, person, _ in SUBMITTERS}
    receipts = sorted((str(c.params.get("channel")), ref.group(0)) for c in fake.calls("chat.postMessage")
                      if c.ok and "registrerad" in str(c.params.get("text"))
                      and (ref := REF.search(str(c.params.get("text")))))
    assert receipts == sorted((slack_of[person], ref) for ref, person, _ in cases)


FILED = "Din GFI-förfrågan är registrerad"
CONSOLE_REQUEST = 'gfi enhet=beroende typ=ny-en kort="Konsol {n}, vuxen, behöver samordning" samtycke=ja barn=nej\n'


async def test_disk_full_in_the_console_is_said_in_swedish_and_passes_when_space_returns(tmp_path: Path) -> None:
    """The same fault at the console (`gfi-bot console` on its own small tmpfs): a request that cannot be
    stored is answered with the Swedish explanation and the session goes on; after space returns it files."""
    folder = tmp_path / "store"
    folder.mkdir()
    prefix = small_filesystem(folder)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "GFI_"))}
    env["GFI_LOG_LEVEL"] = "INFO"
    log_path = tmp_path / "console.log"
    log_file = log_path.open("wb")
    proc = await asyncio.create_subprocess_exec(
        *prefix, sys.executable, "-m", "bot.cli", "console", "--as", "maria.sand", "--now", "2026-11-23T10:00",
        "--db", str(folder / "gfi.sqlite3"), "--directory", str(DEFAULT_DIRECTORY), cwd=tmp_path, env=env,
        stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE, stderr=log_file,
    )
    log_file.close()
    assert proc.stdin is not None and proc.stdout is not None
    stdout, stdin = proc.stdout, proc.stdin
    out: list[str] = []

    async def said(n: int) -> str:
        """Send request n; the console's answer to it (up to the next command's echo or a pause)."""
        stdin.write(("/" + CONSOLE_REQUEST.format(n=n)).encode())
        await stdin.drain()
        answer: list[str] = []
        while not any(FILED in a or FULL_TEXT in a for a in answer):
            line = (await asyncio.wait_for(stdout.readline(), GUARD)).decode()
            assert line, "".join(out) + log_path.read_text()
            out.append(line)
            answer.append(line)
        return "".join(answer)

    try:
        assert FILED in await said(1)
        seen = Path(f"/proc/{proc.pid}/root") / folder.relative_to("/")
        await asyncio.to_thread(fill, seen)
        answers = [await said(n) for n in range(2, 12)]
        refused = [a for a in answers if FULL_TEXT in a]
        assert refused, answers
        filed_while_full = sum(FILED in a for a in answers)
        (seen / "filler").unlink()
        assert FILED in await said(12)
        stored = rows_seen_by(proc.pid, folder / "gfi.sqlite3", "SELECT COUNT(*) FROM cases")
        assert stored == [(2 + filed_while_full,)]
    finally:
        stdin.close()
        code = await asyncio.wait_for(proc.wait(), GUARD)
    log = log_path.read_text()
    assert code == 0, log
    assert "Traceback" not in "".join(out) + log
    assert sum('"event": "store.full"' in line for line in log.splitlines()) == 1, log

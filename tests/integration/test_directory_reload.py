"""A running bot picks up a changed directory file: by the scheduler's check and on SIGHUP; a broken file
keeps the old directory and logs where (line numbers, YAML paths), never who."""

from __future__ import annotations

import asyncio
import io
import json
import logging
import os
import signal
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from bot.channels.console import ConsoleClock, run_console
from bot.config import DEFAULT_DIRECTORY
from bot.directory import load_directory
from bot.runtime import Background
from tests.conftest import CoreFactory, local
from tests.fakes.slack_api import FakeSlackAPI
from tests.faults.process import start_bot
from tests.timekit import form

NEW_PERSON = ("  - {id: nora.ekdahl, name: Nora Ekdahl, unit: beroende, title: kurator, roles: [staff], "
              "slack_user_id: U04NORA, email: nora.ekdahl@rsv.example.se}\n")


def copy_of_example(tmp_path: Path) -> Path:
    path = tmp_path / "katalog.yaml"
    path.write_text(DEFAULT_DIRECTORY.read_text(encoding="utf-8"), encoding="utf-8")
    return path


def add_nora(path: Path) -> None:
    path.write_text(path.read_text(encoding="utf-8") + NEW_PERSON, encoding="utf-8")


async def test_a_changed_file_is_picked_up_and_used_at_once(make_core: CoreFactory, tmp_path: Path) -> None:
    path = copy_of_example(tmp_path)
    core = await make_core(directory=load_directory(path))
    bg = Background(core)
    bg.schedule()
    assert bg.watcher is not None
    assert str(bg.scheduler.get_job("directory").trigger) == "interval[0:00:30]"  # at least every minute
    assert await bg.watcher.check() is False  # unchanged: not even read
    add_nora(path)
    text = path.read_text(encoding="utf-8").replace("days: [tisdag, torsdag]\n      time: \"09:00\"",
                                                    "days: [måndag, fredag]\n      time: \"09:00\"", 1)
    path.write_text(text, encoding="utf-8")  # soc-norr distributes on Mondays and Fridays now
    assert await bg.watcher.check() is True
    assert core.directory.person("nora.ekdahl") is not None
    assert core.renderer.directory.person("nora.ekdahl") is not None  # one object, shared by every service
    case = await core.cases.request("nora.ekdahl", form(target_unit="psykiatri"))
    assert case.requester_unit == "beroende"
    trigger = str(bg.scheduler.get_job("distribution:soc-norr").trigger)
    assert "day_of_week='mon,fri'" in trigger


async def test_a_broken_file_keeps_the_old_directory_and_logs_where(
        make_core: CoreFactory, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    path = copy_of_example(tmp_path)
    core = await make_core(directory=load_directory(path))
    bg = Background(core)
    assert bg.watcher is not None
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("deputy: bo.ek", "deputy: bo.ekk", 1), encoding="utf-8")
    line = path.read_text(encoding="utf-8").splitlines().index("    deputy: bo.ekk") + 1
    with caplog.at_level(logging.INFO):
        assert await bg.watcher.check() is False
        assert await bg.watcher.check() is False  # the same broken version is logged once
    refused = [r for r in caplog.records if getattr(r, "event", None) == "directory.reload_refused"]
    assert len(refused) == 1
    assert refused[0].where == [f"{line}:units[0].deputy"]  # type: ignore[attr-defined]
    assert "bo.ek" not in json.dumps(refused[0].__dict__, default=str)  # where, never who
    assert core.directory.units["soc-norr"].deputy == "bo.ek"  # the old directory stays

    # check-directory says the same, in full
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot.cli", "check-directory", str(path),
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    _, err = await asyncio.wait_for(proc.communicate(), timeout=60)
    assert proc.returncode == 1
    assert f"{path}:{line}: units[0].deputy: okänd person 'bo.ekk'" in err.decode()

    path.write_text(text, encoding="utf-8")  # mended: picked up again
    assert await bg.watcher.check() is True


async def wait_for_event(log: list[str], event: str, after: int) -> dict[str, object]:
    for _ in range(300):
        for line in log[after:]:
            try:
                record = json.loads(line)
            except ValueError:
                continue
            if record.get("event") == event:
                return dict(record)
        await asyncio.sleep(0.05)
    raise AssertionError(f"no {event} in the bot's log:\n" + "".join(log))


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")
async def test_sighup_reloads_a_running_bot(tmp_path: Path) -> None:
    path = copy_of_example(tmp_path)
    async with FakeSlackAPI(token="xoxb-faults") as fake:
        bot = await start_bot(tmp_path / "gfi.sqlite3", fake, tmp_path, GFI_DIRECTORY=str(path))
        try:
            add_nora(path)
            mark = len(bot.log)
            bot.proc.send_signal(signal.SIGHUP)
            reloaded = await wait_for_event(bot.log, "directory.reloaded", mark)
            assert reloaded["people"] == len(load_directory(DEFAULT_DIRECTORY).people) + 1

            path.write_text("people: [\n", encoding="utf-8")  # broken YAML
            mark = len(bot.log)
            bot.proc.send_signal(signal.SIGHUP)
            refused = await wait_for_event(bot.log, "directory.reload_refused", mark)
            assert refused["where"] and "Nora" not in json.dumps(refused)
            assert bot.proc.returncode is None  # still running, on the directory it had
        finally:
            code = await bot.stop()
    assert code == 0


class _Script:
    """Console input: one line per readline; `before[i]` runs just before line i is handed over (as if the
    operator changed the directory file while the person at the console was typing)."""

    def __init__(self, lines: list[str], before: dict[int, Callable[[], None]]) -> None:
        self.lines, self.before, self.read = lines, before, 0

    def readline(self) -> str:
        if self.read in self.before:
            self.before[self.read]()
        line = self.lines[self.read] if self.read < len(self.lines) else ""
        self.read += 1
        return line

    def isatty(self) -> bool:
        return False


async def test_the_console_reads_a_changed_directory_before_the_next_command(
        make_core: CoreFactory, tmp_path: Path) -> None:
    path = copy_of_example(tmp_path)
    original = path.read_text(encoding="utf-8")
    core = await make_core(directory=load_directory(path))
    out = io.StringIO()
    script = _Script(["/som nora.ekdahl\n", "/hjälp\n", "/som maria.sand\n"],
                     {0: lambda: add_nora(path), 1: lambda: path.write_text(original, encoding="utf-8")})
    await run_console(core, "maria.sand", ConsoleClock(local("2026-11-23T10:00")), script, out)  # type: ignore[arg-type]
    text = out.getvalue()
    people = len(load_directory(DEFAULT_DIRECTORY).people)
    assert f"Katalogen är inläst på nytt: 5 enheter, {people + 1} personer." in text
    assert "Du är nu Nora Ekdahl (nora.ekdahl)" in text
    assert f"Katalogen är inläst på nytt: 5 enheter, {people} personer." in text
    assert "Du (nora.ekdahl) finns inte längre i katalogen" in text
    assert "Du är nu Maria Sand (maria.sand)" in text


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")
async def test_sighup_reloads_the_console(tmp_path: Path) -> None:
    path = copy_of_example(tmp_path)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "GFI_", "TEAMS_", "GRAPH_"))}
    env.update({"GFI_DIRECTORY": str(path), "GFI_DB_PATH": str(tmp_path / "gfi.sqlite3")})
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot.cli", "console", "--as", "maria.sand", "--now", "2026-11-23T10:00", env=env,
        stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    assert proc.stdin is not None and proc.stdout is not None

    async def until(fragment: str) -> str:
        seen = ""
        while fragment not in seen:
            line = await asyncio.wait_for(proc.stdout.readline(), timeout=60)  # type: ignore[union-attr]
            if not line:
                err = await proc.stderr.read()  # type: ignore[union-attr]
                raise AssertionError(f"the console ended: {seen}{err.decode()}")
            seen += line.decode()
        return seen

    try:
        await until("/avsluta-konsol")  # the welcome (in office hours): the console waits for a command now
        add_nora(path)
        proc.send_signal(signal.SIGHUP)
        reloaded = await until("Katalogen är inläst på nytt")
        assert f"{len(load_directory(DEFAULT_DIRECTORY).people) + 1} personer" in reloaded
        proc.stdin.write(b"/som nora.ekdahl\n")
        await proc.stdin.drain()
        await until("Du är nu Nora Ekdahl")
        proc.stdin.close()
        assert await asyncio.wait_for(proc.wait(), timeout=60) == 0
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()


@pytest.mark.parametrize("engine", ["sqlite", "postgresql"])
async def test_the_consoles_own_reload_runs_the_reload_pass(make_core: CoreFactory, tmp_path: Path) -> None:
    """The console's own file reload stops the case text still to go to someone the new file removed, as a running
    bot's reload does (`bot.cases.leavers.stop_after_reload`); before, the console ran no pass."""
    from bot.store import Tx
    from tests.timekit import assigned_case

    path = copy_of_example(tmp_path)
    core = await make_core(directory=load_directory(path))
    await assigned_case(core)  # linnea.fors assigned: her message shows the case

    async def later(tx: Tx) -> None:  # not yet sent when the console ticks
        await tx.execute("UPDATE outbox SET not_before = '2099-01-01T00:00:00+00:00' "
                         "WHERE recipient_id = 'linnea.fors'")

    await core.db.run(later)

    def remove_linnea() -> None:
        lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
        path.write_text("".join(line for line in lines if "id: linnea.fors" not in line), encoding="utf-8")

    script = _Script(["/hjälp\n"], {0: remove_linnea})
    await run_console(core, "maria.sand", ConsoleClock(local("2026-11-23T10:00")), script, io.StringIO())  # type: ignore[arg-type]

    async def rows(tx: Tx) -> list[str]:
        return [str(r["status"]) for r in await tx.fetchall(
            "SELECT status FROM outbox WHERE recipient_id = 'linnea.fors' AND template = 'assigned_to_you'")]

    assert core.directory.person("linnea.fors") is None
    assert await core.db.run_read(rows) == ["cancelled"]

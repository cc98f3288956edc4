"""`gfi-bot run` as a real process for the fault suite: started against the fake Slack, read until it listens,
its log kept (the pipe is drained so that logging never blocks it), stopped by SIGTERM or killed."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bot.config import DEFAULT_DIRECTORY
from tests.fakes.slack_api import FakeSlackAPI

SECRET = "faults-signing-secret"
TOKEN = "xoxb-faults"
START_GUARD = 30.0  # seconds; only against a hang (the bot listens in about a second)


@dataclass
class BotProcess:
    proc: asyncio.subprocess.Process
    port: int
    log: list[str] = field(default_factory=list)
    reader: asyncio.Task[None] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/slack/events"

    def kill(self) -> None:
        """SIGKILL: no shutdown code runs."""
        self.proc.send_signal(signal.SIGKILL)

    async def wait(self) -> int:
        code = await asyncio.wait_for(self.proc.wait(), timeout=START_GUARD)
        if self.reader is not None:
            with contextlib.suppress(asyncio.CancelledError, TimeoutError):
                await asyncio.wait_for(self.reader, timeout=START_GUARD)
        return code

    async def stop(self) -> int:
        """SIGTERM and wait for the exit code."""
        if self.proc.returncode is None:
            self.proc.send_signal(signal.SIGTERM)
        return await self.wait()

    def text(self) -> str:
        return "".join(self.log)


async def start_bot(db: Path, fake: FakeSlackAPI, cwd: Path, *, prefix: Sequence[str] = (),
                    **extra_env: str) -> BotProcess:
    """Start `gfi-bot run` (HTTP mode, a free port, the example directory) and return once it listens.
    `prefix` runs it under another command (which ends by exec-ing the rest of its arguments)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "GFI_"))}
    env.update({
        "SLACK_BOT_TOKEN": TOKEN, "SLACK_SIGNING_SECRET": SECRET, "SLACK_API_URL": fake.base_url,
        "GFI_HTTP_HOST": "127.0.0.1", "GFI_HTTP_PORT": "0", "GFI_LOG_LEVEL": "INFO", "GFI_DB_PATH": str(db),
        "GFI_DIRECTORY": str(DEFAULT_DIRECTORY), "GFI_SWEEP_SECONDS": "1", "GFI_ALLOW_EXAMPLE_DIRECTORY": "1",
        **extra_env,
    })
    proc = await asyncio.create_subprocess_exec(
        *prefix, sys.executable, "-m", "bot.cli", "run", cwd=cwd, env=env,
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE,
    )
    assert proc.stderr is not None
    stream = proc.stderr
    log: list[str] = []
    ready: asyncio.Future[int] = asyncio.get_running_loop().create_future()

    async def read() -> None:
        while line := await stream.readline():
            text = line.decode(errors="replace")
            log.append(text)
            if not ready.done():
                with contextlib.suppress(ValueError):
                    record: dict[str, Any] = json.loads(text)
                    if record.get("event") == "slack.listening":
                        ready.set_result(int(record["port"]))
        if not ready.done():
            ready.set_exception(AssertionError("gfi-bot run ended before listening:\n" + "".join(log)))

    reader = asyncio.create_task(read())
    try:
        port = await asyncio.wait_for(asyncio.shield(ready), timeout=START_GUARD)
    except BaseException:
        if proc.returncode is None:
            proc.kill()
        await proc.wait()
        raise
    return BotProcess(proc, port, log, reader)

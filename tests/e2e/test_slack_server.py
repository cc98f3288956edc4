"""`gfi-bot run` with Slack credentials: a real process serving HTTP, health check, clean SIGTERM shutdown."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from tests.fakes.slack_api import FakeSlackAPI
from tests.fakes.slack_signing import signed_headers, slash_command_body

SECRET = "process-test-secret"
TOKEN = "xoxb-process-test"


async def read_until(stream: asyncio.StreamReader, event: str, seen: list[dict[str, Any]]) -> dict[str, Any]:
    """Read JSON log lines until one with `event` arrives (no fixed sleeps: the process says when it is ready)."""
    while True:
        line = await asyncio.wait_for(stream.readline(), timeout=20)
        if not line:
            raise AssertionError(f"process ended before {event}; log: {seen}")
        try:
            record = json.loads(line)
        except ValueError:
            continue
        seen.append(record)
        if record.get("event") == event:
            return record


@asynccontextmanager
async def gfi_bot_run(tmp_path: Path, fake: FakeSlackAPI, **extra_env: str) -> AsyncIterator[list[dict[str, Any]]]:
    """Run `gfi-bot run` as a real process against the fake Slack; yield once it listens (its log lines so
    far, the `slack.listening` one last), then stop it with SIGTERM and check it exits cleanly."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "GFI_"))}
    env.update({
        "SLACK_BOT_TOKEN": TOKEN, "SLACK_SIGNING_SECRET": SECRET, "SLACK_API_URL": fake.base_url,
        "GFI_HTTP_HOST": "127.0.0.1", "GFI_HTTP_PORT": "0", "GFI_LOG_LEVEL": "INFO",
        "GFI_DB_PATH": str(tmp_path / "gfi.sqlite3"), "GFI_ALLOW_EXAMPLE_DIRECTORY": "1", **extra_env,
    })
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot.cli", "run", cwd=tmp_path, env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )
    assert proc.stderr is not None
    seen: list[dict[str, Any]] = []
    try:
        await read_until(proc.stderr, "slack.listening", seen)
        yield seen
    finally:
        if proc.returncode is None:
            proc.send_signal(signal.SIGTERM)
    code = await asyncio.wait_for(proc.wait(), timeout=20)
    rest = (await proc.stderr.read()).decode()
    assert code == 0, rest
    assert '"slack.stopped"' in rest
    assert "Traceback" not in rest


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")
async def test_run_serves_slack_and_stops_cleanly_on_sigterm(tmp_path: Path) -> None:
    async with FakeSlackAPI(token=TOKEN) as fake, gfi_bot_run(tmp_path, fake, GFI_SWEEP_SECONDS="1") as seen:
        ready = seen[-1]
        assert ready["mode"] == "http"
        base = f"http://127.0.0.1:{ready['port']}"
        async with aiohttp.ClientSession() as http:
            async with http.get(f"{base}/healthz") as resp:
                assert resp.status == 200
                assert (await resp.json())["db"] is True
                assert resp.headers["Server"] == "GFI-boten"  # no framework, no version (issue #23)
            async with http.get(f"{base}/no-such-path") as resp:
                assert resp.status == 404 and resp.headers["Server"] == "GFI-boten"
        # a request aiohttp cannot parse gets its own error page: that names no version either
        reader, writer = await asyncio.open_connection("127.0.0.1", ready["port"])
        writer.write(b"GET /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: zz\r\n\r\n")
        await writer.drain()
        head = (await asyncio.wait_for(reader.read(4096), timeout=10)).split(b"\r\n\r\n")[0].decode()
        writer.close()
        assert head.startswith("HTTP/1.") and " 400 " in head
        assert "Server: GFI-boten" in head and "aiohttp" not in head and "Python" not in head
        async with aiohttp.ClientSession() as http:
            body = slash_command_body("/gfi", "", "U01MARIA", trigger_id="trig-process")
            async with http.post(f"{base}/slack/events", data=body, headers=signed_headers(SECRET, body)) as resp:
                assert resp.status == 200
            async with http.post(f"{base}/slack/events", data=body, headers=signed_headers("forged", body)) as resp:
                assert resp.status == 401
        [opened] = await fake.wait_for("views.open", timeout=10)
        assert opened.params["view"]["callback_id"] == "gfi_request"
        assert opened.token == TOKEN


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")
async def test_run_in_socket_mode_takes_commands_over_the_websocket(tmp_path: Path) -> None:
    async with FakeSlackAPI(token=TOKEN) as fake, gfi_bot_run(
        tmp_path, fake, SLACK_APP_TOKEN="xapp-process-test"
    ) as seen:
        assert seen[-1]["mode"] == "socket"
        [opened_socket] = await fake.wait_for("apps.connections.open", timeout=10)
        assert opened_socket.token == "xapp-process-test"
        payload = {
            "token": "legacy", "team_id": "T0GFI", "channel_id": "C0GFI", "user_id": "U01MARIA",
            "command": "/gfi", "text": "", "trigger_id": "trig-socket", "response_url": "https://example.invalid/r",
        }
        envelope = await fake.socket_send("slash_commands", payload)
        ack = await fake.socket_ack(envelope)
        assert ack["envelope_id"] == envelope
        [opened] = await fake.wait_for("views.open", timeout=10)
        assert opened.params["trigger_id"] == "trig-socket"
        assert opened.params["view"]["callback_id"] == "gfi_request"

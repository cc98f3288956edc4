"""Several real `gfi-bot run` processes on one PostgreSQL database (issue #22): submissions spread over them
file one case each with unique references and get one receipt each, delivered by the one leader; when the
leader is killed (SIGKILL), another instance leads within 15 s and delivers what is filed next."""

from __future__ import annotations

import asyncio
import collections
import os
import signal
import sys
import time
from contextlib import AsyncExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import psycopg
import pytest

from bench.bench_slack_acks import PEOPLE, RECEIPT, request_state
from tests import pg
from tests.e2e.test_slack_server import SECRET, TOKEN, read_until
from tests.fakes.slack_api import FakeSlackAPI
from tests.fakes.slack_signing import interaction_body, signed_headers, view_submission_payload

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")

SUBMISSIONS = 200
CONCURRENCY = 16
FAILOVER = 15  # seconds


@dataclass
class Instance:
    proc: asyncio.subprocess.Process
    url: str
    log: list[dict[str, Any]] = field(default_factory=list)
    reader: asyncio.Task[None] | None = None

    def leads(self) -> bool:
        changes = [r for r in self.log if r.get("event") == "store.leader"]
        return bool(changes and changes[-1].get("leading"))


async def start(tmp_path: Path, fake: FakeSlackAPI, db_url: str, n: int) -> Instance:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "GFI_", "TEAMS_", "GRAPH_"))}
    env.update({
        "SLACK_BOT_TOKEN": TOKEN, "SLACK_SIGNING_SECRET": SECRET, "SLACK_API_URL": fake.base_url,
        "GFI_HTTP_HOST": "127.0.0.1", "GFI_HTTP_PORT": "0", "GFI_LOG_LEVEL": "INFO", "GFI_SWEEP_SECONDS": "1",
        "GFI_DB_PATH": str(tmp_path / f"unused-{n}.sqlite3"), "GFI_DATABASE_URL": db_url,
        "GFI_ALLOW_EXAMPLE_DIRECTORY": "1",
    })
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot.cli", "run", cwd=tmp_path, env=env,
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE,
    )
    assert proc.stderr is not None
    seen: list[dict[str, Any]] = []
    ready = await read_until(proc.stderr, "slack.listening", seen)
    instance = Instance(proc, f"http://127.0.0.1:{ready['port']}/slack/events", seen)

    async def follow() -> None:
        assert proc.stderr is not None
        while True:
            try:
                await read_until(proc.stderr, "never", instance.log)
            except (AssertionError, TimeoutError):
                if proc.returncode is not None or proc.stderr.at_eof():
                    return

    instance.reader = asyncio.create_task(follow())
    return instance


async def submit(http: aiohttp.ClientSession, instance: Instance, n: int) -> None:
    user, person, unit = PEOPLE[n % len(PEOPLE)]
    body = interaction_body(view_submission_payload(user, "gfi_request", request_state(person, unit),
                                                    view_id=f"V{n:05d}"))
    async with http.post(instance.url, data=body, headers=signed_headers(SECRET, body)) as resp:
        assert resp.status == 200, await resp.text()


def receipts(fake: FakeSlackAPI) -> list[str]:
    return [str(c.params.get("text")) for c in fake.calls("chat.postMessage") if RECEIPT in str(c.params.get("text"))]


async def until(done: Any, timeout: float) -> None:  # noqa: ASYNC109 - a bounded wait for another process
    deadline = time.monotonic() + timeout
    while not done():
        if time.monotonic() > deadline:
            raise AssertionError("timed out")
        await asyncio.sleep(0.2)


async def test_two_instances_file_once_each_and_a_killed_leader_is_replaced(tmp_path: Path) -> None:
    if pg.server() is None:
        pytest.skip("no PostgreSQL: set GFI_TEST_POSTGRES or install the binaries (.ci/run does)")
    db_url = pg.fresh_database()
    async with AsyncExitStack() as stack:
        fake = await stack.enter_async_context(FakeSlackAPI(token=TOKEN))
        instances = [await start(tmp_path, fake, db_url, n) for n in range(2)]
        try:
            http = await stack.enter_async_context(aiohttp.ClientSession())
            gate = asyncio.Semaphore(CONCURRENCY)

            async def one(n: int) -> None:
                async with gate:
                    await submit(http, instances[n % 2], n)

            await asyncio.gather(*(one(n) for n in range(SUBMISSIONS)))
            with psycopg.connect(db_url) as conn:
                refs = [r[0] for r in conn.execute("SELECT ref FROM cases")]
            assert len(refs) == SUBMISSIONS and len(set(refs)) == SUBMISSIONS
            await until(lambda: len(receipts(fake)) >= SUBMISSIONS, 60)
            await asyncio.sleep(2)  # nothing more comes: each receipt once
            per_ref = collections.Counter(ref for text in receipts(fake) for ref in refs if ref in text)
            assert len(receipts(fake)) == SUBMISSIONS and set(per_ref.values()) == {1}
            leaders = [i for i in instances if i.leads()]
            assert len(leaders) == 1, [i.log[-3:] for i in instances]

            # the leader dies: the other leads within FAILOVER seconds and delivers what is filed next
            leader = leaders[0]
            other = next(i for i in instances if i is not leader)
            leader.proc.send_signal(signal.SIGKILL)
            await leader.proc.wait()
            killed_at = time.monotonic()
            await submit(http, other, SUBMISSIONS + 1)
            await until(lambda: len(receipts(fake)) == SUBMISSIONS + 1, FAILOVER + 5)
            await until(other.leads, 5)
            assert time.monotonic() - killed_at < FAILOVER
        finally:
            for instance in instances:
                if instance.proc.returncode is None:
                    instance.proc.send_signal(signal.SIGTERM)
                    await asyncio.wait_for(instance.proc.wait(), 20)
                if instance.reader is not None:
                    instance.reader.cancel()
    pg.drop_database(db_url)

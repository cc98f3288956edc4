"""Benchmark of the outbox: draining a backlog through the Slack sender, and the bytes a sent message keeps.

- Drain: 10⁴ queued messages to 1,000 recipients (ten each), and 100 to 10 recipients, through the real
  `SlackSender` and `slack_sdk` client against the local fake Slack Web API (tests/fakes, in a process of its
  own) answering every call after 50 ms, with the real clock and the runtime's `Dispatcher.drain`
  (`GFI_DISPATCH_CONCURRENCY`, one message per second per recipient). The serial figure (concurrency 1) is
  the dispatcher before issue #14. CPU per message is the bot's process only.
  With ten recipients the bound is Slack's pace: nine seconds between a recipient's first and tenth message.
- Storage: bytes of the outbox (table and indexes, from SQLite's `dbstat`) per sent message, before and after
  the retention sweep drops the text of messages older than GFI_OUTBOX_RETENTION_DAYS.

The backlog is a copy of a real receipt (`case_filed`: text, stored message, read-log refs) bulk-inserted on the
real schema. Run:  PYTHONPATH=. .venv/bin/python bench/bench_outbox.py [--quick]
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import tempfile
import time
from datetime import UTC, datetime, timedelta
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web
from slack_sdk.web.async_client import AsyncWebClient

from bench.table import Row, print_table
from bot.cases.service import GfiRequest
from bot.channels.slack.sender import SlackSender
from bot.clock import FrozenClock, SystemClock
from bot.config import DEFAULT_DIRECTORY, Settings
from bot.core import Core, open_core
from bot.dispatcher import DEFAULT_CONCURRENCY
from bot.outbox import drop_old_texts
from tests.fakes.slack_api import FakeSlackAPI

TOKEN = "xoxb-bench-outbox"
LATENCY = 0.05  # seconds the fake Slack takes to answer


class SlowSlack(FakeSlackAPI):
    """The fake Slack Web API, answering every call after LATENCY seconds. A message is answered as Slack answers
    one it takes, without the fake's check of its layout against slack_sdk's models (about a third of the fake's
    CPU per message, on the machine's cores beside the bot's: Slack's servers are not; the tests check layouts)."""

    async def _handle(self, request: web.Request) -> web.Response:
        await asyncio.sleep(LATENCY)
        return await super()._handle(request)

    def _chat_post_message(self, params: dict[str, Any]) -> dict[str, Any]:
        if not params.get("channel"):
            return {"ok": False, "error": "channel_not_found"}
        return {"ok": True, "channel": self._resolve_channel(str(params["channel"])), "ts": self._next_ts()}


class DirectIdentity:
    """Person id -> Slack user id without asking Slack (the bench's recipients are not in the directory)."""

    async def slack_id_for(self, person_id: str) -> str | None:
        return f"U{person_id.upper()}"


async def open_bench_core(path: Path, clock: Any, concurrency: int, slack_url: str | None,
                          session: aiohttp.ClientSession | None = None) -> Core:
    settings = Settings(db_path=path, directory_path=DEFAULT_DIRECTORY, dispatch_concurrency=concurrency,
                        _env_file=None)
    if slack_url is None:
        return await open_core(settings, clock=clock)
    # the client as `gfi-bot run` makes it (bot/channels/slack/server.py), or with one connection pool
    client = AsyncWebClient(token=TOKEN, base_url=slack_url, session=session)
    sender = SlackSender(client, DirectIdentity())  # type: ignore[arg-type]
    return await open_core(settings, clock=clock, senders={"slack": sender}, fallback=sender)


async def receipt(core: Core) -> dict[str, Any]:
    """A real receipt row, to copy."""
    await core.cases.request("maria.sand", GfiRequest(target_unit="beroende", case_type="ny-en",
                                                      brief="man, 45 år, behöver samordnad plan",
                                                      consent_confirmed=True, children="nej"))
    async with core.db.transaction() as tx:
        row = await tx.fetchone("SELECT * FROM outbox WHERE template = 'case_filed'")
        await tx.execute("DELETE FROM outbox")
    assert row is not None
    return row


async def backlog(core: Core, model: dict[str, Any], recipients: int, each: int, at: datetime) -> int:
    """Queue `each` copies of `model` to every one of `recipients` people, interleaved as a burst would be."""
    rows = [
        (at.isoformat(), model["case_ref"], f"p{r:04d}", "slack", model["template"], model["text"],
         model["message"], model["reads"], at.isoformat(), at.isoformat())
        for _ in range(each) for r in range(recipients)
    ]
    async with core.db.transaction() as tx:
        await tx.executemany(
            "INSERT INTO outbox (created_at, case_ref, recipient_id, channel, template, text, message, reads, "
            "urgent, not_before, next_attempt_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, 1, ?, ?)",
            rows,
        )
    return len(rows)


def serve_slack(conn: Connection) -> None:
    """The fake Slack in a process of its own (Slack's servers do not run on the bot's CPU): sends its URL,
    serves until told to stop, then sends (messages posted, `time.monotonic()` of the last)."""

    async def main() -> None:
        async with SlowSlack(token=TOKEN) as fake:
            conn.send(fake.base_url)
            await asyncio.get_running_loop().run_in_executor(None, conn.recv)
            posts = [c.at for c in fake.calls("chat.postMessage") if c.ok]
            conn.send((len(posts), max(posts, default=0.0)))

    asyncio.run(main())


async def drain(tmp: Path, name: str, recipients: int, each: int, concurrency: int,
                pooled: bool = False) -> tuple[float, int, float]:
    """Seconds until the last message of the backlog arrived at the fake Slack, how many arrived, and the CPU
    seconds the bot used meanwhile. `pooled`: the Slack client keeps its connections (one aiohttp session)."""
    context = multiprocessing.get_context("spawn")
    conn, child = context.Pipe()
    slack = context.Process(target=serve_slack, args=(child,), daemon=True)
    slack.start()
    try:
        base_url = conn.recv()
        session = aiohttp.ClientSession() if pooled else None
        core = await open_bench_core(tmp / f"{name}.sqlite3", SystemClock(), concurrency, base_url, session)
        try:
            model = await receipt(core)
            queued = await backlog(core, model, recipients, each, datetime.now(UTC))
            start, cpu = time.monotonic(), time.process_time()
            while True:
                await core.dispatcher.drain()
                async with core.db.transaction() as tx:
                    left = await tx.scalar("SELECT COUNT(*) FROM outbox WHERE status = 'pending'")
                if not left:
                    break
                await asyncio.sleep(0.05)  # everything left is held by a hold longer than drain waits for
            cpu = time.process_time() - cpu
        finally:
            await core.close()
            if session is not None:
                await session.close()
        conn.send("stop")
        posted, last = conn.recv()
        assert posted == queued, (posted, queued)
        return last - start, posted, cpu
    finally:
        slack.join(timeout=10)
        if slack.is_alive():
            slack.kill()


async def outbox_bytes(core: Core) -> int:
    async with core.db.transaction() as tx:
        return int(await tx.scalar(
            "SELECT SUM(pgsize - unused) FROM dbstat WHERE name = 'outbox' OR name IN "
            "(SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'outbox')"
        ))


async def storage(tmp: Path, messages: int) -> tuple[float, float]:
    """Outbox bytes per sent message before and after the retention sweep."""
    clock = FrozenClock(datetime(2026, 11, 23, 9, tzinfo=UTC))
    core = await open_bench_core(tmp / "storage.sqlite3", clock, DEFAULT_CONCURRENCY, None)
    try:
        model = await receipt(core)
        queued = await backlog(core, model, messages // 10, 10, clock.now())
        async with core.db.transaction() as tx:
            await tx.execute("UPDATE outbox SET status = 'sent', sent_at = created_at, external_id = 'D1:1.1'")
        before = await outbox_bytes(core) / queued
        clock.advance(timedelta(days=31))
        await drop_old_texts(core.db, clock.now(), 30)
        after = await outbox_bytes(core) / queued
        return before, after
    finally:
        await core.close()


async def rows(quick: bool) -> list[Row]:
    """The outbox's rows of the benchmark table."""
    many, each = (200, 5) if quick else (1000, 10)
    serial, few = (50, 4) if quick else (200, 10)
    out: list[Row] = []
    with tempfile.TemporaryDirectory() as name:
        tmp = Path(name)
        took, sent, cpu = await drain(tmp, "many", many, each, DEFAULT_CONCURRENCY)
        target = max(30.0 * sent / 10_000, each)  # 10⁴ in 30 s; never below the pace bound (each - 1 s) + 1 s
        out.append(Row("outbox", f"drain {sent} messages to {many} recipients, Slack 50 ms", took, "s",
                       target=f"< {target:.0f} s", met=took < target))
        out.append(Row("outbox", f"drain rate, concurrency {DEFAULT_CONCURRENCY}", sent / took, "/s"))
        out.append(Row("outbox", "bot CPU per message sent", cpu / sent * 1000, "ms"))
        took, sent, cpu = await drain(tmp, "pooled", many, each, DEFAULT_CONCURRENCY, pooled=True)
        out.append(Row("outbox", f"drain {sent} messages, Slack client with one connection pool", took, "s",
                       target=f"< {target:.0f} s", met=took < target))
        out.append(Row("outbox", "bot CPU per message sent, one connection pool", cpu / sent * 1000, "ms"))
        took_serial, sent_serial, _ = await drain(tmp, "serial", serial, 1, 1)
        out.append(Row("outbox", "drain rate, concurrency 1 (serial, as before)", sent_serial / took_serial, "/s"))
        took_few, sent_few, _ = await drain(tmp, "few", 10, few, DEFAULT_CONCURRENCY)
        out.append(Row("outbox", f"drain {sent_few} messages to 10 recipients, 1/s each (bound: {few - 1} s)",
                       took_few, "s", target=f"< {few} s", met=took_few < few))
        before, after = await storage(tmp, 2_000 if quick else 10_000)
        out.append(Row("storage", "outbox bytes per sent message, before the retention sweep", before, "B"))
        out.append(Row("storage", "outbox bytes per sent message, after 30 days (text dropped)", after, "B",
                       floor=before))
    return out


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="the small variant (seconds)")
    args = parser.parse_args()
    print_table(asyncio.run(rows(args.quick)))

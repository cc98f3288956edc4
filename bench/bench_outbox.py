"""Benchmark of the outbox: enqueue and dispatch throughput, and the due-query cost on a large table.

Run:  .venv/bin/python bench/bench_outbox.py [--messages 5000] [--backlog 50000]
Prints figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import resource
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from bot.clock import FrozenClock
from bot.config import DEFAULT_DIRECTORY, Settings
from bot.core import open_core
from bot.outbox import OutboxMessage

TZ = ZoneInfo("Europe/Stockholm")
PEOPLE = ["maria.sand", "omar.haddad", "linnea.fors", "fatima.ali", "yusuf.kaya", "lena.mark"]


class NullSender:
    async def send(self, message: OutboxMessage) -> str | None:
        return None


async def main(messages: int, backlog: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        clock = FrozenClock(datetime(2026, 11, 23, 10, tzinfo=TZ))
        settings = Settings(db_path=Path(tmp) / "bench.sqlite3", directory_path=DEFAULT_DIRECTORY, _env_file=None)
        core = await open_core(settings, clock=clock, fallback=NullSender())
        try:
            t0 = time.perf_counter()
            async with core.db.transaction() as tx:
                for i in range(messages):
                    await core.outbox.enqueue(tx, PEOPLE[i % len(PEOPLE)], "slack_brist", urgent=True, coordinators=[])
            took = time.perf_counter() - t0
            print(f"enqueue {messages} rendered messages in one transaction: {took:.2f} s, {messages / took:.0f}/s")

            t0 = time.perf_counter()
            sent = 0
            while (r := await core.dispatcher.run_once(limit=500)).sent:
                sent += r.sent
            took = time.perf_counter() - t0
            print(f"dispatch {sent} messages through a no-op sender (no pacing): {took:.2f} s, {sent / took:.0f}/s")

            future = clock.now() + timedelta(days=30)
            async with core.db.transaction() as tx:
                await tx.executemany(
                    "INSERT INTO outbox (created_at, recipient_id, channel, template, text, not_before, "
                    "next_attempt_at) VALUES (?, 'maria.sand', 'slack', 'bench', 'x', ?, ?)",
                    [(clock.now().isoformat(), future.isoformat(), future.isoformat())] * (backlog - 100),
                )
                await tx.executemany(
                    "INSERT INTO outbox (created_at, recipient_id, channel, template, text, not_before, "
                    "next_attempt_at) VALUES (?, 'maria.sand', 'slack', 'bench', 'x', ?, ?)",
                    [(clock.now().isoformat(), clock.now().isoformat(), clock.now().isoformat())] * 100,
                )
            rounds = 50
            t0 = time.perf_counter()
            for _ in range(rounds):
                due = await core.dispatcher.due(clock.now(), limit=100)
            took = (time.perf_counter() - t0) / rounds
            print(f"due query on {backlog + messages} rows with {len(due)} due: {took * 1000:.2f} ms")
            async with core.db.transaction() as tx:
                plan = await tx.fetchall(
                    "EXPLAIN QUERY PLAN SELECT * FROM outbox WHERE status = 'pending' AND next_attempt_at <= ? "
                    "AND not_before <= ? ORDER BY next_attempt_at, id LIMIT 100",
                    (clock.now().isoformat(), clock.now().isoformat()),
                )
            print("query plan:", "; ".join(str(p["detail"]) for p in plan))

            t0 = time.perf_counter()
            swept = await core.dispatcher.run_once(limit=100)
            took = time.perf_counter() - t0
            print(f"run_once on {backlog + messages} rows delivering {swept.sent} due: {took * 1000:.1f} ms")
            t0 = time.perf_counter()
            for _ in range(rounds):
                await core.dispatcher.run_once(limit=100)
            took = (time.perf_counter() - t0) / rounds
            print(f"idle run_once (nothing due) on {backlog + messages} rows: {took * 1000:.2f} ms")
        finally:
            await core.close()
    print(f"peak RSS: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--messages", type=int, default=5000)
    parser.add_argument("--backlog", type=int, default=50000)
    args = parser.parse_args()
    asyncio.run(main(args.messages, args.backlog))

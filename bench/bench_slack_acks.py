"""Benchmark of Slack ack latency: how long Slack would wait for the bot's answer (limit: 3 s).

Runs the Bolt app against the fake Slack Web API (tests/fakes) over real HTTP with signed requests and
times, per kind, the round trip of the request Slack sends until the ack comes back:
- /gfi by a person the directory knows by Slack id,
- /gfi by a person known only by e-mail while users.info is held (a Slack that does not answer),
- a request form submission (parse, check, file the case in SQLite) and a click (Kvittera).

Run:  PYTHONPATH=. .venv/bin/python bench/bench_slack_acks.py [--rounds 50]
Prints figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path

from bot.clock import FrozenClock
from tests.e2e.test_slack_lifecycle import request_values
from tests.fakes.slack_bot import FATIMA, LINNEA, MARIA, Reply, SlackBot, running_bot
from tests.fakes.slack_signing import multi_static_select_state


async def timed(call: Callable[[], Awaitable[Reply]]) -> float:
    start = time.perf_counter()
    reply = await call()
    assert reply.status == 200, reply.text
    return (time.perf_counter() - start) * 1000


def show(name: str, samples: list[float]) -> None:
    samples.sort()
    p95 = samples[int(len(samples) * 0.95) - 1]
    print(f"{name:<44} n={len(samples):<4} median {statistics.median(samples):6.1f} ms  "
          f"p95 {p95:6.1f} ms  max {samples[-1]:6.1f} ms")


async def run(bot: SlackBot, rounds: int) -> None:
    known = [await timed(lambda i=i: bot.command(MARIA, "/gfi", trigger_id=f"t-{i}")) for i in range(rounds)]
    await bot.settle()
    show("/gfi, known by Slack id", known)

    bot.fake.hold("users.info")
    held = []
    for i in range(rounds):
        user = f"U0BENCH{i}"
        bot.fake.add_user(user, "sofia.grahn@rsv.example.se", "Sofia Grahn")
        held.append(await timed(lambda u=user, i=i: bot.command(u, "/gfi", trigger_id=f"h-{i}")))
    show("/gfi, users.info held (never answered)", held)
    bot.fake.release("users.info")
    await bot.settle()

    filed = [await timed(lambda: bot.submit(MARIA, "gfi_request", request_values())) for _ in range(rounds)]
    await bot.settle()
    show("request form submission (files a case)", filed)

    refs = [f"GFI-2026-{n:04d}" for n in range(1, rounds + 1)]
    for ref in refs:
        await bot.submit(FATIMA, "gfi_assign", {"personer": multi_static_select_state(["linnea.fors"])}, ref=ref)
    await bot.settle()
    clicks = [await timed(lambda r=ref: bot.click(LINNEA, "gfi_ack", r)) for ref in refs]
    await bot.settle()
    show("click Kvittera (ack first, work after)", clicks)


async def main(rounds: int) -> None:
    clock = FrozenClock(datetime(2026, 11, 23, 8, 0, tzinfo=UTC))
    with tempfile.TemporaryDirectory() as tmp:
        async with running_bot(Path(tmp), clock) as bot:
            await run(bot, rounds)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=50)
    asyncio.run(main(parser.parse_args().rounds))

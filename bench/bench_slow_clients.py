"""Benchmark of the HTTP deadlines: many clients that send part of a request and then stall.

Serves an application through the same path as `gfi-bot run` (deadline middleware + `serve_bounded` on a
bound socket), opens N connections that each send half a request head (or a head and part of a body),
and prints how many are still open as time passes, and whether a prompt request is still answered.

Run:  .venv/bin/python bench/bench_slow_clients.py [--clients 300] [--header-timeout 10] [--body-timeout 10]
Prints figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import time

from aiohttp import ClientSession, web

from bot.channels.slack.deadlines import HttpLimits, deadline_middleware, serve_bounded
from bot.channels.slack.server import bind_http


async def ok(request: web.Request) -> web.Response:
    await request.read()
    return web.Response(text="ok")


async def watch(reader: asyncio.StreamReader, start: float) -> float:
    """Seconds until the server closes this connection."""
    try:
        while await reader.read(1024):
            pass
    except ConnectionResetError:
        pass
    return time.monotonic() - start


async def main(clients: int, limits: HttpLimits, body: bool) -> None:
    app = web.Application(middlewares=[deadline_middleware])
    app.router.add_post("/slack/events", ok)
    app.router.add_get("/healthz", ok)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    sock = bind_http("127.0.0.1", 0)
    port = sock.getsockname()[1]
    server = await serve_bounded(runner, sock, limits)
    partial = (b"POST /slack/events HTTP/1.1\r\nHost: b\r\nContent-Length: 500\r\n\r\ntoken=" if body
               else b"POST /slack/events HTTP/1.1\r\nHost: b\r\nX-Slack-Sig")
    start = time.monotonic()
    connections = []
    for _ in range(clients):
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(partial)
        connections.append((reader, writer))
    watchers = [asyncio.create_task(watch(r, start)) for r, _ in connections]
    async with ClientSession() as http:
        t0 = time.monotonic()
        async with http.get(f"http://127.0.0.1:{port}/healthz") as resp:
            print(f"a prompt request during the stall: HTTP {resp.status} in {(time.monotonic() - t0) * 1000:.1f} ms")
    bound = limits.body_seconds if body else limits.header_seconds
    for second in range(int(bound) + 3):
        open_now = sum(not w.done() for w in watchers)
        print(f"t={second:>3d} s: {open_now} of {clients} stalled connections open")
        if open_now == 0:
            break
        await asyncio.sleep(1)
    closed = [w.result() for w in watchers if w.done()]
    if closed:
        print(f"closed by the server after {min(closed):.2f}–{max(closed):.2f} s (bound {bound} s)")
    for _, writer in connections:
        writer.close()
    server.close()
    await runner.cleanup()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--clients", type=int, default=300)
    parser.add_argument("--header-timeout", type=float, default=10.0)
    parser.add_argument("--body-timeout", type=float, default=10.0)
    parser.add_argument("--body", action="store_true", help="stall in the body instead of the head")
    args = parser.parse_args()
    asyncio.run(main(args.clients, HttpLimits(args.header_timeout, args.body_timeout), args.body))

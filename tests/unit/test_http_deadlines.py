"""Slow HTTP clients are disconnected: a request head or body that does not arrive in time closes the
connection, over a real socket, while ordinary requests (also several on one kept-alive connection) work."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator

import pytest
from aiohttp import web

from bot.channels.slack.deadlines import HttpLimits, deadline_middleware, serve_bounded
from bot.channels.slack.server import bind_http

# Short enough to keep the slow-client tests quick, long enough that a loaded machine (CI beside other work)
# still writes an ordinary request within it: 0.3 s failed now and then at a load average of 13.
LIMITS = HttpLimits(header_seconds=1.0, body_seconds=1.0)
HANG_GUARD = 10.0  # only a guard against a hanging test: the server must close long before this


async def echo(request: web.Request) -> web.Response:
    return web.Response(text=f"got {len(await request.read())} bytes")


@pytest.fixture
async def port() -> AsyncIterator[int]:
    app = web.Application(middlewares=[deadline_middleware])
    app.router.add_post("/slack/events", echo)
    app.router.add_get("/healthz", echo)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    sock = bind_http("127.0.0.1", 0)
    server = await serve_bounded(runner, sock, LIMITS)
    try:
        yield sock.getsockname()[1]
    finally:
        server.close()
        await runner.cleanup()


async def closed_by_server(reader: asyncio.StreamReader) -> bool:
    """True when the server closes the connection (EOF or reset) before the hang guard."""
    try:
        while await asyncio.wait_for(reader.read(1024), timeout=HANG_GUARD):
            pass
    except ConnectionResetError:
        return True
    except TimeoutError:
        return False
    return True


async def test_a_request_head_that_never_finishes_is_closed(port: int) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(b"POST /slack/events HTTP/1.1\r\nHost: bot\r\nX-Slack-")  # and then nothing more
    await writer.drain()
    assert await closed_by_server(reader)
    writer.close()


async def test_a_connection_that_sends_nothing_is_closed(port: int) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    assert await closed_by_server(reader)
    writer.close()


async def test_a_body_that_never_finishes_is_closed(port: int, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(b"POST /slack/events HTTP/1.1\r\nHost: bot\r\nContent-Length: 100\r\n\r\ntoken=abc")
    await writer.drain()
    assert await closed_by_server(reader)
    writer.close()
    for _ in range(5):
        await asyncio.sleep(0)  # let the aborted request's handler finish
    # closing a stalled client is routine: no error (with a traceback) per client in the log
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR] == []
    assert "http.client_timeout" in [getattr(r, "event", None) for r in caplog.records]


async def test_many_stalled_clients_are_all_closed(port: int) -> None:
    connections = [await asyncio.open_connection("127.0.0.1", port) for _ in range(30)]
    for _, writer in connections:
        writer.write(b"GET /healthz HTTP/1.1\r\nHo")
        await writer.drain()
    closed = await asyncio.gather(*(closed_by_server(reader) for reader, _ in connections))
    assert all(closed)
    for _, writer in connections:
        writer.close()


async def test_prompt_requests_are_answered_also_on_a_kept_alive_connection(port: int) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    for body in (b"a=1", b"b=22"):
        writer.write(b"POST /slack/events HTTP/1.1\r\nHost: bot\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body))
        await writer.drain()
        head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), timeout=HANG_GUARD)
        assert head.startswith(b"HTTP/1.1 200")
        length = next(int(h.split(b":")[1]) for h in head.split(b"\r\n") if h.lower().startswith(b"content-length"))
        assert await reader.readexactly(length) == b"got %d bytes" % len(body)
    # idle after the last response: the header deadline applies again
    assert await closed_by_server(reader)
    writer.close()

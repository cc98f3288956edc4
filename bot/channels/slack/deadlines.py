"""Deadlines for HTTP clients: slow or stalled connections are closed instead of held open.

aiohttp's server has no deadline for reading a request's headers, and a body is read only when a handler
asks for it. Slowloris-style clients (a few header bytes now and then, or a body that never comes) would
keep connections and memory for as long as they like. Two bounds close them:

- headers: from the moment a connection opens (and after each response on a kept-alive connection) the
  client has `header_seconds` to deliver a complete request head;
- body: once the head is in, the client has `body_seconds` to deliver the whole body.

`DeadlineProtocol` wraps aiohttp's protocol per connection and owns the timer; `deadline_middleware`
(which must be the outermost middleware) tells it when a request's head has arrived, reads the body under
the body deadline, and re-arms the header deadline when the request is done.
"""

from __future__ import annotations

import asyncio
import contextvars
import logging
import socket
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Literal

from aiohttp import web

log = logging.getLogger(__name__)

# The Server header of every response (issue #23): the product, not the framework and its version. aiohttp
# sets "Python/x.y aiohttp/x.y.z" unless a value is there: `name_server` sets it on the app's responses, and
# `serve_bounded` on the error responses aiohttp makes itself for requests it cannot parse.
SERVER_NAME = "GFI-boten"

# When the request being handled arrived (the event loop's clock), set by `deadline_middleware`: a listener that
# must answer within Slack's three seconds counts from here, not from when it got its turn (`arrived_at`).
_ARRIVED: contextvars.ContextVar[float] = contextvars.ContextVar("gfi_request_arrived")

Phase = Literal["headers", "body"]
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@dataclass(frozen=True)
class HttpLimits:
    """How long a client may take to send a request's head and its body (seconds)."""

    header_seconds: float = 10.0
    body_seconds: float = 10.0


class DeadlineProtocol(asyncio.Protocol):
    """Delegates to aiohttp's protocol; aborts the connection when the current deadline passes."""

    def __init__(self, inner: asyncio.Protocol, limits: HttpLimits, loop: asyncio.AbstractEventLoop) -> None:
        self.inner = inner
        self.limits = limits
        self._loop = loop
        self._transport: asyncio.Transport | None = None
        self._timer: asyncio.TimerHandle | None = None
        self._phase: Phase = "headers"

    # --- asyncio.Protocol, passed on ---------------------------------------------------------
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self._transport = transport
        self._arm("headers")
        self.inner.connection_made(transport)

    def data_received(self, data: bytes) -> None:
        self.inner.data_received(data)

    def eof_received(self) -> bool | None:
        return self.inner.eof_received()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        self._transport = None
        self.inner.connection_lost(exc)

    def pause_writing(self) -> None:
        self.inner.pause_writing()

    def resume_writing(self) -> None:
        self.inner.resume_writing()

    # --- phases, driven by deadline_middleware ---------------------------------------------------
    def head_received(self) -> None:
        """The request head is in: the body deadline starts."""
        self._arm("body")

    def body_received(self) -> None:
        """The body is in: the handler runs without a client deadline."""
        self._disarm()

    def request_done(self) -> None:
        """Response handed over: the next request's head must come within the header deadline."""
        if self._transport is not None:
            self._arm("headers")

    # --- the timer --------------------------------------------------------------------------
    def _arm(self, phase: Phase) -> None:
        self._disarm()
        self._phase = phase
        seconds = self.limits.header_seconds if phase == "headers" else self.limits.body_seconds
        self._timer = self._loop.call_later(seconds, self._expire)

    def _disarm(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def _expire(self) -> None:
        self._timer = None
        if self._transport is not None and not self._transport.is_closing():
            log.info("slow http client closed", extra={"event": "http.client_timeout", "phase": self._phase})
            self._transport.abort()


@web.middleware
async def deadline_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Read the body under the body deadline before any other middleware; re-arm for the next request."""
    _ARRIVED.set(asyncio.get_running_loop().time())
    transport = request.transport
    protocol = transport.get_protocol() if transport is not None else None
    bounded = protocol if isinstance(protocol, DeadlineProtocol) else None
    if bounded is not None:
        bounded.head_received()
    try:
        if request.body_exists:
            try:
                await request.read()  # cached: later readers (the Slack guard, Bolt) get the same bytes
            except ConnectionResetError:
                # the body deadline passed (or the client left): nobody is there to read an answer, and
                # letting the error through would log a traceback per stalled client
                return web.Response(status=408)
        if bounded is not None:
            bounded.body_received()
        return await handler(request)
    finally:
        if bounded is not None:
            bounded.request_done()


def arrived_at() -> float:
    """When the request being handled arrived, on the event loop's clock (now, outside an HTTP request: a
    Socket Mode event, a test calling a listener directly)."""
    now = asyncio.get_running_loop().time()
    return min(_ARRIVED.get(now), now)


async def serve_bounded(
    runner: web.BaseRunner, sock: socket.socket, limits: HttpLimits
) -> asyncio.AbstractServer:
    """Serve a set-up runner on an already bound, listening socket, every connection under `limits`."""
    loop = asyncio.get_running_loop()
    factory = runner.server
    if factory is None:
        raise RuntimeError("the runner is not set up")

    def protocol() -> DeadlineProtocol:
        # access_log=None as the bot's AppRunner has it: no access log (it would hold /a/<token> paths)
        return DeadlineProtocol(_NamedHandler(factory, loop=loop, access_log=None), limits, loop)  # type: ignore[arg-type]

    return await loop.create_server(protocol, sock=sock)


class _NamedHandler(web.RequestHandler):
    """aiohttp's per-connection handler, whose own error responses (a request it cannot parse) name the
    product too (tests/e2e/test_slack_server.py fails loudly if aiohttp changes how these are made)."""

    def handle_error(self, request: Any, status: int = 500, exc: BaseException | None = None,
                     message: str | None = None) -> web.StreamResponse:
        response = super().handle_error(request, status, exc, message)
        response.headers["Server"] = SERVER_NAME
        return response


async def _name_response(request: web.Request, response: web.StreamResponse) -> None:
    response.headers["Server"] = SERVER_NAME


def name_server(web_app: web.Application) -> None:
    """Every response of `web_app` names the product, not the framework's version (see SERVER_NAME)."""
    web_app.on_response_prepare.append(_name_response)

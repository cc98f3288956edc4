"""`gfi-bot run` with Slack: HTTP (`POST /slack/events`, `GET /healthz`) or Socket Mode, plus the background.

The HTTP front door (signature, well-formed bodies, Bolt's endpoint, the health check) is `front_door`; this
module binds the port, opens the store and runs until a signal, then stops everything in order.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import logging
import signal
import socket
from collections.abc import Callable
from typing import Any

import aiohttp
from aiohttp import web
from slack_bolt.async_app import AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

from bot import intake
from bot.channels.graph import GraphChannel
from bot.channels.slack.app import Register, build_app
from bot.channels.slack.context import SlackContext
from bot.channels.slack.deadlines import HttpLimits, deadline_middleware, name_server, serve_bounded
from bot.channels.slack.front_door import add_health, build_web_app
from bot.channels.slack.identity import SlackIdentity
from bot.channels.slack.sender import SlackSender
from bot.channels.slack.views import json_serialize
from bot.config import Settings
from bot.core import Core, open_core
from bot.health import Readiness, add_readiness, measure
from bot.runtime import Background
from bot.startup import StartupError

log = logging.getLogger(__name__)

DEFAULT_API_URL = "https://slack.com/api/"


def bind_http(host: str, port: int) -> socket.socket:
    """Bind and listen on host:port now, before anything slow starts; StartupError when it cannot."""
    try:
        family = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0][0]
        return socket.create_server((host, port), family=family, backlog=128)
    except OSError as exc:
        if exc.errno == errno.EADDRINUSE:
            raise StartupError("port_in_use", host=host, port=port) from None
        reason = errno.errorcode.get(exc.errno or 0, type(exc).__name__)
        raise StartupError("port_unavailable", host=host, port=port, reason=reason) from None


def api_url(settings: Settings) -> str:
    url = settings.slack_api_url or DEFAULT_API_URL
    return url if url.endswith("/") else url + "/"


Mount = Callable[[Core, web.Application], Any]
SLACK_API_TIMEOUT = 30  # seconds per Web API call (slack_sdk's own default)


def web_api_session() -> aiohttp.ClientSession:
    """The one HTTP session of every Web API call. Its JSON encoder takes a view encoded once as it is
    (`views.Encoded`: the /gfi form)."""
    return aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=SLACK_API_TIMEOUT), json_serialize=json_serialize)


async def serve(settings: Settings, mounts: tuple[Mount, ...] = (), *, register: Register | None = None) -> int:
    """Run the bot (Slack, Teams, or both on one aiohttp server) until SIGTERM/SIGINT; returns the exit code.

    The port is bound first and the store opened next, so that a port in use or an unusable database stops
    the process at once with a StartupError, before the scheduler or Socket Mode start. `register` wires the
    Slack listeners (`handlers.slack.register`); it is needed when Slack is configured."""
    slack_on = settings.slack_configured
    if settings.teams_anonymous:
        from bot.channels.teams.auth import LOOPBACK_HOSTS

        if settings.http_host not in LOOPBACK_HOSTS:
            raise StartupError("teams_anonymous_public", host=settings.http_host)
        log.warning("teams anonymous mode: unsigned requests accepted on loopback only",
                    extra={"event": "teams.anonymous"})
    sock = bind_http(settings.http_host, settings.http_port)
    try:
        metrics_sock = bind_http(settings.http_host, settings.metrics_port) if settings.metrics_port is not None \
            else None
    except StartupError:
        sock.close()
        raise
    limits = HttpLimits(settings.http_header_timeout, settings.http_body_timeout)
    secret = settings.slack_signing_secret.get_secret_value() if settings.slack_signing_secret else ""
    # One HTTP session for every Web API call, so connections to Slack are reused (a new connection and TLS
    # handshake per message cost about 0.5 ms of CPU each; the parallel dispatcher sends many at once).
    session = web_api_session() if slack_on and settings.slack_bot_token else None
    client = (AsyncWebClient(token=settings.slack_bot_token.get_secret_value(), base_url=api_url(settings),
                             timeout=SLACK_API_TIMEOUT, session=session)
              if session is not None and settings.slack_bot_token else None)
    sender = SlackSender(client) if client is not None else None
    senders: dict[str, Any] = {"slack": sender} if sender is not None else {}
    try:
        core = await open_core(settings, senders=senders, fallback=sender)
    except BaseException:
        sock.close()
        if metrics_sock is not None:
            metrics_sock.close()
        if session is not None:
            await session.close()
        raise
    graph = GraphChannel.from_settings(settings)  # Outlook events, e-mail and action links, when configured
    if graph is not None:
        graph.attach(core)
    runner: web.AppRunner | None = None
    http: asyncio.AbstractServer | None = None
    socket_handler = None
    background: Background | None = None
    ctx: SlackContext | None = None
    extras: list[Any] = []
    readiness = Readiness(core)
    metrics_runner: web.AppRunner | None = None
    try:
        app: AsyncApp | None = None
        if client is not None and sender is not None:
            if register is None:
                raise ValueError("serve: Slack is configured but no listeners were passed (register=...)")
            identity = SlackIdentity(core.db, core.directory, client, core.clock)
            sender.bind(identity)
            ctx = SlackContext(core, client, identity)
            await ctx.start()  # before any tick: the Home refresher's first look starts here
            app = build_app(core, client, register=register, signing_secret=secret, context=ctx)
            submissions = build_app(core, client, register=register, signing_secret=secret, context=ctx,
                                    answer_first=True)
            web_app = build_web_app(app, core, secret, submissions=submissions)
        else:
            web_app = web.Application(middlewares=[deadline_middleware])
            add_health(web_app, core)
        for mount in mounts:  # other chat channels on the same server (Teams: `POST /api/messages`)
            extras.append(mount(core, web_app))

        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)

        if graph is not None:
            graph.add_routes(web_app)
        name_server(web_app)
        web_app.middlewares.insert(0, measure)
        if metrics_sock is None:
            add_readiness(web_app, readiness)
        else:  # /readyz and /metrics on their own port only
            metrics_app = web.Application(middlewares=[deadline_middleware])
            add_readiness(metrics_app, readiness)
            metrics_runner = web.AppRunner(metrics_app, access_log=None)
            await metrics_runner.setup()
            await web.SockSite(metrics_runner, metrics_sock).start()
        runner = web.AppRunner(web_app, access_log=None)
        await runner.setup()
        http = await serve_bounded(runner, sock, limits)
        host, port = sock.getsockname()[:2]
        readiness.check_channels(settings)
        await intake.replay_at_start(core)  # forms kept for a late filing by a process that stopped before filing
        # the passes owed by covers that ended (a cancel's lost at a stop, a cover that ran out while down), and the
        # timekeeper's for a cover that runs out on its date: the serving bot only, on the system clock (never a
        # report or a console `--now`, whose later day would end covers still running)
        await core.absences.pass_ended_covers()
        core.sweeps.append(core.absences.pass_ended_covers)
        background = await Background.start(core, on_tick=readiness.ticked, freeze_heap=True)
        reloads: set[asyncio.Task[bool]] = set()

        def reload_directory(bg: Background = background) -> None:  # SIGHUP: `systemctl reload gfi-bot`
            task = asyncio.ensure_future(bg.reload_directory())
            reloads.add(task)
            task.add_done_callback(reloads.discard)

        loop.add_signal_handler(signal.SIGHUP, reload_directory)
        mode = "http"
        if settings.slack_app_token is not None and app is not None:
            from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler

            socket_handler = AsyncSocketModeHandler(app, settings.slack_app_token.get_secret_value())
            await socket_handler.connect_async()  # type: ignore[no-untyped-call]  # unannotated in slack_bolt
            mode = "socket"
        log.info("listening", extra={"event": "slack.listening", "mode": mode, "host": host, "port": port,
                                     "metrics_port": metrics_sock.getsockname()[1] if metrics_sock else None})
        await stop.wait()
        log.info("shutting down", extra={"event": "slack.stopping"})
    finally:
        for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
            with contextlib.suppress(Exception):
                asyncio.get_running_loop().remove_signal_handler(sig)
        if socket_handler is not None:
            with contextlib.suppress(Exception):
                await socket_handler.close_async()  # type: ignore[no-untyped-call]  # unannotated in slack_bolt
        if http is not None:
            http.close()
        if runner is not None:
            await runner.cleanup()
        if metrics_runner is not None:
            await metrics_runner.cleanup()
        if metrics_sock is not None:
            metrics_sock.close()
        await readiness.close()
        sock.close()
        if ctx is not None:
            await ctx.drain()
        for extra in extras:
            drain = getattr(getattr(extra, "ctx", None), "drain", None)
            if drain is not None:
                await drain()
        if background is not None:
            await background.stop()
        if graph is not None:
            await graph.close()
        await core.close()
        if session is not None:
            await session.close()
    log.info("stopped", extra={"event": "slack.stopped"})
    return 0

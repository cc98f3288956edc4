"""`gfi-bot run` with Slack: HTTP (`POST /slack/events`, `GET /healthz`) or Socket Mode, plus the background.

The HTTP front checks the Slack signature and timestamp itself before Bolt sees the body, so that forged or
replayed requests get 401 and malformed ones 400 (Bolt would parse the body first and fail with a 500); a body
over `bot.channels.payload.MAX_BODY_BYTES` gets 413 and JSON nested deeper than `MAX_DEPTH` 400, before any
parser sees it.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import logging
import signal
import socket
from collections.abc import Awaitable, Callable, Sequence
from typing import Any
from urllib.parse import parse_qsl

import aiohttp
from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response
from slack_bolt.async_app import AsyncApp
from slack_bolt.context.async_context import AsyncBoltContext
from slack_bolt.request.async_internals import build_async_context
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_sdk.signature import SignatureVerifier
from slack_sdk.web.async_client import AsyncWebClient

from bot import health, intake
from bot.channels import payload
from bot.channels.graph import GraphChannel
from bot.channels.slack.app import Register, build_app
from bot.channels.slack.context import SlackContext
from bot.channels.slack.deadlines import HttpLimits, deadline_middleware, name_server, serve_bounded
from bot.channels.slack.identity import SlackIdentity
from bot.channels.slack.sender import SlackSender
from bot.config import Settings
from bot.core import Core, open_core
from bot.health import Readiness, add_readiness, measure
from bot.runtime import Background
from bot.startup import StartupError

log = logging.getLogger(__name__)

EVENTS_PATH = "/slack/events"
DEFAULT_API_URL = "https://slack.com/api/"

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
SLACK_BODY = web.RequestKey("gfi.slack_body", dict[str, Any])  # the body as the guard parsed it, for Bolt


def _problem(status: int, error: str) -> web.Response:
    return web.json_response({"ok": False, "error": error}, status=status)


def _has(data: Any, *path: str | int) -> bool:
    """True when data[path...] exists and is not empty."""
    for key in path:
        try:
            data = data[key]
        except (KeyError, IndexError, TypeError):
            return False
    return data not in (None, "", [], {})


# What every payload of a kind carries (Bolt's own matchers index these without checking).
_REQUIRED: dict[str, list[tuple[str | int, ...]]] = {
    "block_actions": [("user", "id"), ("actions", 0, "action_id")],
    "view_submission": [("user", "id"), ("view", "id"), ("view", "type"), ("view", "callback_id")],
    "view_closed": [("user", "id"), ("view", "id"), ("view", "type"), ("view", "callback_id")],
    "event_callback": [("event", "type"), ("event_id",)],
    "url_verification": [("challenge",)],
    "shortcut": [("callback_id",)],
    "message_action": [("callback_id",)],
    "block_suggestion": [("action_id",)],
    "interactive_message": [("actions", 0)],
}


# Fields Bolt reads without checking their type when it logs a request no listener handles.
_OBJECTS = ("view", "event")
_LISTS_OF_OBJECTS = ("actions",)
_EVENT_OBJECTS = ("message", "previous_message")  # in the event: its matchers look into these


# Ids Bolt pastes into text (its warning about an unhandled request joins `'"' + action_id + '"'`): when present,
# they are text or nothing, at the top and in each action.
_IDS = ("action_id", "callback_id")


def _ids_are_text(data: dict[str, Any]) -> bool:
    found = data.get("actions")
    actions: list[Any] = found if isinstance(found, list) else []
    return all(
        item.get(key) is None or isinstance(item[key], str)
        for item in [data, *(a for a in actions if isinstance(a, dict))]
        for key in _IDS
    )


def _bolt_can_read(data: dict[str, Any]) -> bool:
    """True when Bolt can take the payload apart without crashing (a 500): its own context extraction (ids of
    user, team, channel, authorizations, response URLs) and the fields it reads for an unhandled request."""
    if any(key in data and not isinstance(data[key], dict) for key in _OBJECTS):
        return False
    if not _ids_are_text(data):
        return False
    event = data.get("event") or {}
    if any(event.get(key) is not None and not isinstance(event[key], dict) for key in _EVENT_OBJECTS):
        return False
    if any(key in data and not (isinstance(data[key], list) and all(isinstance(v, dict) for v in data[key]))
           for key in _LISTS_OF_OBJECTS):
        return False
    try:
        build_async_context(AsyncBoltContext(), data)
    except (KeyError, IndexError, TypeError, AttributeError, ValueError):
        return False
    return True


def slack_body(text: str, content_type: str) -> dict[str, Any] | None:
    """The body as Bolt reads it (`slack_bolt.request.internals.parse_body`), when it has the shape Slack
    sends: a JSON object, a slash command form, or a form whose `payload` is a JSON object of a known type
    with the fields that type always has; None otherwise. Parsed once: Bolt is handed this dict."""
    if not text.strip():
        return None
    if content_type == "application/json" or text.lstrip().startswith("{"):
        try:
            data = payload.loads(text)
        except payload.MalformedPayload:
            return None
    else:
        fields = dict(parse_qsl(text, keep_blank_values=True))
        if "payload" not in fields:
            return fields if fields.get("command") or fields.get("ssl_check") else None
        try:
            data = payload.loads(fields["payload"])
        except payload.MalformedPayload:
            return None
    if not isinstance(data, dict) or not isinstance(data.get("type"), str) or not _bolt_can_read(data):
        return None
    return data if all(_has(data, *path) for path in _REQUIRED.get(data["type"], [])) else None


def well_formed(text: str, content_type: str) -> bool:
    """True when the body has the shape Slack sends (see `slack_body`)."""
    return slack_body(text, content_type) is not None


def slack_guard(signing_secret: str, path: str = EVENTS_PATH) -> Callable[..., Awaitable[web.StreamResponse]]:
    """aiohttp middleware: signature + timestamp (401), well-formed body (400), no stack traces (500)."""
    verifier = SignatureVerifier(signing_secret=signing_secret)

    @web.middleware
    async def guard(request: web.Request, handler: Handler) -> web.StreamResponse:
        if request.path != path or request.method != "POST":
            return await handler(request)
        if (request.content_length or 0) > payload.MAX_BODY_BYTES:
            log.warning("slack request too large", extra={"event": "slack.too_large"})
            return _problem(413, "request_too_large")
        raw = await request.read()
        try:
            body = raw.decode("utf-8")
        except UnicodeDecodeError:
            log.warning("slack request malformed", extra={"event": "slack.malformed"})
            return _problem(400, "malformed_request")
        timestamp = request.headers.get("X-Slack-Request-Timestamp", "")
        signature = request.headers.get("X-Slack-Signature", "")
        if not (timestamp.isdigit() and signature and verifier.is_valid(body, timestamp, signature)):
            log.warning("slack request refused", extra={"event": "slack.bad_signature"})
            return _problem(401, "invalid_signature")
        data = slack_body(body, request.content_type)
        if data is None:
            log.warning("slack request malformed", extra={"event": "slack.malformed"})
            return _problem(400, "malformed_request")
        request[SLACK_BODY] = data
        kind = "command" if "command" in data and "type" not in data else data.get("type")
        if isinstance(kind, str):
            request[health.KIND] = kind
        try:
            return await handler(request)
        except web.HTTPException:
            raise
        except Exception:
            log.exception("slack request failed", extra={"event": "slack.request_failed"})
            return _problem(500, "internal_error")

    return guard


def bolt_endpoint(app: AsyncApp) -> Handler:
    """`POST /slack/events` into Bolt, as its aiohttp adapter does, but with the body the guard parsed already
    (`SLACK_BODY`): a form submission's payload is URL-decoded and read as JSON once, not once per reader.
    Bolt still checks the signature over the raw body itself (`raw_body`)."""

    async def events(request: web.Request) -> web.Response:
        text = await request.text()
        data = request.get(SLACK_BODY)
        headers: dict[str, str | Sequence[str]] = dict(request.headers)
        if data is None:
            bolt_request = AsyncBoltRequest(body=text, query=request.query_string, headers=headers)
        else:  # Bolt takes a parsed body only as a Socket Mode request: then it is made an HTTP one again
            bolt_request = AsyncBoltRequest(body=data, query=request.query_string, headers=headers,
                                            mode="socket_mode")
            bolt_request.mode, bolt_request.raw_body = "http", text  # so Bolt checks the signature as well
        return await to_aiohttp_response(await app.async_dispatch(bolt_request))

    return events


def build_web_app(app: AsyncApp, core: Core, signing_secret: str, path: str = EVENTS_PATH) -> web.Application:
    """The HTTP application: Bolt's `/slack/events` behind the guard, plus `GET /healthz`."""
    web_app = web.Application()
    web_app.router.add_post(path, bolt_endpoint(app))
    web_app.middlewares.insert(0, deadline_middleware)  # outermost: the body is read under its deadline
    web_app.middlewares.append(slack_guard(signing_secret, path))
    add_health(web_app, core)
    return web_app


def add_health(web_app: web.Application, core: Core) -> None:
    """`GET /healthz`: the database answers and its schema version."""

    async def healthz(request: web.Request) -> web.Response:
        try:
            version = await core.db.schema_version()
            db_ok = True
        except Exception:
            log.exception("health check: database failed", extra={"event": "health.db_failed"})
            version, db_ok = None, False
        body = {"status": "ok" if db_ok else "degraded", "db": db_ok, "schema_version": version}
        return web.json_response(body, status=200 if db_ok else 503)

    web_app.router.add_get("/healthz", healthz)


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
    session = (aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=SLACK_API_TIMEOUT))
               if slack_on and settings.slack_bot_token else None)
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
            app = build_app(core, client, register=register, signing_secret=secret, context=ctx)
            web_app = build_web_app(app, core, secret)
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
        background = await Background.start(core, on_tick=readiness.ticked)
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

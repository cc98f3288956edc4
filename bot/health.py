"""`/healthz` (liveness: cheap), `/readyz` (readiness, JSON) and `/metrics` (Prometheus) of a running bot.

`/readyz` answers 503 until the store is open and the scheduler's sweep has run once, then 200 with: the
version, the store (schema version), the sweep's last tick age, the outbox backlog and the age of its oldest
waiting message, messages failed for good in the last 24 hours, and each channel's credential status as
checked at start-up (`bot.setup_live`). With GFI_METRICS_PORT, `/readyz` and `/metrics` are served on that
port only (for a scraper inside the firewall), otherwise beside the chat channels.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from bot import metrics
from bot.config import Settings
from bot.core import Core
from bot.store.health import outbox_health

log = logging.getLogger(__name__)


def version() -> str:
    from importlib import metadata

    try:
        return metadata.version("gfi-bot")
    except metadata.PackageNotFoundError:
        return "unknown"


@dataclass
class Readiness:
    """What `/readyz` reports; `serve()` fills it in as the bot starts."""

    core: Core
    last_tick: float | None = None  # time.monotonic() of the sweep's last successful run
    channels: dict[str, str] = field(default_factory=dict)  # channel -> ok | failed: reason | checking
    _checks: list[asyncio.Task[None]] = field(default_factory=list)

    def ticked(self) -> None:
        self.last_tick = time.monotonic()
        metrics.LAST_TICK.set_to_current_time()

    def check_channels(self, settings: Settings) -> None:
        """Try each configured channel's credential once, in the background (start-up is not held up)."""
        from bot import setup_live

        checks: dict[str, Any] = {}
        if settings.slack_configured:
            checks["slack"] = setup_live.check_slack
        if settings.graph_configured:
            checks["graph"] = setup_live.check_graph
        if settings.teams_configured and not settings.teams_anonymous:
            checks["teams"] = setup_live.check_teams
        for name, check in checks.items():
            self.channels[name] = "checking"
            self._checks.append(asyncio.create_task(self._check(name, check, settings)))

    async def _check(self, name: str, check: Any, settings: Settings) -> None:
        result = await check(settings)
        self.channels[name] = "ok" if result.ok else f"failed: {result.detail}"
        if not result.ok:
            log.warning("channel credential check failed", extra={"event": "health.channel_failed",
                                                                  "channel": name, "reason": result.detail})

    async def close(self) -> None:
        for task in self._checks:
            task.cancel()
        for task in self._checks:
            with contextlib.suppress(BaseException):
                await task

    async def report(self) -> tuple[int, dict[str, Any]]:
        body: dict[str, Any] = {"version": version(), "channels": dict(self.channels)}
        try:
            body["store"] = {"ok": True, "schema_version": await self.core.db.schema_version()}
            outbox = await outbox_health(self.core.db, self.core.clock.now())
        except Exception:
            log.exception("readiness: store failed", extra={"event": "health.db_failed"})
            body["store"] = {"ok": False}
            return 503, {**body, "ready": False}
        now = self.core.clock.now()
        body["outbox"] = {
            "pending": outbox.pending,
            "oldest_pending_seconds": round((now - outbox.oldest_pending).total_seconds()) if outbox.oldest_pending
            else None,
            "failed_24h": outbox.failed_24h,
        }
        age = None if self.last_tick is None else round(time.monotonic() - self.last_tick, 1)
        body["scheduler"] = {"ticked": self.last_tick is not None, "last_tick_seconds_ago": age}
        ready = self.last_tick is not None
        return (200 if ready else 503), {**body, "ready": ready}

    async def refresh_gauges(self) -> None:
        outbox = await outbox_health(self.core.db, self.core.clock.now())
        metrics.OUTBOX_PENDING.set(outbox.pending)
        oldest = outbox.oldest_pending
        metrics.OUTBOX_OLDEST.set((self.core.clock.now() - oldest).total_seconds() if oldest else 0)


def add_readiness(web_app: web.Application, readiness: Readiness) -> None:
    """`GET /readyz` and `GET /metrics` on `web_app`."""

    async def readyz(request: web.Request) -> web.Response:
        status, body = await readiness.report()
        return web.json_response(body, status=status)

    async def scrape(request: web.Request) -> web.Response:
        with contextlib.suppress(Exception):  # the counters are still worth having without the store's gauges
            await readiness.refresh_gauges()
        response = web.Response(body=generate_latest(metrics.REGISTRY))
        response.content_type = CONTENT_TYPE_LATEST.split(";")[0]
        response.charset = "utf-8"
        return response

    web_app.router.add_get("/readyz", readyz)
    web_app.router.add_get("/metrics", scrape)


def _channel_of(path: str) -> str:
    if path.startswith("/slack/"):
        return "slack"
    if path.startswith("/api/messages"):
        return "teams"
    if path.startswith("/a/"):
        return "links"
    if path in ("/healthz", "/readyz", "/metrics"):
        return "health"
    return "other"


# The kind of request (a Slack payload's type, `command`), left by a channel's front door that parsed the body
# already (bot/channels/slack/server.py), so that counting the request does not parse it again.
KIND = web.RequestKey("gfi.kind", str)


async def _kind_of(request: web.Request, channel: str) -> str:
    """The kind of an answered request, from a fixed list: Slack's payload type (or `command`), a Teams
    activity's type, a link page or its action. Only called once the handler has read the body; a channel's
    front door that parsed it already left the kind in `request[KIND]`."""
    known = request.get(KIND)
    if isinstance(known, str):
        return metrics.label(known, metrics.KINDS)
    if channel == "health":
        return request.path.strip("/")
    if channel == "links":
        return "action" if request.method == "POST" else "page"
    if channel not in ("slack", "teams") or request.method != "POST":
        return "other"
    try:
        text = (await request.read()).decode("utf-8")
        if channel == "slack" and not text.lstrip().startswith("{"):
            fields = dict(parse_qsl(text))
            if "command" in fields:
                return "command"
            text = fields.get("payload", "{}")
        kind = json.loads(text).get("type")
    except (ValueError, AttributeError):
        return "other"
    return metrics.label(kind if isinstance(kind, str) else None, metrics.KINDS)


@web.middleware
async def measure(request: web.Request,
                  handler: Callable[[web.Request], Awaitable[web.StreamResponse]]) -> web.StreamResponse:
    """Count each request by channel, kind and outcome, and time the answer (a Slack ack is the answer)."""
    began = time.perf_counter()
    status = 500
    try:
        response = await handler(request)
        status = response.status
        return response
    except web.HTTPException as exc:
        status = exc.status
        raise
    finally:
        channel = _channel_of(request.path)
        kind = await _kind_of(request, channel) if status < 400 else "other"
        metrics.REQUESTS.labels(channel, metrics.label(kind, metrics.KINDS), metrics.outcome(status)).inc()
        if channel in ("slack", "teams", "links"):
            metrics.ACK_SECONDS.labels(channel).observe(time.perf_counter() - began)

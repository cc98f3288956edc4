"""Builds the Teams channel on the Microsoft 365 Agents SDK: adapter, agent application, gate, sender.

`build_teams(core, settings)` returns a `TeamsChannel` whose `handle` serves `POST /api/messages` on the bot's
aiohttp server (`mount`). Tests pass their own `connections` (token provider) so that nothing asks Entra.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Coroutine, Sequence
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web
from microsoft_agents.activity import Activity
from microsoft_agents.authentication.msal import MsalConnectionManager
from microsoft_agents.hosting.aiohttp import CloudAdapter, start_agent_process
from microsoft_agents.hosting.core import (
    AgentApplication,
    ApplicationOptions,
    MemoryStorage,
    TurnContext,
    TurnState,
)
from microsoft_agents.hosting.core.authorization import ClaimsIdentity, Connections
from pydantic import ValidationError

from bot.channels import payload
from bot.channels.kept import KeptTexts
from bot.channels.teams.auth import TokenGate, Unauthorized, auth_configuration
from bot.channels.teams.files import FileLinks
from bot.channels.teams.identity import TeamsIdentity
from bot.channels.teams.sender import ChatInstaller, TeamsSender
from bot.channels.teams.tokens import TokenValidator, TrustedIssuer, default_issuers
from bot.config import Settings
from bot.core import Core
from bot.dispatcher import Sender
from bot.errors import StoreFull
from bot.rendering import Renderer
from bot.store.teams import TeamsStore

log = logging.getLogger(__name__)

MESSAGES_PATH = "/api/messages"
DEFAULT_SERVICE_URL = "https://smba.trafficmanager.net/teams/"


@dataclass
class TeamsContext:
    """What the Teams handlers share: the core, the Teams tables, identities, background work."""

    core: Core
    store: TeamsStore
    identity: TeamsIdentity
    files: FileLinks | None = None  # signed links to the files a coordinator asks for (GFI_PUBLIC_URL)
    kept: KeptTexts = field(default_factory=KeptTexts)  # the request card, once per person, directory version, day
    _tasks: set[asyncio.Task[Any]] = field(default_factory=set)

    def spawn(self, coro: Coroutine[Any, Any, Any], name: str) -> None:
        task = asyncio.get_running_loop().create_task(coro, name=name)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def after_change(self) -> None:
        """After a committed change: deliver its notifications now (the background sweep would, later)."""
        self.spawn(self._dispatch(), "gfi-teams-after-change")

    async def _dispatch(self) -> None:
        try:
            await self.core.dispatcher.run_once()
        except Exception:
            log.exception("dispatch after change failed", extra={"event": "teams.dispatch_failed"})

    async def drain(self) -> None:
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)


@dataclass
class TeamsChannel:
    ctx: TeamsContext
    adapter: CloudAdapter
    agent: AgentApplication[TurnState]
    gate: TokenGate
    sender: TeamsSender
    app_id: str

    def proactive_identity(self) -> ClaimsIdentity:
        """Who the bot is when it writes first: anonymous (no token asked) only in anonymous mode."""
        if self.gate.anonymous and not self.app_id:
            return ClaimsIdentity()
        return self.adapter.create_claims_identity(self.app_id)

    async def handle(self, request: web.Request) -> web.StreamResponse:
        """`POST /api/messages`: the gate (401), then the SDK; never a stack trace."""
        try:
            identity = await self.gate.identity(request.headers.get("Authorization"))
            if (request.content_length or 0) > payload.MAX_BODY_BYTES:
                log.warning("teams request too large", extra={"event": "teams.too_large"})
                return web.json_response({"error": "request_too_large"}, status=413)
            body = payload.loads(await request.read())  # size and depth bounded before parsing
            self.gate.check_activity(identity, body)
        except Unauthorized as exc:
            log.warning("teams request refused", extra={"event": "teams.unauthorized", "reason": exc.reason})
            return web.json_response({"error": "unauthorized"}, status=401)
        except payload.MalformedPayload as exc:
            log.warning("teams request malformed", extra={"event": "teams.malformed", "reason": exc.reason})
            return web.json_response({"error": "malformed_activity"}, status=400)
        try:  # the SDK reads the body into its Activity model first; what does not fit is the sender's error
            Activity.model_validate(body)
        except ValidationError:
            log.warning("teams request malformed", extra={"event": "teams.malformed"})
            return web.json_response({"error": "malformed_activity"}, status=400)
        request["claims_identity"] = identity  # the key the SDK reads (AiohttpRequestAdapter)
        try:
            response = await start_agent_process(request, self.agent, self.adapter)
        except Exception:
            log.exception("teams request failed", extra={"event": "teams.request_failed"})
            return web.json_response({"error": "internal_error"}, status=500)
        return response if response is not None else web.Response(status=202)

    def attach(self, web_app: web.Application) -> None:
        """Serve Teams on `web_app` and deliver to Teams people: "m365" means Teams, falling back to e-mail."""
        self.ctx.core.dispatcher.senders.update(teams=self.sender, m365=self.sender)
        self.mount(web_app)

    def mount(self, web_app: web.Application) -> None:
        web_app.router.add_post(MESSAGES_PATH, self.handle)
        if self.ctx.files is not None:
            self.ctx.files.add_routes(web_app)


def connection_manager(settings: Settings) -> Connections:
    """MSAL connections for the bot's Entra app (the SDK requires the key SERVICE_CONNECTION)."""
    return MsalConnectionManager(connections_configurations={"SERVICE_CONNECTION": auth_configuration(settings)})


def turn_error(renderer: Renderer) -> Callable[[TurnContext, Exception], Awaitable[None]]:
    """What a turn that raised does: the SDK's default sends the exception text to the user, so log it instead
    (no payload). A full store is told to the person in Swedish (nothing was saved), not left in silence; the
    store has logged it once (`store.full`)."""

    async def on_error(context: TurnContext, error: Exception) -> None:
        if not isinstance(error, StoreFull):
            log.error("teams turn failed", exc_info=error, extra={"event": "teams.turn_failed"})
            return
        log.info("teams turn refused: store full", extra={"event": "teams.store_full"})
        try:
            await context.send_activity(renderer.render("store_full", ref=None))
        except Exception:
            log.warning("teams reply failed", extra={"event": "teams.reply_failed"})

    return on_error


Register = Callable[[AgentApplication[TurnState], TeamsContext], None]


def build_teams(
    core: Core,
    settings: Settings,
    *,
    register: Register,
    connections: Connections | None = None,
    installer: ChatInstaller | None = None,
    fallback: Sender | None = None,
    service_url: str | None = None,
    token_issuers: Sequence[TrustedIssuer] | None = None,
) -> TeamsChannel:
    """The Teams channel for `core`, its routes registered by `register` (handlers.teams.register): register
    `channel.sender` under "teams" and "m365", mount `channel.handle`. `token_issuers` (tests) replaces the
    issuers whose tokens are accepted and where their keys are published (`tokens.default_issuers`)."""
    connections = connections or connection_manager(settings)
    adapter = CloudAdapter(connection_manager=connections)
    adapter.on_turn_error = turn_error(core.renderer)
    storage = MemoryStorage()
    agent: AgentApplication[TurnState] = AgentApplication[TurnState](
        ApplicationOptions(storage=storage, bot_app_id=settings.teams_app_id or "",
                           start_typing_timer=False, remove_recipient_mention=True),
        connection_manager=connections,
    )
    store = TeamsStore(core.db, core.clock)
    files = (FileLinks(core, settings.link_secret.get_secret_value(), settings.public_url)
             if settings.public_url and settings.link_secret is not None else None)
    ctx = TeamsContext(core, store, TeamsIdentity(store, core.directory), files)
    issuers = token_issuers if token_issuers is not None else default_issuers(settings.teams_tenant_id)
    gate = TokenGate(TokenValidator(settings.teams_app_id, issuers), settings.teams_tenant_id,
                     anonymous=settings.teams_anonymous)
    channel_ref: dict[str, TeamsChannel] = {}

    async def proactive(identity: ClaimsIdentity, continuation: Activity, callback: Any) -> Any:
        return await adapter.continue_conversation_with_claims(identity, continuation, callback)

    sender = TeamsSender(
        store, core.directory, core.renderer, proactive, lambda: channel_ref["c"].proactive_identity(),
        service_url=service_url or DEFAULT_SERVICE_URL, tenant_id=settings.teams_tenant_id,
        installer=installer, fallback=fallback,
    )
    channel = TeamsChannel(ctx, adapter, agent, gate, sender, settings.teams_app_id or "")
    channel_ref["c"] = channel
    register(agent, ctx)
    return channel

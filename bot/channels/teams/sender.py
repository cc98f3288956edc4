"""Delivers outbox messages as proactive Teams messages in the person's 1:1 chat with the bot (a dispatcher Sender).

The chat comes from the stored conversation reference (saved when the person first wrote to the bot or installed
it). A person who never opened the bot gets the app installed through Graph (`installer`) and the message goes to
that chat; when installing is not permitted (403) the person counts as unreachable, other installation failures
are retried or fail with their reason ("teams:install:http_404"). When Teams cannot reach the person at all (no
reference and no installation, blocked, uninstalled), the message goes to the `fallback` sender (the Graph e-mail
sender, registered under "email") when there is one; otherwise it fails permanently with the reason, which the
dispatcher shows to the coordinators.

Errors: the connector's 429 becomes `retry_after` (its `Retry-After`), 5xx and network errors are retried,
401/403/404 are permanent.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any, Protocol

import aiohttp
from microsoft_agents.activity import (
    Activity,
    ActivityTypes,
    ChannelAccount,
    ChannelId,
    ConversationAccount,
    ConversationReference,
)
from microsoft_agents.hosting.core import TurnContext
from microsoft_agents.hosting.core.authorization import ClaimsIdentity

from bot.channels.teams import cards, refresh
from bot.directory import Directory
from bot.dispatcher import DeliveryError, Sender
from bot.messages.model import Message
from bot.outbox import OutboxMessage
from bot.rendering import Renderer
from bot.store.teams import ConversationRef, TeamsStore

log = logging.getLogger(__name__)

# Reasons meaning "Teams cannot reach this person": the e-mail fallback takes over when there is one.
UNREACHABLE = frozenset({"teams:not_installed", "teams:install_refused", "teams:forbidden", "teams:not_found",
                         "teams:no_person"})


class InstallError(Exception):
    """Graph would not install the app (`permanent`: not permitted, unknown user) or could not be asked.
    `refused`: installing is not permitted (Graph's 403), so the person is unreachable on Teams."""

    def __init__(self, reason: str, *, permanent: bool, refused: bool = False,
                 retry_after: float | None = None) -> None:
        self.reason = reason
        self.permanent = permanent
        self.refused = refused
        self.retry_after = retry_after
        super().__init__(reason)


class ChatInstaller(Protocol):
    """Installs the Teams app for a user (Graph) and returns the id of the user's chat with the bot."""

    async def install(self, user: str) -> str: ...


Proactive = Callable[[ClaimsIdentity, Activity, Callable[[TurnContext], Awaitable[None]]], Awaitable[Any]]


def connector_error(exc: aiohttp.ClientResponseError) -> DeliveryError:
    """Map a Bot Connector HTTP error to a DeliveryError."""
    if exc.status == 429:
        raw = exc.headers.get("Retry-After", "1") if exc.headers else "1"
        try:
            retry_after = float(raw)
        except (TypeError, ValueError):
            retry_after = 1.0
        return DeliveryError("teams:ratelimited", retry_after=retry_after)
    if exc.status >= 500:
        return DeliveryError(f"teams:http_{exc.status}")
    if exc.status in (401, 403):
        return DeliveryError("teams:forbidden", permanent=True)
    if exc.status == 404:
        return DeliveryError("teams:not_found", permanent=True)
    return DeliveryError(f"teams:http_{exc.status}", permanent=exc.status < 500)


class TeamsSender:
    """Sends one outbox row as an Adaptive Card to the recipient's personal chat."""

    min_interval = 0.0  # Teams allows bursts per chat; a 429 holds the recipient (dispatcher `retry_after`)

    def __init__(
        self,
        store: TeamsStore,
        directory: Directory,
        renderer: Renderer,
        proactive: Proactive,
        identity: Callable[[], ClaimsIdentity],
        *,
        service_url: str,
        tenant_id: str | None,
        installer: ChatInstaller | None = None,
        fallback: Sender | None = None,
    ) -> None:
        self.store = store
        self.directory = directory
        self.renderer = renderer
        self.proactive = proactive
        self.identity = identity
        self.service_url = service_url
        self.tenant_id = tenant_id
        self.installer = installer
        self.fallback = fallback

    async def send(self, message: OutboxMessage) -> str | None:
        if message.kind == "retract":
            return await self.retract(message)
        try:
            return await self._send_teams(message)
        except DeliveryError as exc:
            if exc.permanent and exc.reason in UNREACHABLE and self.fallback is not None:
                log.info("teams unreachable: e-mail instead", extra={
                    "event": "teams.fallback", "outbox_id": message.id, "case_ref": message.case_ref,
                    "reason": exc.reason})
                external = await self.fallback.send(message)
                return f"email:{external}" if external else "email:"
            raise

    async def _send_teams(self, message: OutboxMessage) -> str | None:
        ref = await self.reference(message.recipient_id)
        content = self.card_for(message, ref.user_id)
        activity = Activity(type=ActivityTypes.message, attachments=[cards.attachment(content)],
                            summary=self.summary(message))
        sent_id = await self._deliver(ref, activity, lambda ctx: ctx.send_activity(activity))
        log.info("teams message posted", extra={"event": "teams.posted", "outbox_id": message.id,
                                                "case_ref": message.case_ref, "template": message.template})
        # "conversation|activity" names the delivered message, so that it can be deleted if consent is withdrawn
        return f"{ref.conversation_id}|{sent_id}" if sent_id else None

    def card_for(self, message: OutboxMessage, user_id: str | None = None) -> dict[str, Any]:
        """The card: from the stored channel-neutral message, else (older rows) from the rendered text. A card
        that shows free text is refreshed for its recipient when they look at it (bot/channels/teams/refresh)."""
        neutral = getattr(message, "message", None)
        if isinstance(neutral, Message):
            content = cards.message_card(self.renderer, neutral, f"o{message.id}")
            if message.reads and user_id:
                content = refresh.refreshable(content, message.id, user_id)
            return content
        return cards.text_card(message.text)

    @staticmethod
    def summary(message: OutboxMessage) -> str:
        neutral = getattr(message, "message", None)
        if isinstance(neutral, Message):
            return neutral.title[:200]
        return (message.text.split("\n", 1)[0] if message.text else "")[:200]

    async def reference(self, person_id: str) -> ConversationRef:
        """The stored chat, or one made by installing the app through Graph; DeliveryError when neither."""
        ref = await self.store.reference(person_id)
        if ref is not None:
            return ref
        person = self.directory.person(person_id)
        if person is None:
            raise DeliveryError("teams:no_person", permanent=True)
        if self.installer is None:
            raise DeliveryError("teams:not_installed", permanent=True)
        user = await self.store.aad_for_person(person_id) or person.m365_upn or person.email
        if not user:
            raise DeliveryError("teams:not_installed", permanent=True)
        try:
            chat_id = await self.installer.install(user)
        except InstallError as exc:
            if exc.refused:  # not permitted: e-mail instead, when there is a fallback
                raise DeliveryError("teams:install_refused", permanent=True) from None
            raise DeliveryError(f"teams:install:{exc.reason}", permanent=exc.permanent,
                                retry_after=exc.retry_after) from None
        ref = ConversationRef(person_id=person_id, user_id=user, conversation_id=chat_id,
                              service_url=self.service_url, tenant_id=self.tenant_id, source="graph")
        await self.store.save_reference(ref)
        log.info("teams app installed for person", extra={"event": "teams.installed"})
        return ref

    async def _deliver(self, ref: ConversationRef, activity: Activity,
                       act: Callable[[TurnContext], Awaitable[Any]]) -> str | None:
        """Run `act` in a proactive turn on the stored chat; map connector errors to DeliveryError."""
        continuation = ConversationReference(
            channel_id=ChannelId("msteams"), service_url=ref.service_url,
            conversation=ConversationAccount(id=ref.conversation_id, tenant_id=ref.tenant_id,
                                             conversation_type="personal"),
            user=ChannelAccount(id=ref.user_id), agent=ChannelAccount(id=ref.bot_id or "bot"),
        ).get_continuation_activity()
        continuation.id = None  # a new message in the chat (POST …/activities), not a reply to a made-up id
        outcome: dict[str, Any] = {}

        async def callback(context: TurnContext) -> None:
            try:
                response = await act(context)
                outcome["id"] = getattr(response, "id", None)
            except Exception as exc:  # captured here: the adapter's turn-error handler must not swallow it
                outcome["error"] = exc

        try:
            await self.proactive(self.identity(), continuation, callback)
        except aiohttp.ClientResponseError as exc:
            raise connector_error(exc) from None
        except (TimeoutError, aiohttp.ClientError) as exc:
            raise DeliveryError(f"teams:connection:{type(exc).__name__}") from None
        error = outcome.get("error")
        if isinstance(error, aiohttp.ClientResponseError):
            raise connector_error(error) from None
        if isinstance(error, (TimeoutError, aiohttp.ClientError)):
            raise DeliveryError(f"teams:connection:{type(error).__name__}") from None
        if error is not None:
            raise error
        return outcome.get("id")

    async def retract(self, message: OutboxMessage) -> str | None:
        """Delete a card this bot delivered earlier (`target` is "conversation|activity")."""
        target = message.target or ""
        if target.startswith("email:"):
            if self.fallback is not None:
                return await self.fallback.send(message)
            return None
        conversation_id, _, activity_id = target.partition("|")
        if not conversation_id or not activity_id:
            raise DeliveryError("teams:bad_retract_target", permanent=True)
        ref = await self.store.reference(message.recipient_id)
        if ref is None or ref.conversation_id != conversation_id:
            raise DeliveryError("teams:not_found", permanent=True)
        try:
            await self._deliver(ref, Activity(type=ActivityTypes.message),
                                lambda ctx: ctx.delete_activity(activity_id))
        except DeliveryError as exc:
            if exc.reason == "teams:not_found":  # already gone
                return None
            raise
        log.info("teams message retracted", extra={"event": "teams.retracted", "outbox_id": message.id,
                                                   "case_ref": message.case_ref})
        return None

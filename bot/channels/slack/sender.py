"""Delivers outbox messages as Slack direct messages (implements `bot.dispatcher.Sender`)."""

from __future__ import annotations

import logging
from typing import Any

import aiohttp
from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.web.async_client import AsyncWebClient

from bot.channels.slack import limits, render
from bot.channels.slack.identity import IdentityLookupError, SlackIdentity
from bot.channels.slack.markup import escape
from bot.channels.slack.views import slack_notes
from bot.dispatcher import DeliveryError
from bot.outbox import OutboxMessage

log = logging.getLogger(__name__)

# Slack errors that will not go away by trying again: the message is marked failed (visible to coordinators).
PERMANENT_ERRORS = frozenset({
    "channel_not_found", "user_not_found", "users_not_found", "account_inactive", "user_disabled",
    "is_archived", "not_in_channel", "invalid_auth", "not_authed", "cannot_dm_bot", "missing_scope",
    "invalid_blocks", "invalid_arguments", "msg_too_long", "msg_blocks_too_long", "no_text",
})


def message_payload(text: str, blocks: list[dict[str, Any]] | None) -> dict[str, Any]:
    """`text` and `blocks` as Slack takes them: the text (mrkdwn, also the notification fallback) escaped
    and cut to its limit, the blocks (escaped when rendered) within the message limits."""
    notes = slack_notes()
    payload: dict[str, Any] = {"text": limits.fit_text(escape(text), notes, with_blocks=bool(blocks))}
    if blocks:
        payload["blocks"] = limits.fit_blocks(blocks, notes)
    return payload



def delivery_error(exc: SlackApiError) -> DeliveryError:
    """Map a Slack Web API error to a DeliveryError (429 → retry_after, 5xx → transient, known → permanent)."""
    response: Any = exc.response
    status = int(getattr(response, "status_code", 200) or 200)
    error = str(response.get("error", "unknown")) if hasattr(response, "get") else "unknown"
    if status == 429 or error == "ratelimited":
        headers = getattr(response, "headers", {}) or {}
        try:
            retry_after = float(headers.get("Retry-After", headers.get("retry-after", 1)))
        except (TypeError, ValueError):
            retry_after = 1.0
        return DeliveryError("slack:ratelimited", retry_after=retry_after)
    if status >= 500:
        return DeliveryError(f"slack:http_{status}")
    if error in PERMANENT_ERRORS:
        return DeliveryError(f"slack:{error}", permanent=True)
    return DeliveryError(f"slack:{error}")


class SlackSender:
    """Posts `chat.postMessage` (text + blocks) to the recipient's Slack user id, i.e. a DM from the bot."""

    # Slack allows about one chat.postMessage per second per channel; the dispatcher paces by this.
    min_interval = 1.0

    def __init__(self, client: AsyncWebClient, identity: SlackIdentity | None = None) -> None:
        self.client = client
        self.identity = identity

    def bind(self, identity: SlackIdentity) -> None:
        """Set the identity resolver (it needs the database, which is opened after the sender exists)."""
        self.identity = identity

    async def send(self, message: OutboxMessage) -> str | None:
        if message.kind == "retract":
            return await self.retract(message)
        if self.identity is None:
            raise DeliveryError("slack sender not ready")
        try:
            user_id = await self.identity.slack_id_for(message.recipient_id)
        except IdentityLookupError as exc:
            raise DeliveryError(exc.reason, permanent=exc.permanent, retry_after=exc.retry_after) from None
        except (TimeoutError, aiohttp.ClientError, SlackClientError) as exc:
            raise DeliveryError(f"slack:connection:{type(exc).__name__}") from None
        if user_id is None:
            raise DeliveryError("slack:no_user_for_person", permanent=True)
        rendered = render.payload(message.message) if message.message is not None \
            else message_payload(message.text, message.blocks)
        kwargs: dict[str, Any] = {"channel": user_id, **rendered}
        try:
            response = await self.client.chat_postMessage(**kwargs)
        except SlackApiError as exc:
            raise delivery_error(exc) from None
        except (TimeoutError, aiohttp.ClientError, SlackClientError) as exc:
            raise DeliveryError(f"slack:connection:{type(exc).__name__}") from None
        log.info("slack message posted", extra={"event": "slack.posted", "outbox_id": message.id,
                                                "case_ref": message.case_ref, "template": message.template})
        ts, channel = response.get("ts"), response.get("channel")
        # "channel:ts" names the delivered DM, so that it can be deleted if consent is withdrawn
        return f"{channel}:{ts}" if ts and channel else None

    async def retract(self, message: OutboxMessage) -> str | None:
        """Delete a DM this bot delivered earlier (`message.target` is its "channel:ts")."""
        channel, _, ts = (message.target or "").partition(":")
        if not channel or not ts:
            raise DeliveryError("slack:bad_retract_target", permanent=True)
        try:
            await self.client.chat_delete(channel=channel, ts=ts)
        except SlackApiError as exc:
            error = exc.response.get("error") if hasattr(exc.response, "get") else None
            if error == "message_not_found":  # already gone: nothing left to erase
                return None
            raise delivery_error(exc) from None
        except (TimeoutError, aiohttp.ClientError, SlackClientError) as exc:
            raise DeliveryError(f"slack:connection:{type(exc).__name__}") from None
        log.info("slack message retracted", extra={"event": "slack.retracted", "outbox_id": message.id,
                                                   "case_ref": message.case_ref})
        return None

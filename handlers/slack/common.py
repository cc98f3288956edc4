"""Helpers shared by the listeners: who is asking, answering in the right place, safe failure."""

from __future__ import annotations

import functools
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot import audit
from bot.channels.slack.context import SlackContext
from bot.channels.slack.sender import message_payload
from bot.directory import Role
from bot.errors import Refusal

log = logging.getLogger("handlers")

Listener = Callable[..., Awaitable[None]]


def unknown_user_text(ctx: SlackContext) -> str:
    admins = [p.id for p in ctx.core.directory.people.values() if Role.ADMIN in p.roles]
    return ctx.core.renderer.render("slack_unknown_user", admins=admins)


async def reply(
    ctx: SlackContext,
    client: AsyncWebClient,
    *,
    user_id: str,
    text: str,
    channel_id: str | None = None,
    trigger_id: str | None = None,
    blocks: list[dict[str, Any]] | None = None,
) -> None:
    """Answer only the clicker: ephemeral in the channel of the click, else a small modal (App Home)."""
    try:
        if channel_id:
            kwargs: dict[str, Any] = {"channel": channel_id, "user": user_id, **message_payload(text, blocks)}
            await client.chat_postEphemeral(**kwargs)
        elif trigger_id:
            await client.views_open(trigger_id=trigger_id, view=ctx.core.renderer.view("slack_info", text=text))
    except SlackApiError as exc:
        reason = str(exc.response.get("error"))
        log.warning("slack reply failed", extra={"event": "slack.reply_failed", "reason": reason})


async def open_form(
    ctx: SlackContext,
    client: AsyncWebClient,
    *,
    trigger_id: str,
    view: dict[str, Any],
    user_id: str,
    channel_id: str | None = None,
    ref: str | None = None,
) -> bool:
    """Open a modal; if Slack refuses it, tell the user instead of failing silently (and log the reason)."""
    try:
        await client.views_open(trigger_id=trigger_id, view=view)
        return True
    except SlackApiError as exc:
        reason = str(exc.response.get("error"))
        log.warning("views.open failed", extra={"event": "slack.views_open_failed", "case_ref": ref, "reason": reason})
    text = ctx.core.renderer.render("slack_form_failed", ref=ref)
    await reply(ctx, client, user_id=user_id, text=text, channel_id=channel_id, trigger_id=trigger_id)
    return False


async def audit_refusal(ctx: SlackContext, person_id: str, action: str, ref: str | None, refusal: Refusal) -> None:
    """Refusals found before the service is reached (e.g. opening a form) are audited like the service's."""
    async with ctx.core.db.transaction() as tx:
        await audit.record(
            tx, at=ctx.core.clock.now(), actor_id=person_id, action=action, result="refused",
            case_ref=ref, reason=refusal.code,
        )


def guarded(name: str) -> Callable[[Listener], Listener]:
    """Never let an unexpected error become a 500 with a stack trace: log it (no payload) and ack."""

    def wrap(fn: Listener) -> Listener:
        @functools.wraps(fn)
        async def inner(ack: Any, **kwargs: Any) -> None:
            try:
                await fn(ack=ack, **kwargs)
            except Exception:
                log.exception("listener failed", extra={"event": "slack.listener_failed", "listener": name})
                if getattr(ack, "response", None) is None:
                    await ack()
        return inner

    return wrap

"""Recording the samverkansnivå's decision in Slack (issue #18 item 4, thin): the button on the matter's message
to the samverkansgrupp's contacts opens a modal; its submission records the decision through the same service
and rule as the console's /samverkansbeslut (`bot/disputes/samverkan.py`): a forged matter number is refused
there, audited, and changes nothing."""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

from bot.channels.slack.context import SlackContext, state_hash
from bot.channels.slack.views import render_view
from bot.errors import FieldError, Refusal
from bot.forms import parse_one_text
from bot.messages import actions
from handlers.slack import forms
from handlers.slack.common import bind, open_form, reply, unknown_user_text

log = logging.getLogger("handlers.slack.samverkan")

OPEN = actions.ACTIONS[actions.SAMVERKAN_DECIDE].slack_action_id or ""  # the button
VIEW = "samverkan_decide"  # the modal's callback id
FIELD = "beslut"


def _matter(value: object) -> int:
    """The matter number a button or a modal names; the not-found refusal for anything else."""
    raw = str(value or "")
    if not raw.isdigit() or len(raw) > 18:
        raise Refusal("samverkan_matter_not_found", matter=raw[:20])
    return int(raw)


async def open_decide(ctx: SlackContext, ack: Any, body: dict[str, Any], action: dict[str, Any],
                      client: AsyncWebClient) -> None:
    """*Registrera beslut*: the modal, after the same rule as recording the decision."""
    await ack()
    user_id = str((body.get("user") or {}).get("id") or "")
    where = {"trigger_id": body.get("trigger_id"), "channel_id": (body.get("channel") or {}).get("id")}
    person_id = await ctx.identity.person_for(user_id)
    if person_id is None:
        await reply(ctx, client, user_id=user_id, text=unknown_user_text(ctx), **where)
        return
    try:
        matter, group = await ctx.core.disputes.samverkan.decidable(person_id, _matter(action.get("value")))
    except Refusal as exc:
        await reply(ctx, client, user_id=user_id, text=ctx.core.renderer.refusal(exc), **where)
        return
    view = render_view(ctx.core.renderer, "slack_samverkan_decide", matter=matter, group=group)
    await open_form(ctx, client, trigger_id=str(body.get("trigger_id")), view=view, user_id=user_id,
                    channel_id=where["channel_id"], ref=matter.case_ref)


async def submit_decide(ctx: SlackContext, ack: Any, body: dict[str, Any], view: dict[str, Any]) -> None:
    """Record the decision once per submission; errors come back on the field."""
    # no network before the ack: the directory or an earlier match only
    person_id = await ctx.identity.cached_person_for(str((body.get("user") or {}).get("id") or ""))
    if person_id is None:
        await ack(response_action="errors", errors={FIELD: unknown_user_text(ctx)})
        return
    text, parse_errors = parse_one_text(forms.view_values(view), FIELD)
    key = f"view:{view.get('id')}:{state_hash(view.get('state'))}"
    if not await ctx.claim(key, "view"):
        await ack()  # a double submission of the same form: recorded once
        return
    try:
        if parse_errors:
            raise FieldError(parse_errors)
        matter = await ctx.core.disputes.samverkan.decide(person_id, _matter(view.get("private_metadata")), text)
    except FieldError as exc:
        await ctx.release(key)
        await ack(response_action="errors", errors=forms.errors_for_view(
            ctx.core.renderer.field_errors(exc), {FIELD}, FIELD))
        return
    except Refusal as exc:
        await ctx.release(key)
        await ack(response_action="errors", errors={FIELD: ctx.core.renderer.refusal(exc)})
        return
    log.info("samverkan decision via slack", extra={"event": "slack.samverkan_decide", "case_ref": matter.case_ref})
    text = ctx.core.renderer.macro("samverkan", "decided", matter=matter)
    await ack(response_action="update", view=render_view(ctx.core.renderer, "slack_info", text=text))
    ctx.after_change()


def register(app: AsyncApp, ctx: SlackContext) -> None:
    """Wire the button and the modal."""
    app.action(OPEN)(bind(ctx, open_decide, "action", f"action.{OPEN}"))
    app.view(VIEW)(bind(ctx, submit_decide, "view", f"view.{VIEW}"))

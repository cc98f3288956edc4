"""Recording the samverkansnivå's decision in Slack (issue #18 item 4, thin): the button on the matter's message
to the samverkansgrupp's contacts opens a modal; its submission records the decision through the same service
and rule as the console's /samverkansbeslut (`bot/disputes/samverkan.py`): a forged matter number is refused
there, audited, and changes nothing."""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

from bot.channels.slack.context import SlackContext
from bot.channels.slack.views import render_view
from bot.errors import Refusal
from bot.forms import parse_one_text
from bot.messages import actions
from bot.numerals import is_number
from handlers.slack import forms
from handlers.slack.common import bind
from handlers.slack.modals import Clicker, Modal, open_after_rule, show_done, submit_once, submitter

log = logging.getLogger("handlers.slack.samverkan")

OPEN = actions.ACTIONS[actions.SAMVERKAN_DECIDE].slack_action_id or ""  # the button
VIEW = "samverkan_decide"  # the modal's callback id
FIELD = "beslut"


def _matter(value: object) -> int:
    """The matter number a button or a modal names; the not-found refusal for anything else."""
    raw = str(value or "")
    if not is_number(raw):
        raise Refusal("samverkan_matter_not_found", matter=raw[:20])
    return int(raw)


async def open_decide(ctx: SlackContext, ack: Any, body: dict[str, Any], action: dict[str, Any],
                      client: AsyncWebClient) -> None:
    """*Registrera beslut*: the modal, after the same rule as recording the decision."""
    async def build(who: Clicker) -> Modal:
        matter, group = await ctx.core.disputes.samverkan.decidable(who.person_id, _matter(action.get("value")))
        return render_view(ctx.core.renderer, "slack_samverkan_decide", matter=matter, group=group), matter.case_ref

    await open_after_rule(ctx, ack, body, client, build)


async def submit_decide(ctx: SlackContext, ack: Any, body: dict[str, Any], view: dict[str, Any]) -> None:
    """Record the decision once per submission; errors come back on the field."""
    person_id = await submitter(ctx, ack, body, FIELD)
    if person_id is None:
        return
    text, parse_errors = parse_one_text(forms.view_values(view), FIELD)
    matter = await submit_once(
        ctx, ack, view, lambda: ctx.core.disputes.samverkan.decide(person_id, _matter(view.get("private_metadata")),
                                                                    text),
        field=FIELD, blocks={FIELD}, parse_errors=parse_errors)
    if matter is None:
        return
    log.info("samverkan decision via slack", extra={"event": "slack.samverkan_decide", "case_ref": matter.case_ref})
    await show_done(ctx, ack, ctx.core.renderer.macro("samverkan", "decided", matter=matter))
    ctx.after_change()


def register(app: AsyncApp, ctx: SlackContext) -> None:
    """Wire the button and the modal."""
    app.action(OPEN)(bind(ctx, open_decide, "action", f"action.{OPEN}"))
    app.view(VIEW)(bind(ctx, submit_decide, "view", f"view.{VIEW}"))

"""Escalation buttons (*ta över*, *påminn*, *omfördela*): ack, parse the item id, call the ladder, answer."""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

from bot.cases.models import CaseState
from bot.cases.rules import Action, authorize
from bot.channels.slack.context import SlackContext
from bot.errors import Refusal
from handlers.slack import clicks
from handlers.slack.actions import case_form, opened
from handlers.slack.common import audit_refusal, bind, open_form, refusal_text, reply, unknown_user_text

log = logging.getLogger("handlers.slack.ladder")


async def start(ctx: SlackContext, body: dict[str, Any], client: AsyncWebClient
                ) -> tuple[clicks.Click, int, str] | None:
    """Parse the click, drop retries, find the person; None when there is nothing more to do."""
    click, item_id = clicks.parse_ladder_click(body)
    if not await ctx.claim(click.key, "action"):
        return None
    person_id = await ctx.identity.person_for(click.user_id)
    if person_id is None:
        await reply(ctx, client, user_id=click.user_id, text=unknown_user_text(ctx),
                    channel_id=click.channel_id, trigger_id=click.trigger_id)
        return None
    return click, item_id, person_id


async def answer(ctx: SlackContext, click: clicks.Click, client: AsyncWebClient, text: str) -> None:
    await reply(ctx, client, user_id=click.user_id, text=text, channel_id=click.channel_id,
                trigger_id=click.trigger_id)


async def open_assign(ctx: SlackContext, click: clicks.Click, client: AsyncWebClient, person_id: str, ref: str) -> None:
    """Open the assign form: in reassign mode (omfördela) unless nobody has been given the case yet."""
    core = ctx.core
    case = await core.cases.get(ref)
    reassign = case.state is not CaseState.REQUESTED
    try:
        authorize(Action.ASSIGN, case, person_id, core.directory)
    except Refusal as exc:
        await audit_refusal(ctx, person_id, Action.ASSIGN.value, ref, exc)
        await answer(ctx, click, client, await refusal_text(ctx, person_id, exc))
        return
    view, shown = await case_form(ctx, "slack_assign", case, person_id, reassign=reassign)
    if await open_form(ctx, client, trigger_id=click.trigger_id, view=view, user_id=click.user_id,
                       channel_id=click.channel_id, ref=ref):
        await opened(ctx, person_id, "slack_assign", shown)


async def take_over(ctx: SlackContext, ack: Any, body: dict[str, Any], client: AsyncWebClient) -> None:
    """*ta över*: the clicker takes over what is waiting (for an assignment: the assign form opens)."""
    await ack()
    core = ctx.core
    started = await start(ctx, body, client)
    if started is None:
        return
    click, item_id, person_id = started
    try:
        result = await ctx.core.ladder.take_over(person_id, item_id)
    except Refusal as exc:
        text = await refusal_text(ctx, person_id, exc)
        if exc.code == "assignee_wrong_unit":
            text = core.renderer.render("slack_ladder", what="use_reassign", refusal=text)
        await answer(ctx, click, client, text)
        return
    log.info("escalation taken over", extra={"event": "slack.ladder_take_over", "case_ref": result.case_ref,
                                             "item_id": item_id, "result": result.action})
    if result.action == "assign" and click.trigger_id:
        await open_assign(ctx, click, client, person_id, result.case_ref)
        return
    ctx.after_change()
    await answer(ctx, click, client, core.renderer.render("slack_ladder", what=result.action, ref=result.case_ref))


async def nudge(ctx: SlackContext, ack: Any, body: dict[str, Any], client: AsyncWebClient) -> None:
    """*påminn*: remind those who should answer."""
    await ack()
    core = ctx.core
    started = await start(ctx, body, client)
    if started is None:
        return
    click, item_id, person_id = started
    try:
        people = await ctx.core.ladder.nudge(person_id, item_id)
    except Refusal as exc:
        await answer(ctx, click, client, await refusal_text(ctx, person_id, exc))
        return
    ctx.after_change()
    await answer(ctx, click, client, core.renderer.render("slack_ladder", what="nudged", people=people))


async def reassign(ctx: SlackContext, ack: Any, body: dict[str, Any], client: AsyncWebClient) -> None:
    """*omfördela*: open the assign form in reassign mode."""
    await ack()
    started = await start(ctx, body, client)
    if started is None:
        return
    click, item_id, person_id = started
    try:
        item = await ctx.core.ladder.answerable(person_id, item_id)
    except Refusal as exc:
        await answer(ctx, click, client, await refusal_text(ctx, person_id, exc))
        return
    if not click.trigger_id:
        return
    await open_assign(ctx, click, client, person_id, item.case_ref)


async def samverkan(ctx: SlackContext, ack: Any, body: dict[str, Any], client: AsyncWebClient) -> None:
    """*Ta upp på samverkansnivå*: a coordinator opens the brist draft for the question (assigns nobody)."""
    await ack()
    core = ctx.core
    started = await start(ctx, body, client)
    if started is None:
        return
    click, item_id, person_id = started
    try:
        taken = await core.disputes.take_to_samverkan(person_id, item_id)
    except Refusal as exc:
        await answer(ctx, click, client, await refusal_text(ctx, person_id, exc))
        return
    log.info("question taken to samverkan", extra={"event": "slack.ladder_samverkan", "case_ref": taken.case_ref,
                                                  "item_id": item_id})
    ctx.after_change()
    await answer(ctx, click, client, core.renderer.render(
        "slack_ladder", what="samverkan", ref=taken.case_ref, draft=taken.draft_id,
        forum=taken.group.name if taken.group else None, matter=taken.matter.id if taken.matter else None))


def register(app: AsyncApp, ctx: SlackContext) -> None:
    """Wire the escalation buttons."""
    app.action("ladder_take_over")(bind(ctx, take_over, "action", "action.ladder_take_over"))
    app.action("ladder_nudge")(bind(ctx, nudge, "action", "action.ladder_nudge"))
    app.action("ladder_reassign")(bind(ctx, reassign, "action", "action.ladder_reassign"))
    app.action("ladder_samverkan")(bind(ctx, samverkan, "action", "action.ladder_samverkan"))

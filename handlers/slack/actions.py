"""Buttons: open a form (assign, book, outcome, follow-up, close) or act at once (Kvittera, Uteblev, …)."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

from bot import readlog, suggestions
from bot.cases import access, consent, offers, participants
from bot.cases.models import Case
from bot.cases.rules import Action, authorize, check_assign, follow_up_owners
from bot.cases.visibility import Level, shown_free_text
from bot.channels.slack import render
from bot.channels.slack.context import SlackContext
from bot.channels.slack.views import render_view
from bot.errors import Refusal
from bot.journal import journal_for
from handlers.slack import clicks
from handlers.slack.commands import request_view
from handlers.slack.common import audit_refusal, bind, open_form, refusal_text, reply, unknown_user_text

log = logging.getLogger("handlers.slack.actions")

# Buttons that change the case at once: action_id → (service action, call).
Immediate = Callable[[SlackContext, str, str], Awaitable[Case]]
IMMEDIATE: dict[str, tuple[str, Immediate]] = {
    "gfi_ack": ("acknowledge", lambda ctx, person, ref: ctx.core.cases.acknowledge(person, ref)),
    "gfi_no_show": ("no_show", lambda ctx, person, ref: ctx.core.cases.no_show(person, ref)),
    "gfi_withdraw": ("withdraw_consent", lambda ctx, person, ref: ctx.core.cases.withdraw_consent(person, ref)),
    "gfi_reopen": ("reopen", lambda ctx, person, ref: ctx.core.cases.reopen(person, ref)),
    "gfi_resume": ("resume", lambda ctx, person, ref: ctx.core.cases.resume(person, ref)),
    # the other side's proposal in a dispute is agreed: settled (issue #18 item 2)
    "gfi_agree": ("settle_dispute", lambda ctx, person, ref: ctx.core.disputes.settle(person, ref, None)),
}

# Buttons that open a form about a case: action_id → (action checked before opening, view template).
FORMS: dict[str, tuple[Action, str]] = {
    "gfi_assign_open": (Action.ASSIGN, "slack_assign"),
    "gfi_book_open": (Action.BOOK, "slack_book"),
    "gfi_hold_now_open": (Action.HOLD_NOW, "slack_hold_now"),
    "gfi_appoint_open": (Action.APPOINT, "slack_appoint"),
    "gfi_wait_open": (Action.WAIT, "slack_wait"),
    "gfi_outcome_open": (Action.RECORD_OUTCOME, "slack_outcome"),
    "gfi_follow_up_open": (Action.ADD_FOLLOW_UP, "slack_follow_up"),
    "gfi_close_open": (Action.CLOSE, "slack_close"),
    "gfi_renew_open": (Action.RENEW_CONSENT, "slack_renew"),
    "gfi_withdraw_open": (Action.WITHDRAW_CONSENT, "slack_withdraw"),
    "gfi_dispute_open": (Action.DISPUTE, "slack_dispute"),
    "gfi_settle_open": (Action.SETTLE_DISPUTE, "slack_settle"),
}


def form_context(ctx: SlackContext, template: str, case: Case, person_id: str | None = None) -> dict[str, Any]:
    """What each case form needs besides the case (`person_id`: who opens it)."""
    directory = ctx.core.directory
    units = [(u.id, u.name) for u in directory.units.values()]
    if template == "slack_assign":
        return {"staff": [(p.id, p.name) for p in directory.staff_of(case.target_unit)]}
    if template == "slack_wait":
        return {"today": ctx.core.cases.today().isoformat()}
    if template in ("slack_book", "slack_hold_now"):
        chosen = case.meeting_units or list(dict.fromkeys([case.requester_unit, case.target_unit]))
        initial = [(u, directory.unit_name(u)) for u in chosen if directory.unit(u)]
        return {"units": units, "initial_units": initial, "today": ctx.core.cases.today().isoformat(),
                "tz": ctx.core.settings.timezone, "suggested": None,
                "people": participants.bookable(case, directory),
                "initial_people": participants.named_now(case, directory),
                "roles": list(ctx.core.renderer.labels.EXTERNAL_ROLES.items())}
    if template == "slack_appoint":
        return {"people": participants.appointable(case, person_id, directory)}
    if template == "slack_renew":
        # who may have obtained the renewed consent: the one recording it first, then colleagues of that unit
        recorder = person_id or case.requester_id
        own = directory.unit_of(recorder)
        colleagues = [(p.id, p.name) for p in directory.staff_of(own.id) if p.id != recorder] if own else []
        return {"units": units, "today": ctx.core.cases.today().isoformat(), "recorder": recorder,
                "people": [(recorder, directory.name(recorder)), *colleagues][:100]}
    if template == "slack_withdraw":
        return {"units": [(u, directory.unit_name(u)) for u in consent.withdrawable_units(case)][:9]}
    if template == "slack_follow_up":
        return {"people": [(pid, directory.name(pid)) for pid in follow_up_owners(case, directory)],
                "today": ctx.core.cases.today().isoformat()}
    return {}


async def case_form(ctx: SlackContext, template: str, case: Case, person_id: str, **extra: Any) -> tuple[
        dict[str, Any], list[str]]:
    """Render a form about a case: its free text only for those who may see the whole case. Returns the
    view and the references whose free text it shows (to log as read once the form is open)."""
    full = await access.level_of(ctx.core.db, case, ctx.core.directory, person_id) is Level.FULL
    params: dict[str, Any] = {"case": case, "show_brief": full, **form_context(ctx, template, case, person_id),
                              **extra}
    if template == "slack_settle":  # the other side's proposal, to confirm as it stands or change
        params["proposal"] = (await ctx.core.disputes.form_prefill(case, person_id)).get("enig")
    shown = [c.ref for c in shown_free_text(template, params)] if full else []
    return render_view(ctx.core.renderer, template, **params), shown


async def opened(ctx: SlackContext, person_id: str, template: str, refs: list[str]) -> None:
    """A form showing free text is open: log the read."""
    await readlog.record_now(ctx.core.db, at=ctx.core.clock.now(), person_id=person_id, refs=refs,
                             view=template, channel="slack")


def precheck(ctx: SlackContext, action: Action, case: Case, person_id: str) -> None:
    """Refuse before the form opens (wrong person, wrong state); the service checks again on submit."""
    authorize(action, case, person_id, ctx.core.directory)
    if action is Action.ASSIGN:
        check_assign(case, reassign=False)


async def clicker(ctx: SlackContext, click: clicks.Click, client: AsyncWebClient) -> str | None:
    """The person who clicked (after the ack: this may ask Slack); told to contact the admin if unknown."""
    person_id = await ctx.identity.person_for(click.user_id)
    if person_id is None:
        await reply(ctx, client, user_id=click.user_id, text=unknown_user_text(ctx),
                    channel_id=click.channel_id, trigger_id=click.trigger_id)
    return person_id


async def act_now(ctx: SlackContext, ack: Any, body: dict[str, Any], client: AsyncWebClient) -> None:
    """A button that changes the case at once (Kvittera, Uteblev, …): once per click, answered ephemeral."""
    await ack()
    core = ctx.core
    click = clicks.parse_click(body)
    name, call = IMMEDIATE[click.action_id]
    if not click.ref or not await ctx.claim(click.key, "action"):
        return
    person_id = await clicker(ctx, click, client)
    if person_id is None:
        return
    try:
        case = await call(ctx, person_id, click.ref)
    except Refusal as exc:
        await reply(ctx, client, user_id=click.user_id, text=await refusal_text(ctx, person_id, exc),
                    channel_id=click.channel_id, trigger_id=click.trigger_id)
        return
    log.info("case action via slack", extra={"event": "slack.case_action", "case_ref": case.ref, "action": name})
    ctx.after_change()
    if not click.in_home:  # the Home tab is republished instead
        message = core.outbox.describe("action_done", recipient_id=person_id, case_ref=case.ref, action=name,
                                       case=case, offers=offers.after_action(case, person_id, core.directory))
        await reply(ctx, client, user_id=click.user_id, text=render.fallback_text(message),
                    channel_id=click.channel_id, blocks=render.fitted_blocks(message))
        shown = shown_free_text("action_done", {"action": name, "case": case})
        await opened(ctx, person_id, "action_done", [c.ref for c in shown])


async def open_case_form(ctx: SlackContext, ack: Any, body: dict[str, Any], client: AsyncWebClient) -> None:
    """A button that opens a form about a case: refused at once when the clicker may not do it."""
    await ack()
    core = ctx.core
    click = clicks.parse_click(body)
    action, template = FORMS[click.action_id]
    if not click.ref or not click.trigger_id:
        return
    person_id = await clicker(ctx, click, client)
    if person_id is None:
        return
    try:
        case = await core.cases.get(click.ref)
        precheck(ctx, action, case, person_id)
    except Refusal as exc:
        await audit_refusal(ctx, person_id, action.value, click.ref, exc)
        await reply(ctx, client, user_id=click.user_id, text=await refusal_text(ctx, person_id, exc),
                    channel_id=click.channel_id, trigger_id=click.trigger_id)
        return
    extra: dict[str, Any] = {}
    if action is Action.BOOK:  # free/busy from Graph, bounded: the modal opens without it when Graph is slow
        slots = await core.suggestions.for_booking(case, person_id, core.directory, core.clock.now())
        extra["suggested"] = suggestions.prefill(core.renderer, case.ref, slots)
    view, shown = await case_form(ctx, template, case, person_id, **extra)
    if await open_form(ctx, client, trigger_id=click.trigger_id, view=view, user_id=click.user_id,
                       channel_id=click.channel_id, ref=case.ref):
        await opened(ctx, person_id, template, shown)


async def follow_up_done(ctx: SlackContext, ack: Any, body: dict[str, Any], client: AsyncWebClient) -> None:
    """A follow-up's Klar button."""
    await ack()
    core = ctx.core
    click, ref, number = clicks.parse_follow_up_click(body)
    if not await ctx.claim(click.key, "action"):
        return
    person_id = await clicker(ctx, click, client)
    if person_id is None:
        return
    try:
        case = await core.cases.complete_follow_up(person_id, ref, number)
    except Refusal as exc:
        text = await refusal_text(ctx, person_id, exc)
    else:
        ctx.after_change()
        text = core.renderer.render("follow_up_done", case=case, number=number, slack=True)
    await reply(ctx, client, user_id=click.user_id, text=text, channel_id=click.channel_id,
                trigger_id=click.trigger_id)


async def journal(ctx: SlackContext, ack: Any, body: dict[str, Any], client: AsyncWebClient) -> None:
    """The Journalunderlag button: the journal record in a modal, for those in the case."""
    await ack()
    core = ctx.core
    click = clicks.parse_click(body)
    if not click.ref or not click.trigger_id:
        return
    person_id = await clicker(ctx, click, client)
    if person_id is None:
        return
    try:
        record = await journal_for(core.db, core.cases.load, core.directory, core.renderer, person_id=person_id,
                                   ref=click.ref, now=core.clock.now(), channel="slack")
    except Refusal as exc:
        await reply(ctx, client, user_id=click.user_id, text=await refusal_text(ctx, person_id, exc),
                    channel_id=click.channel_id, trigger_id=click.trigger_id)
        return
    paragraphs = [p.strip() for p in record.text.split("\n\n") if p.strip()]
    view = render_view(core.renderer, "slack_journal", ref=record.ref, paragraphs=paragraphs)
    await open_form(ctx, client, trigger_id=click.trigger_id, view=view, user_id=click.user_id,
                    channel_id=click.channel_id, ref=record.ref)


async def follow_up_answer(ctx: SlackContext, ack: Any, body: dict[str, Any], client: AsyncWebClient) -> None:
    """A proposed follow-up's Acceptera or Avböj button (its owner, or the distributor of the owner's unit)."""
    await ack()
    core = ctx.core
    click, ref, number = clicks.parse_follow_up_click(body)
    if not await ctx.claim(click.key, "action"):
        return
    person_id = await clicker(ctx, click, client)
    if person_id is None:
        return
    accept = click.action_id == "gfi_follow_up_accept"
    answer = core.cases.accept_follow_up if accept else core.cases.decline_follow_up
    try:
        case = await answer(person_id, ref, number)
    except Refusal as exc:
        await reply(ctx, client, user_id=click.user_id, text=await refusal_text(ctx, person_id, exc),
                    channel_id=click.channel_id, trigger_id=click.trigger_id)
        return
    ctx.after_change()
    message = core.outbox.describe(
        "action_done", recipient_id=person_id, case_ref=case.ref,
        action="accept_follow_up" if accept else "decline_follow_up", case=case,
        number=number, offers=offers.after_accept(case, person_id, core.directory, number))
    await reply(ctx, client, user_id=click.user_id, text=render.fallback_text(message),
                channel_id=click.channel_id, blocks=render.fitted_blocks(message))


async def open_request(ctx: SlackContext, ack: Any, body: dict[str, Any], client: AsyncWebClient) -> None:
    """The Home tab's "new request" button: the /gfi form."""
    await ack()
    click = clicks.parse_click(body)
    person_id = await clicker(ctx, click, client)
    if person_id is None or not click.trigger_id:
        return
    await open_form(ctx, client, trigger_id=click.trigger_id, view=request_view(ctx, person_id),
                    user_id=click.user_id, channel_id=click.channel_id)


def register(app: AsyncApp, ctx: SlackContext) -> None:
    """Wire the case buttons."""
    for action_id in IMMEDIATE:
        app.action(action_id)(bind(ctx, act_now, "action", f"action.{action_id}"))
    for action_id in FORMS:
        app.action(action_id)(bind(ctx, open_case_form, "action", f"action.{action_id}"))
    app.action("gfi_follow_up_done")(bind(ctx, follow_up_done, "action", "action.gfi_follow_up_done"))
    for action_id in ("gfi_follow_up_accept", "gfi_follow_up_decline"):
        app.action(action_id)(bind(ctx, follow_up_answer, "action", f"action.{action_id}"))
    app.action("gfi_open_request")(bind(ctx, open_request, "action", "action.gfi_open_request"))
    app.action("gfi_journal")(bind(ctx, journal, "action", "action.gfi_journal"))

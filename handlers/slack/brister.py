"""Slack listeners for brister i samverkan: the report modal (new or completing a ladder draft), dismissing a
draft, working a report from the buttons of its messages and App Home (record the measures or the dialogue's
outcome in a modal, close it, open it), and the yearly report and the statistics sent as files in a direct
message to a coordinator."""

from __future__ import annotations

import asyncio
import logging
import tempfile
from pathlib import Path
from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.brister.models import BristDraft, BristForm, parse_brist_ref
from bot.brister.report import write_year
from bot.brister.rules import BristAction, authorize, is_coordinator
from bot.brister.service import BristService
from bot.channels.slack.context import SlackContext, state_hash
from bot.channels.slack.markup import escape
from bot.channels.slack.views import render_view
from bot.errors import FieldError, Refusal
from handlers.slack import forms
from handlers.slack.brist_forms import draft_id, parse_brist, parse_brist_text, report_ref
from handlers.slack.common import bind, open_form, reply, unknown_user_text

log = logging.getLogger("handlers.brister")

REPORT_BLOCKS = {"berorda", "orsaker", "handelse", "atgarder", "dialog", "datum", "arende"}


def brist_form(ctx: SlackContext, form: BristForm | None = None, draft: int | None = None) -> dict[str, Any]:
    """The report modal, empty or prefilled (a ladder draft)."""
    core = ctx.core
    units = [(u.id, u.name) for u in core.directory.units.values()]
    return render_view(core.renderer, "slack_brist_form", units=units, form=form or BristForm(), draft=draft,
                              today=service(ctx).today().isoformat())


def service(ctx: SlackContext) -> BristService:
    return ctx.core.brister


def changed(ctx: SlackContext, units: list[str] | None = None) -> None:
    """After a report changed: deliver its messages and refresh the Home tabs of the coordinators and of the
    distributors of `units`."""
    directory = ctx.core.directory
    ctx.homes.pending.update(p.id for p in directory.coordinators())
    ctx.homes.pending.update(p for u in units or [] for p in directory.distributors_of(u))
    ctx.after_change()


async def send_year_report(ctx: SlackContext, client: AsyncWebClient, person_id: str, user_id: str,
                           year: int) -> bool:
    """Write the yearly report and upload its three files into the coordinator's DM (files_upload_v2)."""
    core = ctx.core
    reports = await service(ctx).year_reports(year)
    with tempfile.TemporaryDirectory(prefix="gfi-brister-") as tmp:
        paths = await asyncio.to_thread(write_year, Path(tmp), year, reports, core.renderer,
                                        made=service(ctx).today())
        try:
            opened = await client.conversations_open(users=user_id)
            channel = str(opened["channel"]["id"])
            await client.files_upload_v2(
                channel=channel,
                initial_comment=escape(core.renderer.macro("brister", "year_report_sent", year=year,
                                                           count=len(reports))),
                file_uploads=[{"file": str(p), "filename": p.name, "title": p.name} for p in paths],
            )
        except SlackApiError as exc:
            log.warning("year report upload failed", extra={"event": "brist.year_report_failed",
                                                            "reason": str(exc.response.get("error"))})
            return False
    log.info("year report sent", extra={"event": "brist.year_report_sent", "year": year, "person": person_id})
    return True


def _where(body: dict[str, Any]) -> dict[str, Any]:
    return {"trigger_id": body.get("trigger_id"), "channel_id": (body.get("channel") or {}).get("id")}


def _report_ref(action: dict[str, Any]) -> str:
    """The BRIST reference a button names; the not-found refusal for anything else."""
    value = str(action.get("value") or "")
    ref = parse_brist_ref(value)
    if ref is None:
        raise Refusal("brist_not_found", ref=value[:20])
    return ref


async def _clicker(ctx: SlackContext, body: dict[str, Any], client: AsyncWebClient, *,
                   tell: bool = True) -> tuple[str, str] | None:
    """(Slack user id, directory person) of a click, after the ack (this may ask Slack); with `tell`, someone
    the directory does not know is told whom to contact."""
    user_id = str((body.get("user") or {}).get("id") or "")
    person_id = await ctx.identity.person_for(user_id)
    if person_id is None:
        if tell:
            await reply(ctx, client, user_id=user_id, text=unknown_user_text(ctx), **_where(body))
        return None
    return user_id, person_id


async def open_new(ctx: SlackContext, ack: Any, body: dict[str, Any], client: AsyncWebClient) -> None:
    await ack()
    user_id = str((body.get("user") or {}).get("id") or "")
    if await ctx.identity.person_for(user_id) is None:
        await reply(ctx, client, user_id=user_id, text=unknown_user_text(ctx), trigger_id=body.get("trigger_id"),
                    channel_id=(body.get("channel") or {}).get("id"))
        return
    await open_form(ctx, client, trigger_id=str(body.get("trigger_id")), view=brist_form(ctx), user_id=user_id)


async def _draft_clicked(ctx: SlackContext, body: dict[str, Any], action: dict[str, Any],
                         client: AsyncWebClient) -> tuple[str, BristDraft] | None:
    """(Slack user id, the ladder draft a button names) when the clicker may complete it; a refusal is
    answered, anything else (an unknown clicker, a malformed value) ignored."""
    who = await _clicker(ctx, body, client, tell=False)
    value = str(action.get("value") or "")
    if who is None or not value.isdigit():
        return None
    user_id, person_id = who
    try:
        return user_id, await service(ctx).draft_to_complete(person_id, int(value))
    except Refusal as exc:
        await reply(ctx, client, user_id=user_id, text=ctx.core.renderer.refusal(exc), **_where(body))
        return None


async def open_draft(ctx: SlackContext, ack: Any, body: dict[str, Any], action: dict[str, Any],
                     client: AsyncWebClient) -> None:
    """Komplettera: the report form prefilled from the ladder's draft."""
    await ack()
    clicked = await _draft_clicked(ctx, body, action, client)
    if clicked is None:
        return
    user_id, draft = clicked
    view = brist_form(ctx, service(ctx).draft_form(draft), draft.id)
    await open_form(ctx, client, trigger_id=str(body.get("trigger_id")), view=view, user_id=user_id)


async def open_dismiss(ctx: SlackContext, ack: Any, body: dict[str, Any], action: dict[str, Any],
                       client: AsyncWebClient) -> None:
    """Avfärda: the form asking why the draft is dismissed."""
    await ack()
    clicked = await _draft_clicked(ctx, body, action, client)
    if clicked is None:
        return
    user_id, draft = clicked
    view = render_view(ctx.core.renderer, "slack_brist_dismiss", draft=draft.id, case_ref=draft.case_ref)
    await open_form(ctx, client, trigger_id=str(body.get("trigger_id")), view=view, user_id=user_id)


async def year_report(ctx: SlackContext, ack: Any, body: dict[str, Any], action: dict[str, Any],
                      client: AsyncWebClient) -> None:
    await ack()
    who = await _clicker(ctx, body, client, tell=False)
    value = str(action.get("value") or "")
    if who is None or not (len(value) == 4 and value.isdigit()):
        return
    user_id, person_id = who
    if not is_coordinator(person_id, ctx.core.directory):
        text = ctx.core.renderer.refusal(Refusal("brist_not_coordinator", action="brist_report"))
        await reply(ctx, client, user_id=user_id, text=text, trigger_id=body.get("trigger_id"),
                    channel_id=(body.get("channel") or {}).get("id"))
        return
    if not await send_year_report(ctx, client, person_id, user_id, int(value)):
        text = ctx.core.renderer.macro("brister", "year_report_failed", year=int(value))
        await reply(ctx, client, user_id=user_id, text=text, trigger_id=body.get("trigger_id"),
                    channel_id=(body.get("channel") or {}).get("id"))


async def submit_report(ctx: SlackContext, ack: Any, body: dict[str, Any], view: dict[str, Any]) -> None:
    # no network before the ack: the directory or an earlier match only
    person_id = await ctx.identity.cached_person_for(str((body.get("user") or {}).get("id") or ""))
    if person_id is None:
        await ack(response_action="errors", errors={"handelse": unknown_user_text(ctx)})
        return
    form, parse_errors = parse_brist(forms.view_values(view))
    draft = draft_id(str(view.get("private_metadata") or ""))
    key = f"view:{view.get('id')}:{state_hash(view.get('state'))}"
    if not await ctx.claim(key, "view"):
        await ack()  # a double submission of the same form: filed once
        return
    try:
        if parse_errors:
            raise FieldError(parse_errors)
        if draft is not None:
            report = await service(ctx).submit_draft(person_id, draft, form)
        else:
            report = await service(ctx).file(person_id, form)
    except FieldError as exc:
        await ctx.release(key)
        messages = ctx.core.renderer.field_errors(exc)
        await ack(response_action="errors", errors=forms.errors_for_view(messages, REPORT_BLOCKS, "handelse"))
        return
    except Refusal as exc:
        await ctx.release(key)
        await ack(response_action="errors", errors={"handelse": ctx.core.renderer.refusal(exc)})
        return
    text = ctx.core.renderer.macro("brister", "filed", report=report)
    await ack(response_action="update", view=render_view(ctx.core.renderer, "slack_info", text=text))
    changed(ctx)


async def submit_dismiss(ctx: SlackContext, ack: Any, body: dict[str, Any], view: dict[str, Any]) -> None:
    # no network before the ack: the directory or an earlier match only
    person_id = await ctx.identity.cached_person_for(str((body.get("user") or {}).get("id") or ""))
    draft = draft_id(str(view.get("private_metadata") or ""))
    if person_id is None or draft is None:
        await ack(response_action="errors", errors={"skal": unknown_user_text(ctx)})
        return
    reason = str(forms.view_values(view).get("skal") or "")
    try:
        dismissed = await service(ctx).dismiss_draft(person_id, draft, reason)
    except FieldError as exc:
        await ack(response_action="errors", errors=forms.errors_for_view(
            ctx.core.renderer.field_errors(exc), {"skal"}, "skal"))
        return
    except Refusal as exc:
        await ack(response_action="errors", errors={"skal": ctx.core.renderer.refusal(exc)})
        return
    text = ctx.core.renderer.macro("brister", "draft_dismissed", d=dismissed)
    await ack(response_action="update", view=render_view(ctx.core.renderer, "slack_info", text=text))
    changed(ctx)


# --- working a report: record measures or the dialogue, close, open ---------------------------------------
TEXT_FORMS = {"brist_measures_open": "measures", "brist_dialogue_open": "dialogue"}
TEXT_RULES = {"measures": BristAction.RECORD_MEASURES, "dialogue": BristAction.RECORD_DIALOGUE}
TEXT_FIELDS = {"measures": "atgarder", "dialogue": "dialog"}


async def open_text_form(ctx: SlackContext, ack: Any, body: dict[str, Any], action: dict[str, Any],
                         client: AsyncWebClient) -> None:
    """Registrera åtgärder / Registrera dialogen: the modal, prefilled with what is recorded already."""
    await ack()
    who = await _clicker(ctx, body, client)
    if who is None:
        return
    user_id, person_id = who
    what = TEXT_FORMS[str(action.get("action_id"))]
    try:
        ref = _report_ref(action)
        report = await service(ctx).get(person_id, ref)
        authorize(TEXT_RULES[what], report, person_id, ctx.core.directory)
    except Refusal as exc:
        await reply(ctx, client, user_id=user_id, text=ctx.core.renderer.refusal(exc), **_where(body))
        return
    view = render_view(ctx.core.renderer, "slack_brist_text", report=report, what=what)
    await open_form(ctx, client, trigger_id=str(body.get("trigger_id")), view=view, user_id=user_id, ref=ref,
                    channel_id=(body.get("channel") or {}).get("id"))


async def submit_text(ctx: SlackContext, ack: Any, body: dict[str, Any], view: dict[str, Any]) -> None:
    """Save the measures or the dialogue's outcome; errors come back on the field."""
    # no network before the ack: the directory or an earlier match only
    person_id = await ctx.identity.cached_person_for(str((body.get("user") or {}).get("id") or ""))
    ref = report_ref(str(view.get("private_metadata") or ""))
    if person_id is None or ref is None:
        await ack(response_action="errors", errors={"text": unknown_user_text(ctx)})
        return
    what = "measures" if view.get("callback_id") == "brist_measures" else "dialogue"
    text, parse_errors = parse_brist_text(forms.view_values(view), TEXT_FIELDS[what])
    key = f"view:{view.get('id')}:{state_hash(view.get('state'))}"
    if not await ctx.claim(key, "view"):
        await ack()  # a double submission of the same form: saved once
        return
    try:
        if parse_errors:
            raise FieldError(parse_errors)
        if what == "measures":
            report = await service(ctx).record_measures(person_id, ref, text)
        else:
            report = await service(ctx).record_dialogue(person_id, ref, text)
    except FieldError as exc:
        await ctx.release(key)
        await ack(response_action="errors", errors=forms.errors_for_view(
            ctx.core.renderer.field_errors(exc), {"text"}, "text"))
        return
    except Refusal as exc:
        await ctx.release(key)
        await ack(response_action="errors", errors={"text": ctx.core.renderer.refusal(exc)})
        return
    text = ctx.core.renderer.macro("brister", "changed", report=report, change=what)
    await ack(response_action="update", view=render_view(ctx.core.renderer, "slack_info", text=text))
    changed(ctx, report.units)


async def close_report(ctx: SlackContext, ack: Any, body: dict[str, Any], action: dict[str, Any],
                       client: AsyncWebClient) -> None:
    """Stäng rapporten (coordinators; the button asks for confirmation first)."""
    await ack()
    who = await _clicker(ctx, body, client)
    if who is None:
        return
    user_id, person_id = who
    try:
        ref = _report_ref(action)
        report = await service(ctx).close(person_id, ref)
    except Refusal as exc:
        await reply(ctx, client, user_id=user_id, text=ctx.core.renderer.refusal(exc), **_where(body))
        return
    changed(ctx, report.units)
    text = ctx.core.renderer.macro("brister", "changed", report=report, change="closed")
    await reply(ctx, client, user_id=user_id, text=text, **_where(body))


async def open_report(ctx: SlackContext, ack: Any, body: dict[str, Any], action: dict[str, Any],
                      client: AsyncWebClient) -> None:
    """Visa rapporten: the report as it stands, in a modal (or a refusal)."""
    await ack()
    who = await _clicker(ctx, body, client)
    if who is None:
        return
    user_id, person_id = who
    try:
        ref = _report_ref(action)
        report = await service(ctx).get(person_id, ref)
    except Refusal as exc:
        await reply(ctx, client, user_id=user_id, text=ctx.core.renderer.refusal(exc), **_where(body))
        return
    text = ctx.core.renderer.macro("brister", "report_text", r=report)
    await open_form(ctx, client, trigger_id=str(body.get("trigger_id")), user_id=user_id, ref=ref,
                    view=render_view(ctx.core.renderer, "slack_info", text=text),
                    channel_id=(body.get("channel") or {}).get("id"))


def register(app: AsyncApp, ctx: SlackContext) -> None:
    """Wire the brist listeners."""
    app.action("brist_open")(bind(ctx, open_new, "action", "action.brist_open"))
    app.action("brist_draft_open")(bind(ctx, open_draft, "action", "action.brist_draft_open"))
    app.action("brist_draft_dismiss_open")(bind(ctx, open_dismiss, "action", "action.brist_draft_dismiss_open"))
    # this year's and last year's report: two action ids, as Slack wants them unique within the Home's block
    app.action("brist_year_report")(bind(ctx, year_report, "action", "action.brist_year_report"))
    app.action("brist_year_report_previous")(bind(ctx, year_report, "action", "action.brist_year_report"))
    app.view("brist_report")(bind(ctx, submit_report, "view", "view.brist_report"))
    app.view("brist_dismiss")(bind(ctx, submit_dismiss, "view", "view.brist_dismiss"))
    for action_id in TEXT_FORMS:
        app.action(action_id)(bind(ctx, open_text_form, "action", f"action.{action_id}"))
    app.view("brist_measures")(bind(ctx, submit_text, "view", "view.brist_measures"))
    app.view("brist_dialogue")(bind(ctx, submit_text, "view", "view.brist_dialogue"))
    app.action("brist_close")(bind(ctx, close_report, "action", "action.brist_close"))
    app.action("brist_report_open")(bind(ctx, open_report, "action", "action.brist_report_open"))

"""Slack listeners for brister i samverkan: the report modal (new or completing a ladder draft), dismissing a
draft, working a report from the buttons of its messages and App Home (record the measures or the dialogue's
outcome in a modal, close it, open it), and the yearly report and the statistics sent as files in a direct
message to a coordinator."""

from __future__ import annotations

import asyncio
import logging
import tempfile
from collections.abc import Awaitable
from pathlib import Path
from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.brister.models import BristDraft, BristForm, BristReport, parse_brist_ref
from bot.brister.report import write_year
from bot.brister.rules import BristAction, authorize, is_coordinator
from bot.brister.service import BristService
from bot.channels.slack.context import SlackContext
from bot.channels.slack.markup import escape
from bot.channels.slack.views import info_view, render_view
from bot.errors import FieldError, Refusal
from bot.numerals import is_number
from handlers.slack import forms
from handlers.slack.brist_forms import draft_id, parse_brist, parse_brist_text, report_ref
from handlers.slack.common import bind, unknown_user_text
from handlers.slack.modals import Clicker, Modal, clicked, open_after_rule, show_done, submit_once, submitter

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


async def send_year_report(ctx: SlackContext, client: AsyncWebClient, user_id: str, year: int) -> bool:
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
    log.info("year report sent", extra={"event": "brist.year_report_sent", "year": year, "reports": len(reports)})
    return True


def _report_ref(action: dict[str, Any]) -> str:
    """The BRIST reference a button names; the not-found refusal for anything else."""
    value = str(action.get("value") or "")
    ref = parse_brist_ref(value)
    if ref is None:
        raise Refusal("brist_not_found", ref=value[:20])
    return ref


async def open_new(ctx: SlackContext, ack: Any, body: dict[str, Any], client: AsyncWebClient) -> None:
    await ack()
    who = await clicked(ctx, body, client)
    if who is not None:
        await who.open(brist_form(ctx))


async def _draft_clicked(ctx: SlackContext, body: dict[str, Any], action: dict[str, Any],
                         client: AsyncWebClient) -> tuple[Clicker, BristDraft] | None:
    """(the clicker, the ladder draft a button names) when the clicker may complete it; a refusal is
    answered, anything else (an unknown clicker, a malformed value) ignored."""
    who = await clicked(ctx, body, client, tell=False)
    value = str(action.get("value") or "")
    if who is None or not is_number(value):
        return None
    try:
        return who, await service(ctx).draft_to_complete(who.person_id, int(value))
    except Refusal as exc:
        await who.refuse(exc)
        return None


async def open_draft(ctx: SlackContext, ack: Any, body: dict[str, Any], action: dict[str, Any],
                     client: AsyncWebClient) -> None:
    """Komplettera: the report form prefilled from the ladder's draft."""
    await ack()
    found = await _draft_clicked(ctx, body, action, client)
    if found is None:
        return
    who, draft = found
    await who.open(brist_form(ctx, service(ctx).draft_form(draft), draft.id))


async def open_dismiss(ctx: SlackContext, ack: Any, body: dict[str, Any], action: dict[str, Any],
                       client: AsyncWebClient) -> None:
    """Avfärda: the form asking why the draft is dismissed."""
    await ack()
    found = await _draft_clicked(ctx, body, action, client)
    if found is None:
        return
    who, draft = found
    await who.open(render_view(ctx.core.renderer, "slack_brist_dismiss", draft=draft.id, case_ref=draft.case_ref))


async def year_report(ctx: SlackContext, ack: Any, body: dict[str, Any], action: dict[str, Any],
                      client: AsyncWebClient) -> None:
    await ack()
    who = await clicked(ctx, body, client, tell=False)
    value = str(action.get("value") or "")
    if who is None or not (len(value) == 4 and is_number(value)):
        return
    if not is_coordinator(who.person_id, ctx.core.directory):
        await who.refuse(Refusal("brist_not_coordinator", action="brist_report"))
        return
    if not await send_year_report(ctx, client, who.user_id, int(value)):
        await who.tell(ctx.core.renderer.macro("brister", "year_report_failed", year=int(value)))


async def submit_report(ctx: SlackContext, ack: Any, body: dict[str, Any], view: dict[str, Any]) -> None:
    person_id = await submitter(ctx, ack, body, "handelse")
    if person_id is None:
        return
    form, parse_errors = parse_brist(forms.view_values(view))
    draft = draft_id(str(view.get("private_metadata") or ""))

    def file() -> Awaitable[BristReport]:
        if draft is not None:
            return service(ctx).submit_draft(person_id, draft, form)
        return service(ctx).file(person_id, form)

    report = await submit_once(ctx, ack, view, file, field="handelse", blocks=REPORT_BLOCKS,
                               parse_errors=parse_errors)
    if report is not None:
        await show_done(ctx, ack, ctx.core.renderer.macro("brister", "filed", report=report))
        changed(ctx)


async def submit_dismiss(ctx: SlackContext, ack: Any, body: dict[str, Any], view: dict[str, Any]) -> None:
    person_id = await submitter(ctx, ack, body, "skal")
    if person_id is None:
        return
    draft = draft_id(str(view.get("private_metadata") or ""))
    if draft is None:
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
    await show_done(ctx, ack, ctx.core.renderer.macro("brister", "draft_dismissed", d=dismissed))
    changed(ctx)


# --- working a report: record measures or the dialogue, close, open ---------------------------------------
TEXT_FORMS = {"brist_measures_open": "measures", "brist_dialogue_open": "dialogue"}
TEXT_RULES = {"measures": BristAction.RECORD_MEASURES, "dialogue": BristAction.RECORD_DIALOGUE}
TEXT_FIELDS = {"measures": "atgarder", "dialogue": "dialog"}


async def open_text_form(ctx: SlackContext, ack: Any, body: dict[str, Any], action: dict[str, Any],
                         client: AsyncWebClient) -> None:
    """Registrera åtgärder / Registrera dialogen: the modal, prefilled with what is recorded already."""
    what = TEXT_FORMS[str(action.get("action_id"))]

    async def build(who: Clicker) -> Modal:
        ref = _report_ref(action)
        report = await service(ctx).get(who.person_id, ref)
        authorize(TEXT_RULES[what], report, who.person_id, ctx.core.directory)
        return render_view(ctx.core.renderer, "slack_brist_text", report=report, what=what), ref

    await open_after_rule(ctx, ack, body, client, build)


async def submit_text(ctx: SlackContext, ack: Any, body: dict[str, Any], view: dict[str, Any]) -> None:
    """Save the measures or the dialogue's outcome; errors come back on the field."""
    person_id = await submitter(ctx, ack, body, "text")
    if person_id is None:
        return
    ref = report_ref(str(view.get("private_metadata") or ""))
    if ref is None:
        await ack(response_action="errors", errors={"text": unknown_user_text(ctx)})
        return
    what = "measures" if view.get("callback_id") == "brist_measures" else "dialogue"
    text, parse_errors = parse_brist_text(forms.view_values(view), TEXT_FIELDS[what])
    record = service(ctx).record_measures if what == "measures" else service(ctx).record_dialogue
    report = await submit_once(ctx, ack, view, lambda: record(person_id, ref, text), field="text", blocks={"text"},
                               parse_errors=parse_errors)
    if report is not None:
        await show_done(ctx, ack, ctx.core.renderer.macro("brister", "changed", report=report, change=what))
        changed(ctx, report.units)


async def close_report(ctx: SlackContext, ack: Any, body: dict[str, Any], action: dict[str, Any],
                       client: AsyncWebClient) -> None:
    """Stäng rapporten (coordinators; the button asks for confirmation first)."""
    await ack()
    who = await clicked(ctx, body, client)
    if who is None:
        return
    try:
        report = await service(ctx).close(who.person_id, _report_ref(action))
    except Refusal as exc:
        await who.refuse(exc)
        return
    changed(ctx, report.units)
    await who.tell(ctx.core.renderer.macro("brister", "changed", report=report, change="closed"))


async def open_report(ctx: SlackContext, ack: Any, body: dict[str, Any], action: dict[str, Any],
                      client: AsyncWebClient) -> None:
    """Visa rapporten: the report as it stands, in a modal (or a refusal)."""
    async def build(who: Clicker) -> Modal:
        ref = _report_ref(action)
        report = await service(ctx).get(who.person_id, ref)
        text = ctx.core.renderer.macro("brister", "report_text", r=report)
        return info_view(ctx.core.renderer, text), ref

    await open_after_rule(ctx, ack, body, client, build)


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

"""The Teams Home (thin): the word `hem` (and the Home command in the bot's menu) sends the person's Home card;
its refresh (verb `home`, Universal Actions) answers each viewer with their own Home, read from the same
`bot.home.load_home` as Slack's App Home. The Home's own buttons (new request, absence, brist report, ladder
drafts) open their forms on the card; the briefs a Home card shows are logged as read."""

from __future__ import annotations

import asyncio
from typing import Any

from microsoft_agents.hosting.core import TurnContext

from bot import readlog
from bot.brister.models import BristForm
from bot.brister.rules import is_coordinator
from bot.channels.teams import cards
from bot.channels.teams import home as teams_home
from bot.channels.teams.app import TeamsContext
from bot.channels.teams.cards import Field, Form
from bot.errors import FieldError, Refusal
from bot.home import load_home
from bot.numerals import is_number
from bot.stats.service import last_twelve_months
from handlers.slack.brist_forms import parse_brist
from handlers.teams import absence, brister, forms
from handlers.teams.answers import submitted_once

DISMISS_SUBMIT = "brist_draft_dismiss"  # the dismiss form submits with the same verb (data: submit)


def teams_user(context: TurnContext) -> list[str]:
    """The Teams user id of who is looking (the refresh goes to them only)."""
    sender = context.activity.from_property
    return [sender.id] if sender is not None and sender.id else []


async def home_card(ctx: TeamsContext, person_id: str, user_ids: list[str]) -> dict[str, Any]:
    """The person's Home card; the briefs it shows are logged as read (view "home")."""
    core = ctx.core
    data = await load_home(core, person_id)
    # building the card and shrinking it until it fits is about 10 ms of CPU: on a thread, off the event loop
    made = await asyncio.to_thread(teams_home.home_card, core.renderer, data, user_ids)
    await readlog.record_now(core.db, at=core.clock.now(), person_id=person_id, refs=made.shown, view="home",
                             channel="teams")
    return made.content


def draft_form(draft_id: int, values: BristForm | None, ctx: TeamsContext) -> Form:
    """The report form prefilled from a ladder draft (submitting files the draft)."""
    form = brister.report_form(ctx)
    form.verb = teams_home.BRIST_DRAFT
    form.extra = {"draft": draft_id}
    if values is not None:
        prefill = {"berorda": ",".join(values.units), "orsaker": ",".join(values.causes),
                   "handelse": values.what, "atgarder": values.measures, "dialog": values.dialogue,
                   "datum": values.incident_date.isoformat() if values.incident_date else None,
                   "arende": values.case_ref}
        for f in form.fields:
            if prefill.get(f.key):
                f.value = str(prefill[f.key])
    return form


def dismiss_form(draft_id: int) -> Form:
    return Form("brist_dismiss", DISMISS_SUBMIT, [Field("skal", "multiline", max_length=500, required=True)],
                extra={"draft": draft_id})


def _draft(data: dict[str, Any]) -> int:
    raw = str(data.get("draft") or "")
    if not is_number(raw):
        raise Refusal("brist_draft_not_found", draft=raw[:10])
    return int(raw)


async def execute(ctx: TeamsContext, person_id: str, verb: str, data: dict[str, Any],
                  context: TurnContext) -> dict[str, Any]:
    """One Home verb (FieldError and Refusal are the caller's)."""
    core = ctx.core
    renderer = core.renderer
    if verb == teams_home.HOME:
        return await home_card(ctx, person_id, teams_user(context))
    if verb == teams_home.NEW_REQUEST:
        return forms.request_card(ctx, person_id, cards.new_nonce())
    if verb == teams_home.ABSENCE:
        return await absence.absence_card(ctx, person_id)
    if verb == teams_home.BRIST_NEW:
        return cards.form_card(renderer, brister.report_form(ctx), nonce=cards.new_nonce())
    if verb in (teams_home.YEAR_REPORT, teams_home.STATS_CSV):
        return await file_card(ctx, person_id, verb, data)
    draft_id = _draft(data)
    if verb == teams_home.BRIST_DRAFT and not data.get("submit"):
        draft = await core.brister.draft_to_complete(person_id, draft_id)
        form = draft_form(draft.id, core.brister.draft_form(draft), ctx)
        return cards.form_card(renderer, form, nonce=cards.new_nonce())
    if verb == teams_home.BRIST_DRAFT:
        filled, parse_errors = parse_brist(brister.report_values(data))
        if parse_errors:
            raise FieldError(parse_errors)
        report = await core.brister.submit_draft(person_id, draft_id, filled)
        ctx.after_change()
        return cards.text_card(renderer.macro("brister", "filed", report=report))
    if not data.get("submit"):  # Avfärda: why
        draft = await core.brister.draft_to_complete(person_id, draft_id)
        return cards.form_card(renderer, dismiss_form(draft.id), nonce=cards.new_nonce(), intro=[
            renderer.macro("teams_home", "draft", d=draft)])
    dismissed = await core.brister.dismiss_draft(person_id, draft_id, str(data.get("skal") or ""))
    ctx.after_change()
    return cards.text_card(renderer.macro("brister", "draft_dismissed", d=dismissed))


async def file_card(ctx: TeamsContext, person_id: str, verb: str, data: dict[str, Any]) -> dict[str, Any]:
    """The yearly brist report or the statistics as links to the files (coordinators)."""
    core = ctx.core
    renderer = core.renderer
    if not is_coordinator(person_id, core.directory):
        if verb == teams_home.STATS_CSV:
            return cards.text_card(renderer.macro("stats", "not_coordinator"))
        raise Refusal("brist_not_coordinator", action="brist_report")
    if ctx.files is None:
        return cards.text_card(renderer.macro("teams", "file_unavailable"))
    now = core.clock.now()
    if verb == teams_home.STATS_CSV:
        start, end = last_twelve_months(now.astimezone(core.calendar.tz).date())
        url = ctx.files.url(person_id, "stats", "12m", now)
        return cards.text_card(renderer.macro("teams", "stats_link", start=start, end=end), actions=[
            cards.open_url(renderer.macro("teams", "file_button", file="CSV"), url)])
    raw = str(data.get("year") or "")
    year = int(raw) if is_number(raw) and len(raw) == 4 else core.brister.today().year
    count = await core.brister.year_count(year)
    links = ctx.files.year_links(person_id, year, now)
    return cards.text_card(renderer.macro("teams", "year_report_links", year=year, count=count), actions=[
        cards.open_url(renderer.macro("teams", "file_button", file=name), url) for name, url in links])


def form_again(ctx: TeamsContext, verb: str, data: dict[str, Any], errors: dict[str, str]) -> dict[str, Any]:
    draft_id = int(str(data.get("draft"))) if is_number(str(data.get("draft") or "")) else 0
    form = draft_form(draft_id, None, ctx) if verb == teams_home.BRIST_DRAFT else dismiss_form(draft_id)
    return cards.form_card_again(ctx.core.renderer, form, data, errors)


async def answer(ctx: TeamsContext, person_id: str, verb: str, data: dict[str, Any], key: str,
                 context: TurnContext) -> dict[str, Any]:
    """One Home card action: views answered every time, a submitted draft form claimed once (a double click
    is answered "already done"), field errors back on the form, refusals as text."""
    return await submitted_once(ctx, key, verb, bool(data.get("submit")), None,
                                lambda: execute(ctx, person_id, verb, data, context),
                                lambda errors: form_again(ctx, verb, data, errors))

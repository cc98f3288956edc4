"""Modal submissions: request, assign, book, outcome, follow-up, close, consent. Errors go back on the field.

Slack wants the answer to a submission (close, replace, or errors on the fields) in the ack, within three
seconds. So the pure checks run first; the service call that decides the answer runs bounded by
`ctx.ack_budget` (see `answer_in_time`); who is submitting comes from the directory or an earlier match,
never from a Slack call before the ack.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

from bot import intake
from bot.cases.models import Case
from bot.cases.service import GfiRequest
from bot.channels.slack.context import SlackContext, state_hash
from bot.directory import Role
from bot.errors import FieldError, Refusal
from handlers.slack import clicks, forms
from handlers.slack.common import Answer, Kept, answer_in_time, bind, masked

log = logging.getLogger("handlers.slack.views")

# Input blocks of each modal, and where an error without a field of its own (a refusal) is shown.
BLOCKS: dict[str, tuple[set[str], str]] = {
    "gfi_request": ({"enhet", "typ", "kort", "kontakt", "samtycke", "omfattar", "avser", "avser_text", "form",
                     "inhamtat", "giltigt", "bradskande", "barn", "kontakter", "kontrollerat"}, "enhet"),
    "gfi_assign": ({"personer", "annan"}, "personer"),
    "gfi_reassign": ({"personer", "annan"}, "personer"),
    "gfi_book": ({"datum", "tid", "plats", "enheter", "bekrafta", "deltagare", "extern", "fornamn", "motesform",
                  "syfte", "informerad"}, "datum"),
    "gfi_hold_now": ({"enheter", "deltagare", "extern", "fornamn"}, "enheter"),
    "gfi_appoint": ({"deltagare"}, "deltagare"),
    "gfi_wait": ({"till", "vantar_skal"}, "till"),
    "gfi_outcome": ({"utfall", "utvardering", "lotsad_till", "mandat", "delaktighet", "kommentar"}, "utfall"),
    "gfi_follow_up": ({"agare", "datum", "vad"}, "vad"),
    "gfi_close": ({"skal", "annat", "nykontakt"}, "skal"),
    "gfi_renew": ({"giltigt", "form", "inhamtat", "avser", "avser_text", "omfattar"}, "giltigt"),
    "gfi_withdraw_consent": ({"aterkalla"}, "aterkalla"),
    "gfi_absence": ({"franvaro_person", "franvaro_fran", "franvaro_till", "ersattare"}, "franvaro_till"),
    "gfi_dispute": ({"tvist_skal"}, "tvist_skal"),
    "gfi_settle": ({"enig"}, "enig"),
}


def field_errors(ctx: SlackContext, callback_id: str, exc: FieldError) -> dict[str, str]:
    blocks, fallback = BLOCKS[callback_id]
    return forms.errors_for_view(ctx.core.renderer.field_errors(exc), blocks, fallback)


def refusal_errors(ctx: SlackContext, callback_id: str, exc: Refusal) -> dict[str, str]:
    """A refusal is shown on the field it names (e.g. units outside the consent), else on the fallback."""
    blocks, fallback = BLOCKS[callback_id]
    named = exc.params.get("field")
    return {named if named in blocks else fallback: ctx.core.renderer.refusal(exc)}


def submission_key(view: dict[str, Any]) -> str:
    """Idempotency key of one submission: a retry or a double click carries the same view id and state."""
    return f"view:{view.get('id')}:{state_hash(view.get('state'))}"


async def who(ctx: SlackContext, ack: Any, body: dict[str, Any], callback_id: str) -> str | None:
    """The submitter from the directory or an earlier match. When neither knows them, the form says so and
    Slack is asked after the ack, so that a second submission finds them (or they hear who to contact)."""
    user_id = str((body.get("user") or {}).get("id") or "")
    person_id = await ctx.identity.cached_person_for(user_id)
    if person_id is None:
        admins = [p.id for p in ctx.core.directory.people.values() if Role.ADMIN in p.roles]
        text = ctx.core.renderer.render("slack_identity_pending", admins=admins)
        await ack(response_action="errors", errors={BLOCKS[callback_id][1]: text})
        if user_id:
            ctx.spawn(ctx.identity.person_for(user_id), "gfi-slack-identity")
    return person_id


# --- the request form -------------------------------------------------------------------------------------------

async def submit_request(ctx: SlackContext, ack: Any, body: dict[str, Any], view: dict[str, Any],
                         client: AsyncWebClient) -> None:
    """The /gfi form: parse and check (pure) → errors at once; else file the case within the ack budget."""
    person_id = await who(ctx, ack, body, "gfi_request")
    if person_id is None:
        return
    form, parse_errors = forms.parse_request(forms.view_values(view))
    if parse_errors:
        try:
            ctx.core.cases.validate_request(person_id, form)  # pure: the service's errors beside the parser's
            service_errors: FieldError | None = None
        except FieldError as exc:
            service_errors = exc
        except Refusal as exc:
            await ack(response_action="errors", errors=refusal_errors(ctx, "gfi_request", exc))
            return
        rejected = forms.merge(parse_errors, service_errors) or FieldError(parse_errors)
        log.info("request rejected", extra={"event": "slack.request_rejected", "fields": sorted(rejected.errors)})
        await ack(response_action="errors", errors=field_errors(ctx, "gfi_request", rejected))
        return
    key = submission_key(view)
    kept = Kept(keep=lambda: intake.keep(ctx.core, key, person_id, form), forget=lambda: intake.forget(ctx.core, key))
    await answer_in_time(ctx, ack, body, client, file_request(ctx, person_id, form, key), name="view.gfi_request",
                         kept=kept)


async def file_request(ctx: SlackContext, person_id: str, form: GfiRequest, key: str) -> Answer:
    """File the request (idempotent by `key`): the answer to show."""
    try:
        case = await ctx.core.cases.request(person_id, form, idempotency_key=key)
    except FieldError as exc:
        log.info("request rejected", extra={"event": "slack.request_rejected", "fields": sorted(exc.errors)})
        return Answer(errors=field_errors(ctx, "gfi_request", exc))
    except Refusal as exc:
        return Answer(errors=refusal_errors(ctx, "gfi_request", exc))
    log.info("request filed via slack", extra={"event": "slack.request_filed", "case_ref": case.ref})
    return Answer(text=ctx.core.renderer.render("slack_request_done", case=case), case_ref=case.ref, changed=True)


# --- the forms about one case -------------------------------------------------------------------------------------

Act = Callable[[SlackContext, str, str, dict[str, Any]], Awaitable[Case]]


async def assign(ctx: SlackContext, person_id: str, ref: str, values: dict[str, Any]) -> Case:
    form = forms.parse_assign(values)
    return await ctx.core.cases.assign(person_id, ref, form.people, form.other, reassign=False)


async def reassign(ctx: SlackContext, person_id: str, ref: str, values: dict[str, Any]) -> Case:
    form = forms.parse_assign(values)
    return await ctx.core.cases.assign(person_id, ref, form.people, form.other, reassign=True)


async def book(ctx: SlackContext, person_id: str, ref: str, values: dict[str, Any]) -> Case:
    form, errors = forms.parse_book(values, ctx.core.settings.timezone)
    if errors or form.at is None:
        raise FieldError(errors)
    attending = forms.parse_participants(values, errors)
    if errors:
        raise FieldError(errors)
    return await ctx.core.cases.book(person_id, ref, form.at, form.place, form.units, confirmed=form.confirmed,
                                     participants=attending.people, externals=attending.externals,
                                     form=form.meeting)


async def hold_now(ctx: SlackContext, person_id: str, ref: str, values: dict[str, Any]) -> Case:
    units, errors = forms.parse_hold_now(values)
    attending = forms.parse_participants(values, errors)
    if errors:
        raise FieldError(errors)
    return await ctx.core.cases.hold_now(person_id, ref, units, participants=attending.people,
                                         externals=attending.externals)


async def appoint(ctx: SlackContext, person_id: str, ref: str, values: dict[str, Any]) -> Case:
    """Name who attends the meeting for a unit (the unit's distributor was asked)."""
    named, errors = forms.parse_appointee(values)
    if named is None:
        raise FieldError(errors)
    return await ctx.core.cases.appoint(person_id, ref, named)


async def wait(ctx: SlackContext, person_id: str, ref: str, values: dict[str, Any]) -> Case:
    form, errors = forms.parse_wait(values)
    if errors or form.until is None:
        raise FieldError(errors)
    return await ctx.core.cases.wait(person_id, ref, form.until, form.reason)


async def outcome(ctx: SlackContext, person_id: str, ref: str, values: dict[str, Any]) -> Case:
    form, errors = forms.parse_outcome(values)
    if errors:
        raise FieldError(errors)
    return await ctx.core.cases.record_outcome(person_id, ref, form.outcome, form.evaluation_done, form.details)


async def follow_up(ctx: SlackContext, person_id: str, ref: str, values: dict[str, Any]) -> Case:
    form, errors = forms.parse_follow_up(values)
    if errors or form.due is None:
        raise FieldError(errors)
    return await ctx.core.cases.add_follow_up(person_id, ref, form.owner, form.due, form.what)


async def renew(ctx: SlackContext, person_id: str, ref: str, values: dict[str, Any]) -> Case:
    form, errors = forms.parse_renew(values)
    if errors or form.until is None:
        raise FieldError(errors)
    return await ctx.core.cases.renew_consent(
        person_id, ref, form.until, form.scope, form=form.form, obtained_by=form.obtained_by,
        covers=form.covers, note=form.note,
    )


async def withdraw(ctx: SlackContext, person_id: str, ref: str, values: dict[str, Any]) -> Case:
    unit, errors = forms.parse_withdraw(values)
    if errors:
        raise FieldError(errors)
    return await ctx.core.cases.withdraw_consent(person_id, ref, unit=unit)


async def close(ctx: SlackContext, person_id: str, ref: str, values: dict[str, Any]) -> Case:
    reason, errors = forms.parse_close(values)
    new_contact = forms.parse_new_contact(values, errors)
    follow_ups = forms.parse_open_follow_ups(values, errors)
    if errors:
        raise FieldError(errors)
    return await ctx.core.cases.close(person_id, ref, reason, new_contact=new_contact, follow_ups=follow_ups)


async def dispute(ctx: SlackContext, person_id: str, ref: str, values: dict[str, Any]) -> Case:
    reason, errors = forms.parse_one_text(values, "tvist_skal")
    if errors:
        raise FieldError(errors)
    return await ctx.core.disputes.dispute(person_id, ref, reason)


async def settle(ctx: SlackContext, person_id: str, ref: str, values: dict[str, Any]) -> Case:
    agreement, errors = forms.parse_one_text(values, "enig")
    if errors:
        raise FieldError(errors)
    return await ctx.core.disputes.settle(person_id, ref, agreement)


# callback_id of a modal about one case (ref in private_metadata) → what its submission does
CASE_MODALS: dict[str, Act] = {
    "gfi_assign": assign,
    "gfi_reassign": reassign,
    "gfi_book": book,
    "gfi_hold_now": hold_now,
    "gfi_appoint": appoint,
    "gfi_wait": wait,
    "gfi_outcome": outcome,
    "gfi_follow_up": follow_up,
    "gfi_close": close,
    "gfi_renew": renew,
    "gfi_withdraw_consent": withdraw,
    "gfi_dispute": dispute,
    "gfi_settle": settle,
}


async def submit_case(ctx: SlackContext, ack: Any, body: dict[str, Any], view: dict[str, Any],
                      client: AsyncWebClient) -> None:
    """A modal about one case: act once per submission within the ack budget, errors on the field."""
    callback_id = str(view.get("callback_id") or "")
    act = CASE_MODALS[callback_id]
    person_id = await who(ctx, ack, body, callback_id)
    if person_id is None:
        return
    ref = clicks.private_ref(view)
    job = act_once(ctx, act, callback_id, person_id, ref, forms.view_values(view), submission_key(view))
    await answer_in_time(ctx, ack, body, client, job, name=f"view.{callback_id}", ref=ref)


async def act_once(ctx: SlackContext, act: Act, callback_id: str, person_id: str, ref: str,
                   values: dict[str, Any], key: str) -> Answer:
    """Claim the submission (a retry or a double click is answered by closing), act, and say how it went."""
    if not await ctx.claim(key, "view"):
        return Answer()  # the same submission again: already handled
    try:
        case = await act(ctx, person_id, ref, values)
    except FieldError as exc:
        await ctx.release(key)
        return Answer(errors=field_errors(ctx, callback_id, exc))
    except Refusal as exc:
        await ctx.release(key)
        return Answer(errors=refusal_errors(ctx, callback_id, await masked(ctx, person_id, exc)))
    except BaseException:
        await ctx.release(key)
        raise
    log.info("case action via slack", extra={"event": "slack.case_action", "case_ref": case.ref, "view": callback_id})
    return Answer(case_ref=case.ref, changed=True)


def register(app: AsyncApp, ctx: SlackContext) -> None:
    """Wire the modal submissions."""
    app.view("gfi_request")(bind(ctx, submit_request, "view", "view.gfi_request"))
    for callback_id in CASE_MODALS:
        app.view(callback_id)(bind(ctx, submit_case, "view", f"view.{callback_id}"))

"""Modal submissions: request, assign, book, outcome, follow-up, close, consent. Errors go back on the field."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from slack_bolt.async_app import AsyncApp

from bot.cases.models import Case
from bot.channels.slack.context import SlackContext, state_hash
from bot.errors import FieldError, Refusal
from handlers.slack import forms
from handlers.slack.common import guarded, unknown_user_text

log = logging.getLogger("handlers.views")

# Input blocks of each modal, and where an error without a field of its own (a refusal) is shown.
BLOCKS: dict[str, tuple[set[str], str]] = {
    "gfi_request": ({"enhet", "typ", "kort", "kontakt", "samtycke", "omfattar", "avser", "avser_text", "form",
                     "inhamtat", "giltigt", "bradskande"}, "enhet"),
    "gfi_assign": ({"personer", "annan"}, "personer"),
    "gfi_reassign": ({"personer", "annan"}, "personer"),
    "gfi_book": ({"datum", "tid", "plats", "enheter"}, "datum"),
    "gfi_outcome": ({"utfall", "utvardering"}, "utfall"),
    "gfi_follow_up": ({"agare", "datum", "vad"}, "vad"),
    "gfi_close": ({"skal", "annat"}, "skal"),
    "gfi_renew": ({"giltigt", "form", "inhamtat", "avser", "avser_text", "omfattar"}, "giltigt"),
    "gfi_withdraw_consent": ({"aterkalla"}, "aterkalla"),
}


def field_errors(ctx: SlackContext, callback_id: str, exc: FieldError) -> dict[str, str]:
    blocks, fallback = BLOCKS[callback_id]
    return forms.errors_for_view(ctx.core.renderer.field_errors(exc), blocks, fallback)


def refusal_errors(ctx: SlackContext, callback_id: str, exc: Refusal) -> dict[str, str]:
    """A refusal is shown on the field it names (e.g. units outside the consent), else on the fallback."""
    blocks, fallback = BLOCKS[callback_id]
    named = exc.params.get("field")
    return {named if named in blocks else fallback: ctx.core.renderer.refusal(exc)}


Act = Callable[[str, str, dict[str, Any]], Awaitable[Case | None]]


def register(app: AsyncApp, ctx: SlackContext) -> None:
    core = ctx.core

    async def who(ack: Any, body: dict[str, Any], callback_id: str) -> str | None:
        person_id = await ctx.identity.person_for(str((body.get("user") or {}).get("id") or ""))
        if person_id is None:
            await ack(response_action="errors", errors={BLOCKS[callback_id][1]: unknown_user_text(ctx)})
        return person_id

    @app.view("gfi_request")
    @guarded("view.gfi_request")
    async def submit_request(ack: Any, body: dict[str, Any], view: dict[str, Any]) -> None:
        person_id = await who(ack, body, "gfi_request")
        if person_id is None:
            return
        values = forms.view_values(view)
        form, parse_errors = forms.parse_request(values)
        key = f"view:{view.get('id')}:{state_hash(view.get('state'))}"
        try:
            if parse_errors:
                service_errors: FieldError | None = None
                try:
                    core.cases.validate_request(person_id, form)
                except FieldError as exc:
                    service_errors = exc
                raise forms.merge(parse_errors, service_errors) or FieldError(parse_errors)
            case = await core.cases.request(person_id, form, idempotency_key=key)
        except FieldError as exc:
            log.info("request rejected", extra={"event": "slack.request_rejected", "fields": sorted(exc.errors)})
            await ack(response_action="errors", errors=field_errors(ctx, "gfi_request", exc))
            return
        except Refusal as exc:
            await ack(response_action="errors", errors=refusal_errors(ctx, "gfi_request", exc))
            return
        text = core.renderer.render("slack_request_done", case=case)
        await ack(response_action="update", view=core.renderer.view("slack_info", text=text))
        log.info("request filed via slack", extra={"event": "slack.request_filed", "case_ref": case.ref})
        ctx.after_change()

    def case_modal(callback_id: str, act: Act) -> None:
        """A modal about one case (ref in private_metadata): claim the submission once, act, answer."""

        @app.view(callback_id)
        @guarded(f"view.{callback_id}")
        async def submit(ack: Any, body: dict[str, Any], view: dict[str, Any]) -> None:
            person_id = await who(ack, body, callback_id)
            if person_id is None:
                return
            ref = forms.private_ref(view)
            key = f"view:{view.get('id')}:{state_hash(view.get('state'))}"
            if not await ctx.claim(key, "view"):
                await ack()  # the same submission again (a retry or a double click): already handled
                return
            try:
                case = await act(person_id, ref, forms.view_values(view))
            except FieldError as exc:
                await ctx.release(key)
                await ack(response_action="errors", errors=field_errors(ctx, callback_id, exc))
                return
            except Refusal as exc:
                await ctx.release(key)
                await ack(response_action="errors", errors=refusal_errors(ctx, callback_id, exc))
                return
            except BaseException:
                await ctx.release(key)
                raise
            await ack()
            if case is not None:
                log.info("case action via slack", extra={"event": "slack.case_action", "case_ref": case.ref,
                                                          "view": callback_id})
            ctx.after_change()

    async def assign(person_id: str, ref: str, values: dict[str, Any]) -> Case:
        form = forms.parse_assign(values)
        return await core.cases.assign(person_id, ref, form.people, form.other, reassign=False)

    async def reassign(person_id: str, ref: str, values: dict[str, Any]) -> Case:
        form = forms.parse_assign(values)
        return await core.cases.assign(person_id, ref, form.people, form.other, reassign=True)

    async def book(person_id: str, ref: str, values: dict[str, Any]) -> Case:
        form, errors = forms.parse_book(values, core.settings.timezone)
        if errors or form.at is None:
            raise FieldError(errors)
        return await core.cases.book(person_id, ref, form.at, form.place, form.units)

    async def outcome(person_id: str, ref: str, values: dict[str, Any]) -> Case:
        form, errors = forms.parse_outcome(values)
        if errors:
            raise FieldError(errors)
        return await core.cases.record_outcome(person_id, ref, form.outcome, form.evaluation_done)

    async def follow_up(person_id: str, ref: str, values: dict[str, Any]) -> Case:
        form, errors = forms.parse_follow_up(values)
        if errors or form.due is None:
            raise FieldError(errors)
        return await core.cases.add_follow_up(person_id, ref, form.owner, form.due, form.what)

    async def renew(person_id: str, ref: str, values: dict[str, Any]) -> Case:
        form, errors = forms.parse_renew(values)
        if errors or form.until is None:
            raise FieldError(errors)
        return await core.cases.renew_consent(
            person_id, ref, form.until, form.scope, form=form.form, obtained_by=form.obtained_by,
            covers=form.covers, note=form.note,
        )

    async def withdraw(person_id: str, ref: str, values: dict[str, Any]) -> Case:
        unit, errors = forms.parse_withdraw(values)
        if errors:
            raise FieldError(errors)
        return await core.cases.withdraw_consent(person_id, ref, unit=unit)

    async def close(person_id: str, ref: str, values: dict[str, Any]) -> Case:
        reason, errors = forms.parse_close(values)
        if errors:
            raise FieldError(errors)
        return await core.cases.close(person_id, ref, reason)

    case_modal("gfi_assign", assign)
    case_modal("gfi_reassign", reassign)
    case_modal("gfi_book", book)
    case_modal("gfi_outcome", outcome)
    case_modal("gfi_follow_up", follow_up)
    case_modal("gfi_close", close)
    case_modal("gfi_renew", renew)
    case_modal("gfi_withdraw_consent", withdraw)

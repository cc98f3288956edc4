"""Helpers shared by the listeners: wiring with the context bound, who is asking, answering, honest failure."""

from __future__ import annotations

import asyncio
import functools
import inspect
import logging
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass, field
from typing import Any, Literal

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot import audit
from bot.cases import access
from bot.channels.slack.context import SlackContext
from bot.channels.slack.deadlines import arrived_at
from bot.channels.slack.markup import escape
from bot.channels.slack.sender import message_payload
from bot.channels.slack.views import info_view
from bot.directory import Role
from bot.errors import Refusal, StoreFull
from handlers.slack.clicks import parse_click, private_ref
from handlers.slack.forms import PayloadError

log = logging.getLogger("handlers.slack")

Listener = Callable[..., Awaitable[None]]
Kind = Literal["command", "view", "action", "event", "options"]


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
            await client.views_open(trigger_id=trigger_id, view=info_view(ctx.core.renderer, text))
    except SlackApiError as exc:
        reason = str(exc.response.get("error"))
        log.warning("slack reply failed", extra={"event": "slack.reply_failed", "reason": reason})


async def open_form(
    ctx: SlackContext,
    client: AsyncWebClient,
    *,
    trigger_id: str | None,
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


async def masked(ctx: SlackContext, person_id: str, refusal: Refusal) -> Refusal:
    """The refusal as the person may see it: about a case they have no part in, the unknown-reference answer
    (`bot.cases.access.masked`; the audit keeps the real reason)."""
    core = ctx.core
    return await access.masked(core.db, core.cases.load, core.directory, person_id, refusal)


async def refusal_text(ctx: SlackContext, person_id: str, refusal: Refusal) -> str:
    """The text of a refusal, masked (see `masked`)."""
    return ctx.core.renderer.refusal(await masked(ctx, person_id, refusal))


async def audit_refusal(ctx: SlackContext, person_id: str, action: str, ref: str | None, refusal: Refusal) -> None:
    """Refusals found before the service is reached (e.g. opening a form) are audited like the service's."""
    await audit.record_refusal(ctx.core.db, at=ctx.core.clock.now(), actor_id=person_id, action=action,
                               case_ref=ref, reason=refusal.code)


# --- answering a view submission within Slack's three seconds -------------------------------------------------

@dataclass
class Answer:
    """How a view submission is answered: field errors on the form, or done (with a text to show, or closed)."""

    errors: dict[str, str] | None = None
    text: str | None = None  # shown in place of the form; None closes it
    case_ref: str | None = None
    changed: bool = False  # something was committed: deliver and refresh Home tabs
    log_extra: dict[str, Any] = field(default_factory=dict)

    def ack_kwargs(self, ctx: SlackContext) -> dict[str, Any]:
        if self.errors:
            return {"response_action": "errors", "errors": self.errors}
        if self.text is not None:
            return {"response_action": "update", "view": info_view(ctx.core.renderer, self.text)}
        return {}


@dataclass
class Kept:
    """How a new request's form is kept durably before a late filing is answered "registreras", and let go of
    when the filing has ended (`bot.intake`)."""

    keep: Callable[[], Coroutine[Any, Any, None]]
    forget: Callable[[], Coroutine[Any, Any, None]]


async def answer_in_time(
    ctx: SlackContext,
    ack: Any,
    body: dict[str, Any],
    client: AsyncWebClient,
    job: Coroutine[Any, Any, Answer],
    *,
    name: str,
    ref: str | None = None,
    kept: Kept | None = None,
) -> None:
    """Run `job` (the service call that decides the answer) and ack with its answer, if it is ready within
    `ctx.ack_budget` seconds of the request's arrival. Otherwise ack with "it takes longer than usual" (for a
    new request: that it is being registered), let the job finish in the background and tell the user its
    outcome then (in the modal if it is still open, else by DM).

    Slack drops an ack after three seconds and shows the user a generic error, while the job would still
    commit; Bolt itself answers 404 when no ack came within three seconds of the request's arrival. So the
    budget counts from the arrival (a request that waited for its turn on a busy event loop has less of it
    left), and the work is never cancelled half-way.

    A new request (`kept`) is answered "registreras" only once its form is stored durably (`bot.intake`, by
    `ctx.keep_budget`): a crash before the filing commits then loses nothing, the next start files it. If the
    form could not be kept in time, the answer says to send it again should no reference come."""
    task = ctx.spawn(job, f"gfi-slack-{name}")
    left = ctx.ack_budget - (asyncio.get_running_loop().time() - arrived_at())
    done, _ = await asyncio.wait({task}, timeout=max(0.0, left))
    if task in done:
        answer = task.result()  # an unexpected error propagates: `bind` puts it on the form
        await ack(**answer.ack_kwargs(ctx))
        if answer.changed:
            ctx.after_change()
        return
    log.warning("view answer late", extra={"event": "slack.view_late", "listener": name, "case_ref": ref})
    durable = True
    if kept is not None:
        durable = await _keep(ctx, kept, task, name=name)
        if task.done():  # it filed while the form was being kept: its own answer, as in time
            answer = task.result()
            await ack(**answer.ack_kwargs(ctx))
            if answer.changed:
                ctx.after_change()
            return
    text = ctx.core.renderer.render("slack_slow", ref=ref, filing=name == "view.gfi_request", kept=durable)
    await ack(response_action="update", view=info_view(ctx.core.renderer, text))
    ctx.spawn(_report_late(ctx, client, task, body, name=name, ref=ref), f"gfi-slack-{name}-late")


async def _keep(ctx: SlackContext, kept: Kept, task: asyncio.Task[Answer], *, name: str) -> bool:
    """Keep the form, by `ctx.keep_budget` from the arrival or until the filing ends; whether it was kept. The
    form is let go of once both have ended, whichever way."""
    keeping = ctx.spawn(kept.keep(), f"gfi-slack-{name}-keep")
    ctx.spawn(_let_go(kept, keeping, task, name=name), f"gfi-slack-{name}-let-go")
    left = ctx.keep_budget - (asyncio.get_running_loop().time() - arrived_at())
    await asyncio.wait({keeping, task}, timeout=max(0.0, left), return_when=asyncio.FIRST_COMPLETED)
    if keeping.done() and not keeping.cancelled() and keeping.exception() is None:
        return True
    if not task.done():
        log.warning("form not kept in time", extra={"event": "slack.intake_late", "listener": name})
    return False


async def _let_go(kept: Kept, keeping: asyncio.Task[None], task: asyncio.Task[Answer], *, name: str) -> None:
    """Once the form's keeping and the filing have both ended: the form is no longer kept."""
    await asyncio.wait({keeping, task})
    if not keeping.cancelled() and keeping.exception() is not None:
        log.warning("form not kept", extra={"event": "slack.intake_failed", "listener": name,
                                            "reason": type(keeping.exception()).__name__})
    try:
        await kept.forget()
    except Exception as exc:  # the next start files it again, and the idempotency key finds the case
        log.warning("kept form not let go", extra={"event": "slack.intake_failed", "listener": name,
                                                   "reason": type(exc).__name__})


async def _report_late(ctx: SlackContext, client: AsyncWebClient, task: asyncio.Task[Answer], body: dict[str, Any],
                       *, name: str, ref: str | None) -> None:
    """The outcome of a job that missed the ack: in place of the "takes longer" modal, or as a DM."""
    renderer = ctx.core.renderer
    try:
        answer = await task
    except Exception as exc:
        text = failure_text(ctx, exc, name=name, ref=ref)
    else:
        if answer.changed:
            ctx.after_change()
        if answer.errors:
            text = "\n".join([renderer.render("slack_late_rejected", ref=ref), *answer.errors.values()])
        else:
            text = answer.text or renderer.render("slack_late_done", ref=answer.case_ref or ref)
    view_id = str((body.get("view") or {}).get("id") or "")
    user_id = str((body.get("user") or {}).get("id") or "")
    try:
        await client.views_update(view_id=view_id, view=info_view(renderer, text))
        return
    except SlackApiError:
        pass  # the modal was closed: send the outcome as a direct message instead
    try:
        await client.chat_postMessage(channel=user_id, **message_payload(text, None))
    except SlackApiError as exc:
        log.warning("late answer failed", extra={"event": "slack.reply_failed", "case_ref": ref,
                                                 "reason": str(exc.response.get("error"))})


# --- wiring ----------------------------------------------------------------------------------------------------

# What every listener's failure handling needs from Bolt, whether or not the listener itself asks for it.
_FAILURE_ARGS = ("ack", "body", "client", "respond")


def bind(ctx: SlackContext, listener: Listener, kind: Kind, name: str) -> Listener:
    """The Bolt listener for a module-level `listener(ctx, **bolt_args)`: the context bound, and an
    unexpected error answered honestly (see `failed`) instead of a silent ack or a 500."""
    bound = functools.partial(listener, ctx)
    own = inspect.signature(bound)
    wanted = list(own.parameters)

    async def wired(**kwargs: Any) -> None:
        try:
            await bound(**{k: v for k, v in kwargs.items() if k in wanted})
        except Exception as exc:
            await failed(ctx, kind, name, error=exc, **kwargs)

    params = list(own.parameters.values())
    params += [inspect.Parameter(a, inspect.Parameter.POSITIONAL_OR_KEYWORD) for a in _FAILURE_ARGS if a not in wanted]
    wired.__signature__ = own.replace(parameters=params)  # type: ignore[attr-defined]  # Bolt injects by name
    wired.__name__ = wired.__qualname__ = name
    return wired


def after_ack(ctx: SlackContext, work: Coroutine[Any, Any, None], name: str, *, ack: Any, body: dict[str, Any],
              client: AsyncWebClient, respond: Any) -> None:
    """Run a command's work after its ack as a task of its own (the listener returns, and the request is answered
    at once: `bot.channels.slack.front_door.bolt_endpoint`); an unexpected error is answered as `bind` does (after
    the ack: ephemeral, through `respond`)."""

    async def guarded() -> None:
        try:
            await work
        except Exception as exc:
            await failed(ctx, "command", name, ack=ack, body=body, client=client, respond=respond, error=exc)

    ctx.spawn(guarded(), f"gfi-slack-{name}")


def _ref_of(kind: Kind, body: dict[str, Any]) -> str | None:
    """The case reference a payload is about (for the log), if any: never free text."""
    try:
        if kind == "view":
            return private_ref(body.get("view") or {}) or None
        if kind == "action":
            return parse_click(body).ref or None
    except (PayloadError, ValueError, TypeError, AttributeError, KeyError):
        return None
    return None


def first_input_block(view: dict[str, Any]) -> str | None:
    """The block_id of a view's first input block (where a form-wide error is shown); without the blocks
    in the payload, the first block with a submitted state."""
    for block in view.get("blocks") or []:
        if isinstance(block, dict) and block.get("type") == "input" and block.get("block_id"):
            return str(block["block_id"])
    values = (view.get("state") or {}).get("values")
    if isinstance(values, dict):
        return next((str(k) for k in values), None)
    return None


def failure_text(ctx: SlackContext, error: BaseException | None, *, name: str, ref: str | None) -> str:
    """What the user is told about a listener's failure, and the log line: a full store is said as such (the
    store logged `store.full` once, so no traceback here); anything else is unexpected, logged with its trace."""
    if isinstance(error, StoreFull):
        log.info("listener refused: store full", extra={"event": "slack.store_full", "listener": name,
                                                         "case_ref": ref})
        return ctx.core.renderer.render("store_full", ref=ref)
    log.error("listener failed", exc_info=error if error is not None else True,
              extra={"event": "slack.listener_failed", "listener": name, "case_ref": ref})
    return ctx.core.renderer.render("slack_unexpected_error", ref=ref)


async def failed(ctx: SlackContext, kind: Kind, name: str, *, ack: Any, body: dict[str, Any],
                 client: AsyncWebClient, respond: Any = None, error: BaseException | None = None, **_: Any) -> None:
    """An unexpected error in a listener: log it (event and case reference, never the payload) and tell the
    user: on the form for a submission, ephemeral for a click or a command. Never a silent close."""
    body = body if isinstance(body, dict) else {}
    ref = _ref_of(kind, body)
    acked = getattr(ack, "response", None) is not None
    try:
        text = failure_text(ctx, error, name=name, ref=ref)
        if kind == "view":
            if acked:
                return
            block = first_input_block(body.get("view") or {})
            if block is None:  # a view without inputs: replace it with the explanation
                await ack(response_action="update", view=info_view(ctx.core.renderer, text))
            else:
                await ack(response_action="errors", errors={block: text})
            return
        if kind == "command":
            if not acked:
                await ack(text=escape(text), response_type="ephemeral")
            elif respond is not None:
                await respond(text=escape(text), response_type="ephemeral", replace_original=False)
            return
        if not acked:
            await ack()
        if kind == "action":
            user = body.get("user") or {}
            channel = body.get("channel") or {}
            await reply(ctx, client, user_id=str(user.get("id") or ""), text=text,
                        channel_id=channel.get("id") if isinstance(channel, dict) else None,
                        trigger_id=body.get("trigger_id"))
    except Exception:
        log.exception("failure answer failed", extra={"event": "slack.listener_failed", "listener": name,
                                                      "case_ref": ref})

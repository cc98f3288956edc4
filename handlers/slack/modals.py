"""The two shapes the Slack listeners of samverkan, statistics and brister share, once:

- a click: ack, find who clicked (telling someone the directory does not know whom to contact), ask the rule,
  then open a modal or answer only the clicker (`clicked`, `Clicker`, `open_after_rule`);
- a submission: once per submitted form (a double submission is acked and does nothing), the form's own
  errors and the service's refusals back on the form's fields, the receipt in place of the form (`submit_once`,
  `show_done`).

The rules are asked of `bot/`; nothing is decided here.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from slack_sdk.web.async_client import AsyncWebClient

from bot.channels.slack.context import SlackContext, state_hash
from bot.channels.slack.views import info_view
from bot.errors import FieldError, Refusal
from handlers.slack import forms
from handlers.slack.common import open_form, reply, unknown_user_text

T = TypeVar("T")


def where(body: dict[str, Any]) -> dict[str, Any]:
    """Where to answer a click: its channel (ephemeral), else a modal on its trigger (App Home)."""
    return {"trigger_id": body.get("trigger_id"), "channel_id": (body.get("channel") or {}).get("id")}


@dataclass(frozen=True)
class Clicker:
    """Who clicked (Slack user, directory person), and how to answer them."""

    ctx: SlackContext
    client: AsyncWebClient
    body: dict[str, Any]
    user_id: str
    person_id: str

    async def tell(self, text: str) -> None:
        """Answer only the clicker."""
        await reply(self.ctx, self.client, user_id=self.user_id, text=text, **where(self.body))

    async def refuse(self, refusal: Refusal) -> None:
        await self.tell(self.ctx.core.renderer.refusal(refusal))

    async def open(self, view: dict[str, Any], *, ref: str | None = None) -> bool:
        """Open the modal (or tell the clicker it could not be opened)."""
        return await open_form(self.ctx, self.client, trigger_id=str(self.body.get("trigger_id")), view=view,
                               user_id=self.user_id, channel_id=where(self.body)["channel_id"], ref=ref)


async def clicked(ctx: SlackContext, body: dict[str, Any], client: AsyncWebClient, *,
                  tell: bool = True) -> Clicker | None:
    """The clicker, after the ack (this may ask Slack who they are); None for someone the directory does not know,
    who is told whom to contact (with `tell`)."""
    user_id = str((body.get("user") or {}).get("id") or "")
    person_id = await ctx.identity.person_for(user_id)
    if person_id is None:
        if tell:
            await reply(ctx, client, user_id=user_id, text=unknown_user_text(ctx), **where(body))
        return None
    return Clicker(ctx, client, body, user_id, person_id)


Modal = tuple[dict[str, Any], str | None]  # the view to open, and the case or report it is about (for the log)


async def open_after_rule(ctx: SlackContext, ack: Any, body: dict[str, Any], client: AsyncWebClient,
                          build: Callable[[Clicker], Awaitable[Modal]]) -> None:
    """A button that opens a modal: ack, find the clicker, then `build` asks the rule and renders the view (a
    Refusal it raises is told to the clicker only, and no modal opens)."""
    await ack()
    who = await clicked(ctx, body, client)
    if who is None:
        return
    try:
        view, ref = await build(who)
    except Refusal as exc:
        await who.refuse(exc)
        return
    await who.open(view, ref=ref)


async def submitter(ctx: SlackContext, ack: Any, body: dict[str, Any], field: str) -> str | None:
    """Who submitted the form, from the directory or an earlier match only (no network before the ack); someone
    unknown gets whom to contact on `field`, and None."""
    person_id = await ctx.identity.cached_person_for(str((body.get("user") or {}).get("id") or ""))
    if person_id is None:
        await ack(response_action="errors", errors={field: unknown_user_text(ctx)})
    return person_id


async def submit_once(ctx: SlackContext, ack: Any, view: dict[str, Any], call: Callable[[], Awaitable[T]], *,
                      field: str, blocks: set[str], parse_errors: dict[str, tuple[str, dict[str, Any]]] | None = None,
                      ) -> T | None:
    """Run the service `call` once per submitted form; the form's own errors (`parse_errors`) and the service's
    field errors go back on the form's `blocks` (the rest on `field`), a refusal on `field`. None when the form
    was answered here (errors, or a double submission); the caller then shows its receipt with `show_done`."""
    key = f"view:{view.get('id')}:{state_hash(view.get('state'))}"
    if not await ctx.claim(key, "view"):
        await ack()  # a double submission of the same form: done once
        return None
    try:
        if parse_errors:
            raise FieldError(parse_errors)
        return await call()
    except FieldError as exc:
        await ctx.release(key)
        shown = ctx.core.renderer.field_errors(exc)
        await ack(response_action="errors", errors=forms.errors_for_view(shown, blocks, field))
    except Refusal as exc:
        await ctx.release(key)
        await ack(response_action="errors", errors={field: ctx.core.renderer.refusal(exc)})
    return None


async def show_done(ctx: SlackContext, ack: Any, text: str) -> None:
    """The receipt in place of the submitted form."""
    await ack(response_action="update", view=info_view(ctx.core.renderer, text))

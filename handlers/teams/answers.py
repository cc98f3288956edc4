"""What the Teams card actions share: the invoke answer, the claim key of a submission, the case and item an
action names, and the cards after a change or a refusal (the read log of what they show included)."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Awaitable, Callable
from typing import Any

from microsoft_agents.activity import AdaptiveCardInvokeResponse

from bot import audit, readlog
from bot.cases import access
from bot.cases.models import Case, parse_ref
from bot.cases.visibility import shown_free_text
from bot.channels.teams import cards
from bot.channels.teams.app import TeamsContext
from bot.errors import FieldError, Refusal
from bot.numerals import is_number


def say(ctx: TeamsContext, name: str, **params: Any) -> str:
    """A macro of teams.j2 (as `commands.say`; here so that the Home and brist handlers can use this module)."""
    return ctx.core.renderer.macro("teams", name, **params)


def response(content: dict[str, Any]) -> AdaptiveCardInvokeResponse:
    return AdaptiveCardInvokeResponse(status_code=200, type=cards.CONTENT_TYPE, value=content)


def claim_key(user: str, verb: str, data: dict[str, Any]) -> str:
    raw = json.dumps({k: v for k, v in data.items()}, sort_keys=True, ensure_ascii=False, default=str)
    digest = hashlib.sha256(f"{user}|{verb}|{raw}".encode()).hexdigest()[:40]
    return f"teams:act:{digest}"


def item_of(data: dict[str, Any]) -> int:
    value = data.get("item")
    if isinstance(value, bool) or not isinstance(value, (int, str)) or not is_number(str(value)):
        raise Refusal("escalation_not_found", item=str(value)[:20])
    return int(value)


# --- answers -------------------------------------------------------------------------------------------
def done_card(ctx: TeamsContext, person_id: str, text: str) -> dict[str, Any]:
    """An answer card ending with who did it and when."""
    return cards.text_card(text + "\n" + say(ctx, "by", person=person_id, at=ctx.core.clock.now()))


async def refused(ctx: TeamsContext, person_id: str, exc: Refusal) -> dict[str, Any]:
    """The refusal as the person may see it (a case they may not see is not confirmed to exist)."""
    core = ctx.core
    exc = await access.masked(core.db, core.cases.load, core.directory, person_id, exc)
    return cards.text_card(core.renderer.refusal(exc))


async def audit_refusal(ctx: TeamsContext, person_id: str, action: str, ref: str | None, exc: Refusal) -> None:
    await audit.record_refusal(ctx.core.db, at=ctx.core.clock.now(), actor_id=person_id, action=action,
                               case_ref=ref, reason=exc.code)


def ref_of(data: dict[str, Any]) -> str:
    """The case reference an action names; Refusal when it is not one."""
    ref = parse_ref(str(data.get("ref") or ""))
    if ref is None:
        raise Refusal("case_not_found", ref=str(data.get("ref") or "")[:20])
    return ref


async def done(ctx: TeamsContext, person_id: str, action: str, case: Case, **extra: Any) -> dict[str, Any]:
    """After a change: deliver its notifications, log the free text the answer shows, answer."""
    core = ctx.core
    ctx.after_change()
    shown = [c.ref for c in shown_free_text("teams", {"action": action, "case": case})]
    await readlog.record_now(core.db, at=core.clock.now(), person_id=person_id, refs=shown,
                             view="teams_action_done", channel="teams")
    return done_card(ctx, person_id, say(ctx, "done", action=action, case=case, **extra))




async def submitted_once(ctx: TeamsContext, key: str, verb: str, changes: bool, ref: str | None,
                         run: Callable[[], Awaitable[dict[str, Any]]],
                         again: Callable[[dict[str, str]], dict[str, Any]]) -> dict[str, Any]:
    """One card action that may change something (`changes`): claimed once under `key` (a double click or a
    redelivered invoke is answered "already done"); field errors back on the form (`again`, with the errors
    under their fields); refusals as text. A refused or failed submission releases the claim, so the person
    can correct it and send it again."""
    if changes and not await ctx.store.claim(key, verb):
        return cards.text_card(ctx.core.renderer.macro("teams", "already", ref=ref))
    try:
        return await run()
    except FieldError as exc:
        if changes:
            await ctx.store.release(key)
        return again(ctx.core.renderer.field_errors(exc))
    except Refusal as exc:
        if changes:
            await ctx.store.release(key)
        return cards.text_card(ctx.core.renderer.refusal(exc))
    except BaseException:
        if changes:
            await ctx.store.release(key)
        raise

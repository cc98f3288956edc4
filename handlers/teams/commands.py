"""Teams messages in the personal chat (thin): gfi, kö, mina, brist, journal, hjälp, and the app being installed."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from microsoft_agents.activity import Activity, ActivityTypes
from microsoft_agents.hosting.core import AgentApplication, TurnContext, TurnState

from bot import readlog
from bot.cases import access, offers
from bot.cases.distribution import QueuePage
from bot.cases.models import Case, parse_ref
from bot.cases.visibility import may_see
from bot.channels.teams import cards, limits
from bot.channels.teams.app import TeamsContext
from bot.channels.teams.cards import execute as card_action
from bot.directory import Role
from bot.errors import Refusal
from bot.journal import journal_for
from handlers.teams import absence, brister, forms, home, oversight
from handlers.teams.common import bind

log = logging.getLogger("handlers.teams.commands")

WORDS = {"gfi": "gfi", "kö": "queue", "ko": "queue", "kön": "queue", "mina": "mine", "brist": "brist",
         "journal": "journal", "journalunderlag": "journal", "hjälp": "help", "hjalp": "help", "help": "help",
         "frånvaro": "absence", "franvaro": "absence", "hem": "home", "home": "home"}


async def send_card(context: TurnContext, content: dict[str, Any]) -> None:
    await context.send_activity(Activity(type=ActivityTypes.message, attachments=[cards.attachment(content)]))


def unknown_user_card(ctx: TeamsContext) -> dict[str, Any]:
    admins = [p.id for p in ctx.core.directory.people.values() if Role.ADMIN in p.roles]
    return cards.text_card(ctx.core.renderer.render("teams_unknown_user", admins=admins))


def with_dialog(ctx: TeamsContext, content: dict[str, Any], dialog: str) -> dict[str, Any]:
    """A form card with a second button that opens the same form as a dialog (handlers/teams/dialogs.py)."""
    button = cards.dialog_button(say(ctx, "open_dialog"), dialog)
    return {**content, "actions": [*content.get("actions", []), button]}


def say(ctx: TeamsContext, name: str, **params: Any) -> str:
    return ctx.core.renderer.macro("teams", name, **params)


QUEUE_MORE = "queue_more"  # the button under a capped queue: the next page of that queue (data: unit, skip)
QUEUE_BRIEF = 300  # characters of a brief in the queue, as on Slack's Home


def _queue_body(ctx: TeamsContext, queues: list[QueuePage], cap: int, nonce: str,
                ) -> tuple[list[dict[str, Any]], list[str]]:
    """The pages of the queues with at most `cap` cases each, an assign form under each; the cases whose
    brief is shown."""
    core = ctx.core
    now = core.clock.now()
    notes = cards.teams_notes()
    body: list[dict[str, Any]] = []
    shown: list[str] = []
    for queue in queues:
        unit_id = queue.unit_id
        body.append(cards.plain(say(ctx, "queue_head", unit_id=unit_id, count=queue.total), weight="bolder"))
        if not queue.cases:
            body.append(cards.plain(say(ctx, "queue_empty")))
        page, _ = limits.capped(queue.cases, cap)
        more = max(0, queue.total - queue.skip - len(page))
        for case in page:
            items = [cards.plain(say(ctx, "queue_case", c=case, age=core.renderer.age(now - case.created_at)))]
            if case.brief and case.erased_at is None:
                brief = limits.fit_long_text(case.brief, QUEUE_BRIEF, notes)
                items.append(cards.plain(say(ctx, "brief", c=case, text=brief)))
                shown.append(case.ref)
            if not case.disputed:  # a disputed case is not offered for assignment until it is settled
                form = forms.assign_form(ctx, case, suffix=case.ref)
                items += cards.form_body(core.renderer, form)
                submit = cards.form_card(core.renderer, form, nonce=nonce)["actions"]
                items.append({"type": "ActionSet", "actions": submit})
            body.append({"type": "Container", "separator": True, "items": items})
        if more:
            after = queue.skip + len(page)
            body.append(cards.more_line(say(ctx, "queue_more", count=more)))
            body.append({"type": "ActionSet", "actions": [card_action(
                say(ctx, "queue_next", unit_id=unit_id), QUEUE_MORE, {"unit": unit_id, "skip": after})]})
    return body, shown


async def queue_card(ctx: TeamsContext, person_id: str, unit: str | None = None, skip: int = 0) -> dict[str, Any]:
    """The distributor's queues (oldest first), an assign form under each case; as many cases of each as fit
    on one card (at most limits.LIST_ITEMS), the rest counted with a button to the next page of that queue.
    `unit`: only that queue. The briefs shown are logged as read."""
    core = ctx.core
    cap = limits.LIST_ITEMS
    try:  # one bounded page of each queue (the most a card shows) and each queue's length
        queues = await core.cases.queue_pages(person_id, limit=cap, skip=skip, unit=unit)
    except Refusal:
        return cards.text_card(say(ctx, "not_distributor"))
    nonce = cards.new_nonce()

    def build() -> tuple[dict[str, Any], list[str]]:
        nonlocal cap
        body, shown = _queue_body(ctx, queues, cap, nonce)
        while cap > 1 and not limits.fits(cards.raw_card(body)):
            cap -= 1
            body, shown = _queue_body(ctx, queues, cap, nonce)
        return cards.card(body), shown

    # the cards with their assign forms, made again until they fit: about 10 ms of CPU, off the event loop
    content, shown = await asyncio.to_thread(build)
    await readlog.record_now(core.db, at=core.clock.now(), person_id=person_id, refs=shown, view="queue",
                             channel="teams")
    return content


def _mine_section(ctx: TeamsContext, person_id: str, title: str, macro: str, cases: list[Case],
                  nonce: str, more: int = 0) -> list[dict[str, Any]]:
    core = ctx.core
    body: list[dict[str, Any]] = [cards.plain(say(ctx, title), weight="bolder")]
    if not cases:
        body.append(cards.plain(say(ctx, "mine_none")))
    for case in cases:
        offered = (*offers.next_steps(case, person_id, core.directory, withdraw=True),
                   *offers.renew(case, person_id, core.directory))
        items: list[dict[str, Any]] = [cards.plain(say(ctx, macro, c=case))]
        buttons = [cards.offer_action(core.renderer, o, nonce) for o in offered]
        if buttons:
            items.append({"type": "ActionSet", "actions": buttons})
        body.append({"type": "Container", "separator": True, "items": items})
    if more > 0:
        body.append(cards.more_line(say(ctx, "mine_more", count=more)))
    return body


async def mine_card(ctx: TeamsContext, person_id: str) -> dict[str, Any]:
    """The person's open requests and the open cases they are responsible for, each with the actions offered
    to them now (`bot/cases/offers.py`) as Action.Execute buttons. Only cases they may see are listed (need to
    know). Like the console's and Slack Home's lists it quotes no free text (no brief, contact or place), so
    there is nothing for the read log (`bot/readlog.py` logs free text shown)."""
    core = ctx.core
    mine = await core.cases.mine(person_id)
    requests = [c for c in mine.requests if may_see(c, person_id, core.directory)]
    cases = [c for c in mine.cases if may_see(c, person_id, core.directory)]
    nonce = cards.new_nonce()
    more_requests = (mine.request_total or 0) - len(mine.requests)
    more_cases = (mine.case_total or 0) - len(mine.cases)
    body = (_mine_section(ctx, person_id, "mine_requests", "mine_request", requests, nonce, more_requests)
            + _mine_section(ctx, person_id, "mine_cases", "mine_case", cases, nonce, more_cases))
    if mine.proposals:  # follow-ups proposed across principals, waiting for the person's answer
        body.append(cards.plain(say(ctx, "mine_proposals"), weight="bolder"))
        for case, number in mine.proposals:
            offered = offers.accept_follow_up(case, person_id, core.directory, number)
            body.append({"type": "Container", "separator": True, "items": [
                cards.plain(say(ctx, "mine_proposal", c=case, n=number)),
                {"type": "ActionSet", "actions": [cards.offer_action(core.renderer, o, nonce) for o in offered]}]})
        if mine.more_proposals > 0:
            body.append(cards.more_line(say(ctx, "mine_more", count=mine.more_proposals)))
    return cards.card(body)


async def journal_card(ctx: TeamsContext, person_id: str, ref: str) -> dict[str, Any]:
    """The journal record as a text card (the card action and the chat word `journal <ref>`); Refusal when the
    person may not have it."""
    core = ctx.core
    record = await journal_for(core.db, core.cases.load, core.directory, core.renderer, person_id=person_id,
                               ref=ref, now=core.clock.now(), channel="teams")
    return cards.text_card(record.text)


async def journal_word(ctx: TeamsContext, person_id: str, text: str) -> dict[str, Any]:
    """`journal GFI-2026-0001` in the chat."""
    core = ctx.core
    words = text.split()
    ref = parse_ref(words[1]) if len(words) > 1 else None
    if ref is None:
        return cards.text_card(core.renderer.render("teams_journal_usage"))
    try:
        return await journal_card(ctx, person_id, ref)
    except Refusal as exc:
        exc = await access.masked(core.db, core.cases.load, core.directory, person_id, exc)
        return cards.text_card(core.renderer.refusal(exc))


async def on_message(ctx: TeamsContext, context: TurnContext, state: TurnState) -> None:
    """A message in the personal chat: one of the words, else a short "not understood"."""
    core = ctx.core
    person_id = await ctx.identity.person_for(context)
    if person_id is None:
        await send_card(context, unknown_user_card(ctx))
        return
    await ctx.identity.remember_chat(context, person_id, "message")
    text = (context.activity.text or "").strip().lstrip("/").lower()
    first = text.split()[0] if text else ""
    word = WORDS.get(first)
    if first in oversight.WORDS:
        args = (context.activity.text or "").strip().split()[1:]
        await send_card(context, await oversight.view(ctx, person_id, first, args))
    elif word == "home":
        await send_card(context, await home.home_card(ctx, person_id, home.teams_user(context)))
    elif word == "gfi":
        await send_card(context, with_dialog(ctx, forms.request_card(ctx, person_id, cards.new_nonce()), "request"))
    elif word == "queue":
        await send_card(context, await queue_card(ctx, person_id))
    elif word == "mine":
        await send_card(context, await mine_card(ctx, person_id))
    elif word == "brist":
        form = brister.report_form(ctx)
        await send_card(context, with_dialog(ctx, cards.form_card(core.renderer, form, nonce=cards.new_nonce()),
                                             "brist"))
    elif word == "journal":
        await send_card(context, await journal_word(ctx, person_id, text))
    elif word == "absence":
        await send_card(context, await absence.absence_card(ctx, person_id))
    elif word == "help":
        await send_card(context, cards.text_card(core.renderer.render("teams_help")))
    else:
        shown = (context.activity.text or "").strip()[:40]
        await send_card(context, cards.text_card(core.renderer.render("teams_not_understood", text=shown)))


async def installed(ctx: TeamsContext, context: TurnContext) -> None:
    """The app was added for a person: remember the chat and say hello."""
    person_id = await ctx.identity.person_for(context)
    if person_id is None:
        await send_card(context, unknown_user_card(ctx))
        return
    await ctx.identity.remember_chat(context, person_id, "install")
    await send_card(context, cards.text_card(say(ctx, "welcome")))
    log.info("teams app installed", extra={"event": "teams.install"})


async def on_install(ctx: TeamsContext, context: TurnContext, state: TurnState) -> None:
    """`installationUpdate`: only an added app is greeted."""
    if (context.activity.action or "add").startswith("add"):
        await installed(ctx, context)


async def on_members_added(ctx: TeamsContext, context: TurnContext, state: TurnState) -> None:
    """`conversationUpdate` with the bot among the members added: the same as an installation."""
    bot_id = context.activity.recipient.id if context.activity.recipient else None
    added = context.activity.members_added or []
    if any(m.id == bot_id for m in added) and context.activity.from_property is not None:
        await installed(ctx, context)


def register(agent: AgentApplication[TurnState], ctx: TeamsContext) -> None:
    """Wire the listeners with their context."""
    agent.activity(ActivityTypes.message)(bind(ctx, on_message))
    agent.activity(ActivityTypes.installation_update)(bind(ctx, on_install))
    agent.conversation_update("membersAdded")(bind(ctx, on_members_added))

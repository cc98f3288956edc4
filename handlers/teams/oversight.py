"""The overseeing views in Teams (thin), the console's /leveranser, /statistik, /läsloggar, /brister, /utkast and
/eskaleringar as cards: the words in the chat (and the Home card's buttons) call the same services and the same
access rules; escalations, drafts and reports come with the Home's buttons, the statistics with its CSV."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from bot import oversight, readlog
from bot.brister.rules import is_coordinator
from bot.cases.models import parse_ref
from bot.channels.teams import cards, limits
from bot.channels.teams import home as teams_home
from bot.channels.teams.app import TeamsContext
from bot.channels.teams.cards import execute as card_action
from bot.directory import Role
from bot.dispatcher import status_counts
from bot.errors import Refusal
from bot.home import HomeData
from bot.paging import BadPage, Page, page_number, skip_of
from bot.rendering import Renderer
from bot.stats import export
from bot.stats.report import build_report
from bot.stats.service import last_twelve_months
from handlers.teams import absence, listing

WORDS = {"leveranser": "deliveries", "statistik": "stats", "läsloggar": "read_log", "lasloggar": "read_log",
         "läslogg": "read_log", "laslogg": "read_log", "brister": "reports", "utkast": "drafts",
         "eskaleringar": "escalations", "eskalering": "escalations", "frånvaro": "absences", "franvaro": "absences"}


LIST_MORE = listing.LIST_MORE  # the button under a list card that shows the next page (data: word, args)


def _coordinator(ctx: TeamsContext, person_id: str) -> bool:
    return Role.COORDINATOR in ctx.core.directory.people[person_id].roles


async def deliveries(ctx: TeamsContext, person_id: str, args: list[str]) -> dict[str, Any]:
    core = ctx.core
    if not _coordinator(ctx, person_id):
        return cards.text_card(core.renderer.macro("console", "not_coordinator"))
    failed = await oversight.failed_deliveries(core, person_id)
    text = core.renderer.macro("console", "deliveries", failed=failed, counts=await status_counts(core.db))
    return cards.text_card(text, title=core.renderer.macro("teams_home", "failed_head"))


async def stats(ctx: TeamsContext, person_id: str, args: list[str]) -> dict[str, Any]:
    core = ctx.core
    if not is_coordinator(person_id, core.directory):
        return cards.text_card(core.renderer.macro("stats", "not_coordinator"))
    unit = args[0] if args else None
    if unit is not None and core.directory.unit(unit) is None:
        return cards.text_card(core.renderer.macro("stats", "unknown_unit", unit=unit))
    start, end = last_twelve_months(core.clock.now().astimezone(core.calendar.tz).date())
    report = await build_report(core.db, core.directory, core.calendar, core.settings.timezone, start, end, unit)
    body = [cards.rich(cards.run(line or " ", fontType="monospace", size="small"))
            for line in export.text(core.renderer, report).split("\n")]
    csv = card_action(core.renderer.macro("teams_home", "stats_csv"), teams_home.STATS_CSV, {})
    return cards.card(body, [csv])


def _page(options: dict[str, str]) -> int:
    """`sida=N` among the words (1 when missing); anything but a page number raises `BadPage`, which `view`
    answers with the `bad_page` text (the words typed and a LIST_MORE button's args, from the client, alike)."""
    return page_number(options.get("sida"))


def _paged(renderer: Renderer, text: str, page: Page[Any], command: str, word: str,
           args: list[str]) -> dict[str, Any]:
    """A list's text card, with what it shows of a longer list and a button to the next page."""
    return _more(cards.text_card(text), renderer, page, command, word, args)


def _day(raw: str | None) -> date | None:
    try:
        return date.fromisoformat(raw) if raw else None
    except ValueError:
        return None


async def read_log(ctx: TeamsContext, person_id: str, args: list[str]) -> dict[str, Any]:
    """`läsloggar <ref>` (who has been shown a case's free text), or `läsloggar person=<id> från=<datum>
    till=<datum>` (admins); who may look is decided in bot/readlog.py."""
    core = ctx.core
    options = dict(a.split("=", 1) for a in args if "=" in a)
    ref = parse_ref(args[0]) if args and "=" not in args[0] else None
    skip = skip_of(_page(options))
    if ref is not None:
        shown = await readlog.list_for_case(core.db, core.cases.load, core.directory, person_id, ref, skip=skip)
        return _paged(core.renderer, core.renderer.macro("console", "read_log_case", ref=ref, reads=shown.reads,
                                                         others=shown.others, total=shown.page.total),
                      shown.page, core.renderer.macro("teams", "read_log_words", ref=ref), "läsloggar", args)
    first = _day(options.get("från") or options.get("fran"))
    last = _day(options.get("till")) or (first + timedelta(days=30) if first else None)
    if "person" not in options or first is None or last is None:
        return cards.text_card(core.renderer.macro("teams", "read_log_usage"))
    page = await readlog.list_for_person(core.db, core.directory, person_id, options["person"], first, last,
                                         core.settings.timezone, skip=skip)
    return _paged(core.renderer, core.renderer.macro("console", "read_log_person", person=options["person"],
                                                     start=first, end=last, reads=page.items, total=page.total),
                  page, core.renderer.macro("teams", "read_log_words", person=options["person"], start=first,
                                            end=last), "läsloggar", args)


async def _data(ctx: TeamsContext, person_id: str) -> HomeData:
    core = ctx.core
    return HomeData(person_id=person_id, now=core.clock.now(), coordinator=_coordinator(ctx, person_id),
                    year=core.brister.today().year)


async def reports(ctx: TeamsContext, person_id: str, args: list[str]) -> dict[str, Any]:
    """`brister [år] [sida=N]`: a page of the reports (as many as a card lists), newest first."""
    core = ctx.core
    year = int(args[0]) if args and len(args[0]) == 4 and args[0].isascii() and args[0].isdigit() else None
    data = await _data(ctx, person_id)
    page = await core.brister.report_page(person_id, year=year, limit=limits.LIST_ITEMS,
                                          skip=skip_of(_page(_options(args)), limits.LIST_ITEMS))
    data.brister, data.brister_total = page.items, page.after + len(page.items)
    return _more(teams_home.section_card(core.renderer, data, "reports"), core.renderer, page,
                 "brister" + (f" {year}" if year else ""), "brister", args)


async def drafts(ctx: TeamsContext, person_id: str, args: list[str]) -> dict[str, Any]:
    """`utkast [sida=N]`: a page of the drafts waiting for the coordinator, oldest first."""
    data = await _data(ctx, person_id)
    page = await ctx.core.brister.draft_page(person_id, limit=limits.LIST_ITEMS,
                                             skip=skip_of(_page(_options(args)), limits.LIST_ITEMS))
    data.brist_drafts, data.drafts_total = page.items, page.after + len(page.items)
    return _more(teams_home.section_card(ctx.core.renderer, data, "drafts"), ctx.core.renderer, page, "utkast",
                 "utkast", args)


def _options(args: list[str]) -> dict[str, str]:
    return dict(a.split("=", 1) for a in args if "=" in a)


def _more(card: dict[str, Any], renderer: Renderer, page: Page[Any], command: str, word: str,
          args: list[str]) -> dict[str, Any]:
    """Under a card that lists a page of a longer list: which ones it shows, the words for the next page and
    a button that shows it (handlers/teams/listing.py)."""
    items = listing.more_items(renderer, page, command, word, args)
    if items:
        card.setdefault("body", []).extend(items)
    return card


async def escalations(ctx: TeamsContext, person_id: str, args: list[str]) -> dict[str, Any]:
    data = await _data(ctx, person_id)
    page = await oversight.visible_escalations(ctx.core, person_id)
    data.escalations, data.more_escalations = page.items, page.more
    return teams_home.section_card(ctx.core.renderer, data, "escalations")


async def absences(ctx: TeamsContext, person_id: str, args: list[str]) -> dict[str, Any]:
    """`frånvaro [sida=N]`: a page of the absences the person may see (each with its remove button), the form."""
    return await absence.absence_card(ctx, person_id, page=_page(_options(args)))


VIEWS = {"absences": absences, "deliveries": deliveries, "stats": stats, "read_log": read_log, "reports": reports,
         "drafts": drafts, "escalations": escalations}


async def view(ctx: TeamsContext, person_id: str, word: str, args: list[str]) -> dict[str, Any]:
    """The card of one overseeing word; a refusal as the person may see it."""
    if word not in WORDS:  # a LIST_MORE button's word comes back from the client
        return cards.text_card(ctx.core.renderer.macro("teams", "list_next_gone"))
    try:
        return await VIEWS[WORDS[word]](ctx, person_id, args)
    except Refusal as exc:
        return cards.text_card(ctx.core.renderer.refusal(exc))
    except BadPage as exc:
        return cards.text_card(ctx.core.renderer.macro("teams", "bad_page", value=exc.value, word=word))

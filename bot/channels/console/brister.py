"""Console commands for brister i samverkan: /brist, /brister, /utkast, /skickain, /avfärda, /åtgärd,
/dialog, /stäng (and /visa of a brist reference)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot import audit
from bot.brister.models import BristForm, parse_brist_ref
from bot.channels.console.args import UsageError, day, option, page_number
from bot.channels.console.output import readable_history
from bot.numerals import is_number
from bot.paging import skip_of

if TYPE_CHECKING:
    from bot.channels.console.session import ConsoleSession


def _say(s: ConsoleSession, name: str, **ctx: object) -> None:
    s.say(s.core.renderer.macro("brister", name, **ctx))


def _brist_ref(positional: list[str]) -> str:
    if not positional:
        raise UsageError("need_brist_ref")
    ref = parse_brist_ref(positional[0])
    if ref is None:
        raise UsageError("bad_brist_ref", value=positional[0])
    return ref


def _draft_no(positional: list[str]) -> int:
    if not positional or not is_number(positional[0]):
        raise UsageError("need_draft")
    return int(positional[0])


def _form(options: dict[str, str]) -> BristForm:
    """`enheter=`, `orsaker=`, `vad=`, `atgarder=`, `dialog=`, `datum=`, `ref=` (Swedish spellings too)."""
    when = option(options, "datum")
    return BristForm(
        units=[u for u in (option(options, "enheter", "enhet") or "").split(",") if u.strip()],
        causes=[c for c in (option(options, "orsaker", "orsak") or "").split(",") if c.strip()],
        what=option(options, "vad") or "",
        measures=option(options, "atgarder", "åtgärder", "atgard", "åtgärd"),
        dialogue=option(options, "dialog"),
        incident_date=day(when) if when else None,
        case_ref=option(options, "ref", "arende", "ärende"),
    )


async def file_report(s: ConsoleSession, positional: list[str], options: dict[str, str]) -> None:
    """`/brist enheter= orsaker= vad= …`."""
    if positional:
        raise UsageError("unknown_args", value=", ".join(positional))
    _say(s, "filed", report=await s.core.brister.file(s.person, _form(options)))


async def list_reports(s: ConsoleSession, positional: list[str], options: dict[str, str]) -> None:
    """`/brister [år] [enhet] [sida=N]`: a page of the reports, newest first, and how many there are."""
    year: int | None = None
    unit: str | None = None
    for p in positional:
        if len(p) == 4 and is_number(p):  # not `²²²²`, which int() refuses
            year = int(p)
        elif s.core.directory.unit(p) is not None:
            unit = p
        else:
            raise UsageError("bad_list_filter", value=p)
    number = page_number(options)
    page = await s.core.brister.report_page(s.person, year=year, unit=unit, skip=skip_of(number))
    _say(s, "report_list", reports=page.items, year=year, unit=unit, total=page.total)
    s.page_note(page, " ".join(["/brister", *positional]))


async def show_report(s: ConsoleSession, ref: str) -> None:
    """One brist report with its history (`/visa B-…`)."""
    report = await s.core.brister.get(s.person, ref)
    async with s.core.db.transaction() as tx:
        history = await audit.for_case(tx, report.ref)
    _say(s, "report_view", r=report, history=readable_history(history))


async def drafts(s: ConsoleSession, positional: list[str], options: dict[str, str]) -> None:
    """`/utkast [nr] [sida=N]`: a page of my open drafts, or one of them."""
    if positional:
        draft = await s.core.brister.draft(s.person, _draft_no(positional))
        _say(s, "draft_view", d=draft, form=s.core.brister.draft_form(draft))
        return
    page = await s.core.brister.draft_page(s.person, skip=skip_of(page_number(options)))
    _say(s, "drafts", items=page.items, total=page.total)
    s.page_note(page, "/utkast")


async def submit_draft(s: ConsoleSession, positional: list[str], options: dict[str, str]) -> None:
    """`/skickain <nr> …`."""
    report = await s.core.brister.submit_draft(s.person, _draft_no(positional), _form(options))
    _say(s, "filed", report=report)


async def dismiss_draft(s: ConsoleSession, positional: list[str], options: dict[str, str]) -> None:
    """`/avfärda <nr> <skäl>`."""
    n = _draft_no(positional)
    if len(positional) < 2:
        raise UsageError("need_reason")
    _say(s, "draft_dismissed", d=await s.core.brister.dismiss_draft(s.person, n, " ".join(positional[1:])))


async def _record_text(s: ConsoleSession, positional: list[str], change: str) -> None:
    """`/åtgärd` and `/dialog`: `<ref> <text>` recorded on the report as its measures or its dialogue."""
    ref = _brist_ref(positional)
    if len(positional) < 2:
        raise UsageError("need_text")
    record = s.core.brister.record_measures if change == "measures" else s.core.brister.record_dialogue
    report = await record(s.person, ref, " ".join(positional[1:]))
    _say(s, "changed", report=report, change=change)


async def measures(s: ConsoleSession, positional: list[str], options: dict[str, str]) -> None:
    """`/åtgärd <ref> <text>`."""
    await _record_text(s, positional, "measures")


async def dialogue(s: ConsoleSession, positional: list[str], options: dict[str, str]) -> None:
    """`/dialog <ref> <text>`."""
    await _record_text(s, positional, "dialogue")


async def close_report(s: ConsoleSession, positional: list[str], options: dict[str, str]) -> None:
    """`/stäng <ref>`."""
    _say(s, "changed", report=await s.core.brister.close(s.person, _brist_ref(positional)), change="closed")


COMMANDS = {"brist": file_report, "brister": list_reports, "utkast": drafts, "skickain": submit_draft,
            "avfarda": dismiss_draft, "atgard": measures, "dialog": dialogue, "stang": close_report}
ALIASES = {
    "brist": "brist", "brister": "brister", "utkast": "utkast", "skickain": "skickain", "skicka-in": "skickain",
    "avfärda": "avfarda", "avfarda": "avfarda", "åtgärd": "atgard", "atgard": "atgard", "åtgärder": "atgard",
    "atgarder": "atgard", "dialog": "dialog", "stäng": "stang", "stang": "stang",
}

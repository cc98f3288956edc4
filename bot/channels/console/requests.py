"""Console commands for a request and its way to the assignees: /gfi, /kö, /fördela, /omfördela, /kvittera,
/mina, /visa."""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot import audit
from bot.brister.models import parse_brist_ref
from bot.cases import access, offers
from bot.cases.consent import parse_information
from bot.cases.distribution import QUEUE_PAGE
from bot.cases.service import GfiRequest
from bot.cases.visibility import has_free_text, shown_free_text, summary
from bot.channels.console import brister
from bot.channels.console.args import UsageError, case_ref, day, option, page_number, yes_no
from bot.channels.console.output import readable_history
from bot.errors import Refusal
from bot.messages.text import plain_text

if TYPE_CHECKING:
    from bot.channels.console.session import ConsoleSession


async def gfi(s: ConsoleSession, positional: list[str], options: dict[str, str]) -> None:
    """`/gfi enhet= typ= kort= samtycke=ja …`: file a request; the receipt arrives as a message from the bot."""
    flags = {p.lower() for p in positional}
    unknown = flags - {"bradskande", "brådskande"}
    if unknown:
        raise UsageError("unknown_args", value=", ".join(sorted(unknown)))
    if "enhet" not in options or "typ" not in options:
        raise UsageError("need_unit_type")
    consent = options.get("samtycke", "").lower() in ("ja", "j", "yes")
    covers, note = parse_information(options.get("avser", ""))
    form = GfiRequest(
        target_unit=options["enhet"],
        case_type=options["typ"].lower(),
        brief=options.get("kort", ""),
        contact=options.get("kontakt"),
        consent_confirmed=consent,
        consent_scope=[u for u in options.get("omfattar", "").split(",") if u],
        consent_valid_until=day(options["giltigt"]) if "giltigt" in options else None,
        urgent=bool(flags & {"bradskande", "brådskande"}),
        consent_covers=covers,
        consent_note=note,
        consent_form=options.get("form"),
        consent_obtained_by=obtained_by(options),
        children=options.get("barn") or CHILDREN_DEFAULT,
        other_contacts=options.get("kontakter"),
        names_checked=yes_no(checked, "kontrollerat") if (checked := options.get("kontrollerat")) is not None
        else False,
    )
    await s.core.cases.request(s.person, form)
    if not options.get("barn"):  # the console keeps a default, and says so
        s.say(s.text("children_default"))


CHILDREN_DEFAULT = "vet-ej"  # `/gfi` without `barn=`: registered as "vet ej", with a warning line


def obtained_by(options: dict[str, str]) -> str | None:
    """`inhamtat=` (or `inhämtat=`): who obtained the consent; None means the one recording it."""
    value = (option(options, "inhamtat", "inhämtat") or "").strip()
    return value or None


async def queue(s: ConsoleSession, positional: list[str], options: dict[str, str]) -> None:
    """`/kö [sida=N]`: a page of each queue this person distributes (QUEUE_PAGE cases, urgent first) and how
    many each holds: one bounded read however long the queues are."""
    number = page_number(options)
    pages = await s.core.cases.queue_pages(s.person, limit=QUEUE_PAGE, skip=(number - 1) * QUEUE_PAGE)
    queues = [(p.unit_id, p.cases) for p in pages]
    now = s.clock.now()
    ages = {c.ref: s.core.renderer.age(now - c.created_at) for _, cases in queues for c in cases}
    offered = [o for _, cases in queues for c in cases for o in offers.next_steps(c, s.person, s.core.directory)]
    message = s.core.outbox.describe("queue", recipient_id=s.person, offers=offered, queues=queues,
                                     ages=ages, slot=None, totals={p.unit_id: p.total for p in pages},
                                     skip=(number - 1) * QUEUE_PAGE, paged=True)
    s.say(plain_text(message))
    if any(p.after for p in pages):
        s.say(s.core.renderer.macro("console", "queue_next_page", page=number + 1))
    await s.log_reads("queue", [c.ref for c in shown_free_text("queue", {"queues": queues})])


async def _assign(s: ConsoleSession, positional: list[str], options: dict[str, str], reassign: bool) -> None:
    ref = case_ref(positional)
    people = positional[1:]
    if not people and "annan" not in options:
        raise UsageError("need_assignee")
    case = await s.core.cases.assign(s.person, ref, people, options.get("annan"), reassign=reassign)
    await s.done("assign", case)


async def assign(s: ConsoleSession, positional: list[str], options: dict[str, str]) -> None:
    """`/fördela <ref> <person> …` or `annan="<text>"`."""
    await _assign(s, positional, options, reassign=False)


async def reassign(s: ConsoleSession, positional: list[str], options: dict[str, str]) -> None:
    """`/omfördela <ref> <person> …`."""
    await _assign(s, positional, options, reassign=True)


async def acknowledge(s: ConsoleSession, positional: list[str], options: dict[str, str]) -> None:
    """`/kvittera <ref>`."""
    await s.done("acknowledge", await s.core.cases.acknowledge(s.person, case_ref(positional)))


async def mine(s: ConsoleSession, positional: list[str], options: dict[str, str]) -> None:
    """`/mina`: my requests and the cases I am assigned (the oldest of each, the rest counted)."""
    found = await s.core.cases.mine(s.person)
    s.say(s.core.renderer.render("mine", requests=found.requests, cases=found.cases, proposals=found.proposals,
                                 request_total=found.request_total, case_total=found.case_total,
                                 more_proposals=found.more_proposals))


async def show(s: ConsoleSession, positional: list[str], options: dict[str, str]) -> None:
    """`/visa <ref>`: a case (in full or as a summary, as visibility allows) or a brist report."""
    if positional and parse_brist_ref(positional[0]):
        await brister.show_report(s, positional[0])
        return
    ref = case_ref(positional)
    try:
        async with s.core.db.read() as tx:
            seen = await access.read_case(tx, s.core.cases.load, s.core.directory, s.person, ref)
            history = await audit.case_history(tx, seen.case.ref) if seen.full else []
            await s.core.disputes.history_notes(tx, seen.case, history)
    except Refusal as exc:
        async with s.core.db.transaction() as tx:
            await audit.record(tx, at=s.clock.now(), actor_id=s.person, action="view_case",
                               result="refused", case_ref=ref, reason=exc.code)
        raise
    if not seen.full:
        s.say(s.text("case_summary", s=summary(seen.case, seen.alerts)))
        return
    s.say(s.text("case_view", case=seen.case, history=readable_history(history, [f.id for f in seen.case.follow_ups])))
    if has_free_text(seen.case):
        await s.log_reads("visa", [seen.case.ref])


COMMANDS = {"gfi": gfi, "ko": queue, "fordela": assign, "omfordela": reassign, "kvittera": acknowledge,
            "mina": mine, "visa": show}
ALIASES = {
    "gfi": "gfi", "kö": "ko", "ko": "ko", "queue": "ko",
    "fördela": "fordela", "fordela": "fordela", "omfördela": "omfordela", "omfordela": "omfordela",
    "kvittera": "kvittera", "mina": "mina", "visa": "visa",
}

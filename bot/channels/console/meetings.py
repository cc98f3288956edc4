"""Console commands for the meeting and what follows it: /boka, /förslag, /hölls, /uteblev, /vänta,
/återuppta, /utfall, /uppföljning, /klar."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from bot.cases import outcome_details
from bot.cases.meeting_form import MeetingForm
from bot.cases.outcome_details import OutcomeDetails, parse_score
from bot.cases.rules import Action, authorize
from bot.channels.console import participants
from bot.channels.console.args import UsageError, case_ref, day, local_datetime, option, units, yes_no
from bot.errors import FieldError
from bot.numerals import is_number

if TYPE_CHECKING:
    from bot.channels.console.session import ConsoleSession


async def book(s: ConsoleSession, positional: list[str], options: dict[str, str]) -> None:
    """`/boka <ref> <tid> plats= enheter= [deltagare=<enhet>:<person>,…] [extern=<roll>[:<förnamn>],…]
    [bekräfta=ja] [informerad=ja|nej] [mötesform=gfi|tjänsteperson syfte=<syfte>]`."""
    ref = case_ref(positional)
    if len(positional) < 2:
        raise UsageError("need_time")
    at = local_datetime(positional[1], s.tz)
    if "plats" not in options or "enheter" not in options:
        raise UsageError("need_place_units")
    confirm = option(options, "bekräfta", "bekrafta")
    confirmed = yes_no(confirm, "bekräfta") if confirm is not None else False
    case = await s.core.cases.book(s.person, ref, at, options["plats"], units(options["enheter"]),
                                   confirmed=confirmed, participants=participants.named(options.get("deltagare")),
                                   externals=participants.externals(options.get("extern")), form=meeting_form(options))
    await s.done("book", case)


def meeting_form(options: dict[str, str]) -> MeetingForm:
    """`mötesform=`, `syfte=` and `informerad=` of /boka (issue #18 item 21)."""
    informed = option(options, "informerad")
    return MeetingForm(kind=option(options, "mötesform", "motesform"), purpose=option(options, "syfte"),
                       informed=yes_no(informed, "informerad") if informed is not None else None)


async def hold_now(s: ConsoleSession, positional: list[str], options: dict[str, str]) -> None:
    """*Mötet hölls nu*: the individual turned up and the meeting is being held now, with these units."""
    ref = case_ref(positional)
    if "enheter" not in options:
        raise UsageError("need_units")
    await s.done("hold_now", await s.core.cases.hold_now(
        s.person, ref, units(options["enheter"]), participants=participants.named(options.get("deltagare")),
        externals=participants.externals(options.get("extern"))))


async def wait(s: ConsoleSession, positional: list[str], options: dict[str, str]) -> None:
    """*Vilande*: the case waits for the individual until a date, with a reason."""
    ref = case_ref(positional)
    until = options.get("till")
    reason = option(options, "skäl", "skal")
    if not until or reason is None:
        raise UsageError("need_until_reason")
    await s.done("wait", await s.core.cases.wait(s.person, ref, day(until), reason))


async def resume(s: ConsoleSession, positional: list[str], options: dict[str, str]) -> None:
    """`/återuppta <ref>`."""
    await s.done("resume", await s.core.cases.resume(s.person, case_ref(positional)))


async def suggest(s: ConsoleSession, positional: list[str], options: dict[str, str]) -> None:
    """Free/busy suggestions for booking a case's meeting (Graph), for those who may book it."""
    case = await s.core.cases.get(case_ref(positional))
    authorize(Action.BOOK, case, s.person, s.core.directory)
    slots = await s.core.suggestions.for_booking(case, s.person, s.core.directory, s.clock.now())
    s.say(s.core.renderer.render("meeting_suggestions", ref=case.ref, slots=slots, where="console",
                                 available=s.core.suggestions.available))


async def no_show(s: ConsoleSession, positional: list[str], options: dict[str, str]) -> None:
    """`/uteblev <ref>`."""
    await s.done("no_show", await s.core.cases.no_show(s.person, case_ref(positional)))


async def outcome(s: ConsoleSession, positional: list[str], options: dict[str, str]) -> None:
    """`/utfall <ref> <utfall> utvärdering=ja|nej [delaktighet=1-5] [kommentar="…"] [lotsad-till="…"]
    [mandat=ja|nej]`."""
    ref = case_ref(positional)
    if len(positional) < 2:
        raise UsageError("need_outcome")
    evaluated = yes_no(option(options, "utvardering", "utvärdering"), "utvardering")
    errors: dict[str, tuple[str, dict[str, Any]]] = {}
    mandate = option(options, "mandat")
    details = OutcomeDetails(
        guided_to=option(options, "lotsad-till", "lotsad_till", "lotsadtill"),
        mandate=yes_no(mandate, "mandat") if mandate is not None else None,
        score=parse_score(option(options, "delaktighet"), errors),
        comment=option(options, "kommentar"),
        asked=False,  # the command's older form (without these) still works, with a line on what is missing
    )
    if errors:
        raise FieldError(errors)
    case, previous = await s.core.cases.record_or_correct_outcome(s.person, ref, positional[1].lower(), evaluated,
                                                                  details)
    if previous is None:
        await s.done("record_outcome", case)
    else:  # "kompletterat" when the outcome stays and only details were added (the template tells them apart)
        await s.done("correct_outcome", case, previous=previous.value)
    if case.outcome is not None:
        for key in outcome_details.missing(case.outcome, evaluated, details, case):
            s.say(s.text("outcome_missing", field=key, ref=case.ref))


async def follow_up(s: ConsoleSession, positional: list[str], options: dict[str, str]) -> None:
    """`/uppföljning <ref> <person> <datum> <vad>`."""
    ref = case_ref(positional)
    if len(positional) < 4:
        raise UsageError("need_follow_up")
    owner, due, what = positional[1], day(positional[2]), " ".join(positional[3:])
    await s.done("add_follow_up", await s.core.cases.add_follow_up(s.person, ref, owner, due, what))


async def follow_up_done(s: ConsoleSession, positional: list[str], options: dict[str, str]) -> None:
    """`/klar <ref> <nr>`: a follow-up is done."""
    ref = case_ref(positional)
    if len(positional) != 2 or not is_number(positional[1]):
        raise UsageError("need_number")
    n = int(positional[1])
    case = await s.core.cases.complete_follow_up(s.person, ref, n)
    await s.show("follow_up_done", case=case, number=n)


COMMANDS = {"boka": book, "holls": hold_now, "vanta": wait, "ateruppta": resume, "forslag": suggest,
            "uteblev": no_show, "utfall": outcome, "uppfoljning": follow_up, "klar": follow_up_done}
ALIASES = {
    "boka": "boka", "förslag": "forslag", "forslag": "forslag", "uteblev": "uteblev", "utfall": "utfall",
    "vänta": "vanta", "vanta": "vanta", "återuppta": "ateruppta", "ateruppta": "ateruppta",
    "hölls": "holls", "holls": "holls", "uppföljning": "uppfoljning", "uppfoljning": "uppfoljning",
    "klar": "klar",
}

"""Console commands for absence: /frånvaro (mark away, list, remove)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from bot.channels.console.args import UsageError, day, option, page_number
from bot.messages.text import plain_text
from bot.numerals import is_number
from bot.paging import skip_of

if TYPE_CHECKING:
    from bot.channels.console.session import ConsoleSession

REMOVE = ("ta-bort", "tabort", "ta_bort", "avbryt")


def _reply(s: ConsoleSession, template: str, **ctx: Any) -> None:
    s.say(plain_text(s.core.outbox.describe(template, recipient_id=s.person, **ctx)))


async def absence(s: ConsoleSession, positional: list[str], options: dict[str, str]) -> None:
    """`/frånvaro från= till= [ersättare=] [person=]`, `/frånvaro [sida=N]` (list), `/frånvaro ta-bort <nr>`."""
    service = s.core.absences
    if positional and positional[0].lower() in REMOVE:
        if len(positional) != 2 or not is_number(positional[1]):
            raise UsageError("need_absence_number")
        removed = await service.cancel(s.person, int(positional[1]))
        _reply(s, "absence_cancel_done", absence=removed)
        return
    if positional:
        raise UsageError("unknown_args", value=", ".join(positional))
    start_text = option(options, "från", "fran", "from")
    end_text = option(options, "till", "to")
    stand_in = option(options, "ersättare", "ersattare")
    person = option(options, "person")
    if start_text is None and end_text is None and stand_in is None and person is None and set(options) <= {"sida"}:
        listing = await service.listing(s.person, skip=skip_of(page_number(options)))
        _reply(s, "absence_list", listing=listing)
        s.page_note(listing.page, "/frånvaro")
        return
    if not end_text:
        raise UsageError("need_absence_dates")
    start = day(start_text) if start_text else service.today()
    marked = await service.mark(s.person, start, day(end_text), person_id=person or None,
                                stand_in_id=stand_in or None)
    _reply(s, "absence_receipt", absence=marked)


COMMANDS = {"franvaro": absence}
ALIASES = {"frånvaro": "franvaro", "franvaro": "franvaro"}

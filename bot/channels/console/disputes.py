"""Console commands for disputes about whose a case is (issue #10 item 7, issue #18): /inte-vårt, /enig,
/samverkan, and the samverkansnivå's matters: /samverkansfrågor, /samverkansbeslut."""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.channels.console.args import UsageError, case_ref, number, option, page_number
from bot.numerals import is_number
from bot.paging import skip_of

if TYPE_CHECKING:
    from bot.channels.console.session import ConsoleSession


def _text(positional: list[str], options: dict[str, str], *keys: str) -> str:
    """The quoted text after the reference (or given as skäl=/text=)."""
    text = " ".join(positional[1:]) or (option(options, *keys) or "")
    if not text.strip():
        raise UsageError("need_text")
    return text


async def dispute(s: ConsoleSession, positional: list[str], options: dict[str, str]) -> None:
    """`/inte-vårt <ref> "<skäl>"`: the receiving unit holds that the case is not theirs."""
    ref = case_ref(positional)
    case = await s.core.disputes.dispute(s.person, ref, _text(positional, options, "skäl", "skal"))
    await s.done("dispute", case)


async def settle(s: ConsoleSession, positional: list[str], options: dict[str, str]) -> None:
    """`/enig <ref> ["<vad som överenskoms>"]`: one side proposes what was agreed; the other side confirms it
    (without a text, or with the same one) and the dispute is settled."""
    ref = case_ref(positional)
    text = " ".join(positional[1:]) or option(options, "text", "overenskommelse") or None
    case = await s.core.disputes.settle(s.person, ref, text)
    await s.done("settle_dispute", case)


async def samverkan(s: ConsoleSession, positional: list[str], options: dict[str, str]) -> None:
    """`/samverkan <bevakning>`: a coordinator takes the question to the samverkansnivå (a brist draft)."""
    taken = await s.core.disputes.take_to_samverkan(s.person, number(positional, "need_item"))
    s.say(s.text("to_samverkan", ref=taken.case_ref, item=taken.item_id, draft=taken.draft_id,
                 forum=taken.group.name if taken.group else None, matter=taken.matter.id if taken.matter else None))


async def matters(s: ConsoleSession, positional: list[str], options: dict[str, str]) -> None:
    """`/samverkansfrågor [sida=N]`: a page of the matters before the samverkansgrupper one handles, open ones
    first, and how many there are."""
    page = await s.core.disputes.samverkan.matter_page(s.person, skip=skip_of(page_number(options)))
    s.say(s.text("samverkan_matters", matters=page.items, total=page.total))
    s.page_note(page, "/samverkansfrågor")


async def decide(s: ConsoleSession, positional: list[str], options: dict[str, str]) -> None:
    """`/samverkansbeslut <fråga> "<beslut>"`: what the samverkansnivå decided; the matter is handled."""
    if not positional or not is_number(positional[0]):
        raise UsageError("need_item")
    matter_id = int(positional[0])
    text = " ".join(positional[1:]) or (option(options, "beslut") or "")
    if not text.strip():
        raise UsageError("need_text")
    matter = await s.core.disputes.samverkan.decide(s.person, matter_id, text)
    s.say(s.text("samverkan_decided", matter=matter))


COMMANDS = {"intevart": dispute, "enig": settle, "samverkan": samverkan, "samverkansfragor": matters,
            "samverkansbeslut": decide}
ALIASES = {
    "inte-vårt": "intevart", "inte-vart": "intevart", "intevårt": "intevart", "intevart": "intevart",
    "enig": "enig", "eniga": "enig", "samverkan": "samverkan",
    "samverkansfrågor": "samverkansfragor", "samverkansfragor": "samverkansfragor",
    "samverkansärenden": "samverkansfragor", "samverkansarenden": "samverkansfragor",
    "samverkansbeslut": "samverkansbeslut",
}

"""Console commands for the responsibility ladder: /eskaleringar, /taöver, /påminn."""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot import oversight
from bot.channels.console.args import number

if TYPE_CHECKING:
    from bot.channels.console.session import ConsoleSession


async def escalations(s: ConsoleSession, positional: list[str], options: dict[str, str]) -> None:
    """`/eskaleringar`: what has climbed to me, for the cases I may see."""
    page = await oversight.visible_escalations(s.core, s.person)
    s.say(s.text("escalations", items=page.items, more=page.more))


async def take_over(s: ConsoleSession, positional: list[str], options: dict[str, str]) -> None:
    """`/taöver <nr>`."""
    result = await s.core.ladder.take_over(s.person, number(positional, "need_item"))
    s.say(s.text("taken_over", action=result.action, ref=result.case_ref, item=result.item_id))


async def nudge(s: ConsoleSession, positional: list[str], options: dict[str, str]) -> None:
    """`/påminn <nr>`."""
    people = await s.core.ladder.nudge(s.person, number(positional, "need_item"))
    s.say(s.text("nudged", people=people))


COMMANDS = {"eskaleringar": escalations, "taover": take_over, "paminn": nudge}
ALIASES = {
    "eskaleringar": "eskaleringar", "eskalering": "eskaleringar", "esk": "eskaleringar",
    "taöver": "taover", "taover": "taover", "ta-över": "taover", "ta-over": "taover",
    "påminn": "paminn", "paminn": "paminn",
}

"""A message as plain text: the console's rendering, and the fallback text of channels with rich layouts.

With `commands`, each offered action is shown as the console command that takes it ("Kvittera: /kvittera
GFI-2026-0042"), from the one table in `bot/messages/actions.py`. Without it, no command is named (a Slack or
Teams user never reads a console command).
"""

from __future__ import annotations

from bot.messages.actions import ACTIONS
from bot.messages.model import Line, Message, Offer


def line_text(line: Line) -> str:
    return f"{line.label}: {line.text}" if line.label else line.text


def body_lines(message: Message) -> list[str]:
    """Title, lines (an entry's lines indented under it) and note."""
    out = [message.title] if message.title else []
    in_item = False
    for line in message.lines:
        if line.style == "item":
            in_item = True
            out.append(line.text)
        elif line.style in ("heading", "context", "more"):
            in_item = False
            out.append(line.text)
        else:
            text = line_text(line)
            out.append("\n".join("   " + t for t in text.splitlines()) if in_item else text)
    if message.note:
        out.append(message.note)
    return out


def command_hints(offers: tuple[Offer, ...]) -> list[str]:
    """One line per offered action: its label and the command; an action offered for several cases (a list)
    is shown once, with <ref> for the reference."""
    out: list[str] = []
    seen: set[str] = set()
    for offer in offers:
        spec = ACTIONS[offer.action]
        if spec.name in seen:
            continue
        seen.add(spec.name)
        refs = {o.ref for o in offers if o.action == offer.action}
        shown = offer if len(refs) == 1 else Offer(offer.action, "<ref>", offer.item)
        out.append(f"{spec.label}: {spec.command_for(shown)}")
    return out


def plain_text(message: Message, *, commands: bool = True) -> str:
    """The message as plain text; with `commands`, the console commands of its offers."""
    lines = body_lines(message)
    if commands and message.offers:
        lines.extend(command_hints(message.offers))
    return "\n".join(lines).strip()

"""E-mail rendering of a channel-neutral `Message`: subject with the case reference, HTML and plain text
from the same message, Swedish, and each offered action as a signed link.

E-mail leaves the organisation's chat systems, so it carries no free text: the message is always taken
through `Message.without_free_text()` first (no brief, contact, place or follow-up text), and the
`OutboxMessage.text` (which may quote free text) is never used.

Until the outbox stores a `Message` on every row (`OutboxMessage.message`), `message_of` builds a minimal
one from what a row already has that is not free text: the template name, the case reference, and the
actions offered by its Slack buttons (action id and value only).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from bot import texts
from bot.channels.graph.templates import GraphTemplates
from bot.messages.model import Line, Message, Offer
from bot.numerals import is_number
from bot.outbox import OutboxMessage

# Slack button action ids -> link actions (the bridge until every outbox row carries a Message).
SLACK_BUTTONS: dict[str, str] = {
    "gfi_ack": "acknowledge",
    "ladder_take_over": "take_over",
    "ladder_nudge": "nudge",
    "gfi_follow_up_done": "complete_follow_up",
}
# Swedish labels of the link actions (`MAIL_LINKS` in templates/messages/_labels.j2).
LABELS: dict[str, str] = texts.table("MAIL_LINKS")

LinkMaker = Callable[[Offer], str | None]


@dataclass(frozen=True)
class Mail:
    """One rendered e-mail."""

    subject: str
    html: str
    text: str


def _offers_from_blocks(blocks: list[dict[str, Any]] | None, ref: str | None) -> list[Offer]:
    offers: list[Offer] = []
    for block in blocks or []:
        for element in block.get("elements", []) if block.get("type") == "actions" else []:
            action = SLACK_BUTTONS.get(str(element.get("action_id")))
            value = str(element.get("value") or "")
            if action is None:
                continue
            if action in ("take_over", "nudge"):
                offers.append(Offer(action, ref, int(value) if is_number(value) else None,
                                    primary=element.get("style") == "primary"))
            elif action == "complete_follow_up":
                case_ref, _, number = value.partition("/")
                offers.append(Offer(action, case_ref or ref, int(number) if is_number(number) else None, True))
            else:
                offers.append(Offer(action, value or ref, None, primary=element.get("style") == "primary"))
    return offers


def message_of(row: OutboxMessage, templates: GraphTemplates) -> Message:
    """The row's channel-neutral message, or a minimal one built without its text (see the module doc)."""
    message = getattr(row, "message", None)
    if isinstance(message, Message):
        return message
    title = templates.render("graph_mail_fallback.txt.j2", template=row.template, ref=row.case_ref)
    return Message(kind=row.template, title=title, case_ref=row.case_ref,
                   offers=tuple(_offers_from_blocks(row.blocks, row.case_ref)),
                   lines=(Line(templates.render("graph_mail_fallback_line.txt.j2", ref=row.case_ref)),))


def render_mail(message: Message, templates: GraphTemplates, link: LinkMaker) -> Mail:
    """Subject, HTML and plain text of one e-mail, with no free text and the offers as signed links."""
    safe = message.without_free_text()
    links = []
    shown = list(safe.offers)
    # the case, as far as the person may see it; not to one who may not see it at all (a samverkansgrupp's contact)
    if safe.case_ref and "case_hidden" not in safe.extra and not any(o.action == "open" for o in shown):
        shown.append(Offer("open", safe.case_ref))
    several = len({o.ref for o in shown if o.ref}) > 1  # e.g. the queue: each link says which case it is for
    for offer in shown:
        url = link(offer)
        if url:
            label = LABELS.get(offer.action, offer.action)
            links.append({"label": f"{label} {offer.ref}" if several and offer.ref else label, "url": url,
                          "primary": offer.primary})
    ctx = {"m": safe, "links": links}
    return Mail(
        subject=templates.render("graph_mail_subject.txt.j2", **ctx),
        html=templates.render("graph_mail.html.j2", **ctx),
        text=templates.render("graph_mail.txt.j2", **ctx),
    )

"""The channel-neutral message: what a message is, before any channel renders it.

A message is described once (kind, case, recipient, the facts as lines, the actions offered) and stored in
the outbox in this form. At delivery the recipient's channel renders it: Block Kit for Slack, an Adaptive
Card for Teams, HTML and plain text for e-mail, plain text for the console. No channel re-derives what the
message says or which actions it offers; each only decides how they look.

Free text typed by users (brief, contact, place, "annan", follow-up texts, close notes) is marked
`free=True` on its line, so that a channel that may not carry it (e-mail) leaves it out, and so that an
erasure can find it. An action is offered as data (`Offer`); each channel turns it into a button, a card
action, a signed link or a console command from one table (`bot/messages/actions.py`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Line:
    """One fact or sentence. `label` is shown before the text where the channel has room for it."""

    text: str
    label: str | None = None
    free: bool = False  # user-typed free text about the case: dropped where the channel may not carry it
    # Optional layout of list messages (a channel without a list layout shows the line as any other):
    # "heading" starts a group, "context" is small print, "item" starts an entry about case `ref`, "more" ends a
    # group that lists only its first entries (`ref` holds how many more there are, as text).
    style: str | None = None
    ref: str | None = None


@dataclass(frozen=True)
class Offer:
    """An action offered to the recipient: `action` names a row of bot.messages.actions.ACTIONS."""

    action: str
    ref: str | None = None  # the case reference it acts on
    item: int | None = None  # an escalation (awaiting item) or follow-up number, when the action needs one
    primary: bool = False


@dataclass(frozen=True)
class Message:
    """What one recipient is told. Stored in the outbox as `to_json()`; rendered per channel at delivery."""

    kind: str  # the template name it was described by, e.g. "assigned_to_you"
    title: str  # one short line: the notification text where the channel has one
    lines: tuple[Line, ...] = ()
    offers: tuple[Offer, ...] = ()
    case_ref: str | None = None
    note: str | None = None  # a closing hint in small print (context), no free text
    # channel-neutral data for special layouts (lists); "case_hidden": the recipient may not see the case the
    # message is about, so no channel offers to open it
    extra: dict[str, Any] = field(default_factory=dict)

    def without_free_text(self) -> Message:
        """The same message with every user-typed line left out (for e-mail, and after an erasure)."""
        return Message(self.kind, self.title, tuple(ln for ln in self.lines if not ln.free), self.offers,
                       self.case_ref, self.note, {k: v for k, v in self.extra.items() if k != "free"})

    def to_json(self) -> dict[str, Any]:
        """As stored in the outbox: a field at its default is left out (`from_json` reads it back as the default),
        so that a sweep's rows, and the write-ahead log they go through, stay small."""
        out: dict[str, Any] = {"kind": self.kind, "title": self.title}
        if self.case_ref is not None:
            out["case_ref"] = self.case_ref
        if self.note is not None:
            out["note"] = self.note
        if self.lines:
            out["lines"] = [_line_json(ln) for ln in self.lines]
        if self.offers:
            out["offers"] = [_offer_json(o) for o in self.offers]
        if self.extra:
            out["extra"] = self.extra
        return out

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Message:
        return cls(
            kind=data["kind"], title=data["title"], case_ref=data.get("case_ref"), note=data.get("note"),
            lines=tuple(Line(d["text"], d.get("label"), bool(d.get("free")), d.get("style"), d.get("ref"))
                        for d in data.get("lines", [])),
            offers=tuple(Offer(d["action"], d.get("ref"), d.get("item"), bool(d.get("primary")))
                         for d in data.get("offers", [])),
            extra=dict(data.get("extra") or {}),
        )


def _line_json(line: Line) -> dict[str, Any]:
    out: dict[str, Any] = {"text": line.text}
    if line.label is not None:
        out["label"] = line.label
    if line.free:
        out["free"] = True
    if line.style:
        out["style"] = line.style
    if line.ref:
        out["ref"] = line.ref
    return out


def _offer_json(offer: Offer) -> dict[str, Any]:
    out: dict[str, Any] = {"action": offer.action}
    if offer.ref is not None:
        out["ref"] = offer.ref
    if offer.item is not None:
        out["item"] = offer.item
    if offer.primary:
        out["primary"] = True
    return out

"""Pure parsing of Slack clicks (`block_actions`): who clicked what, on which case, from where. No Slack, no I/O.
A payload that lacks what every click has is a PayloadError (a malformed or foreign request)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from bot.cases.models import parse_ref
from handlers.slack.forms import PayloadError


@dataclass
class Click:
    """One button click: who, what, on which case, from where."""

    user_id: str
    action_id: str
    ref: str
    action_ts: str
    channel_id: str | None = None
    trigger_id: str | None = None
    in_home: bool = False
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def key(self) -> str:
        """Idempotency key: a retried delivery of the same click carries the same action_ts."""
        return f"act:{self.user_id}:{self.action_id}:{self.action_ts}"


def parse_click(body: dict[str, Any]) -> Click:
    """A `block_actions` payload → Click (PayloadError when it is not one of ours)."""
    try:
        user_id = str(body["user"]["id"])
        action = body["actions"][0]
        action_id = str(action["action_id"])
    except (KeyError, IndexError, TypeError):
        raise PayloadError("block_actions") from None
    raw = action.get("value")
    if raw is None:
        raw = (action.get("selected_option") or {}).get("value")
    ref = parse_ref(str(raw or "")) or ""
    channel = (body.get("channel") or {}).get("id") or (body.get("container") or {}).get("channel_id")
    view = body.get("view") or {}
    return Click(
        user_id=user_id,
        action_id=action_id,
        ref=ref,
        action_ts=str(action.get("action_ts") or ""),
        channel_id=str(channel) if channel else None,
        trigger_id=body.get("trigger_id"),
        in_home=view.get("type") == "home",
    )


MAX_ITEM_DIGITS = 12


def parse_ladder_click(body: dict[str, Any]) -> tuple[Click, int]:
    """A click on an escalation button (value = the awaiting item's id) → (Click, item id)."""
    click = parse_click(body)
    raw = str((body.get("actions") or [{}])[0].get("value") or "")
    # ASCII digits only ("²" and "٣" are digits to str.isdigit), short enough for an SQLite integer
    if not (raw.isascii() and raw.isdigit() and len(raw) <= MAX_ITEM_DIGITS):
        raise PayloadError("ladder item")
    return click, int(raw)


def parse_follow_up_click(body: dict[str, Any]) -> tuple[Click, str, int]:
    """A click on a follow-up's Klar button (value `GFI-2026-0042/2`) → (Click, case ref, follow-up number)."""
    click = parse_click(body)
    raw = str((body.get("actions") or [{}])[0].get("value") or "")
    ref_text, _, number = raw.partition("/")
    ref = parse_ref(ref_text)
    if ref is None or not (number.isascii() and number.isdigit()) or len(number) > 4 or int(number) < 1:
        raise PayloadError("follow-up")
    return click, ref, int(number)


def private_ref(view: dict[str, Any]) -> str:
    """The case reference a modal carries in private_metadata."""
    ref = parse_ref(str((view or {}).get("private_metadata") or ""))
    if ref is None:
        raise PayloadError("private_metadata")
    return ref

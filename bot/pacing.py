"""The holds one dispatcher knows of itself: pacing (a sender's `min_interval` per recipient) and rate limits
(a 429's Retry-After per recipient; the whole sender when several of its recipients are held at once).

They are the fast path of one instance (which recipients to leave out of the next read, how long to wait
before looking again). The holds every instance obeys live in the store (`bot.store.outbox_lanes`), written
with each send's outcome; these in memory only spare a read and a write that would be refused anyway.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

log = logging.getLogger(__name__)

WORKSPACE_LIMIT_AFTER = 3  # recipients of one sender held by 429s at once: the limit is the workspace's


class Holds:
    """Pacing and rate-limit holds of one dispatcher, keyed by sender (its identity) and recipient."""

    def __init__(self) -> None:
        # Earliest time the next message may go to a (sender, recipient) pair: pacing and 429s.
        self.free_at: dict[tuple[int, str], datetime] = {}
        # Per sender: the recipients held by a 429, until when; and the senders held whole.
        self.limited: dict[int, dict[str, datetime]] = {}
        self.sender_free_at: dict[int, datetime] = {}

    def clear(self) -> None:
        """Drop every hold (the clock stepped back: they were set on the clock before the step)."""
        self.free_at.clear()
        self.limited.clear()
        self.sender_free_at.clear()

    def forget_expired(self, now: datetime) -> None:
        """Drop pacing/rate-limit holds that are over, so the maps stay as small as the busy recipients."""
        for key in [k for k, at in self.free_at.items() if at <= now]:
            del self.free_at[key]
        for sender_id, limited in list(self.limited.items()):
            for recipient in [r for r, at in limited.items() if at <= now]:
                del limited[recipient]
            if not limited:
                del self.limited[sender_id]
        for sender_id in [s for s, at in self.sender_free_at.items() if at <= now]:
            del self.sender_free_at[sender_id]

    def recipients(self) -> list[str]:
        """The recipients held (for any sender)."""
        return sorted({r for _, r in self.free_at})

    def sender_held(self, sender: Any) -> bool:
        return id(sender) in self.sender_free_at

    def next_end(self, now: datetime) -> float | None:
        """Seconds until the first hold ends (None: nothing is held)."""
        ends = [at for at in (*self.free_at.values(), *self.sender_free_at.values()) if at > now]
        return (min(ends) - now).total_seconds() if ends else None

    def is_held(self, sender: Any, recipient_id: str, now: datetime) -> bool:
        holds = (self.sender_free_at.get(id(sender)), self.free_at.get((id(sender), recipient_id)))
        return any(until is not None and until > now for until in holds)

    def pace(self, sender: Any, recipient_id: str, until: datetime) -> None:
        """A message went: the recipient's next waits until `until`."""
        self.free_at[(id(sender), recipient_id)] = until

    def limit(self, sender: Any, recipient_id: str, until: datetime, now: datetime) -> None:
        """Rate limited: hold the recipient, or the whole sender when several recipients are held at once."""
        key = (id(sender), recipient_id)
        self.free_at[key] = max(until, self.free_at.get(key, until))
        limited = self.limited.setdefault(id(sender), {})
        limited[recipient_id] = until
        current = {r: at for r, at in limited.items() if at > now}
        if len(current) >= WORKSPACE_LIMIT_AFTER:
            self.hold_sender(sender, max(current.values()))

    def hold_sender(self, sender: Any, until: datetime) -> None:
        """Hold every recipient of a sender until `until` (a workspace limit, here or on another instance). The
        log says so once per hold: a later 429 that only makes the hold longer (a storm answers every send so)
        is not a new hold."""
        held = self.sender_free_at.get(id(sender))
        if held is None or held < until:
            self.sender_free_at[id(sender)] = until
        if held is None:
            log.warning("sender rate limited", extra={"event": "outbox.sender_held", "until": until.isoformat()})

"""What a channel's sender is to the dispatcher: it delivers one message (`Sender`), says how a send failed
(`DeliveryError`), and a run of the dispatcher counts what became of its sends (`DispatchResult`)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from bot.outbox import OutboxMessage


class DeliveryError(Exception):
    """A send failed. `permanent` failures are not retried; `retry_after` (seconds) overrides backoff."""

    def __init__(self, reason: str, *, permanent: bool = False, retry_after: float | None = None) -> None:
        self.reason = reason
        self.permanent = permanent
        self.retry_after = retry_after
        super().__init__(reason)


class Sender(Protocol):
    """Delivers one message on one channel; returns an external id (e.g. Slack ts) or None.

    A sender may set `min_interval` (seconds between two messages to the same recipient); Slack's
    chat.postMessage allows about one message per second per channel.
    """

    async def send(self, message: OutboxMessage) -> str | None: ...


@dataclass
class DispatchResult:
    sent: int = 0
    retried: int = 0
    failed: int = 0
    deferred: int = 0  # due, but its sender is held (Retry-After): left in line, not written to

    def add(self, other: DispatchResult) -> None:
        self.sent += other.sent
        self.retried += other.retried
        self.failed += other.failed
        self.deferred += other.deferred

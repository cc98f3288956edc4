"""The link pages' edge against anonymous floods (issue #23): refused links (altered, unknown, used, expired,
foreign) are counted per client address in a fixed window. An address past PER_ADDRESS refusals gets 429 at
once, before any token is checked or anything is written. The first AUDITED refusals of a window (all
addresses together) are audited one by one as before; the rest are only counted, and one aggregate audit
row per window says how many there were, from how many addresses, and how many were turned away. So a
flood costs at most AUDITED + 1 audit rows per window, however many addresses it comes from; no address is
stored (the audit keeps codes and counts, never who the client was).

Memory is bounded too: at most MAX_ADDRESSES addresses are told apart per window; past that, new addresses
share one bucket. The address is the TCP peer: behind a reverse proxy that is the proxy, so the limit then
applies to all clients together (still bounded, and a real person's link still works after the window);
a proxy that must tell clients apart should rate-limit `/a/*` itself (deploy/M365.md).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

WINDOW = timedelta(minutes=10)
PER_ADDRESS = 20  # refused links per address and window before 429
AUDITED = 50  # refused links audited one by one per window, all addresses together
MAX_ADDRESSES = 10_000
SHARED = "*"  # the bucket of addresses beyond MAX_ADDRESSES


@dataclass(frozen=True)
class Summary:
    """One closed window with refusals that were not audited one by one (written as one audit row)."""

    start: datetime
    refused: int  # refused links in the window
    addresses: int  # distinct client addresses (SHARED counted as one)
    not_audited: int  # refused links only counted
    limited: int  # requests turned away with 429


@dataclass
class LinkGate:
    """Counts refused links per address; `window_start` moves with the injected clock's time."""

    window_start: datetime | None = None
    counts: dict[str, int] = field(default_factory=dict)
    audited: int = 0
    not_audited: int = 0
    limited_count: int = 0

    def _key(self, address: str) -> str:
        return address if address in self.counts or len(self.counts) < MAX_ADDRESSES else SHARED

    def roll(self, now: datetime) -> Summary | None:
        """Start a new window when the current one is over; the old one's summary when it needs an aggregate
        audit row (some refusals not audited one by one, or some turned away)."""
        if self.window_start is not None and now < self.window_start + WINDOW:
            return None
        summary = None
        if self.window_start is not None and (self.not_audited or self.limited_count):
            summary = Summary(self.window_start, sum(self.counts.values()), len(self.counts), self.not_audited,
                              self.limited_count)
        self.window_start = now
        self.counts.clear()
        self.audited = self.not_audited = self.limited_count = 0
        return summary

    def limited(self, address: str) -> bool:
        """True when `address` is past its refusals for this window (the request gets 429 and is counted)."""
        if self.counts.get(self._key(address), 0) >= PER_ADDRESS:
            self.limited_count += 1
            return True
        return False

    def refused(self, address: str) -> bool:
        """Count one refused link; True when it is to be audited on its own."""
        key = self._key(address)
        self.counts[key] = self.counts.get(key, 0) + 1
        if self.audited < AUDITED:
            self.audited += 1
            return True
        self.not_audited += 1
        return False

    def retry_after(self, now: datetime) -> int:
        """Seconds until the window ends (for Retry-After)."""
        if self.window_start is None:
            return 0
        return max(1, int((self.window_start + WINDOW - now).total_seconds()) + 1)

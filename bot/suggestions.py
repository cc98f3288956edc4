"""Meeting-time suggestions for a booking form (issue #9): up to three common free hours of the participants.

The channel-neutral part: who gets suggestions (those who may book, `rules.authorize(BOOK)`), and that a
booking form never waits long for them. The finder itself (Graph's `calendar/getSchedule`) is plugged in by
the Graph channel; without it, or when Graph is slow or fails, there are no suggestions and the form works
as before.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from bot.cases.models import Case
from bot.cases.rules import Action, authorize
from bot.directory import Directory
from bot.dispatcher import DeliveryError
from bot.errors import Refusal

if TYPE_CHECKING:
    from bot.rendering import Renderer

log = logging.getLogger(__name__)

# (case, now) → slot starts (aware, local time). Set by the Graph channel.
Finder = Callable[[Case, datetime], Awaitable[list[datetime]]]

# A Slack trigger id lives three seconds, and the modal opens after the suggestions: keep well inside it.
TIMEOUT_SECONDS = 1.5


@dataclass
class Suggestions:
    """Suggestions for booking forms; `finder` is None when Graph is not configured."""

    finder: Finder | None = None
    timeout: float = TIMEOUT_SECONDS

    @property
    def available(self) -> bool:
        return self.finder is not None

    async def for_booking(self, case: Case, person_id: str, directory: Directory, now: datetime) -> list[datetime]:
        """Up to three free hours for `case`, for someone who may book it; [] otherwise, and when Graph is
        off, slow (over `timeout`) or failing (logged, no personal data)."""
        if self.finder is None:
            return []
        try:
            authorize(Action.BOOK, case, person_id, directory)
        except Refusal:
            return []
        try:
            return await asyncio.wait_for(self.finder(case, now), timeout=self.timeout)
        except TimeoutError:
            log.warning("free/busy too slow: form shown without suggestions",
                        extra={"event": "suggestions.timeout", "case_ref": case.ref})
        except Exception as exc:  # Graph down or refusing: the form works without suggestions
            reason = exc.reason if isinstance(exc, DeliveryError) else type(exc).__name__
            log.warning("free/busy failed: form shown without suggestions",
                        extra={"event": "suggestions.failed", "case_ref": case.ref, "reason": reason})
        return []


def prefill(renderer: Renderer, ref: str, slots: list[datetime]) -> dict[str, str] | None:
    """What a booking form shows for `slots`: the first as date (ISO) and time (HH:MM, local), and the text
    listing them all; None without slots."""
    if not slots:
        return None
    first = renderer.local(slots[0])
    text = renderer.render("meeting_suggestions", ref=ref, slots=slots, available=True, where="form")
    return {"date": first.date().isoformat(), "time": f"{first:%H:%M}", "text": text}

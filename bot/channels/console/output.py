"""What the console shows and what time it keeps: the printing sender and the movable clock."""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, TextIO

from bot.channels.terminal import neutralise
from bot.clock import as_utc
from bot.outbox import OutboxMessage


class ConsoleClock:
    """Real time plus an offset, or a frozen time when started with `--now`; `/tid` moves it forward."""

    def __init__(self, start: datetime | None = None) -> None:
        self._frozen = as_utc(start) if start else None
        self._offset = timedelta(0)

    def now(self) -> datetime:
        if self._frozen is not None:
            return self._frozen
        return datetime.now(UTC) + self._offset

    def move_to(self, at: datetime) -> None:
        at = as_utc(at)
        if self._frozen is not None:
            self._frozen = at
        else:
            self._offset = at - datetime.now(UTC)


class ConsoleSender:
    """Prints outgoing messages to the terminal."""

    def __init__(self, out: TextIO) -> None:
        self.out = out

    async def send(self, message: OutboxMessage) -> str | None:
        if message.kind == "retract":
            return None  # a terminal cannot take back what it printed
        print_message(self.out, message.recipient_id, message.text)
        return None


def print_message(out: TextIO, recipient: str, text: str) -> None:
    """`→ @person: first line`, continuation lines indented; control characters and escape sequences in
    the text are neutralised (a brief cannot repaint the terminal)."""
    lines = neutralise(text).splitlines() or [""]
    out.write(f"→ @{recipient}: {lines[0]}\n")
    for line in lines[1:]:
        out.write(f"  {line}\n")
    out.flush()


def default_out() -> TextIO:
    return sys.stdout


def readable_history(rows: list[dict[str, Any]], follow_up_ids: Sequence[int] = ()) -> list[dict[str, Any]]:
    """Audit rows as the history views show them: `at` as a datetime, the recorded `reason` taken out, and a
    follow-up's number in the case (its place in `follow_up_ids`, the case's follow-ups in order)."""
    follow_up_ids = list(follow_up_ids)
    for h in rows:
        h["at"] = datetime.fromisoformat(h["at"])
        detail = json.loads(h.get("detail") or "{}")
        h["reason"] = detail.get("reason")
        h["rung"] = detail.get("rung")  # a skipped rung of the ladder (ladder_skipped)
        h["outcome"] = detail.get("outcome")  # what was recorded (record_outcome, correct_outcome)
        h["previous"] = detail.get("previous")  # the outcome a correction replaced, the date a wait extended
        h["until"] = detail.get("until")  # the date a case waits until
        h["proposed"] = bool(detail.get("proposed"))  # a follow-up given across principals: a proposal
        fid = detail.get("follow_up_id")
        h["number"] = (follow_up_ids.index(fid) + 1) if fid in follow_up_ids else detail.get("number")
        h["handed_from"] = detail.get("handed_from")  # a hand-over when someone left the unit (directory_handover)
        h["handed_to"] = detail.get("handed_to")
    return rows

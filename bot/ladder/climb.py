"""Climbing: a due item moves one rung up (skipping rungs with nobody on duty) and that rung is alerted.

Decided first (`decide`: plain code over the item and its case as read, no store), then described (`plan`: the
messages rendered and checked, the writes listed, as a `Fire`), then applied in a short transaction
(`bot.fires.apply`): the sweep does the first two off the database thread and out of the write lock.

The next rung's time limit counts from the moment the previous one ran out (the item's stored due time), not
from now: after downtime a catch-up reaches, one rung per sweep batch, exactly the rungs the ladder would have
reached, each alerted once.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from bot.cases.models import Case
from bot.clock import iso
from bot.fires import Fire
from bot.ladder import messaging
from bot.ladder.models import AwaitingItem
from bot.ladder.wanted import drafts_brist
from bot.presence import present

if TYPE_CHECKING:
    from bot.ladder.service import LadderService

log = logging.getLogger("bot.ladder.service")

CLIMB, CLOSE, PARK = "climb", "close", "park"


@dataclass(frozen=True)
class Climb:
    """What one climb does. `outcome`: CLIMB (alert `people` on `rung`), CLOSE (the case is closed: the item is
    resolved, nobody told) or PARK (nobody on any rung nor among the coordinators: it stops on the top rung)."""

    item: AwaitingItem
    case: Case
    outcome: str
    rung: int = 0
    people: tuple[str, ...] = ()
    skipped: tuple[str, ...] = ()  # titles of the rungs skipped now, for want of someone on duty
    ran_out: bool = False  # every rung had its own time (none skipped, no fallback to the coordinators)
    fallback: bool = False  # the present coordinators answer as the top rung
    due: datetime | None = None  # when the rung reached has waited its time (None on the top rung)

    @property
    def all_skipped(self) -> list[str]:
        return [*self.item.skipped, *self.skipped]

    @property
    def top(self) -> bool:
        return self.rung == self.item.ladder.top

    @property
    def drafts(self) -> bool:
        """Whether reaching this rung drafts a brist i samverkan (the draft's id goes into the escalations)."""
        return self.outcome == CLIMB and drafts_brist(self.item, self.case, top=self.top, ran_out=self.ran_out)


def decide(service: LadderService, item: AwaitingItem, case: Case, now: datetime) -> Climb:
    """The climb of an open, due item whose case is `case` (as read)."""
    if not case.is_open:
        return Climb(item, case, CLOSE)
    directory, ladder = service.directory, item.ladder
    nxt = item.rung + 1
    skipped: list[str] = []
    people: list[str] = []
    while nxt <= ladder.top:
        people = ladder.rungs[nxt].present(directory, now)
        if people:
            break
        skipped.append(ladder.rungs[nxt].title)
        nxt += 1
    ran_out = not item.skipped and not skipped
    fallback = nxt > ladder.top
    if fallback:
        # Nobody is present on any rung left: the present coordinators answer as the top rung, so that an
        # unanswered message never stops without reaching a person.
        ran_out = False
        people = [p.id for p in directory.coordinators() if present(directory, p.id, now)]
        nxt = ladder.top
        if not people:
            return Climb(item, case, PARK, nxt, (), tuple(skipped))
    assert item.due_at is not None
    due = None if nxt == ladder.top else ladder.wait(service.calendar, item.due_at, nxt)
    return Climb(item, case, CLIMB, nxt, tuple(people), tuple(skipped), ran_out, fallback, due)


def plan(service: LadderService, climb: Climb, row_due_at: str, now: datetime, *,
         draft_id: int | None = None) -> Fire:
    """The writes and messages of a CLIMB, described (rendered and checked) for `apply`. `row_due_at` is the
    item's due time as stored when read: the apply leaves the item alone if it changed meanwhile."""
    item, case, outbox = climb.item, climb.case, service.outbox
    not_answered = list(dict.fromkeys([*item.answerers, *item.alerted]))
    all_skipped = climb.all_skipped
    messages = [messaging.escalation(
        outbox, item, case, pid, rung=climb.rung, not_answered=not_answered, skipped=all_skipped, top=climb.top,
        draft_id=draft_id,
    ) for pid in climb.people]
    messages.append(messaging.requester_escalated(outbox, item, case, climb.rung, list(climb.people)))
    alerted = list(dict.fromkeys([*item.alerted, *climb.people]))
    return Fire(
        table="awaiting", row_id=item.id, due_at=row_due_at, rung=item.rung, case_id=item.case_id,
        case_ref=item.case_ref, case_version=case.version, messages=[m for m in messages if m is not None],
        climbed=(climb.rung, iso(climb.due) if climb.due else None, alerted, all_skipped),
        skipped=[(item.kind.value, title) for title in climb.skipped],
        fact=(item.unit_id, item.kind.value, climb.rung, item.ladder.rungs[climb.rung].title),
        done=lambda: logged(climb),
    )


def logged(climb: Climb) -> None:
    """The climb's log lines (once it is committed)."""
    item = climb.item
    base = {"case_ref": item.case_ref, "item_id": item.id, "kind": item.kind.value}
    for n, _ in enumerate(climb.skipped):
        log.warning("rung skipped", extra={"event": "ladder.rung_skipped", **base, "rung": item.rung + 1 + n})
    if climb.outcome == PARK:
        log.error("ladder exhausted", extra={"event": "ladder.exhausted", **base})
        return
    if climb.fallback:
        log.warning("ladder fallback to coordinators", extra={"event": "ladder.fallback", **base})
    log.info("escalated", extra={"event": "ladder.escalated", **base, "rung": climb.rung, "top": climb.top,
                                 "next_due": iso(climb.due) if climb.due else None})

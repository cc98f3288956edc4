"""Ladder service: open, climb and resolve awaiting-answer items (DESIGN §5).

Which items are open follows from the case (`bot.ladder.wanted`): `sync` compares what the case's state awaits
with what is open, resolves what is no longer awaited and opens (re-arms) what is missing, inside the caller's
transaction. A due item climbs one rung at a time (`bot.ladder.climb`); the periodic sweep plans the climbs of a
batch before its transaction (`bot.ladder.scheduled`) and `climb` here does one inside the caller's. Answering
an escalation (take over, nudge, reassign) and its views are in `bot.ladder.answers`.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import datetime
from typing import TYPE_CHECKING, Any

from bot import audit, fires
from bot.calendar import BusinessCalendar
from bot.cases.models import FILED, Case
from bot.clock import Clock, iso
from bot.directory import Directory
from bot.ladder import climb as climbing
from bot.ladder import disputes, messaging
from bot.ladder.answers import Answers
from bot.ladder.models import AwaitingItem, AwaitingKind, add_business_time
from bot.ladder.wanted import (
    NO_DRAFT,
    RUNG_ASSIGNEES,
    RUNG_DISTRIBUTOR,
    RUNG_OWNER,
    Wanted,
    WantedRules,
    about_the_individual,
    drafts_brist,
)
from bot.outbox import Outbox
from bot.store import Database, Tx
from bot.store import ladder as store

if TYPE_CHECKING:
    from bot.cases.service import CaseService

log = logging.getLogger(__name__)

__all__ = ["NO_DRAFT", "PAUSED", "RUNG_ASSIGNEES", "RUNG_DISTRIBUTOR", "RUNG_OWNER", "SILENT_RESOLUTIONS", "SYSTEM",
           "LadderService", "Wanted", "about_the_individual", "drafts_brist", "iso"]

SYSTEM = fires.SYSTEM
# The resolution of the items a case's expired consent paused (bot.ladder.scheduled): re-armed on renewal.
PAUSED = "consent_expired"
# Actions after which nobody more is told anything (consent withdrawn: DESIGN §7).
SILENT_RESOLUTIONS = frozenset({"withdraw_consent"})


class LadderService(WantedRules, Answers):
    """Awaiting answers and escalations. All methods taking `tx` run inside the caller's transaction."""

    def __init__(
        self, db: Database, directory: Directory, clock: Clock, outbox: Outbox, calendar: BusinessCalendar,
        cases: CaseService,
    ) -> None:
        self.db = db
        self.directory = directory
        self.clock = clock
        self.outbox = outbox
        self.calendar = calendar
        self.cases = cases

    # --- keeping items in step with the case ------------------------------------------------------
    async def open_items(self, tx: Tx, case_id: int) -> list[AwaitingItem]:
        return [AwaitingItem.from_row(r) for r in await store.open_rows(tx, case_id)]

    async def sync(
        self, tx: Tx, case: Case, action: str, actor_id: str, now: datetime,
        *, force: Iterable[AwaitingKind] = (),
    ) -> None:
        """Resolve open items the case no longer awaits and open those it does. `force` re-arms kinds
        even when an item is open (a reassignment means new answerers)."""
        forced = set(force)
        wanted = {(w.kind, w.subject): w for w in self.awaited(case, now)}
        still_open: set[tuple[AwaitingKind, str]] = set()
        filed = action == FILED  # filed in this transaction: nothing of it is awaited yet (nothing is read)
        for item in [] if filed else await self.open_items(tx, case.id):
            key = (item.kind, item.subject)
            if key in wanted and item.kind not in forced:
                still_open.add(key)
                continue
            await self.resolve(tx, item, actor_id, action, now, notify=action not in SILENT_RESOLUTIONS)
        for key, w in wanted.items():
            if key not in still_open:
                await self._open(tx, case, w, now, filed=filed)

    async def _open(self, tx: Tx, case: Case, w: Wanted, now: datetime, *, filed: bool = False) -> None:
        arm = 1 if filed else await store.next_arm(tx, case.id, w.kind.value, w.subject)
        since, due_at, skipped = w.since, w.due_at, []
        if arm > 1 and await store.last_resolution(tx, case.id, w.kind.value, w.subject) == PAUSED:
            # re-armed after the consent ran out and was renewed: counted from the renewal, and the first rung
            # gets its own time again (a due time that passed during the pause would alert the next rung at once)
            first = w.ladder.rungs[0]
            since = now
            due_at = max(w.due_at, add_business_time(self.calendar, now, w.ladder.office, days=first.days,
                                                     hours=first.hours))
        if not w.ladder.rungs[0].present(self.directory, now):
            # nobody present to answer: skip the first rung at once
            due_at, skipped = now, [w.ladder.rungs[0].title]
            skipped_extra = {"event": "ladder.rung_skipped", "kind": w.kind.value, "rung": 0}
            tx.after_commit(lambda: log.warning("rung skipped", extra={**skipped_extra,
                                                                       "case_ref": tx.final_ref(case.ref)}))
            await self._skipped(tx, case.id, case.ref, w.kind, w.ladder.rungs[0].title, now)
        item = await store.insert_item(  # its id is not waited for (a filing's trip), but by a dispute's question
            tx, case_id=case.id, case_ref=case.ref, kind=w.kind.value, subject=w.subject, arm=arm,
            unit_id=w.unit_id, answerers=list(w.answerers), since=since, due_at=due_at,
            ladder=w.ladder.dumps(), skipped=skipped, now=now,
        )
        if log.isEnabledFor(logging.INFO):  # the line's fields only when it is written
            extra = {"event": "ladder.opened", "kind": w.kind.value, "arm": arm, "due_at": iso(due_at)}
            tx.after_commit(lambda: log.info("awaiting opened", extra={
                **extra, "case_ref": tx.final_ref(case.ref), "item_id": item.value}))
        if w.kind is AwaitingKind.DISPUTE and not skipped:  # the line managers are asked at once
            await disputes.ask_first_rung(self, tx, case, int(await tx.answer(item)), w.ladder, now)

    async def resolve(
        self, tx: Tx, item: AwaitingItem, actor_id: str, resolution: str, now: datetime, *, notify: bool = True
    ) -> None:
        """Stop the climb; everyone alerted (except the one who answered) is told, unless `notify` is off."""
        if not await store.resolve(tx, item.id, actor_id, resolution, now):
            return
        log.info("awaiting resolved", extra={"event": "ladder.resolved", "case_ref": item.case_ref,
                                             "item_id": item.id, "kind": item.kind.value, "rung": item.rung,
                                             "resolution": resolution})
        if notify:
            for pid in dict.fromkeys(item.alerted):
                if pid != actor_id:
                    await messaging.resolved(self.outbox, tx, item, pid, actor_id, resolution, now)
            # those reminded to answer learn that someone else did (issue #18 item 12)
            for pid in await store.nudged(tx, item.case_id, item.id):
                if pid != actor_id and pid not in item.alerted:
                    await messaging.resolved(self.outbox, tx, item, pid, actor_id, resolution, now, nudged=True)

    async def _skipped(self, tx: Tx, case_id: int, case_ref: str, kind: AwaitingKind, title: str,
                       now: datetime) -> None:
        """A rung with nobody on duty (vacant, or absent without a stand-in) goes in the case history."""
        await audit.record(tx, at=now, actor_id=SYSTEM, action="ladder_skipped", case_id=case_id,
                           case_ref=case_ref, kind=kind.value, rung=title)

    # --- climbing --------------------------------------------------------------------------------
    async def climb(self, tx: Tx, item_id: int, now: datetime, *, row: dict[str, Any] | None = None,
                    case: Case | None = None) -> None:
        """Move a due item one rung up (skipping rungs with nobody present) and alert that rung, all inside the
        caller's transaction (the sweep plans most climbs before theirs: `bot.ladder.scheduled`; it climbs here
        the ones that end otherwise, draft a brist, or failed in their batch). `row` and `case`, when given, are
        the item's row and its case as read in this transaction."""
        row = row if row is not None else await store.item_row(tx, item_id)
        item = AwaitingItem.from_row(row) if row is not None else None
        if row is None or item is None or not item.is_open or item.due_at is None:
            return
        case = case if case is not None and case.ref == item.case_ref else await self.cases.load(tx, item.case_ref)
        climb = climbing.decide(self, item, case, now)
        if climb.outcome == climbing.CLOSE:
            await self.resolve(tx, item, SYSTEM, "close", now, notify=False)
            return
        for title in climb.skipped:
            await self._skipped(tx, item.case_id, item.case_ref, item.kind, title, now)
        if climb.outcome == climbing.PARK:
            await store.park(tx, item.id, climb.rung, climb.all_skipped)
            tx.after_commit(lambda: climbing.logged(climb))
            return
        draft_id = (await messaging.create_brist_draft(self, tx, item, case, list(climb.people), now,
                                                       climb.all_skipped) if climb.drafts else None)
        fire = climbing.plan(self, climb, str(row["due_at"]), now, draft_id=draft_id)
        fire.skipped = []  # audited above, before the draft (as a climb always did)
        await fires.apply(tx, self.outbox, [fire], now)

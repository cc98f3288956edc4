"""Answering an escalation: who may, *ta över* (take over), *påminn* (nudge), *omfördela* (reassign), and the
views of open escalations. `LadderService` has these (its store, directory, clock, outbox and cases)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from bot import audit
from bot.cases.disputes import check_coordinator_assigns
from bot.cases.models import Case
from bot.clock import Clock
from bot.directory import Directory, Role
from bot.errors import Refusal
from bot.ladder import messaging
from bot.ladder.models import AwaitingItem, AwaitingKind, TakeOver
from bot.outbox import Outbox
from bot.store import Database, Tx
from bot.store import cases as case_store
from bot.store import ladder as store

if TYPE_CHECKING:
    from bot.cases.service import CaseService


class Answers:
    """Views and answers of open escalations."""

    db: Database
    directory: Directory
    clock: Clock
    outbox: Outbox
    cases: CaseService

    async def get(self, tx: Tx, item_id: int) -> AwaitingItem | None:
        row = await store.item_row(tx, item_id)
        return AwaitingItem.from_row(row) if row else None

    async def open_escalations(self, person_id: str | None = None) -> list[AwaitingItem]:
        """Open items that have climbed at least one rung, and open disputes (their line managers are asked at
        once). A coordinator (or None) sees all of them, anyone else those they were alerted or asked about."""
        async with self.db.transaction() as tx:
            rows = await store.open_escalation_rows(tx)
        items = [AwaitingItem.from_row(r) for r in rows]
        person = self.directory.person(person_id) if person_id else None
        if person_id is None or (person is not None and Role.COORDINATOR in person.roles):
            return items
        return [i for i in items if person_id in i.alerted]

    def _may_answer(self, item: AwaitingItem, actor_id: str) -> bool:
        ladder_people = {p for r in item.ladder.rungs for p in (*r.people, *([r.deputy] if r.deputy else []))}
        coordinators = {p.id for p in self.directory.coordinators()}
        return actor_id in ladder_people | coordinators | set(item.alerted)

    async def _answerable(self, tx: Tx, actor_id: str, item_id: int, *, lock: bool = False) -> AwaitingItem:
        """The open item the actor may answer. `lock`: the answer changes its case (writes from it): the case's
        row is locked first (`bot.store.cases.lock`) and the item read as it is then."""
        if self.directory.person(actor_id) is None:
            raise Refusal("unknown_person", person=actor_id)
        item = await self.get(tx, item_id)
        if lock and item is not None and await case_store.lock(tx, item.case_id):
            item = await self.get(tx, item_id)
        if item is None:
            raise Refusal("escalation_not_found", item=item_id)
        if not item.is_open:
            raise Refusal("escalation_resolved", ref=item.case_ref, at=item.resolved_at, item=item_id)
        if not self._may_answer(item, actor_id):
            raise Refusal("not_on_ladder", ref=item.case_ref, item=item_id)
        return item

    async def answerable(self, actor_id: str, item_id: int) -> AwaitingItem:
        """The open item `actor_id` may answer (read only), or the Refusal take_over/nudge would give.
        For UIs that show a form before acting, e.g. *omfördela*'s assign form."""
        async with self.db.transaction() as tx:
            return await self._answerable(tx, actor_id, item_id)

    async def take_over(self, actor_id: str, item_id: int) -> TakeOver:
        """*Ta över*: the actor becomes responsible. For a distribution the UI should open the assign
        form; for an assignee-stage item the case is reassigned to the actor (CaseService rules apply,
        e.g. only staff of the target unit can be assigned); a follow-up is finished with /klar."""
        async with self.db.transaction() as tx:
            item = await self._answerable(tx, actor_id, item_id, lock=True)
            self._may_take_over(item, actor_id)
            await audit.record(tx, at=self.clock.now(), actor_id=actor_id, action="ladder_take_over",
                               case_id=item.case_id, case_ref=item.case_ref, item_id=item.id, kind=item.kind.value)
            case = await self.cases.load(tx, item.case_ref)
            await messaging.requester_taken_over(self.outbox, tx, item, case, actor_id)
        if item.kind is AwaitingKind.DISTRIBUTION:
            return TakeOver("assign", item.id, item.case_ref, item.unit_id)
        if item.kind is AwaitingKind.FOLLOW_UP:
            return TakeOver("complete", item.id, item.case_ref, item.unit_id)
        if item.kind is AwaitingKind.FOLLOW_UP_PROPOSAL:
            return TakeOver("accept", item.id, item.case_ref, item.unit_id)
        if item.kind is AwaitingKind.PARTICIPANT:  # name who attends (the appoint form)
            return TakeOver("appoint", item.id, item.case_ref, item.unit_id)
        await self.cases.assign(actor_id, item.case_ref, [actor_id], reassign=True)
        return TakeOver("reassigned", item.id, item.case_ref, item.unit_id)

    async def nudge(self, actor_id: str, item_id: int) -> list[str]:
        """*Påminn*: remind the first answerers who are present; returns who was reminded."""
        async with self.db.transaction() as tx:
            item = await self._answerable(tx, actor_id, item_id, lock=True)
            now = self.clock.now()
            people = item.ladder.rungs[0].present(self.directory, now)
            case = await self.cases.load(tx, item.case_ref)
            for pid in people:
                await messaging.nudge(self.outbox, tx, item, pid, actor_id, now, case)
            await audit.record(tx, at=now, actor_id=actor_id, action="ladder_nudge", case_id=item.case_id,
                               case_ref=item.case_ref, item_id=item.id, kind=item.kind.value, nudged=people)
        return people

    def check_take_over(self, item: AwaitingItem, actor_id: str) -> None:
        """Refusal when `actor_id` may not take `item` over (for pages that show what will happen first)."""
        self._may_take_over(item, actor_id)

    def _may_take_over(self, item: AwaitingItem, actor_id: str) -> None:
        """A dispute is settled, not taken over; a coordinator takes over nothing in another organisation."""
        if item.kind is AwaitingKind.DISPUTE:
            raise Refusal("dispute_not_taken_over", ref=item.case_ref, item=item.id)
        check_coordinator_assigns(actor_id, item.unit_id, item.case_ref, self.directory)

    async def reassign(self, actor_id: str, ref: str, person_ids: list[str]) -> Case:
        """*Omfördela*: the ordinary reassignment (the item is resolved by the assignment)."""
        return await self.cases.assign(actor_id, ref, person_ids, reassign=True)

    async def history(self, ref: str) -> list[dict[str, Any]]:
        """Every item of a case (for views and tests)."""
        async with self.db.transaction() as tx:
            return await store.history_rows(tx, ref)

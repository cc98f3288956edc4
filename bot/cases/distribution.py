"""Distribution: assigning a case to named staff or "annan", and the queues distributors see."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from bot.cases.base import MAX_ASSIGNEES, CaseEngine
from bot.cases.models import Case
from bot.cases.rules import Action, check_assign
from bot.errors import Refusal
from bot.store import Tx, case_lists
from bot.store import cases as case_store

QUEUE_PAGE = 20  # cases of each queue one look lists (console /kö); the rest are counted, a page away


@dataclass(frozen=True)
class QueuePage:
    """One page of a unit's queue: its cases from the `skip`th on, and how many the queue holds in all."""

    unit_id: str
    cases: list[Case]
    total: int
    skip: int = 0

    @property
    def after(self) -> int:
        """How many cases of the queue come after this page."""
        return max(0, self.total - self.skip - len(self.cases))


class DistributionActions(CaseEngine):
    """Assign cases and read the distribution queues."""

    async def assign(
        self, actor_id: str, ref: str, person_ids: list[str], other: str | None = None, *, reassign: bool = False
    ) -> Case:
        """Distribute a case to 1–4 named staff and/or "annan" (free text)."""
        people = list(dict.fromkeys(p.strip() for p in person_ids if p.strip()))
        other = self._check_privacy({"annan": other})["annan"] or None
        if not people and not other:
            raise Refusal("no_assignee")
        if len(people) > MAX_ASSIGNEES:
            raise Refusal("too_many_assignees", count=len(people))

        def precheck(case: Case) -> None:
            check_assign(case, reassign=reassign)
            for pid in people:
                person = self.directory.person(pid)
                if person is None:
                    raise Refusal("unknown_assignee", person=pid)
                if person.unit != case.target_unit:
                    raise Refusal("assignee_wrong_unit", person=pid, unit=case.target_unit)

        async def change(tx: Tx, case: Case, now: datetime) -> dict[str, Any]:
            await case_store.replace_assignees(tx, case.id, people)
            await case_store.set_assignment(tx, case.id, other, actor_id, now)
            return {"assignees": people, "other": bool(other), "reassign": reassign}

        return await self._act(actor_id, ref, Action.ASSIGN, change, precheck=precheck)

    def distributed_units(self, person_id: str) -> list[str]:
        """Units whose queue this person distributes (as distributor or deputy)."""
        return [u.id for u in self.directory.units.values() if person_id in self.directory.distributors_of(u.id)]

    async def queue_page(self, tx: Tx, unit_id: str, limit: int, skip: int = 0) -> tuple[list[Case], int]:
        """`limit` cases of a unit's queue (in queue order) from the `skip`th on, and the queue's length: a
        constant number of queries however long the queue is."""
        rows = await case_lists.queue_page(tx, unit_id, limit, skip)
        total = await case_lists.queue_count(tx, unit_id) if skip or len(rows) == limit else len(rows)
        return await self._hydrate_many(tx, rows), total

    async def queue_pages(self, actor_id: str, *, limit: int = QUEUE_PAGE, skip: int = 0,
                          unit: str | None = None) -> list[QueuePage]:
        """One page of each queue this person distributes (or of `unit`'s only), with each queue's length, in
        one read (raises Refusal for non-distributors): five statements a queue, whatever its length."""
        self._require_person(actor_id)
        units = self.distributed_units(actor_id)
        if not units:
            raise Refusal("not_a_distributor")
        if unit is not None:
            units = [u for u in units if u == unit]

        async def read(tx: Tx) -> list[QueuePage]:
            return [QueuePage(u, *await self.queue_page(tx, u, limit, skip), skip=skip) for u in units]

        return await self.db.run_read(read)

    async def queue(self, actor_id: str) -> list[tuple[str, list[Case]]]:
        """The first page of each queue this person distributes (raises Refusal for non-distributors); the
        queues' lengths and later pages: `queue_pages`."""
        return [(p.unit_id, p.cases) for p in await self.queue_pages(actor_id)]

"""Matters handed to the samverkansnivå (issue #18 item 4): a coordinator taking a question up (*ta upp på
samverkansnivå*) hands it to the principal pair's samverkansgrupp or lokalt samråd named in the directory; its
contact people are told, and the matter is tracked, open, until someone records what was decided (on every
channel: the console's /samverkansbeslut, the contacts' button on Slack and Teams, which opens a form); then
everyone involved is told. Without a group in the directory the question stays with the coordinators (the brist
draft) as before."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from bot import audit
from bot.cases.disputes import own_principal, parties
from bot.cases.models import Case
from bot.cases.visibility import Level, level
from bot.errors import FieldError, Refusal
from bot.fields import clean_fields
from bot.messages import actions as A
from bot.messages.model import Offer
from bot.paging import LIST_PAGE, Page
from bot.samverkan.groups import SamverkanGroup
from bot.store import Tx
from bot.store import samverkan as store

if TYPE_CHECKING:
    from bot.cases.service import CaseService
    from bot.ladder.models import AwaitingItem

OUTCOME = "beslut"  # the field key (bot/fields.py MAX_LENGTH)


def decide_offer(ref: str, matter_id: int) -> Offer:
    """Recording the samverkansnivå's decision on matter `matter_id` (about case `ref`): a form."""
    return Offer(A.SAMVERKAN_DECIDE, ref, item=matter_id, primary=True)


@dataclass(frozen=True)
class Matter:
    """A question before a samverkansgrupp: open until its outcome is recorded."""

    id: int
    case_ref: str
    group_id: str
    opened_by: str
    opened_at: datetime
    awaiting_id: int | None
    handled_by: str | None
    handled_at: datetime | None
    outcome: str | None

    @property
    def is_open(self) -> bool:
        return self.handled_at is None

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> Matter:
        return cls(
            id=row["id"], case_ref=row["case_ref"], group_id=row["group_id"], opened_by=row["opened_by"],
            opened_at=datetime.fromisoformat(row["opened_at"]), awaiting_id=row["awaiting_id"],
            handled_by=row["handled_by"],
            handled_at=datetime.fromisoformat(row["handled_at"]) if row["handled_at"] else None,
            outcome=row["outcome"],
        )


class SamverkanService:
    """Hands matters to the samverkansnivå and records its decisions. Refusals are audited."""

    def __init__(self, cases: CaseService) -> None:
        self.cases = cases
        self.directory = cases.directory

    def group_for(self, case: Case) -> SamverkanGroup | None:
        return self.directory.samverkan_for(*parties(case))

    def members(self, group: SamverkanGroup) -> list[str]:
        """Who handles the group's matters: its contacts and the coordinators of its principals."""
        coordinators = [p.id for p in self.directory.coordinators()
                        if own_principal(p.id, self.directory) in group.principals]
        return list(dict.fromkeys([*group.contacts, *coordinators]))

    async def hand_over(self, tx: Tx, item: AwaitingItem, case: Case, actor_id: str, draft_id: int | None,
                        now: datetime) -> Matter | None:
        """Open the matter for the case's group (once while it is open) and tell its contacts; None when the
        directory names no group for the case's principals."""
        group = self.group_for(case)
        if group is None:
            return None
        row = await store.open_matter(tx, case.id, group.id)
        if row is None:
            matter_id = await store.insert(tx, case_id=case.id, case_ref=case.ref, group_id=group.id,
                                           awaiting_id=item.id, draft_id=draft_id, opened_by=actor_id, now=now)
            await audit.record(tx, at=now, actor_id=actor_id, action="samverkan_open", case_id=case.id,
                               case_ref=case.ref, matter=matter_id, group=group.id, item_id=item.id)
            for pid in group.contacts:
                if pid != actor_id:
                    await self.cases.outbox.enqueue(
                        tx, pid, "samverkan_matter", case_id=case.id, case_ref=case.ref, urgent=case.urgent,
                        dedupe_key=f"samverkan:{matter_id}:{pid}", matter_id=matter_id, group=group.name,
                        ref=case.ref, kind=item.kind.value, since=item.since, actor=actor_id,
                        units=parties(case), offers=(decide_offer(case.ref, matter_id),),
                        sees_case=level(case, pid, self.directory) is not Level.NONE,
                    )
            row = await store.get(tx, matter_id)
        assert row is not None
        return Matter.from_row(row)

    async def matter_page(self, actor_id: str, limit: int = LIST_PAGE,
                          skip: int = 0) -> Page[tuple[Matter, SamverkanGroup]]:
        """A page of the matters of the groups the person handles (contact, or coordinator of one of its
        principals), open ones first, and how many there are."""
        groups = {g.id: g for g in self.directory.data.samverkan if actor_id in self.members(g)}
        async with self.cases.db.read() as tx:
            rows, total = await store.of_groups(tx, list(groups), limit, skip)
        return Page([(Matter.from_row(r), groups[r["group_id"]]) for r in rows if r["group_id"] in groups], total,
                    skip, limit)

    async def matters(self, actor_id: str) -> list[tuple[Matter, SamverkanGroup]]:
        """The first page of `matter_page`."""
        return (await self.matter_page(actor_id)).items

    def _decidable(self, row: dict[str, Any] | None, actor_id: str, matter_id: int) -> SamverkanGroup:
        """The rule for recording a decision: the matter is one of the person's groups' (else not found, as for
        a matter that does not exist) and still open. Returns its group."""
        group = next((g for g in self.directory.data.samverkan if row and g.id == row["group_id"]), None)
        if row is None or group is None or actor_id not in self.members(group):
            raise Refusal("samverkan_matter_not_found", matter=matter_id)
        if row["handled_at"]:
            raise Refusal("samverkan_matter_handled", matter=matter_id, by=row["handled_by"],
                          at=datetime.fromisoformat(row["handled_at"]))
        return group

    async def _refused(self, actor_id: str, refusal: Refusal) -> None:
        async with self.cases.db.transaction() as tx:
            await audit.record(tx, at=self.cases.clock.now(), actor_id=actor_id, action="samverkan_decide",
                               result="refused", reason=refusal.code)

    async def check(self, actor_id: str, matter_id: int) -> tuple[Matter, SamverkanGroup]:
        """The open matter and its group when the person may record its decision now; the Refusal `decide` would
        give otherwise. Read only (nothing audited: an e-mail link page's GET writes nothing)."""
        async with self.cases.db.read() as tx:
            row = await store.get(tx, matter_id)
        group = self._decidable(row, actor_id, matter_id)
        assert row is not None
        return Matter.from_row(row), group

    async def decidable(self, actor_id: str, matter_id: int) -> tuple[Matter, SamverkanGroup]:
        """The open matter and its group, for the form that records the decision (Slack, Teams): refused, and
        audited, as `decide` would refuse it. The form shows no free text of the case."""
        try:
            return await self.check(actor_id, matter_id)
        except Refusal as refusal:
            await self._refused(actor_id, refusal)
            raise

    async def decide(self, actor_id: str, matter_id: int, outcome: str) -> Matter:
        """Record what the samverkansnivå decided: the matter is handled; whoever took it up, the group's
        contacts and the people in the case are told (the text only to those who see the whole case). Decided on
        the case as locked: once its text was erased (a withdrawn consent) the decision's text is not kept."""
        cleaned, errors = clean_fields({OUTCOME: outcome}, self.cases.today(), raise_errors=False)
        if not cleaned[OUTCOME] and OUTCOME not in errors:
            errors[OUTCOME] = ("required", {"field": OUTCOME})
        if errors:
            raise FieldError(errors)
        text = cleaned[OUTCOME]
        now = self.cases.clock.now()
        try:
            async with self.cases.db.transaction() as tx:
                row = await store.get(tx, matter_id)
                if row is not None:  # who is told, and what, is decided on the case: its row first, locked
                    case = await self.cases.load(tx, row["case_ref"], lock=True)
                    row = await store.get(tx, matter_id)
                group = self._decidable(row, actor_id, matter_id)
                assert row is not None
                kept = None if case.erased_at is not None else text  # an erased case keeps no free text
                if not await store.decide(tx, matter_id, actor_id, kept, now):
                    # Someone else recorded the decision between the read and the write: the case's lock makes
                    # the second wait and then read the decided row; the fresh row names who and when.
                    self._decidable(await store.get(tx, matter_id), actor_id, matter_id)
                    raise Refusal("samverkan_matter_not_found", matter=matter_id)
                await audit.record(tx, at=now, actor_id=actor_id, action="samverkan_decide", case_id=case.id,
                                   case_ref=case.ref, matter=matter_id, group=group.id)
                people = [row["opened_by"], *group.contacts, *case.participants()]
                for pid in dict.fromkeys(people):
                    if pid == actor_id:
                        continue
                    full = level(case, pid, self.directory) is Level.FULL
                    await self.cases.outbox.enqueue(
                        tx, pid, "samverkan_decided", case_id=case.id, case_ref=case.ref,
                        dedupe_key=f"samverkan:{matter_id}:decided:{pid}", matter_id=matter_id, group=group.name,
                        ref=case.ref, actor=actor_id, outcome=kept if full else None,
                        case=case if full else None,
                    )
                done = await store.get(tx, matter_id)
        except Refusal as refusal:
            await self._refused(actor_id, refusal)
            raise
        assert done is not None
        return Matter.from_row(done)

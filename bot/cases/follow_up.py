"""Follow-ups (*bevakning*) after the meeting: add one, mark one done."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from bot import audit
from bot.cases import messaging
from bot.cases.access_lost import stop_for_lost_readers
from bot.cases.base import CaseEngine
from bot.cases.models import Case
from bot.cases.rules import (
    Action,
    check_accept_follow_up,
    check_complete_follow_up,
    check_follow_up_owner,
    is_proposal,
)
from bot.errors import FieldError, Refusal
from bot.store import Tx
from bot.store import cases as case_store
from bot.store import follow_ups as follow_up_store


class FollowUpActions(CaseEngine):
    """Add and complete follow-ups."""

    async def add_follow_up(self, actor_id: str, ref: str, owner_id: str, due: date, what: str) -> Case:
        """Add a follow-up owned by `owner_id`; refused (FieldError on `agare`) when the consent does not cover
        the owner's unit. Given to someone of the other principal it is a proposal until they (or their unit's
        distributor) accept it (`accept_follow_up`)."""
        what = self._check_privacy({"vad": what})["vad"]
        if not what:
            raise FieldError.one("vad", "required")
        if due < self.today():
            raise FieldError.one("datum", "consent_in_past", until=due)
        if self.directory.person(owner_id) is None:
            raise Refusal("unknown_assignee", person=owner_id)

        proposed = is_proposal(actor_id, owner_id, self.directory)

        async def change(tx: Tx, case: Case, now: datetime) -> dict[str, Any]:
            fid = await follow_up_store.insert_follow_up(
                tx, case.id, owner_id, due, what, actor_id, now, proposed=proposed)
            return {"follow_up_id": fid, "owner": owner_id, "due": due.isoformat(), "proposed": proposed}

        def precheck(case: Case) -> None:
            check_follow_up_owner(case, owner_id, self.directory)

        return await self._act(actor_id, ref, Action.ADD_FOLLOW_UP, change, precheck=precheck)

    async def complete_follow_up(self, actor_id: str, ref: str, number: int) -> Case:
        """Mark follow-up `number` (1-based, in the order added) done; its owner or those responsible may."""
        async def change(tx: Tx, case: Case, now: datetime) -> Case:
            check_complete_follow_up(case, actor_id, number)
            follow_up = case.follow_ups[number - 1]
            await follow_up_store.complete_follow_up(tx, follow_up.id, actor_id, now)
            await case_store.touch(tx, case.id, now)
            case = await self.load(tx, case.ref)
            await audit.record(
                tx, at=now, actor_id=actor_id, action="complete_follow_up", case_id=case.id, case_ref=case.ref,
                follow_up_id=follow_up.id, number=number,
            )
            await self._run_hooks(tx, case, "complete_follow_up", actor_id, now)
            return case

        return await self._changing(actor_id, ref, "complete_follow_up", change)

    async def accept_follow_up(self, actor_id: str, ref: str, number: int) -> Case:
        """Accept proposed follow-up `number` (1-based): its owner or their unit's distributor may. From then on it
        counts: reminders, and the owner's ladder when it is overdue."""
        return await self._answer_proposal(actor_id, ref, number, accept=True)

    async def decline_follow_up(self, actor_id: str, ref: str, number: int) -> Case:
        """Decline proposed follow-up `number`: its owner or their unit's distributor may. It never counts; the one
        who proposed it is told (and may add another, or settle it with the other party)."""
        return await self._answer_proposal(actor_id, ref, number, accept=False)

    async def _answer_proposal(self, actor_id: str, ref: str, number: int, *, accept: bool) -> Case:
        """Accept or decline a proposed follow-up in one transaction: record, audit, tell, run the hooks."""
        action = "accept_follow_up" if accept else "decline_follow_up"

        async def change(tx: Tx, case: Case, now: datetime) -> Case:
            check_accept_follow_up(case, actor_id, number, self.directory)
            follow_up = case.follow_ups[number - 1]
            record = follow_up_store.accept_follow_up if accept else follow_up_store.decline_follow_up
            await record(tx, follow_up.id, actor_id, now)
            await case_store.touch(tx, case.id, now)
            before, case = case, await self.load(tx, case.ref)
            await audit.record(
                tx, at=now, actor_id=actor_id, action=action, case_id=case.id, case_ref=case.ref,
                follow_up_id=follow_up.id, number=number, owner=follow_up.owner_id,
            )
            kind = "follow_up_accepted" if accept else "follow_up_declined"
            await messaging.follow_up_answered(self, tx, case, number, actor_id, kind)
            # the distributors asked to answer it read the case only while it was open (`proposal_deciders`)
            await stop_for_lost_readers(tx, before, case, action, self.directory)
            await self._run_hooks(tx, case, action, actor_id, now)
            return case

        return await self._changing(actor_id, ref, action, change)

"""Dispute service: the receiving unit says the case is not theirs, the parties' managers settle it, and a
coordinator takes a question to the samverkansnivå (issue #10 item 7; rules in `bot.disputes.rules`).

Opening and settling are case actions (`CaseEngine._act`: authorise, change, audit, notify, hooks in one
transaction); the ladder hook then resolves the receiving unit's unanswered items and opens the dispute's own
item (`LadderService.awaited`), or, once settled, stops it and arms what the case awaits again.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from bot import audit
from bot.cases.disputes import is_coordinator
from bot.cases.models import Case
from bot.cases.rules import Action
from bot.cases.service import CaseService
from bot.disputes import messaging
from bot.errors import FieldError, Refusal
from bot.fields import clean_fields
from bot.ladder import messaging as ladder_messaging
from bot.ladder.service import LadderService
from bot.store import Tx
from bot.store import disputes as store

REASON = "tvist_skal"  # the field keys (bot/fields.py MAX_LENGTH)
AGREEMENT = "enig"


@dataclass(frozen=True)
class Samverkan:
    """A question taken to the samverkansnivå: the case, the awaiting item and the brist draft opened for it."""

    case_ref: str
    item_id: int
    draft_id: int


class DisputeService:
    """Disputes about whose a case is. Methods raise Refusal or FieldError; refusals are audited."""

    def __init__(self, cases: CaseService, ladder: LadderService) -> None:
        self.cases = cases
        self.ladder = ladder

    def _text(self, field: str, value: str) -> str:
        cleaned, errors = clean_fields({field: value}, self.cases.today(), raise_errors=False)
        if not cleaned[field] and field not in errors:
            errors[field] = ("required", {"field": field})
        if errors:
            raise FieldError(errors)
        return cleaned[field]

    async def dispute(self, actor_id: str, ref: str, reason: str) -> Case:
        """*Inte vårt ärende*: the receiving unit disputes the case, with a reason. Both units' line managers
        are asked to settle it; the case stays open."""
        text = self._text(REASON, reason)

        def precheck(case: Case) -> None:
            if case.disputed:
                raise Refusal("already_disputed", ref=case.ref, by=case.disputed_by or "", at=case.disputed_at)

        async def change(tx: Tx, case: Case, now: datetime) -> dict[str, Any]:
            dispute_id = await store.open_dispute(
                tx, case_id=case.id, case_ref=case.ref, unit_id=case.target_unit, other_unit=case.requester_unit,
                opened_by=actor_id, reason=text, now=now,
            )
            await messaging.tell(self.cases, tx, case, case.participants(), actor_id, "dispute_opened",
                                 reason=text, unit=case.target_unit)
            return {"dispute": dispute_id}

        return await self.cases._act(actor_id, ref, Action.DISPUTE, change, precheck=precheck)

    async def settle(self, actor_id: str, ref: str, agreement: str) -> Case:
        """*Enig*: a line manager or rung of either unit, or a coordinator, records what was agreed. It is in
        the case's history, everyone involved is told, and the dispute's ladder stops."""
        text = self._text(AGREEMENT, agreement)

        def precheck(case: Case) -> None:
            if not case.disputed:
                raise Refusal("not_disputed", ref=case.ref)

        async def change(tx: Tx, case: Case, now: datetime) -> dict[str, Any]:
            row = await store.current(tx, case.id)
            if row is None:  # pragma: no cover - the case's columns and the table change together
                raise Refusal("not_disputed", ref=case.ref)
            await store.settle(tx, row["id"], case.id, actor_id, text, now)
            people = [*case.participants(), *([case.disputed_by] if case.disputed_by else [])]
            await messaging.tell(self.cases, tx, case, people, actor_id, "dispute_settled", agreement=text,
                                 unit=case.target_unit)
            return {"dispute": row["id"]}

        return await self.cases._act(actor_id, ref, Action.SETTLE_DISPUTE, change, precheck=precheck)

    async def take_to_samverkan(self, actor_id: str, item_id: int) -> Samverkan:
        """*Ta upp på samverkansnivå*: a coordinator alerted by a climb opens (or creates) the brist i samverkan
        draft for it, to take the question to the samverkansnivå. Assigns nobody."""
        ladder = self.ladder
        try:
            async with ladder.db.transaction() as tx:
                item = await ladder._answerable(tx, actor_id, item_id)
                if not is_coordinator(actor_id, ladder.directory):
                    raise Refusal("samverkan_not_coordinator", ref=item.case_ref, item=item_id)
                case = await self.cases.load(tx, item.case_ref)
                now = ladder.clock.now()
                coordinators = list(dict.fromkeys(
                    [actor_id, *(p for p in item.alerted if is_coordinator(p, ladder.directory))]))
                draft_id = await ladder_messaging.create_brist_draft(ladder, tx, item, case, coordinators, now,
                                                                     item.skipped)
                await store.add_draft_coordinator(tx, draft_id, actor_id)  # a draft made for the others too
                await audit.record(tx, at=now, actor_id=actor_id, action="to_samverkan", case_id=item.case_id,
                                   case_ref=item.case_ref, item_id=item.id, kind=item.kind.value, draft=draft_id)
        except Refusal as refusal:
            async with ladder.db.transaction() as tx:
                await audit.record(tx, at=ladder.clock.now(), actor_id=actor_id, action="to_samverkan",
                                   result="refused", case_ref=refusal.params.get("ref"), reason=refusal.code)
            raise
        return Samverkan(item.case_ref, item.id, draft_id)

    async def history_notes(self, tx: Tx, case: Case, history: list[dict[str, Any]]) -> None:
        """Add each dispute's reason or agreement to its history line (`note`), for those who see the whole
        case; nothing once the free text was erased."""
        rows = {r["id"]: r for r in await store.for_case(tx, case.id)}
        for h in history:
            if h.get("action") not in (Action.DISPUTE.value, Action.SETTLE_DISPUTE.value):
                continue
            detail = h.get("detail")
            dispute_id = json.loads(detail).get("dispute") if isinstance(detail, str) and detail else None
            row = rows.get(dispute_id) if isinstance(dispute_id, int) else None
            if row is not None:
                h["note"] = row["reason"] if h["action"] == Action.DISPUTE.value else row["agreement"]

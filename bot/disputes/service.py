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
from bot.cases import access, visibility
from bot.cases.base import Step
from bot.cases.disputes import confirms, decides_alone, is_coordinator, own_side
from bot.cases.models import Case
from bot.cases.rules import Action
from bot.cases.service import CaseService
from bot.disputes import messaging
from bot.disputes.samverkan import Matter, SamverkanService
from bot.errors import FieldError, Refusal
from bot.fields import clean_fields
from bot.ladder import messaging as ladder_messaging
from bot.ladder.service import LadderService
from bot.samverkan.groups import SamverkanGroup
from bot.store import Tx
from bot.store import disputes as store

REASON = "tvist_skal"  # the field keys (bot/fields.py MAX_LENGTH)
AGREEMENT = "enig"


def _same(a: str, b: str | None) -> bool:
    """Whether two agreement texts say the same (case and spacing aside): the other side typing the proposal
    again confirms it."""
    return b is not None and " ".join(a.lower().split()) == " ".join(b.lower().split())


@dataclass(frozen=True)
class Samverkan:
    """A question taken to the samverkansnivå: the case, the awaiting item and the brist draft opened for it, and
    the matter handed to the principal pair's samverkansgrupp (None when the directory names none)."""

    case_ref: str
    item_id: int
    draft_id: int
    matter: Matter | None = None
    group: SamverkanGroup | None = None


class DisputeService:
    """Disputes about whose a case is. Methods raise Refusal or FieldError; refusals are audited."""

    def __init__(self, cases: CaseService, ladder: LadderService) -> None:
        self.cases = cases
        self.ladder = ladder
        self.samverkan = SamverkanService(cases)

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

    async def settle(self, actor_id: str, ref: str, agreement: str | None) -> Case:
        """*Enig* (issue #18 item 2): both sides must agree. Someone on one side (its ladder, or a coordinator of
        its principal) proposes what was agreed; someone on the other side confirms it (no text, or the same
        text); only then is the dispute settled ("Överenskommelse registrerad av … och …"), everyone involved is
        told and its ladder stops. A different text from the other side is a counter-proposal; a person on both
        sides (a common line manager) settles it alone. Returns the case: still `disputed` after a proposal."""
        text: str | None = None
        if agreement is not None and not (isinstance(agreement, str) and not agreement.strip()):
            text = self._text(AGREEMENT, agreement)  # not a string: refused as a wrong type
        propose, confirm = self._propose(actor_id, text), self._confirm(actor_id, text)

        async def choose(tx: Tx, case: Case) -> Step:
            """Whether the actor's /enig proposes or settles, on the case as locked: a proposal another unit
            committed meanwhile (the other side's, the same text) is confirmed, not overwritten by a new one
            (refusals are left to the action itself)."""
            row = await store.current(tx, case.id) if case.disputed else None
            return propose if self._proposes(case, row, actor_id, text) else confirm

        return await self.cases._act_chosen(actor_id, ref, Action.SETTLE_DISPUTE, choose)

    def _proposes(self, case: Case, row: dict[str, Any] | None, actor_id: str, text: str | None) -> bool:
        directory = self.cases.directory
        if row is None or text is None or decides_alone(case, actor_id, directory):
            return False  # no text: a confirmation (or the refusal saying why it is not one)
        return not (confirms(case, actor_id, row["proposed_by"], row["proposed_side"], directory)
                    and _same(text, row["proposal"]))

    def _propose(self, actor_id: str, text: str | None) -> Step:
        directory = self.cases.directory

        def precheck(case: Case) -> None:
            if not case.disputed:
                raise Refusal("not_disputed", ref=case.ref)
            if text is None:
                raise FieldError.one(AGREEMENT, "required")

        async def change(tx: Tx, case: Case, now: datetime) -> dict[str, Any]:
            row = await store.current(tx, case.id)
            side = own_side(case, actor_id, directory)
            if row is None or side is None or text is None:  # pragma: no cover - checked by authorize/precheck
                raise Refusal("not_disputed", ref=case.ref)
            await store.propose(tx, row["id"], actor_id, side, text, now)
            await messaging.proposed(self.cases, tx, case, actor_id, side, text)
            return {"dispute": row["id"], "side": side}

        return Step(Action.PROPOSE_AGREEMENT, change, precheck)

    def _confirm(self, actor_id: str, text: str | None) -> Step:
        directory = self.cases.directory

        def precheck(case: Case) -> None:
            if not case.disputed:
                raise Refusal("not_disputed", ref=case.ref)

        async def change(tx: Tx, case: Case, now: datetime) -> dict[str, Any]:
            row = await store.current(tx, case.id)
            if row is None:  # pragma: no cover - the case's columns and the table change together
                raise Refusal("not_disputed", ref=case.ref)
            if decides_alone(case, actor_id, directory):
                if text is None:
                    raise FieldError.one(AGREEMENT, "required")
                agreed, proposer = text, actor_id
                await store.propose(tx, row["id"], actor_id, own_side(case, actor_id, directory) or case.target_unit,
                                    text, now)
            elif confirms(case, actor_id, row["proposed_by"], row["proposed_side"], directory) and row["proposal"]:
                agreed, proposer = row["proposal"], row["proposed_by"]
            elif row["proposed_by"] is None:  # nothing proposed yet: the first /enig is a proposal
                raise FieldError.one(AGREEMENT, "required")
            else:  # the proposer's own side cannot confirm it (a coordinator never settles for the other principal)
                raise Refusal("agreement_same_side", ref=case.ref, by=row["proposed_by"])
            await store.settle(tx, row["id"], case.id, actor_id, agreed, now)
            # the proposer is told, unless the dispute's ladder reached them: then its end tells them
            alerted = (await access.alerts_for(tx, case.id)).alerted
            people = [*case.participants(), *([case.disputed_by] if case.disputed_by else []),
                      *([proposer] if proposer not in alerted else [])]
            # the agreement's text only to those who read the case once it is settled (a ladder manager asked to settle
            # it reads it only while it is disputed): the others are told it was settled, without the text
            settled = await self.cases.load(tx, case.ref)
            reading = [p for p in people if visibility.level(settled, p, directory) is visibility.Level.FULL]
            await messaging.tell(self.cases, tx, case, reading, actor_id, "dispute_settled", agreement=agreed,
                                 unit=case.target_unit, proposer=proposer)
            await messaging.tell(self.cases, tx, case, [p for p in people if p not in reading], actor_id,
                                 "dispute_settled", agreement=None, unit=case.target_unit, proposer=proposer)
            return {"dispute": row["id"], "proposed_by": proposer}

        return Step(Action.SETTLE_DISPUTE, change, precheck)

    async def form_prefill(self, case: Case, person_id: str) -> dict[str, str]:
        """The agreement form's prefill for `person_id`: the other side's pending proposal (`enig`), which they
        confirm by sending it as it stands; empty when there is none, when they are on the proposing side, or
        when they may not see the whole case (the proposal is free text)."""
        if not case.disputed:
            return {}
        async with self.cases.db.read() as tx:
            row = await store.current(tx, case.id)
            seen = visibility.level(case, person_id, self.cases.directory, await access.alerts_for(tx, case.id))
        if row is None or not row["proposal"] or seen is not visibility.Level.FULL:
            return {}
        if not confirms(case, person_id, row["proposed_by"], row["proposed_side"], self.cases.directory):
            return {}
        return {"enig": row["proposal"], "proposed_by": row["proposed_by"]}

    async def take_to_samverkan(self, actor_id: str, item_id: int) -> Samverkan:
        """*Ta upp på samverkansnivå*: a coordinator alerted by a climb opens (or creates) the brist i samverkan
        draft for it, to take the question to the samverkansnivå. Assigns nobody."""
        ladder = self.ladder
        try:
            async with ladder.db.transaction() as tx:
                item = await ladder._answerable(tx, actor_id, item_id, lock=True)
                if not is_coordinator(actor_id, ladder.directory):
                    raise Refusal("samverkan_not_coordinator", ref=item.case_ref, item=item_id)
                case = await self.cases.load(tx, item.case_ref)
                now = ladder.clock.now()
                coordinators = list(dict.fromkeys(
                    [actor_id, *(p for p in item.alerted if is_coordinator(p, ladder.directory))]))
                draft_id = await ladder_messaging.create_brist_draft(ladder, tx, item, case, coordinators, now,
                                                                     item.skipped)
                await store.add_draft_coordinator(tx, draft_id, actor_id)  # a draft made for the others too
                matter = await self.samverkan.hand_over(tx, item, case, actor_id, draft_id, now)
                await audit.record(tx, at=now, actor_id=actor_id, action="to_samverkan", case_id=item.case_id,
                                   case_ref=item.case_ref, item_id=item.id, kind=item.kind.value, draft=draft_id)
        except Refusal as refusal:
            async with ladder.db.transaction() as tx:
                await audit.record(tx, at=ladder.clock.now(), actor_id=actor_id, action="to_samverkan",
                                   result="refused", case_ref=refusal.params.get("ref"), reason=refusal.code)
            raise
        return Samverkan(item.case_ref, item.id, draft_id, matter, self.samverkan.group_for(case))

    async def history_notes(self, tx: Tx, case: Case, history: list[dict[str, Any]]) -> None:
        """Add each dispute's reason or agreement to its history line (`note`), for those who see the whole
        case; nothing once the free text was erased."""
        rows = {r["id"]: r for r in await store.for_case(tx, case.id)}
        for h in history:
            if h.get("action") not in (Action.DISPUTE.value, Action.SETTLE_DISPUTE.value):  # proposals: no text
                continue
            detail = h.get("detail")
            dispute_id = json.loads(detail).get("dispute") if isinstance(detail, str) and detail else None
            row = rows.get(dispute_id) if isinstance(dispute_id, int) else None
            if row is not None:
                h["note"] = row["reason"] if h["action"] == Action.DISPUTE.value else row["agreement"]

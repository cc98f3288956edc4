"""Closing and consent: close, reopen, withdraw consent (close and erase, or for one unit), renew consent."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from bot.cases import consent
from bot.cases.base import CaseEngine, Change, Step
from bot.cases.disputes import may_dispute, says_not_ours
from bot.cases.models import CLOSE_REASON_ALIASES, Case, CloseReason, FollowUpStatus, Outcome
from bot.cases.rules import Action, authorize
from bot.directory import Directory
from bot.errors import FieldError, Refusal
from bot.outbox import Outbox
from bot.store import Tx
from bot.store import closing as closing_store
from bot.store import disputes as dispute_store
from bot.store import follow_ups as follow_up_store

# What becomes of the follow-ups still open when a case is closed (issue #18 item 10): cancelled, or handed over
# to their owners, who carry them on outside the case. Console `följ-upp=avbryt|överlåt`, a choice on the forms.
OPEN_FOLLOW_UPS: dict[str, FollowUpStatus] = {
    "avbryt": FollowUpStatus.CANCELLED, "avbrytas": FollowUpStatus.CANCELLED,
    "overlat": FollowUpStatus.HANDED_OVER, "överlåt": FollowUpStatus.HANDED_OVER,
    "overlåt": FollowUpStatus.HANDED_OVER, "överlat": FollowUpStatus.HANDED_OVER,
}


class WithdrawalWaits:
    """A CaseHook, registered before the Time module's (`bot.core`): a consent withdrawal (whole or for one unit)
    locks the case's open awaited items and pending timers, after its audit row and before anything else of the
    Time module, in DESIGN's lock order (case, audit chain, items, timers). A sweep's batch does not take the case's
    row: it holds the case's items or timers, decides its messages from the case as it read it, passes its version
    check before the withdrawal commits and commits after. The withdrawal waits here for that batch to commit, so
    that its last pass (`WithdrawnAgain`) sees what the batch queued. A whole withdrawal resolves the items anyway;
    one for a unit only reads them (`LadderService.sync`) and would not wait."""

    async def after_action(self, tx: Tx, case: Case, action: str, actor_id: str, now: datetime) -> None:
        if action in (Action.WITHDRAW_CONSENT.value, Action.WITHDRAW_CONSENT_UNIT.value):
            await closing_store.lock_open_rows(tx, case.id)


class WithdrawnAgain:
    """A CaseHook, registered after the Time module's (`bot.core`): at the end of a consent withdrawal's
    transaction, cancel (or retract) once more the messages that show the case's text to those it no longer
    covers. The withdrawal's first pass (in its change) cannot see a message that a unit not waiting for the
    case's row queued meanwhile: a sweep's batch holds the case's awaited items or timers, and commits its
    messages after that pass. `WithdrawalWaits` waits for that batch (it locks the same items and timers), so
    this pass, after it, sees them (DESIGN §7)."""

    def __init__(self, outbox: Outbox, directory: Directory) -> None:
        self.outbox = outbox
        self.directory = directory

    async def after_action(self, tx: Tx, case: Case, action: str, actor_id: str, now: datetime) -> None:
        if action == Action.WITHDRAW_CONSENT.value:
            await self.outbox.withdraw_shown(tx, case.id)
        elif action == Action.WITHDRAW_CONSENT_UNIT.value:
            withdrawn = set(case.consent_withdrawn)
            await self.outbox.withdraw_shown(
                tx, case.id, [p.id for p in self.directory.people.values() if p.unit in withdrawn])


def open_follow_ups(case: Case) -> list[int]:
    """The numbers (1-based) of the case's follow-ups that are neither done nor answered no."""
    return [n for n, f in enumerate(case.follow_ups, start=1) if f.is_open]


class ClosingActions(CaseEngine):
    """Close, reopen, and the consent changes."""

    async def close(self, actor_id: str, ref: str, reason: str, *, new_contact: bool | None = None,
                    follow_ups: str | None = None) -> Case:
        """Close with a reason code (genomförd, sip-vid-gfi, sip, svu, ej-aktuellt, avböjde) or a free-text
        reason. "genomförd" and "sip-vid-gfi" need the meeting's outcome recorded; after *lotsning*,
        "genomförd" also needs `new_contact` (is the new contact made?), and is refused while it is not
        (seed 002 *Avslut*: the case closes when the new contact works). Follow-ups still open are asked about
        first (`follow_ups`: avbryt or överlåt); their owners are told what became of them."""
        text = self._check_privacy({"skal": reason})["skal"]
        if not text:
            raise FieldError.one("skal", "required")
        fate = OPEN_FOLLOW_UPS.get(follow_ups.strip().lower()) if follow_ups and follow_ups.strip() else None
        if follow_ups and follow_ups.strip() and fate is None:
            raise FieldError.one("foljupp", "bad_choice", value=follow_ups)
        code = CLOSE_REASON_ALIASES.get(text.lower())
        note: str | None = None
        if code is None:
            code, note = CloseReason.OTHER, text
        settled = await self._dispute_settled(ref) if says_not_ours(text) else True

        def precheck(case: Case) -> None:
            if not settled and may_dispute(case, actor_id, self.directory):
                # "not our target group" is what a dispute decides (issue #18 item 3), not a closing on the side
                raise Refusal("close_through_dispute", ref=case.ref)
            if code in (CloseReason.COMPLETED, CloseReason.SIP_AT_GFI) and case.outcome is None:
                raise FieldError.one("skal", "close_without_outcome", ref=case.ref, reason=code.value)
            if code is CloseReason.REDIRECTED_SIP and case.outcome is Outcome.SIP:  # they contradict: ask
                raise FieldError.one("skal", "sip_contradiction", ref=case.ref)
            if code is CloseReason.COMPLETED and case.outcome is Outcome.LOTSNING and not new_contact:
                raise FieldError.one("nykontakt", "new_contact_unknown" if new_contact is None
                                     else "new_contact_missing", ref=case.ref)
            if open_follow_ups(case) and fate is None:
                raise FieldError.one("foljupp", "open_follow_ups", ref=case.ref, numbers=open_follow_ups(case))

        async def change(tx: Tx, case: Case, now: datetime) -> dict[str, Any]:
            await closing_store.set_closed(tx, case.id, code.value, note, case.state.value, now)
            detail: dict[str, Any] = {"reason": code.value}
            numbers = open_follow_ups(case)
            if numbers and fate is not None:
                for n in numbers:  # a proposal nobody accepted cannot be handed over: it is cancelled
                    follow_up = case.follow_ups[n - 1]
                    status = FollowUpStatus.CANCELLED if follow_up.proposed else fate
                    await follow_up_store.set_status(tx, [follow_up.id], status.value)
                detail["follow_ups"] = fate.value
                detail["numbers"] = numbers
            if new_contact is not None:
                detail["new_contact"] = new_contact
            return detail

        return await self._act(actor_id, ref, Action.CLOSE, change, precheck=precheck)

    async def _dispute_settled(self, ref: str) -> bool:
        """Whether a dispute about whose the case is was settled (then the receiving unit may close it as not
        theirs, as agreed)."""
        try:
            async with self.db.read() as tx:
                case = await self.load(tx, ref)
                return any(r["settled_at"] for r in await dispute_store.for_case(tx, case.id))
        except Refusal:
            return True  # an unknown reference: the action itself refuses it

    async def reopen(self, actor_id: str, ref: str) -> Case:
        async def change(tx: Tx, case: Case, now: datetime) -> dict[str, Any]:
            await closing_store.clear_closed(tx, case.id)
            return {}

        return await self._act(actor_id, ref, Action.REOPEN, change)

    async def withdraw_consent(self, actor_id: str, ref: str, unit: str | None = None) -> Case:
        """Consent withdrawn: close at once, cancel pending messages, erase free text.

        With `unit`, the individual withdrew it for that unit only: its people lose access (their pending
        messages are cancelled, those delivered retracted), it leaves the booked meeting, and the case goes
        on with the others, unless the case cannot go on without it (bot.cases.consent.withdraw_for); then
        the whole consent is withdrawn as above."""
        if unit is None:
            return await self._withdraw_whole(actor_id, ref)
        unit = unit.strip()
        if self.directory.unit(unit) is None:
            raise FieldError.one("enhet", "unknown_unit", unit=unit)
        whole = Step(Action.WITHDRAW_CONSENT, self._erasing(unit))

        async def choose(tx: Tx, case: Case) -> Step:
            """For that unit only or whole, decided on the case as locked (not on an earlier read: a change
            committed in between, on this instance or another, is seen)."""
            # authorise before telling anyone what the consent covers
            authorize(Action.WITHDRAW_CONSENT_UNIT, case, actor_id, self.directory)
            if not consent.covers(case, unit):
                raise Refusal("unit_not_in_consent", ref=case.ref, unit=unit)
            return whole if consent.withdraw_for(case, unit).whole else partial

        async def change(tx: Tx, case: Case, now: datetime) -> dict[str, Any]:
            plan = consent.withdraw_for(case, unit)
            people = [p.id for p in self.directory.people.values() if p.unit == unit]
            cancelled = await self.outbox.withdraw_recipients(tx, case.id, people)
            await closing_store.withdraw_unit(tx, case.id, plan.scope, plan.withdrawn, plan.meeting_units)
            return {"unit": unit, "cancelled_messages": cancelled, "scope": plan.scope,
                    "left_meeting": unit in case.meeting_units}

        partial = Step(Action.WITHDRAW_CONSENT_UNIT, change)
        case = await self._act_chosen(actor_id, ref, Action.WITHDRAW_CONSENT_UNIT, choose)
        if case.closed_reason is CloseReason.CONSENT_WITHDRAWN:  # withdrawn whole: its text erased
            await self.db.scrub()  # the erased text must not stay in the -wal file
        return case

    def _erasing(self, unit: str | None) -> Change:
        """The whole consent's withdrawal: close, cancel pending messages, erase free text (asked for `unit`
        only: why it could not go on without it, in the audit)."""
        async def change(tx: Tx, case: Case, now: datetime) -> dict[str, Any]:
            cancelled = await self.outbox.withdraw_case(tx, case.id)
            await closing_store.close_and_erase(tx, case.id, CloseReason.CONSENT_WITHDRAWN.value, case.state.value, now)
            detail: dict[str, Any] = {"cancelled_messages": cancelled}
            if unit is not None:  # asked for one unit, but the case cannot go on without it
                detail.update(unit=unit, because=consent.withdraw_for(case, unit).because)
            return detail

        return change

    async def _withdraw_whole(self, actor_id: str, ref: str) -> Case:
        case = await self._act(actor_id, ref, Action.WITHDRAW_CONSENT, self._erasing(None))
        await self.db.scrub()  # the erased text must not stay in the -wal file
        return case

    async def renew_consent(
        self,
        actor_id: str,
        ref: str,
        until: date,
        scope: list[str] | None = None,
        *,
        form: str | None = None,
        obtained_by: str | None = None,
        covers: list[str] | None = None,
        note: str | None = None,
    ) -> Case:
        """A renewed consent: new valid-until date (and, if given, more units or more information in scope,
        including a unit it was withdrawn for). Only the requester's side records it (rules.authorize), saying
        how it was given (`form`) and who obtained it (default: the one recording it). A case paused by an
        expired consent goes on where it stopped."""
        errors: dict[str, tuple[str, dict[str, Any]]] = {}
        if until <= self.today():
            errors["giltigt"] = ("consent_in_past", {"field": "giltigt", "until": until})
        self._check_privacy({"omfattar": scope})
        extra = [u.strip() for u in dict.fromkeys(scope or []) if u.strip()]
        for u in extra:
            if self.directory.unit(u) is None:
                errors["omfattar"] = ("unknown_unit", {"field": "omfattar", "unit": u})
        details = self._consent_details(covers or [], note, form, obtained_by or actor_id, errors)
        if errors:
            raise FieldError(errors)

        async def change(tx: Tx, case: Case, now: datetime) -> dict[str, Any]:
            new_scope = list(dict.fromkeys([*case.consent_scope, *extra]))
            withdrawn = [u for u in case.consent_withdrawn if u not in extra]
            wider = list(dict.fromkeys([*case.consent_covers, *details.covers]))
            note = case.consent_note
            if details.note and details.note != note:
                note = f"{note}; {details.note}" if note else details.note
            await closing_store.set_consent(
                tx, case.id, until, new_scope, withdrawn=withdrawn, covers=wider, note=note,
                form=details.form, obtained_by=details.obtained_by,
            )
            return {"until": until.isoformat(), "scope": new_scope, "covers": wider, "form": details.form,
                    "obtained_by": details.obtained_by}

        return await self._act(actor_id, ref, Action.RENEW_CONSENT, change)

"""The GFI meeting: acknowledge the case, book (or rebook) the meeting, no-show, record the outcome."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from bot.cases import consent
from bot.cases.base import CaseEngine
from bot.cases.models import Case, CaseState, Outcome
from bot.cases.rules import Action
from bot.errors import FieldError, Refusal
from bot.fields import clean_fields
from bot.store import Tx
from bot.store import cases as case_store


class MeetingActions(CaseEngine):
    """What those responsible do from acknowledgement to outcome."""

    async def acknowledge(self, actor_id: str, ref: str) -> Case:
        async def change(tx: Tx, case: Case, now: datetime) -> dict[str, Any]:
            await case_store.set_acknowledged(tx, case.id, actor_id, now)
            return {}

        return await self._act(actor_id, ref, Action.ACKNOWLEDGE, change)

    async def book(self, actor_id: str, ref: str, at: datetime, place: str, unit_ids: list[str]) -> Case:
        """Book (or rebook) the GFI meeting: the individual plus at least two units."""
        units = list(dict.fromkeys(u.strip() for u in unit_ids if u.strip()))
        text, errors = clean_fields({"plats": place}, self.today(), raise_errors=False)
        place = text["plats"]
        if not place and "plats" not in errors:
            errors["plats"] = ("required", {"field": "plats"})
        for u in units:
            if self.directory.unit(u) is None:
                errors["enheter"] = ("unknown_unit", {"field": "enheter", "unit": u})
        if len(units) < 2 and "enheter" not in errors:
            errors["enheter"] = ("too_few_units", {"field": "enheter"})
        if at <= self.clock.now():
            errors["tid"] = ("in_past", {"field": "tid", "at": at})
        if errors:
            raise FieldError(errors)

        async def change(tx: Tx, case: Case, now: datetime) -> dict[str, Any]:
            await case_store.set_meeting(tx, case.id, at, place, units)
            return {"meeting_at": at.isoformat(), "units": units, "rebooked": case.state is CaseState.MEETING_BOOKED}

        def precheck(case: Case) -> None:
            # The consent has expired (the day after its valid-until date): the case is paused.
            if case.consent_valid_until < self.today():
                raise Refusal("consent_expired", ref=case.ref, until=case.consent_valid_until)
            # The consent limits sharing: no meeting with a unit it does not cover (refused, not warned).
            beyond = consent.outside(case, units)
            if beyond:
                raise Refusal(
                    "units_outside_consent", ref=case.ref, units=beyond, covered=consent.covered_units(case),
                    requester=case.requester_id, field="enheter",
                )

        return await self._act(actor_id, ref, Action.BOOK, change, precheck=precheck)

    async def no_show(self, actor_id: str, ref: str) -> Case:
        """The individual did not come (*uteblev*): the meeting must be booked again."""

        async def change(tx: Tx, case: Case, now: datetime) -> dict[str, Any]:
            await case_store.record_no_show(tx, case.id)
            return {"missed_at": case.meeting_at.isoformat() if case.meeting_at else None}

        return await self._act(actor_id, ref, Action.NO_SHOW, change)

    async def record_outcome(self, actor_id: str, ref: str, outcome: str, evaluation_done: bool) -> Case:
        try:
            result = Outcome(outcome)
        except ValueError:
            raise FieldError.one("utfall", "bad_choice", value=outcome) from None

        def precheck(case: Case) -> None:
            if case.meeting_at and case.meeting_at > self.clock.now():
                raise Refusal("meeting_not_yet", ref=case.ref, at=case.meeting_at)

        async def change(tx: Tx, case: Case, now: datetime) -> dict[str, Any]:
            await case_store.set_outcome(tx, case.id, result.value, evaluation_done, now)
            return {"outcome": result.value, "evaluation_done": evaluation_done}

        return await self._act(actor_id, ref, Action.RECORD_OUTCOME, change, precheck=precheck)

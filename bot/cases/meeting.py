"""The GFI meeting: acknowledge the case, book (or rebook) the meeting, hold it now, wait for the individual
(vilande) and resume, no-show, record the outcome."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from typing import Any

from bot.calendar import office_of
from bot.cases import consent
from bot.cases.base import CaseEngine
from bot.cases.models import Case, CaseState, parse_outcome
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

    def _check_units(self, unit_ids: list[str], errors: dict[str, tuple[str, dict[str, Any]]]) -> list[str]:
        """The meeting's units, each once; problems (unknown unit, fewer than two) go to `errors`."""
        units = list(dict.fromkeys(u.strip() for u in unit_ids if u.strip()))
        for u in units:
            if self.directory.unit(u) is None:
                errors["enheter"] = ("unknown_unit", {"field": "enheter", "unit": u})
        if len(units) < 2 and "enheter" not in errors:
            errors["enheter"] = ("too_few_units", {"field": "enheter"})
        return units

    def _meeting_precheck(self, units: list[str]) -> Callable[[Case], None]:
        """The checks before a meeting with `units`: the consent is valid and covers every unit."""

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

        return precheck

    def unusual_time(self, at: datetime, unit_ids: list[str]) -> dict[str, str] | None:
        """Why `at` is an unusual meeting time for these units (weekend, holiday, afton, outside their office
        hours), or None. Such a booking is allowed, but only when confirmed."""
        hours = [office_of(u) for u in (self.directory.unit(i) for i in unit_ids) if u is not None]
        return self.calendar.unusual_time(at, hours)

    async def book(self, actor_id: str, ref: str, at: datetime, place: str, unit_ids: list[str],
                   *, confirmed: bool = False) -> Case:
        """Book (or rebook) the GFI meeting: the individual plus at least two units. A time on a weekend, a
        holiday or outside the units' office hours is refused as a field error (`unusual_time` on "tid")
        unless `confirmed`: some units work then, but it is never booked silently."""
        text, errors = clean_fields({"plats": place}, self.today(), raise_errors=False)
        place = text["plats"]
        if not place and "plats" not in errors:
            errors["plats"] = ("required", {"field": "plats"})
        units = self._check_units(unit_ids, errors)
        if at <= self.clock.now():
            errors["tid"] = ("in_past", {"field": "tid", "at": at})
        elif not confirmed and "enheter" not in errors:
            unusual = self.unusual_time(at, units)
            if unusual:
                errors["tid"] = ("unusual_time", {"field": "tid", "at": at, **unusual})
        if errors:
            raise FieldError(errors)

        async def change(tx: Tx, case: Case, now: datetime) -> dict[str, Any]:
            await case_store.set_meeting(tx, case.id, at, place, units)
            return {"meeting_at": at.isoformat(), "units": units, "rebooked": case.state is CaseState.MEETING_BOOKED,
                    "confirmed_unusual": confirmed and self.unusual_time(at, units) is not None}

        return await self._act(actor_id, ref, Action.BOOK, change, precheck=self._meeting_precheck(units))

    async def hold_now(self, actor_id: str, ref: str, unit_ids: list[str]) -> Case:
        """*Mötet hölls nu*: the meeting is being held now (the individual turned up unannounced), with these
        units; no future time is booked, and the outcome is what is asked for next."""
        errors: dict[str, tuple[str, dict[str, Any]]] = {}
        units = self._check_units(unit_ids, errors)
        if errors:
            raise FieldError(errors)

        async def change(tx: Tx, case: Case, now: datetime) -> dict[str, Any]:
            await case_store.set_meeting(tx, case.id, now, None, units)
            return {"meeting_at": now.isoformat(), "units": units, "held_now": True}

        return await self._act(actor_id, ref, Action.HOLD_NOW, change, precheck=self._meeting_precheck(units))

    async def wait(self, actor_id: str, ref: str, until: date, reason: str) -> Case:
        """*Vilande*: the individual cannot be reached or asked for time. Nothing climbs the ladder while the
        case waits; on `until` those responsible are asked to resume or close it."""
        text, errors = clean_fields({"vantar_skal": reason}, self.today(), raise_errors=False)
        reason = text["vantar_skal"]
        if not reason and "vantar_skal" not in errors:
            errors["vantar_skal"] = ("required", {"field": "vantar_skal"})
        if until <= self.today():
            errors["till"] = ("not_future_date", {"field": "till", "day": until})
        if errors:
            raise FieldError(errors)

        async def change(tx: Tx, case: Case, now: datetime) -> dict[str, Any]:
            await case_store.set_waiting(tx, case.id, until, reason)
            return {"until": until.isoformat()}

        return await self._act(actor_id, ref, Action.WAIT, change)

    async def resume(self, actor_id: str, ref: str) -> Case:
        """Resume a waiting case: the meeting is to be booked, and what was awaited is armed again."""

        async def change(tx: Tx, case: Case, now: datetime) -> dict[str, Any]:
            await case_store.set_waiting(tx, case.id, None, None)
            return {"waited_until": case.waiting_until.isoformat() if case.waiting_until else None}

        return await self._act(actor_id, ref, Action.RESUME, change)

    async def no_show(self, actor_id: str, ref: str) -> Case:
        """The individual did not come (*uteblev*): the meeting must be booked again."""

        async def change(tx: Tx, case: Case, now: datetime) -> dict[str, Any]:
            await case_store.record_no_show(tx, case.id)
            return {"missed_at": case.meeting_at.isoformat() if case.meeting_at else None}

        return await self._act(actor_id, ref, Action.NO_SHOW, change)

    async def record_outcome(self, actor_id: str, ref: str, outcome: str, evaluation_done: bool) -> Case:
        result = parse_outcome(outcome)
        if result is None:
            raise FieldError.one("utfall", "bad_choice", value=outcome)

        def precheck(case: Case) -> None:
            if case.meeting_at and case.meeting_at > self.clock.now():
                raise Refusal("meeting_not_yet", ref=case.ref, at=case.meeting_at)

        async def change(tx: Tx, case: Case, now: datetime) -> dict[str, Any]:
            await case_store.set_outcome(tx, case.id, result.value, evaluation_done, now)
            return {"outcome": result.value, "evaluation_done": evaluation_done}

        return await self._act(actor_id, ref, Action.RECORD_OUTCOME, change, precheck=precheck)

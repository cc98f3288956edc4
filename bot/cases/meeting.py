"""The GFI meeting: acknowledge the case, book (or rebook) the meeting, hold it now, wait for the individual
(vilande) and resume, no-show, record the outcome."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date, datetime
from typing import Any

from bot.calendar import office_of
from bot.cases import consent, meeting_form, outcome_details
from bot.cases.base import CaseEngine, Step
from bot.cases.meeting_form import MeetingForm
from bot.cases.models import (
    Case,
    CaseState,
    MeetingKind,
    MeetingParticipant,
    Outcome,
    parse_external_role,
    parse_outcome,
)
from bot.cases.outcome_details import OutcomeDetails
from bot.cases.rules import Action, appointers, unit_appointers
from bot.errors import FieldError, Refusal
from bot.fields import clean_fields
from bot.privacy import find_identity_numbers
from bot.store import Tx
from bot.store import cases as case_store
from bot.store import handbook as handbook_store

# What the booker says about who attends: (unit or None: the person's own unit, person id).
Named = Sequence[tuple[str | None, str]]
# External participants as typed: (role, first name or None).
Externals = Sequence[tuple[str, str | None]]
ParticipantRow = tuple[str | None, str | None, str | None, str | None]


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

    def _check_externals(self, externals: Externals | None, errors: dict[str, tuple[str, dict[str, Any]]]
                         ) -> list[MeetingParticipant] | None:
        """External participants (närstående, frivården, god man, …): a known role and at most a first name, which
        goes through the identity-number guard. None when none were given (a rebooking keeps the old ones)."""
        if externals is None:
            return None
        out: list[MeetingParticipant] = []
        for role_text, name in externals:
            role = parse_external_role(role_text)
            if role is None and find_identity_numbers(role_text, self.today()):
                errors["extern"] = ("external_identity_number", {"field": "extern"})
                continue
            if role is None:
                errors["extern"] = ("unknown_role", {"field": "extern", "value": role_text})
                continue
            text, problems = clean_fields({"fornamn": name}, self.today(), raise_errors=False)
            if problems:
                errors.update(problems)
                continue
            first = text["fornamn"] or None
            if first is not None and (len(first.split()) > 1 or any(c.isdigit() for c in first)):
                errors["fornamn"] = ("first_name_only", {"field": "fornamn"})
                continue
            out.append(MeetingParticipant(None, None, role, first))
        return out

    def _attendees(self, case: Case, units: list[str], named: Named | None,
                   externals: list[MeetingParticipant] | None) -> list[ParticipantRow]:
        """Who attends, per unit: the persons the booker named, else those named at the last booking, else the
        requester and those responsible who work there; a unit with nobody is pending (its distributor is asked
        to name someone). Raises FieldError (`deltagare`) for a person who is unknown or works elsewhere."""
        chosen: dict[str, list[str]] = {}
        for unit_id, pid in named or ():
            person = self.directory.person(pid)
            if person is None:
                raise FieldError.one("deltagare", "unknown_person", person=pid)
            unit = unit_id or person.unit
            if person.unit != unit:
                raise FieldError.one("deltagare", "participant_wrong_unit", person=pid, unit=unit)
            if unit not in units:
                raise FieldError.one("deltagare", "participant_unit_not_in_meeting", person=pid, unit=unit)
            chosen.setdefault(unit, [])
            if pid not in chosen[unit]:
                chosen[unit].append(pid)
        own = [case.requester_id, *case.responsible()]
        rows: list[ParticipantRow] = []
        for u in units:
            people = chosen.get(u) or [a.person_id for a in case.attendees if a.unit_id == u and a.person_id] \
                or [p for p in dict.fromkeys(own) if (who := self.directory.person(p)) is not None and who.unit == u]
            rows.extend((u, p, None, None) for p in people)
            if not people:
                rows.append((u, None, None, None))
        kept = case.externals() if externals is None else externals
        rows.extend((None, None, e.role, e.first_name) for e in kept)
        return rows

    def _meeting_precheck(self, units: list[str]) -> Callable[[Case], None]:
        """The checks before a meeting with `units`: both parties are at it, the consent is valid and covers
        every unit."""

        def precheck(case: Case) -> None:
            # Both parties: the unit that asked for the GFI and the receiving unit (issue #10 item 2).
            missing = [u for u in dict.fromkeys([case.requester_unit, case.target_unit]) if u not in units]
            if missing:
                raise FieldError.one("enheter", "both_parties", missing=missing)
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
                   *, confirmed: bool = False, participants: Named | None = None,
                   externals: Externals | None = None, form: MeetingForm | None = None) -> Case:
        """Book (or rebook) the GFI meeting: the individual plus at least two units. A time on a weekend, a
        holiday or outside the units' office hours is refused as a field error (`unusual_time` on "tid")
        unless `confirmed`: some units work then, but it is never booked silently. `participants` names who
        attends per unit (see `_attendees`); `externals` are external participants by role; `form` a
        tjänstepersonmöte and whether the individual is informed (`bot.cases.meeting_form`)."""
        text, errors = clean_fields({"plats": place}, self.today(), raise_errors=False)
        details = meeting_form.check(form, errors)
        place = text["plats"]
        if not place and "plats" not in errors:
            errors["plats"] = ("required", {"field": "plats"})
        units = self._check_units(unit_ids, errors)
        extern = self._check_externals(externals, errors)
        if at <= self.clock.now():
            errors["tid"] = ("in_past", {"field": "tid", "at": at})
        elif not confirmed and "enheter" not in errors:
            unusual = self.unusual_time(at, units)
            if unusual:
                errors["tid"] = ("unusual_time", {"field": "tid", "at": at, **unusual})
        if errors:
            raise FieldError(errors)

        async def change(tx: Tx, case: Case, now: datetime) -> dict[str, Any]:
            wrong: meeting_form.ErrorMap = {}
            form_now = meeting_form.kept(form, details, case, wrong)  # a rebooking keeps the booked form
            if wrong:
                raise FieldError(wrong)
            rows = self._attendees(case, units, participants, extern)
            await case_store.set_meeting(tx, case.id, at, place, units)
            await case_store.set_participants(tx, case.id, rows)
            await handbook_store.set_meeting_details(tx, case.id, form_now.kind.value,
                                                     form_now.purpose.value if form_now.purpose else None,
                                                     form_now.informed)
            return {"meeting_at": at.isoformat(), "units": units, "rebooked": case.state is CaseState.MEETING_BOOKED,
                    "confirmed_unusual": confirmed and self.unusual_time(at, units) is not None,
                    **_audited(rows), **form_now.audited()}

        return await self._act(actor_id, ref, Action.BOOK, change, precheck=self._meeting_precheck(units))

    async def hold_now(self, actor_id: str, ref: str, unit_ids: list[str], *, participants: Named | None = None,
                       externals: Externals | None = None) -> Case:
        """*Mötet hölls nu*: the meeting is being held now (the individual turned up unannounced), with these
        units; no future time is booked, and the outcome is what is asked for next."""
        errors: dict[str, tuple[str, dict[str, Any]]] = {}
        units = self._check_units(unit_ids, errors)
        extern = self._check_externals(externals, errors)
        if errors:
            raise FieldError(errors)

        async def change(tx: Tx, case: Case, now: datetime) -> dict[str, Any]:
            rows = self._attendees(case, units, participants, extern)
            await case_store.set_meeting(tx, case.id, now, None, units)
            await case_store.set_participants(tx, case.id, rows)
            await handbook_store.set_meeting_details(tx, case.id, "gfi", None, None)  # the individual is there
            return {"meeting_at": now.isoformat(), "units": units, "held_now": True, **_audited(rows)}

        def precheck(case: Case) -> None:
            if case.held_now:  # a second /hölls: the meeting is recorded once, with the time of the first
                raise Refusal("already_held", ref=case.ref, at=case.meeting_at)
            self._meeting_precheck(units)(case)

        return await self._act(actor_id, ref, Action.HOLD_NOW, change, precheck=precheck)

    async def appoint(self, actor_id: str, ref: str, person_id: str) -> Case:
        """A unit's distributor (or someone on its ladder, or the booker) names who attends the booked meeting
        for the unit: the person's own unit must be one still waiting for a name."""
        person = self.directory.person(person_id)
        if person is None:
            raise FieldError.one("deltagare", "unknown_person", person=person_id)

        def precheck(case: Case) -> None:
            if person.unit not in case.pending_units():
                # someone of another unit: name the unit the actor appoints for (their own, still awaiting a name)
                own = [u for u in case.pending_units() if actor_id in unit_appointers(u, self.directory)]
                if own:
                    raise FieldError.one("deltagare", "appoint_own_unit", person=person_id, unit=own[0])
                raise FieldError.one("deltagare", "participant_not_pending", person=person_id, unit=person.unit)
            if actor_id not in appointers(case, person.unit, self.directory):
                raise Refusal("not_appointer", ref=case.ref, units=[person.unit])

        async def change(tx: Tx, case: Case, now: datetime) -> dict[str, Any]:
            await case_store.name_participant(tx, case.id, person.unit, person_id)
            return {"unit": person.unit, "person": person_id}

        return await self._act(actor_id, ref, Action.APPOINT, change, precheck=precheck)

    async def wait(self, actor_id: str, ref: str, until: date, reason: str) -> Case:
        """*Vilande*: the individual cannot be reached or asked for time. Nothing climbs the ladder while the
        case waits; on `until` those responsible are asked to resume or close it, and that climbs the ladder
        like any bevakning. On a waiting case it extends the wait: a new date and reason (the history keeps the
        dates; the reason on the case is the latest)."""
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
            if case.state is CaseState.WAITING and case.waiting_until is not None:
                return {"until": until.isoformat(), "previous": case.waiting_until.isoformat()}
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

        def precheck(case: Case) -> None:
            if case.held_now:  # recorded as held with the individual there: nobody failed to come
                raise Refusal("already_held", ref=case.ref, at=case.meeting_at)
            if case.meeting_kind is MeetingKind.STAFF:  # the individual was never to come
                raise Refusal("staff_meeting_no_show", ref=case.ref)

        return await self._act(actor_id, ref, Action.NO_SHOW, change, precheck=precheck)

    async def record_outcome(self, actor_id: str, ref: str, outcome: str, evaluation_done: bool,
                             details: OutcomeDetails | None = None) -> Case:
        """The meeting's outcome; once recorded, the same call corrects it (`record_or_correct_outcome`)."""
        return (await self.record_or_correct_outcome(actor_id, ref, outcome, evaluation_done, details))[0]

    async def record_or_correct_outcome(self, actor_id: str, ref: str, outcome: str, evaluation_done: bool,
                                        details: OutcomeDetails | None = None) -> tuple[Case, Outcome | None]:
        """Record the outcome after the meeting, or, when one is recorded already (held, follow-ups under way),
        correct it: the same people may, the state stays, and the history keeps both. With the case, the outcome
        it had before when this corrected it (the same one when only details or the evaluation were added); None
        when it was recorded now.
        `details`: what the handbook asks with the outcome (`bot.cases.outcome_details`), checked here."""
        result = parse_outcome(outcome)
        if result is None:
            raise FieldError.one("utfall", "bad_choice", value=outcome)
        try:
            async with self.db.read() as tx:
                current: Case | None = await self.load(tx, ref)
        except Refusal:  # unknown or unseen: `_act` below refuses it (and audits the refusal)
            current = None
        cleaned: OutcomeDetails | None = None
        if details is not None and current is not None:
            cleaned, errors = outcome_details.check(current, result, evaluation_done, details, self.today())
            if errors:
                raise FieldError(errors)

        async def store_details(tx: Tx, case: Case) -> dict[str, Any]:
            if cleaned is None:
                return {}
            await handbook_store.set_outcome_details(tx, case.id, cleaned.guided_to, cleaned.mandate, cleaned.score,
                                                     cleaned.comment)
            return {"guided_to": cleaned.guided_to is not None, "sip_mandate": cleaned.mandate,
                    "evaluation_score": cleaned.score, "evaluation_comment": cleaned.comment is not None}

        async def correct(tx: Tx, case: Case, now: datetime) -> dict[str, Any]:
            await case_store.set_outcome(tx, case.id, result.value, evaluation_done, now)
            return {"outcome": result.value, "previous": case.outcome.value if case.outcome else None,
                    "evaluation_done": evaluation_done, **await store_details(tx, case)}

        def unchanged(case: Case) -> None:  # the same again: said so, nothing changed, no "(var: X)"
            if case.outcome is result and case.evaluation_done == evaluation_done and _same(cleaned, case):
                raise Refusal("outcome_unchanged", ref=case.ref, outcome=result.value)

        def precheck(case: Case) -> None:
            if case.meeting_at and case.meeting_at > self.clock.now():
                raise Refusal("meeting_not_yet", ref=case.ref, at=case.meeting_at)

        async def change(tx: Tx, case: Case, now: datetime) -> dict[str, Any]:
            await case_store.set_outcome(tx, case.id, result.value, evaluation_done, now)
            return {"outcome": result.value, "evaluation_done": evaluation_done, **await store_details(tx, case)}

        previous: list[Outcome | None] = [None]

        async def choose(tx: Tx, case: Case) -> Step:
            """Record or correct, on the case as locked: of two recording at once, the second corrects."""
            if case.state in (CaseState.MEETING_HELD, CaseState.FOLLOW_UP):
                previous[0] = case.outcome
                return Step(Action.CORRECT_OUTCOME, correct, unchanged)
            previous[0] = None
            return Step(Action.RECORD_OUTCOME, change, precheck)

        return await self._act_chosen(actor_id, ref, Action.RECORD_OUTCOME, choose), previous[0]


def _same(details: OutcomeDetails | None, case: Case) -> bool:
    """Whether `details` add nothing to what `case` records (a detail not given adds nothing)."""
    if details is None:
        return True
    pairs = ((details.guided_to, case.guided_to), (details.mandate, case.sip_mandate),
             (details.score, case.evaluation_score), (details.comment, case.evaluation_comment))
    return all(given is None or given == recorded for given, recorded in pairs)


def _audited(rows: list[ParticipantRow]) -> dict[str, Any]:
    """What the audit log keeps of who attends: person ids per unit, pending units, external roles (no names)."""
    return {"participants": [f"{u}:{p}" for u, p, _, _ in rows if u and p],
            "pending": [u for u, p, _, _ in rows if u and not p],
            "externals": [r for u, _, r, _ in rows if not u and r]}

"""Case service: every lifecycle action as one transaction (state change + audit + outbox)."""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from bot import audit
from bot.calendar import BusinessCalendar
from bot.cases import messaging
from bot.cases.models import (
    CLOSE_REASON_ALIASES,
    Case,
    CaseState,
    CaseType,
    CloseReason,
    FollowUp,
    Outcome,
    format_ref,
    parse_ref,
)
from bot.cases.rules import Action, authorize, next_state
from bot.clock import Clock
from bot.directory import Directory
from bot.errors import FieldError, NotFound, Refusal
from bot.outbox import Outbox
from bot.privacy import IdentityNumberFound, check_free_text
from bot.store import Database, Tx

log = logging.getLogger(__name__)

MAX_BRIEF = 1000
MAX_SHORT = 300
MAX_ASSIGNEES = 4


class CaseHook(Protocol):
    """Called inside the transaction after every successful case action (the Time module arms timers)."""

    async def after_action(self, tx: Tx, case: Case, action: str, actor_id: str, now: datetime) -> None: ...


@dataclass
class GfiRequest:
    """What the requester filled in on the form (DESIGN §3)."""

    target_unit: str
    case_type: str
    brief: str
    consent_confirmed: bool
    contact: str | None = None
    consent_scope: list[str] = field(default_factory=list)
    consent_valid_until: date | None = None
    urgent: bool = False


@dataclass
class MyCases:
    requests: list[Case]
    cases: list[Case]


class CaseService:
    """The GFI lifecycle. Methods raise Refusal or FieldError; refusals are audited."""

    def __init__(
        self,
        db: Database,
        directory: Directory,
        clock: Clock,
        outbox: Outbox,
        calendar: BusinessCalendar,
        *,
        tz: str = "Europe/Stockholm",
        consent_default_days: int = 90,
    ) -> None:
        self.db = db
        self.directory = directory
        self.clock = clock
        self.outbox = outbox
        self.calendar = calendar
        self.tz = ZoneInfo(tz)
        self.consent_default_days = consent_default_days
        self.hooks: list[CaseHook] = []

    # --- helpers ------------------------------------------------------------------------------
    def today(self) -> date:
        return self.clock.now().astimezone(self.tz).date()

    def _require_person(self, person_id: str) -> None:
        if self.directory.person(person_id) is None:
            raise Refusal("unknown_person", person=person_id)

    def _check_privacy(self, fields: dict[str, str | None]) -> None:
        """Reject free text holding a personnummer/samordningsnummer, naming every offending field."""
        errors: dict[str, tuple[str, dict[str, Any]]] = {}
        for key, text in fields.items():
            try:
                check_free_text(key, text, self.today())
            except IdentityNumberFound as exc:
                log.warning("identity number rejected", extra={"event": "privacy.rejected", "field": key})
                errors[key] = ("identity_number", {"field": key, "kind": exc.kind})
        if errors:
            raise FieldError(errors)

    async def load(self, tx: Tx, ref: str) -> Case:
        """Read one case by reference (raises NotFound)."""
        norm = parse_ref(ref)
        row = await tx.fetchone("SELECT * FROM cases WHERE ref = ?", (norm,)) if norm else None
        if row is None:
            raise NotFound(ref)
        return await self._hydrate(tx, row)

    async def _hydrate(self, tx: Tx, row: dict[str, Any]) -> Case:
        assignees = [
            r["person_id"]
            for r in await tx.fetchall(
                "SELECT person_id FROM case_assignees WHERE case_id = ? ORDER BY position", (row["id"],)
            )
        ]
        follow_ups = [
            FollowUp(
                id=r["id"], owner_id=r["owner_id"], due_date=date.fromisoformat(r["due_date"]), what=r["what"],
                done_at=datetime.fromisoformat(r["done_at"]) if r["done_at"] else None,
            )
            for r in await tx.fetchall("SELECT * FROM follow_ups WHERE case_id = ? ORDER BY id", (row["id"],))
        ]
        return Case.from_row(row, assignees, follow_ups)

    async def get(self, ref: str) -> Case:
        async with self.db.transaction() as tx:
            return await self.load(tx, ref)

    async def _audit_refusal(self, actor_id: str, action: str, ref: str | None, refusal: Refusal) -> None:
        async with self.db.transaction() as tx:
            await audit.record(
                tx, at=self.clock.now(), actor_id=actor_id, action=action, result="refused",
                case_ref=parse_ref(ref) if ref else None, reason=refusal.code,
            )

    async def _run_hooks(self, tx: Tx, case: Case, action: str, actor_id: str, now: datetime) -> None:
        for hook in self.hooks:
            await hook.after_action(tx, case, action, actor_id, now)

    async def _act(
        self,
        actor_id: str,
        ref: str,
        action: Action,
        change: Callable[[Tx, Case, datetime], Awaitable[dict[str, Any]]],
        *,
        precheck: Callable[[Case], None] | None = None,
    ) -> Case:
        """Load, authorise, change, audit, notify and run hooks: all in one transaction."""
        try:
            async with self.db.transaction() as tx:
                self._require_person(actor_id)
                case = await self.load(tx, ref)
                authorize(action, case, actor_id, self.directory)
                if precheck is not None:
                    precheck(case)
                now = self.clock.now()
                before = case
                detail = await change(tx, case, now)
                changed = await tx.execute(
                    "UPDATE cases SET state = ?, updated_at = ?, version = version + 1 WHERE id = ? AND version = ?",
                    (next_state(action, before).value, now.isoformat(), case.id, case.version),
                )
                if changed != 1:  # pragma: no cover - transactions are serialised; kept as a guard
                    raise Refusal("wrong_state", ref=case.ref, action=action.value, state=case.state.value)
                case = await self.load(tx, case.ref)
                await audit.record(
                    tx, at=now, actor_id=actor_id, action=action.value, case_id=case.id, case_ref=case.ref,
                    from_state=before.state.value, to_state=case.state.value, **detail,
                )
                await messaging.after_action(self, tx, before, case, action, actor_id, now)
                await self._run_hooks(tx, case, action.value, actor_id, now)
                return case
        except Refusal as refusal:
            await self._audit_refusal(actor_id, action.value, ref, refusal)
            raise

    # --- request ------------------------------------------------------------------------------
    def validate_request(self, requester_id: str, form: GfiRequest) -> GfiRequest:
        """Check a request form; raises FieldError with every field problem. Returns a normalised copy."""
        requester = self.directory.person(requester_id)
        if requester is None:
            raise Refusal("unknown_person", person=requester_id)
        errors: dict[str, tuple[str, dict[str, Any]]] = {}
        brief = (form.brief or "").strip()
        contact = (form.contact or "").strip() or self.default_contact(requester_id)
        try:
            self._check_privacy({"kort": brief, "kontakt": contact})
        except FieldError as exc:
            errors.update(exc.errors)
        unit = self.directory.unit(form.target_unit)
        if unit is None:
            errors["enhet"] = ("unknown_unit", {"field": "enhet", "unit": form.target_unit})
        elif unit.id == requester.unit:
            errors["enhet"] = ("same_unit", {"field": "enhet"})
        try:
            case_type = CaseType(form.case_type)
        except ValueError:
            errors["typ"] = ("unknown_type", {"field": "typ", "value": form.case_type})
            case_type = None
        if case_type is CaseType.ONGOING_BOTH:
            errors["typ"] = ("sip_precedence", {"field": "typ"})
        elif case_type is CaseType.SVU:
            errors["typ"] = ("svu_routine", {"field": "typ"})
        if not brief and "kort" not in errors:
            errors["kort"] = ("required", {"field": "kort"})
        elif len(brief) > MAX_BRIEF:
            errors["kort"] = ("too_long", {"field": "kort", "max": MAX_BRIEF})
        if len(contact) > MAX_SHORT and "kontakt" not in errors:
            errors["kontakt"] = ("too_long", {"field": "kontakt", "max": MAX_SHORT})
        if not form.consent_confirmed:
            errors["samtycke"] = ("consent_missing", {"field": "samtycke"})
        until = form.consent_valid_until or self.today() + timedelta(days=self.consent_default_days)
        if until < self.today():
            errors["giltigt"] = ("consent_in_past", {"field": "giltigt", "until": until})
        scope = list(dict.fromkeys(form.consent_scope or []))
        for needed in (requester.unit, form.target_unit):
            if needed not in scope:
                scope.append(needed)
        for u in scope:
            if self.directory.unit(u) is None and "enhet" not in errors:
                errors["omfattar"] = ("unknown_unit", {"field": "omfattar", "unit": u})
        if errors:
            raise FieldError(errors)
        return GfiRequest(
            target_unit=form.target_unit, case_type=form.case_type, brief=brief, consent_confirmed=True,
            contact=contact, consent_scope=scope, consent_valid_until=until, urgent=form.urgent,
        )

    def default_contact(self, person_id: str) -> str:
        """Contact details from the directory: name, unit, phone, e-mail."""
        person = self.directory.people[person_id]
        unit = self.directory.units[person.unit]
        parts = [person.name, unit.name]
        phone = person.phone or unit.phone
        if phone:
            parts.append(phone)
        if person.email:
            parts.append(person.email)
        return ", ".join(parts)

    async def request(self, requester_id: str, form: GfiRequest, *, idempotency_key: str | None = None) -> Case:
        """File a GFI request (raises FieldError, nothing saved, when the form is not acceptable)."""
        clean = self.validate_request(requester_id, form)
        requester = self.directory.people[requester_id]
        now = self.clock.now()
        year = now.astimezone(self.tz).year
        assert clean.consent_valid_until is not None
        async with self.db.transaction() as tx:
            if idempotency_key:
                existing = await tx.fetchone(
                    "SELECT c.ref FROM inbound_requests i JOIN cases c ON c.id = i.case_id WHERE i.key = ?",
                    (idempotency_key,),
                )
                if existing:
                    return await self.load(tx, existing["ref"])
            await tx.execute(
                "INSERT INTO ref_counters (year, last) VALUES (?, 1) "
                "ON CONFLICT (year) DO UPDATE SET last = last + 1",
                (year,),
            )
            seq = int(await tx.scalar("SELECT last FROM ref_counters WHERE year = ?", (year,)))
            ref = format_ref(year, seq)
            case_id = await tx.insert(
                """INSERT INTO cases (ref, state, case_type, target_unit, requester_id, requester_unit, contact,
                                      brief, consent_scope, consent_valid_until, urgent, created_at, updated_at)
                   VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
                (
                    ref, CaseState.REQUESTED.value, clean.case_type, clean.target_unit, requester_id,
                    requester.unit, clean.contact, clean.brief, json.dumps(clean.consent_scope),
                    clean.consent_valid_until.isoformat(), int(clean.urgent), now.isoformat(), now.isoformat(),
                ),
            )
            if idempotency_key:
                await tx.execute(
                    "INSERT INTO inbound_requests (key, case_id, at) VALUES (?, ?, ?)",
                    (idempotency_key, case_id, now.isoformat()),
                )
            case = await self.load(tx, ref)
            await audit.record(
                tx, at=now, actor_id=requester_id, action="request", case_id=case_id, case_ref=ref,
                target_unit=case.target_unit, case_type=case.case_type.value, urgent=case.urgent,
            )
            await messaging.case_filed(self, tx, case, now)
            await self._run_hooks(tx, case, "request", requester_id, now)
            return case

    # --- distribution ---------------------------------------------------------------------------
    async def assign(
        self, actor_id: str, ref: str, person_ids: list[str], other: str | None = None, *, reassign: bool = False
    ) -> Case:
        """Distribute a case to 1–4 named staff and/or "annan" (free text)."""
        people = list(dict.fromkeys(p.strip() for p in person_ids if p.strip()))
        other = (other or "").strip() or None
        if other:
            self._check_privacy({"annan": other})
        if not people and not other:
            raise Refusal("no_assignee")
        if len(people) > MAX_ASSIGNEES:
            raise Refusal("too_many_assignees", count=len(people))

        def precheck(case: Case) -> None:
            if case.state is not CaseState.REQUESTED and not reassign:
                raise Refusal("already_assigned", ref=case.ref, by=case.assigned_by or "", at=case.assigned_at)
            for pid in people:
                person = self.directory.person(pid)
                if person is None:
                    raise Refusal("unknown_assignee", person=pid)
                if person.unit != case.target_unit:
                    raise Refusal("assignee_wrong_unit", person=pid, unit=case.target_unit)

        async def change(tx: Tx, case: Case, now: datetime) -> dict[str, Any]:
            await tx.execute("DELETE FROM case_assignees WHERE case_id = ?", (case.id,))
            await tx.executemany(
                "INSERT INTO case_assignees (case_id, person_id, position) VALUES (?, ?, ?)",
                [(case.id, pid, i) for i, pid in enumerate(people)],
            )
            await tx.execute(
                "UPDATE cases SET other_assignee = ?, assigned_by = ?, assigned_at = ?, "
                "acknowledged_by = NULL, acknowledged_at = NULL WHERE id = ?",
                (other, actor_id, now.isoformat(), case.id),
            )
            return {"assignees": people, "other": bool(other), "reassign": reassign}

        return await self._act(actor_id, ref, Action.ASSIGN, change, precheck=precheck)

    # --- assignee actions ---------------------------------------------------------------------
    async def acknowledge(self, actor_id: str, ref: str) -> Case:
        async def change(tx: Tx, case: Case, now: datetime) -> dict[str, Any]:
            await tx.execute(
                "UPDATE cases SET acknowledged_by = ?, acknowledged_at = ? WHERE id = ?",
                (actor_id, now.isoformat(), case.id),
            )
            return {}

        return await self._act(actor_id, ref, Action.ACKNOWLEDGE, change)

    async def book(self, actor_id: str, ref: str, at: datetime, place: str, unit_ids: list[str]) -> Case:
        """Book (or rebook) the GFI meeting: the individual plus at least two units."""
        place = place.strip()
        units = list(dict.fromkeys(u.strip() for u in unit_ids if u.strip()))
        errors: dict[str, tuple[str, dict[str, Any]]] = {}
        try:
            self._check_privacy({"plats": place})
        except FieldError as exc:
            errors.update(exc.errors)
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
            await tx.execute(
                "UPDATE cases SET meeting_at = ?, meeting_place = ?, meeting_units = ? WHERE id = ?",
                (at.isoformat(), place, json.dumps(units), case.id),
            )
            return {"meeting_at": at.isoformat(), "units": units, "rebooked": case.state is CaseState.MEETING_BOOKED}

        def precheck(case: Case) -> None:
            # The consent has expired (the day after its valid-until date): the case is paused.
            if case.consent_valid_until < self.today():
                raise Refusal("consent_expired", ref=case.ref, until=case.consent_valid_until)

        return await self._act(actor_id, ref, Action.BOOK, change, precheck=precheck)

    async def no_show(self, actor_id: str, ref: str) -> Case:
        """The individual did not come (*uteblev*): the meeting must be booked again."""

        async def change(tx: Tx, case: Case, now: datetime) -> dict[str, Any]:
            await tx.execute(
                "UPDATE cases SET no_shows = no_shows + 1, meeting_at = NULL WHERE id = ?", (case.id,)
            )
            return {"missed_at": case.meeting_at.isoformat() if case.meeting_at else None}

        return await self._act(actor_id, ref, Action.NO_SHOW, change)

    async def record_outcome(self, actor_id: str, ref: str, outcome: str, evaluation_done: bool) -> Case:
        try:
            result = Outcome(outcome)
        except ValueError:
            raise FieldError.one(
                "utfall", "bad_choice", value=outcome, choices="lotsning, kartlaggning, sip eller ingen"
            ) from None

        def precheck(case: Case) -> None:
            if case.meeting_at and case.meeting_at > self.clock.now():
                raise Refusal("meeting_not_yet", ref=case.ref, at=case.meeting_at)

        async def change(tx: Tx, case: Case, now: datetime) -> dict[str, Any]:
            await tx.execute(
                "UPDATE cases SET outcome = ?, evaluation_done = ?, outcome_at = ? WHERE id = ?",
                (result.value, int(evaluation_done), now.isoformat(), case.id),
            )
            return {"outcome": result.value, "evaluation_done": evaluation_done}

        return await self._act(actor_id, ref, Action.RECORD_OUTCOME, change, precheck=precheck)

    async def add_follow_up(self, actor_id: str, ref: str, owner_id: str, due: date, what: str) -> Case:
        what = what.strip()
        self._check_privacy({"vad": what})
        if not what:
            raise FieldError.one("vad", "required")
        if len(what) > MAX_SHORT:
            raise FieldError.one("vad", "too_long", max=MAX_SHORT)
        if due < self.today():
            raise FieldError.one("datum", "consent_in_past", until=due)
        if self.directory.person(owner_id) is None:
            raise Refusal("unknown_assignee", person=owner_id)

        async def change(tx: Tx, case: Case, now: datetime) -> dict[str, Any]:
            fid = await tx.insert(
                "INSERT INTO follow_ups (case_id, owner_id, due_date, what, created_by, created_at) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                (case.id, owner_id, due.isoformat(), what, actor_id, now.isoformat()),
            )
            return {"follow_up_id": fid, "owner": owner_id, "due": due.isoformat()}

        return await self._act(actor_id, ref, Action.ADD_FOLLOW_UP, change)

    async def complete_follow_up(self, actor_id: str, ref: str, number: int) -> Case:
        """Mark follow-up `number` (1-based, in the order added) done; its owner or those responsible may."""
        try:
            async with self.db.transaction() as tx:
                self._require_person(actor_id)
                case = await self.load(tx, ref)
                if case.state not in (CaseState.MEETING_HELD, CaseState.FOLLOW_UP):
                    raise Refusal("wrong_state", ref=case.ref, action="complete_follow_up", state=case.state.value)
                if not 1 <= number <= len(case.follow_ups):
                    raise Refusal("follow_up_not_found", ref=case.ref, number=number)
                follow_up = case.follow_ups[number - 1]
                if actor_id != follow_up.owner_id and actor_id not in case.responsible():
                    raise Refusal("not_follow_up_owner", ref=case.ref)
                if follow_up.done_at is not None:
                    raise Refusal("follow_up_already_done", ref=case.ref, number=number)
                now = self.clock.now()
                await tx.execute(
                    "UPDATE follow_ups SET done_at = ?, done_by = ? WHERE id = ? AND done_at IS NULL",
                    (now.isoformat(), actor_id, follow_up.id),
                )
                await tx.execute(
                    "UPDATE cases SET updated_at = ?, version = version + 1 WHERE id = ?", (now.isoformat(), case.id)
                )
                case = await self.load(tx, case.ref)
                await audit.record(
                    tx, at=now, actor_id=actor_id, action="complete_follow_up", case_id=case.id, case_ref=case.ref,
                    follow_up_id=follow_up.id, number=number,
                )
                await self._run_hooks(tx, case, "complete_follow_up", actor_id, now)
                return case
        except Refusal as refusal:
            await self._audit_refusal(actor_id, "complete_follow_up", ref, refusal)
            raise

    # --- closing --------------------------------------------------------------------------------
    async def close(self, actor_id: str, ref: str, reason: str) -> Case:
        """Close with a reason code (genomford, sip, svu, ej-aktuellt, avbojde) or a free-text reason."""
        text = reason.strip()
        if not text:
            raise FieldError.one("skal", "required")
        code = CLOSE_REASON_ALIASES.get(text.lower())
        note: str | None = None
        if code is None:
            self._check_privacy({"skal": text})
            if len(text) > MAX_SHORT:
                raise FieldError.one("skal", "too_long", max=MAX_SHORT)
            code, note = CloseReason.OTHER, text

        async def change(tx: Tx, case: Case, now: datetime) -> dict[str, Any]:
            await tx.execute(
                "UPDATE cases SET closed_reason = ?, closed_note = ?, closed_at = ?, state_before_close = ? "
                "WHERE id = ?",
                (code.value, note, now.isoformat(), case.state.value, case.id),
            )
            return {"reason": code.value}

        return await self._act(actor_id, ref, Action.CLOSE, change)

    async def reopen(self, actor_id: str, ref: str) -> Case:
        async def change(tx: Tx, case: Case, now: datetime) -> dict[str, Any]:
            await tx.execute(
                "UPDATE cases SET closed_reason = NULL, closed_note = NULL, closed_at = NULL, "
                "state_before_close = NULL WHERE id = ?",
                (case.id,),
            )
            return {}

        return await self._act(actor_id, ref, Action.REOPEN, change)

    async def withdraw_consent(self, actor_id: str, ref: str) -> Case:
        """Consent withdrawn: close at once, cancel pending messages, erase free text."""

        async def change(tx: Tx, case: Case, now: datetime) -> dict[str, Any]:
            cancelled = await self.outbox.withdraw_case(tx, case.id)
            await tx.execute(
                "UPDATE cases SET closed_reason = ?, closed_at = ?, state_before_close = ?, brief = NULL, "
                "contact = NULL, other_assignee = CASE WHEN other_assignee IS NULL THEN NULL ELSE '–' END, "
                "meeting_place = NULL, closed_note = NULL, erased_at = ? WHERE id = ?",
                (CloseReason.CONSENT_WITHDRAWN.value, now.isoformat(), case.state.value, now.isoformat(), case.id),
            )
            await tx.execute("UPDATE follow_ups SET what = NULL WHERE case_id = ?", (case.id,))
            return {"cancelled_messages": cancelled}

        case = await self._act(actor_id, ref, Action.WITHDRAW_CONSENT, change)
        await self.db.scrub()  # the erased text must not stay in the -wal file
        return case

    async def renew_consent(self, actor_id: str, ref: str, until: date, scope: list[str] | None = None) -> Case:
        """A renewed consent: new valid-until date (and, if given, more units in scope). A case paused by an
        expired consent goes on where it stopped."""
        if until <= self.today():
            raise FieldError.one("giltigt", "consent_in_past", until=until)
        extra = [u for u in dict.fromkeys(scope or []) if u]
        for u in extra:
            if self.directory.unit(u) is None:
                raise FieldError.one("omfattar", "unknown_unit", unit=u)

        async def change(tx: Tx, case: Case, now: datetime) -> dict[str, Any]:
            new_scope = list(dict.fromkeys([*case.consent_scope, *extra]))
            await tx.execute(
                "UPDATE cases SET consent_valid_until = ?, consent_scope = ?, consent_expired_at = NULL WHERE id = ?",
                (until.isoformat(), json.dumps(new_scope), case.id),
            )
            return {"until": until.isoformat(), "scope": new_scope}

        return await self._act(actor_id, ref, Action.RENEW_CONSENT, change)

    # --- views ----------------------------------------------------------------------------------
    def distributed_units(self, person_id: str) -> list[str]:
        """Units whose queue this person distributes (as distributor or deputy)."""
        return [u.id for u in self.directory.units.values() if person_id in self.directory.distributors_of(u.id)]

    async def queue_for_unit(self, tx: Tx, unit_id: str) -> list[Case]:
        """Open, undistributed requests of a unit: urgent first, then oldest first."""
        rows = await tx.fetchall(
            "SELECT * FROM cases WHERE target_unit = ? AND state = 'requested' ORDER BY urgent DESC, created_at, id",
            (unit_id,),
        )
        return [await self._hydrate(tx, r) for r in rows]

    async def queue(self, actor_id: str) -> list[tuple[str, list[Case]]]:
        """The queues this person distributes (raises Refusal for non-distributors)."""
        self._require_person(actor_id)
        units = self.distributed_units(actor_id)
        if not units:
            raise Refusal("not_a_distributor")
        async with self.db.transaction() as tx:
            return [(u, await self.queue_for_unit(tx, u)) for u in units]

    async def mine(self, actor_id: str) -> MyCases:
        """My open requests and the open cases I am responsible for."""
        self._require_person(actor_id)
        async with self.db.transaction() as tx:
            req_rows = await tx.fetchall(
                "SELECT * FROM cases WHERE requester_id = ? AND state != 'closed' ORDER BY created_at", (actor_id,)
            )
            case_rows = await tx.fetchall(
                "SELECT c.* FROM cases c JOIN case_assignees a ON a.case_id = c.id "
                "WHERE a.person_id = ? AND c.state != 'closed' "
                "UNION SELECT c.* FROM cases c WHERE c.assigned_by = ? AND c.other_assignee IS NOT NULL "
                "AND c.state != 'closed' AND NOT EXISTS (SELECT 1 FROM case_assignees a WHERE a.case_id = c.id) "
                "ORDER BY created_at",
                (actor_id, actor_id),
            )
            return MyCases(
                requests=[await self._hydrate(tx, r) for r in req_rows],
                cases=[await self._hydrate(tx, r) for r in case_rows],
            )

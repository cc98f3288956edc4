"""Filing a GFI request: form validation, SIP/SVU precedence, default contact, the new case."""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from typing import Any

from bot import audit, names
from bot.cases import messaging
from bot.cases.base import CaseEngine
from bot.cases.codes import REF_DIGITS, ref_prefix
from bot.cases.models import FILED, Case, CaseState, CaseType, parse_case_type, parse_children
from bot.errors import FieldError, Refusal
from bot.fields import clean_fields
from bot.store import Tx
from bot.store import cases as case_store
from bot.store.tx import Soon


@dataclass
class GfiRequest:
    """What the requester filled in on the form (DESIGN §3)."""

    target_unit: str
    case_type: str
    brief: str
    consent_confirmed: bool
    contact: str | None = None
    consent_scope: list[str] = field(default_factory=list)
    consent_valid_until: date | None = None  # None: the configured default period, stated in the receipt
    urgent: bool = False
    consent_covers: list[str] = field(default_factory=list)  # information categories (bot.cases.consent)
    consent_note: str | None = None  # free text: what "annat" is
    consent_form: str | None = None  # skriftligt | muntligt
    consent_obtained_by: str | None = None  # person id; None: the requester
    children: str | None = None  # are children affected: ja | nej | vet-ej; None: not answered
    other_contacts: str | None = None  # the individual's other contacts (free text)
    names_checked: bool = False  # the requester confirmed that the texts name nobody (the name/address warning)


class RequestActions(CaseEngine):
    """Filing a request (DESIGN §3)."""

    def validate_request(self, requester_id: str, form: GfiRequest) -> GfiRequest:
        """Check a request form; raises FieldError with every field problem. Returns a normalised copy."""
        requester = self.directory.person(requester_id)
        if requester is None:
            raise Refusal("unknown_person", person=requester_id)
        text, errors = clean_fields(
            {"kort": form.brief, "kontakt": form.contact, "enhet": form.target_unit, "typ": form.case_type,
             "omfattar": form.consent_scope, "kontakter": form.other_contacts}, self.today(), raise_errors=False,
        )
        brief = text["kort"]
        if not form.names_checked:
            for key in ("kort", "kontakter"):
                found = names.findings(text[key]) if key not in errors else []
                if found:
                    errors[key] = ("name_or_address", {"field": key, "kinds": [f.value for f in found]})
        contact = text["kontakt"]
        if not contact and "kontakt" not in errors:
            default, more = clean_fields({"kontakt": self.default_contact(requester_id)}, self.today(),
                                         raise_errors=False)
            contact = default["kontakt"]
            errors.update(more)
        unit = self.directory.unit(text["enhet"])
        if unit is None and "enhet" not in errors:
            errors["enhet"] = ("unknown_unit", {"field": "enhet", "unit": text["enhet"]})
        elif unit is not None and unit.id == requester.unit:
            errors["enhet"] = ("same_unit", {"field": "enhet"})
        case_type = parse_case_type(text["typ"]) if "typ" not in errors else None
        if case_type is None and "typ" not in errors:
            errors["typ"] = ("unknown_type", {"field": "typ", "value": form.case_type})
        support = self.directory.sip_support(requester.unit, unit.id if unit is not None else None)
        if case_type is CaseType.ONGOING_BOTH and unit is not None and self.between_principals(requester.unit, unit.id):
            errors["typ"] = ("sip_precedence", {"field": "typ", "support": support})
        elif case_type is CaseType.SVU:
            errors["typ"] = ("svu_routine", {"field": "typ", "support": support})
        children = None
        if form.children is not None and form.children.strip():
            children = parse_children(form.children)
            if children is None:
                errors["barn"] = ("bad_choice", {"field": "barn", "value": form.children})
        else:  # required on every channel: the receiving side must know whether children are affected
            errors["barn"] = ("required", {"field": "barn"})
        if not brief and "kort" not in errors:
            errors["kort"] = ("required", {"field": "kort"})
        if not form.consent_confirmed:
            errors["samtycke"] = ("consent_missing", {"field": "samtycke"})
        until = form.consent_valid_until or self.today() + timedelta(days=self.consent_default_days)
        if until < self.today():
            errors["giltigt"] = ("consent_in_past", {"field": "giltigt", "until": until})
        wanted = [] if "omfattar" in errors else [u.strip() for u in form.consent_scope or []]
        scope = [u for u in dict.fromkeys(wanted) if u]
        for needed in (requester.unit, form.target_unit):
            if needed not in scope:
                scope.append(needed)
        for u in scope:
            if self.directory.unit(u) is None and "enhet" not in errors and "omfattar" not in errors:
                errors["omfattar"] = ("unknown_unit", {"field": "omfattar", "unit": u})
        details = self._consent_details(
            form.consent_covers, form.consent_note, form.consent_form, form.consent_obtained_by or requester_id,
            errors,
        )
        if errors:
            raise FieldError(errors)
        return GfiRequest(
            target_unit=form.target_unit, case_type=case_type.value if case_type else form.case_type, brief=brief,
            consent_confirmed=True, children=children.value if children else None,
            contact=contact, consent_scope=scope, consent_valid_until=until, urgent=form.urgent,
            consent_covers=details.covers, consent_note=details.note, consent_form=details.form,
            consent_obtained_by=details.obtained_by, other_contacts=text["kontakter"] or None,
            names_checked=form.names_checked,
        )

    def between_principals(self, unit_a: str, unit_b: str) -> bool:
        """Whether the two units belong to a kommun and a region: a SIP is a plan between huvudmän, so
        *pågående/känd i båda* points to SIP only then (between units of one principal it is a GFI)."""
        a, b = self.directory.principal_of(unit_a), self.directory.principal_of(unit_b)
        return a is not None and b is not None and a.kind is not b.kind

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
        """File a GFI request (raises FieldError, nothing saved, when the form is not acceptable).

        Plan, then apply: the form is checked and the receipt described (rendered) before the transaction, for
        the case as it will be stored, under a placeholder reference; the unit of work only writes (the number,
        the case, its audit row, the messages with the real reference, the ladder) and holds the write lock
        for that alone. Should the stored case differ from the one planned, its messages are described again
        inside, as before."""
        clean = self.validate_request(requester_id, form)
        default_days = self.consent_default_days if form.consent_valid_until is None else None
        requester = self.directory.people[requester_id]
        now = self.clock.now()
        year = now.astimezone(self.tz).year
        assert clean.consent_valid_until is not None
        until = clean.consent_valid_until
        token = secrets.token_hex(6)
        placeholder = f"GFI-{year}-Q{token}"  # no real reference has a letter in its number
        planned_case = Case.from_row(_new_case_row(placeholder, requester_id, requester.unit, clean, now), [], [], [])
        planned = messaging.plan_case_filed(self, planned_case, now, default_days=default_days)
        next_ref = case_store.NextRef(year, ref_prefix(year), REF_DIGITS, provisional=placeholder)
        # the placeholder whole (with_ref finds it all) in every message planned: not escaped or cut anywhere
        whole = not any(p.with_ref(placeholder, "").mentions(token) for p in planned)

        async def file(tx: Tx) -> tuple[Case, Soon | None]:  # one unit of work: three trips to the store
            if idempotency_key and not await case_store.claim_inbound(tx, idempotency_key, now):
                existing = await case_store.ref_for_inbound(tx, idempotency_key)  # filed before, here or elsewhere
                if existing:
                    return await self.load(tx, existing), None
            # The case, stored with its idempotency key's row; on PostgreSQL under its provisional reference, the
            # year's number being taken in the last trip (`take_ref`, with the commit). Elsewhere the number is
            # taken here and the reference is the real one.
            stored = await tx.answer(await case_store.send_case(
                tx, ref=next_ref, state=CaseState.REQUESTED.value,
                case_type=clean.case_type, target_unit=clean.target_unit, requester_id=requester_id,
                requester_unit=requester.unit,
                contact=clean.contact, brief=clean.brief, consent_scope=clean.consent_scope,
                consent_valid_until=until, urgent=clean.urgent, now=now,
                consent_covers=clean.consent_covers, consent_note=clean.consent_note,
                consent_form=clean.consent_form, consent_obtained_by=clean.consent_obtained_by,
                children=clean.children, other_contacts=clean.other_contacts, inbound_key=idempotency_key,
            ))
            case = Case.from_row(stored, [], [], [])  # a new case: nobody assigned, no follow-up, no participant
            late = case.ref == placeholder
            as_planned = whole and replace(planned_case, id=case.id, ref=case.ref) == case
            if late and not as_planned:  # described inside with its reference: the number taken now (a guard)
                case = Case.from_row(await tx.answer(await case_store.take_ref(tx, case.id, next_ref)), [], [], [])
                late = False
            if as_planned:
                await messaging.put_planned(self, tx, [p.with_ref(placeholder, case.ref) for p in planned], case)
            else:  # a guard: the planned case is the stored one (tests/integration/test_filing_plan.py)
                await messaging.case_filed(self, tx, case, now, default_days=default_days)
            # The year's number, the audit chain and the statistics' rollups are taken last, in one trip with the
            # commit (PostgreSQL): the audit rows (the filing's, a skipped rung's) and the rollups are held
            # (`hold_hot`) and sent after the number, in the lock order (the number, the chain, the rollups).
            tx.hold_hot()
            await audit.record(
                tx, at=now, actor_id=requester_id, action="request", case_id=case.id, case_ref=case.ref,
                target_unit=case.target_unit, case_type=case.case_type.value, urgent=case.urgent,
                consent_scope=case.consent_scope, consent_until=case.consent_valid_until.isoformat(),
                consent_covers=case.consent_covers, consent_form=case.consent_form,
                consent_obtained_by=case.consent_obtained_by, consent_default_days=default_days,
                children=case.children.value if case.children else None,
                other_contacts=bool(case.other_contacts), names_confirmed=clean.names_checked,
            )
            await self._run_hooks(tx, case, FILED, requester_id, now)
            taken = await case_store.take_ref(tx, case.id, next_ref) if late else None
            await tx.release_hot()
            return case, taken

        # `file` changes nothing outside its transaction
        case, taken = await self.db.run(file, retry=True)
        return Case.from_row(taken.value, [], [], []) if taken is not None else case


def _new_case_row(ref: str, requester_id: str, requester_unit: str, form: GfiRequest, now: datetime) -> dict[str, Any]:
    """The row a new case will have once stored (as `bot.store.cases.insert_case` writes it and the schema's
    defaults complete it), for describing its messages before the transaction."""
    assert form.consent_valid_until is not None
    return {
        "id": 0, "ref": ref, "state": CaseState.REQUESTED.value, "case_type": form.case_type,
        "target_unit": form.target_unit, "requester_id": requester_id, "requester_unit": requester_unit,
        "contact": form.contact, "brief": form.brief, "consent_scope": json.dumps(form.consent_scope),
        "consent_valid_until": form.consent_valid_until.isoformat(), "urgent": int(form.urgent),
        "created_at": now.isoformat(), "updated_at": now.isoformat(), "version": 1,
        "other_assignee": None, "assigned_by": None, "assigned_at": None, "acknowledged_by": None,
        "acknowledged_at": None, "meeting_at": None, "meeting_place": None, "meeting_units": None, "no_shows": 0,
        "outcome": None, "evaluation_done": None, "closed_reason": None, "closed_note": None, "closed_at": None,
        "state_before_close": None, "erased_at": None, "consent_covers": json.dumps(form.consent_covers or []),
        "consent_note": form.consent_note, "consent_form": form.consent_form,
        "consent_obtained_by": form.consent_obtained_by, "children": form.children,
    }

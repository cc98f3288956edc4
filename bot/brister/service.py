"""The report service: file a report, complete or dismiss a draft from the ladder, record measures and the
outcome of the dialogue, close, read and list. Each change is one transaction (change + audit + outbox)."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import replace
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from bot import audit
from bot.brister import messaging
from bot.brister.models import (
    BristDraft,
    BristForm,
    BristReport,
    BristState,
    Cause,
    format_brist_ref,
    parse_brist_ref,
    parse_cause,
)
from bot.brister.rules import (
    BristAction,
    authorize,
    authorize_draft,
    is_coordinator,
    may_list,
    may_see_draft,
    next_state,
    units_distributed_by,
)
from bot.cases import access
from bot.cases.access import CasesLoader
from bot.cases.models import Case, parse_ref
from bot.cases.visibility import Level
from bot.clock import Clock
from bot.directory import Directory
from bot.errors import FieldError, Refusal
from bot.fields import clean_fields
from bot.outbox import Outbox
from bot.paging import LIST_PAGE, Page
from bot.store import Database, Tx
from bot.store import brister as store

# Reads one case by reference or raises NotFound (the case service's `load`), for the need-to-know check.
CaseLoader = Callable[[Tx, str], Awaitable[Case]]

log = logging.getLogger("bot.brister.service")

ErrorMap = dict[str, tuple[str, dict[str, Any]]]

# The field keys of the form (console options, Slack block ids, labels in `_labels.j2` FIELDS).
F_UNITS, F_CAUSES, F_WHAT, F_MEASURES, F_DIALOGUE, F_DATE, F_CASE, F_REASON = (
    "berorda", "orsaker", "handelse", "atgarder", "dialog", "datum", "arende", "skal",
)


class BristService:
    """Brister i samverkan. Methods raise Refusal or FieldError; refusals are audited."""

    def __init__(self, db: Database, directory: Directory, clock: Clock, outbox: Outbox, *,
                 tz: str = "Europe/Stockholm", load_case: CaseLoader | None = None,
                 load_many: CasesLoader | None = None) -> None:
        self.db = db
        self.directory = directory
        self.clock = clock
        self.outbox = outbox
        self.tz = ZoneInfo(tz)
        self.load_case = load_case
        self.load_many = load_many

    async def shown_to(self, tx: Tx, person_id: str, report: BristReport) -> BristReport:
        """The report as `person_id` may see it: the GFI reference it concerns is left out for someone who may
        not know that case exists (DESIGN §7); the report itself is about collaboration, not the individual."""
        if not report.case_ref or self.load_case is None:
            return report
        seen = await access.levels(tx, self.load_case, self.directory, person_id, [report.case_ref])
        return report if seen[report.case_ref] > Level.NONE else replace(report, case_ref=None)

    def today(self) -> date:
        return self.clock.now().astimezone(self.tz).date()

    # --- validation -------------------------------------------------------------------------------
    def _clean(self, fields: dict[str, str | None], errors: ErrorMap) -> dict[str, str]:
        """Every free-text field through the one guard (bot/fields.py): type, blank, length, identity numbers;
        each offending field gets its error in `errors`."""
        clean, problems = clean_fields(fields, self.today(), raise_errors=False)
        errors.update(problems)
        return clean

    def validate(self, reporter_id: str, form: BristForm) -> BristForm:
        """Check a report form; raises FieldError naming every problem. Returns a normalised copy."""
        if self.directory.person(reporter_id) is None:
            raise Refusal("unknown_person", person=reporter_id)
        errors: ErrorMap = {}
        texts = self._clean({F_WHAT: form.what, F_MEASURES: form.measures, F_DIALOGUE: form.dialogue}, errors)
        what, measures, dialogue = texts[F_WHAT], texts[F_MEASURES] or None, texts[F_DIALOGUE] or None
        units = list(dict.fromkeys(u.strip() for u in form.units if u and u.strip()))
        if not units:
            errors[F_UNITS] = ("required", {"field": F_UNITS})
        for u in units:
            if self.directory.unit(u) is None:
                errors[F_UNITS] = ("unknown_unit", {"field": F_UNITS, "unit": u})
                break
        causes: list[Cause] = []
        for raw in (c for c in form.causes if c and c.strip()):
            cause = parse_cause(raw)
            if cause is None:
                errors[F_CAUSES] = ("unknown_cause", {"field": F_CAUSES, "value": raw.strip()})
                break
            causes.append(cause)
        if not causes and F_CAUSES not in errors:
            errors[F_CAUSES] = ("required", {"field": F_CAUSES})
        if not what and F_WHAT not in errors:
            errors[F_WHAT] = ("required", {"field": F_WHAT})
        when = form.incident_date or self.today()
        if when > self.today():
            errors[F_DATE] = ("date_in_future", {"field": F_DATE, "value": when})
        case_ref = None
        if form.case_ref and form.case_ref.strip():
            case_ref = parse_ref(form.case_ref)
            if case_ref is None:
                errors[F_CASE] = ("bad_case_ref", {"field": F_CASE, "value": form.case_ref.strip()})
        if errors:
            raise FieldError(errors)
        ordered = [c.value for c in Cause if c in causes]  # the report's order, each cause once
        return BristForm(units=units, causes=ordered, what=what, measures=measures, dialogue=dialogue,
                         incident_date=when, case_ref=case_ref)

    def _text(self, key: str, text: str) -> str:
        """One free-text field on its own (measures, dialogue, a dismiss reason): guarded, required, bounded."""
        errors: ErrorMap = {}
        text = self._clean({key: text}, errors)[key]
        if not text and key not in errors:
            errors[key] = ("required", {"field": key})
        if errors:
            raise FieldError(errors)
        return text

    # --- loading ----------------------------------------------------------------------------------
    async def load(self, tx: Tx, ref: str) -> BristReport:
        norm = parse_brist_ref(ref)
        row = await store.find_by_ref(tx, norm) if norm else None
        if row is None:
            raise Refusal("brist_not_found", ref=norm or ref)
        return BristReport.from_row(row)

    async def _load_draft(self, tx: Tx, draft_id: int, *, lock: bool = False) -> BristDraft:
        row = await store.find_draft(tx, draft_id, lock=lock)
        if row is None:
            raise Refusal("brist_draft_not_found", draft=draft_id)
        return BristDraft.from_row(row)

    async def _audit_refusal(self, actor_id: str, action: BristAction, ref: str | None, refusal: Refusal) -> None:
        async with self.db.transaction() as tx:
            await audit.record(tx, at=self.clock.now(), actor_id=actor_id, action=action.value, result="refused",
                               case_ref=ref, reason=refusal.code)

    async def _guarded(self, actor_id: str, action: BristAction, ref: str | None,
                       body: Callable[[], Awaitable[Any]]) -> Any:
        try:
            return await body()
        except Refusal as refusal:
            await self._audit_refusal(actor_id, action, parse_brist_ref(ref or "") or ref, refusal)
            raise

    # --- filing -----------------------------------------------------------------------------------
    async def _insert(self, tx: Tx, actor_id: str, clean: BristForm, now: datetime) -> BristReport:
        year = now.astimezone(self.tz).year
        ref = format_brist_ref(year, await store.next_ref_number(tx, year))
        principals = list(dict.fromkeys(
            p.id for p in (self.directory.principal_of(u) for u in clean.units) if p is not None
        ))
        assert clean.incident_date is not None
        await store.insert_report(
            tx, ref=ref, year=year, state=BristState.SUBMITTED.value, incident_date=clean.incident_date,
            units=clean.units, principals=principals, causes=clean.causes, what=clean.what,
            measures=clean.measures, dialogue=clean.dialogue, case_ref=clean.case_ref, filed_by=actor_id, now=now,
        )
        return await self.load(tx, ref)

    async def file(self, reporter_id: str, form: BristForm) -> BristReport:
        """File a report (raises FieldError, nothing saved, when the form is not acceptable)."""
        clean = self.validate(reporter_id, form)
        now = self.clock.now()
        async with self.db.transaction() as tx:
            report = await self._insert(tx, reporter_id, clean, now)
            await audit.record(tx, at=now, actor_id=reporter_id, action=BristAction.FILE.value, case_ref=report.ref,
                               units=report.units, causes=[c.value for c in report.causes], gfi=report.case_ref)
            await messaging.report_filed(self.outbox, tx, report, reporter_id, now, self.shown_to)
        log.info("brist filed", extra={"event": "brist.filed", "brist_ref": report.ref})
        return report

    # --- drafts from the ladder -------------------------------------------------------------------
    def _require_coordinator(self, actor_id: str, action: str) -> None:
        if self.directory.person(actor_id) is None:
            raise Refusal("unknown_person", person=actor_id)
        if not is_coordinator(actor_id, self.directory):
            raise Refusal("brist_not_coordinator", action=action)

    async def draft_page(self, actor_id: str, limit: int = LIST_PAGE, skip: int = 0) -> Page[BristDraft]:
        """A page of the drafts waiting for this coordinator (those of the climbs that reached them), oldest
        first, and how many there are."""
        async def body() -> Page[BristDraft]:
            self._require_coordinator(actor_id, "brist_drafts")
            async with self.db.read() as tx:
                rows, total = await store.open_draft_page(tx, actor_id, limit, skip)
            drafts = [BristDraft.from_row(r) for r in rows]
            return Page([d for d in drafts if may_see_draft(d, actor_id)], total, skip, limit)
        result: Page[BristDraft] = await self._guarded(actor_id, BristAction.VIEW, None, body)
        return result

    async def open_drafts(self, actor_id: str) -> list[BristDraft]:
        """The first page of `draft_page`."""
        return (await self.draft_page(actor_id)).items

    async def draft(self, actor_id: str, draft_id: int) -> BristDraft:
        async def body() -> BristDraft:
            async with self.db.transaction() as tx:
                draft = await self._load_draft(tx, draft_id)
            authorize_draft(BristAction.VIEW, draft, actor_id, self.directory)
            return draft
        result: BristDraft = await self._guarded(actor_id, BristAction.VIEW, None, body)
        return result

    async def draft_to_complete(self, actor_id: str, draft_id: int) -> BristDraft:
        """A draft the actor may complete or dismiss now (refused once it is submitted or dismissed)."""
        async def body() -> BristDraft:
            async with self.db.transaction() as tx:
                draft = await self._load_draft(tx, draft_id)
            authorize_draft(BristAction.SUBMIT_DRAFT, draft, actor_id, self.directory)
            return draft
        result: BristDraft = await self._guarded(actor_id, BristAction.VIEW, None, body)
        return result

    def draft_form(self, draft: BristDraft) -> BristForm:
        """The report form prefilled from a draft: the units, cause *kommunikation*, what went unanswered and
        since when, the case reference, and the day the climb reached the top."""
        return BristForm(units=list(draft.units), causes=[c.value for c in draft.causes], what=draft.what,
                         incident_date=draft.created_at.astimezone(self.tz).date(), case_ref=draft.case_ref)

    async def submit_draft(self, actor_id: str, draft_id: int, changes: BristForm | None = None) -> BristReport:
        """Complete a draft and submit it as a report. Fields given in `changes` (non-empty) replace the
        prefilled ones."""
        async def body() -> BristReport:
            now = self.clock.now()
            async with self.db.transaction() as tx:
                draft = await self._load_draft(tx, draft_id, lock=True)
                authorize_draft(BristAction.SUBMIT_DRAFT, draft, actor_id, self.directory)
                form = self.draft_form(draft)
                if changes is not None:
                    form = replace(
                        form,
                        units=changes.units or form.units, causes=changes.causes or form.causes,
                        what=changes.what or form.what, measures=changes.measures, dialogue=changes.dialogue,
                        incident_date=changes.incident_date or form.incident_date,
                        case_ref=changes.case_ref or form.case_ref,
                    )
                clean = self.validate(actor_id, form)
                report = await self._insert(tx, actor_id, clean, now)
                await store.set_draft_submitted(tx, draft.id, report.id, actor_id, now)
                report = await self.load(tx, report.ref)
                await audit.record(tx, at=now, actor_id=actor_id, action=BristAction.SUBMIT_DRAFT.value,
                                   case_ref=report.ref, draft=draft.id, gfi=draft.case_ref, units=report.units,
                                   causes=[c.value for c in report.causes])
                await messaging.report_filed(self.outbox, tx, report, actor_id, now, self.shown_to)
                return report
        result: BristReport = await self._guarded(actor_id, BristAction.SUBMIT_DRAFT, None, body)
        return result

    async def dismiss_draft(self, actor_id: str, draft_id: int, reason: str) -> BristDraft:
        """Dismiss a draft with a reason (no report is made)."""
        async def body() -> BristDraft:
            now = self.clock.now()
            async with self.db.transaction() as tx:
                draft = await self._load_draft(tx, draft_id, lock=True)
                authorize_draft(BristAction.DISMISS_DRAFT, draft, actor_id, self.directory)
                text = self._text(F_REASON, reason)
                await store.set_draft_dismissed(tx, draft.id, text, actor_id, now)
                await audit.record(tx, at=now, actor_id=actor_id, action=BristAction.DISMISS_DRAFT.value,
                                   case_ref=draft.case_ref, draft=draft.id)
                return await self._load_draft(tx, draft.id)
        result: BristDraft = await self._guarded(actor_id, BristAction.DISMISS_DRAFT, None, body)
        return result

    # --- working a report -------------------------------------------------------------------------
    async def _change(self, actor_id: str, ref: str, action: BristAction, key: str, text: str | None) -> BristReport:
        async def body() -> BristReport:
            now = self.clock.now()
            async with self.db.transaction() as tx:
                norm = parse_brist_ref(ref)
                if norm:
                    await store.lock_report(tx, norm)  # another change to it waits, then reads this one's
                report = await self.load(tx, ref)
                authorize(action, report, actor_id, self.directory)
                clean = self._text(key, text or "") if key else None
                target = next_state(action, report).value
                if action is BristAction.RECORD_MEASURES:
                    assert clean is not None
                    changed = await store.set_measures(tx, report.id, report.version, clean, now)
                elif action is BristAction.RECORD_DIALOGUE:
                    assert clean is not None
                    changed = await store.set_dialogue(tx, report.id, report.version, clean, target, now)
                else:
                    changed = await store.set_closed(tx, report.id, report.version, target, now)
                if not changed:  # pragma: no cover - the report's row is locked since the read; kept as a guard
                    raise Refusal("brist_wrong_state", ref=report.ref, action=action.value, state=report.state.value)
                after = await self.load(tx, report.ref)
                await audit.record(tx, at=now, actor_id=actor_id, action=action.value, case_ref=report.ref,
                                   from_state=report.state.value, to_state=after.state.value)
                change = {BristAction.RECORD_MEASURES: "measures", BristAction.RECORD_DIALOGUE: "dialogue"}.get(
                    action, "closed")
                await messaging.report_changed(self.outbox, tx, after, actor_id, change, now, self.shown_to)
                return await self.shown_to(tx, actor_id, after)
        result: BristReport = await self._guarded(actor_id, action, ref, body)
        return result

    async def record_measures(self, actor_id: str, ref: str, text: str) -> BristReport:
        """The measures a unit took (replaces earlier text; the audit keeps that it changed)."""
        return await self._change(actor_id, ref, BristAction.RECORD_MEASURES, F_MEASURES, text)

    async def record_dialogue(self, actor_id: str, ref: str, text: str) -> BristReport:
        """The outcome of the dialogue between the parties; the report is then *dialog hållen*."""
        return await self._change(actor_id, ref, BristAction.RECORD_DIALOGUE, F_DIALOGUE, text)

    async def close(self, actor_id: str, ref: str) -> BristReport:
        """Close a report (coordinators)."""
        return await self._change(actor_id, ref, BristAction.CLOSE, "", None)

    # --- reading ----------------------------------------------------------------------------------
    async def get(self, actor_id: str, ref: str) -> BristReport:
        """One report, if the actor may see it (else refused as not found)."""
        async def body() -> BristReport:
            async with self.db.transaction() as tx:
                report = await self.load(tx, ref)
                authorize(BristAction.VIEW, report, actor_id, self.directory)
                return await self.shown_to(tx, actor_id, report)
        result: BristReport = await self._guarded(actor_id, BristAction.VIEW, ref, body)
        return result

    async def report_page(self, actor_id: str, *, year: int | None = None, unit: str | None = None,
                          open_only: bool = False, limit: int = LIST_PAGE, skip: int = 0) -> Page[BristReport]:
        """A page of the reports the actor may see, newest first, and how many there are: coordinators see
        all, distributors their units' and the ones they filed. A fixed number of statements."""
        if self.directory.person(actor_id) is None:
            raise Refusal("unknown_person", person=actor_id)
        units: list[str] | None = None
        own: str | None = None
        if not is_coordinator(actor_id, self.directory):
            units = units_distributed_by(actor_id, self.directory)
            own = actor_id  # the reports they filed themselves, whatever units they name
        if unit is not None:
            units = [unit] if units is None or unit in units else []
        async with self.db.read() as tx:
            rows, total = await store.report_page(tx, limit=limit, offset=skip, year=year, units=units,
                                                  filed_by=own, open_only=open_only)
            if not total and own is not None and not may_list(actor_id, self.directory):
                raise Refusal("brist_list_not_allowed")
            reports = await self.shown_many(tx, actor_id, [BristReport.from_row(r) for r in rows])
        return Page(reports, total, skip, limit)

    async def shown_many(self, tx: Tx, person_id: str, reports: list[BristReport]) -> list[BristReport]:
        """`shown_to` of a page of reports, the access checked for all their cases at once."""
        refs = [r.case_ref for r in reports if r.case_ref]
        if not refs or self.load_many is None:
            return [await self.shown_to(tx, person_id, r) for r in reports]
        seen = await access.levels_of_many(tx, self.load_many, self.directory, person_id, refs)
        return [r if not r.case_ref or seen.get(r.case_ref, Level.NONE) > Level.NONE else replace(r, case_ref=None)
                for r in reports]

    async def list_reports(self, actor_id: str, *, year: int | None = None,
                           unit: str | None = None) -> list[BristReport]:
        """The newest page of `report_page`, oldest first."""
        return list(reversed((await self.report_page(actor_id, year=year, unit=unit)).items))

    async def year_count(self, year: int) -> int:
        """How many reports a year has (the yearly report's links say it)."""
        async with self.db.read() as tx:
            return await store.year_count(tx, year)

    async def year_reports(self, year: int) -> list[BristReport]:
        """Every report of a year, for the yearly report (operators and coordinators)."""
        async with self.db.transaction() as tx:
            return [BristReport.from_row(r) for r in await store.list_reports(tx, year=year)]

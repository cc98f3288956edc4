"""The shared machinery of the case service: load a case, run one action as one transaction
(authorise, change, audit, notify, hooks), audit refusals, and the free-text privacy check."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Protocol, TypeVar
from zoneinfo import ZoneInfo

from bot import audit
from bot.calendar import BusinessCalendar
from bot.cases import messaging
from bot.cases.access_lost import stop_for_lost_readers
from bot.cases.consent import Information, parse_form
from bot.cases.models import Case, FollowUp, FollowUpStatus, MeetingParticipant, parse_ref
from bot.cases.rules import Action, authorize, next_state
from bot.clock import Clock
from bot.directory import Directory
from bot.errors import NotFound, Refusal
from bot.fields import MAX_LENGTH, clean_fields
from bot.outbox import Outbox
from bot.store import Database, Tx
from bot.store import cases as case_store
from bot.store import follow_ups as follow_up_store

# Kept as the service's logger name so log queries on "bot.cases.service" still find privacy rejections.
log = logging.getLogger("bot.cases.service")

MAX_BRIEF = MAX_LENGTH["kort"]  # the limits of every free-text field are in bot/fields.py
MAX_SHORT = MAX_LENGTH["kontakt"]
MAX_ASSIGNEES = 4

T = TypeVar("T")
Change = Callable[[Tx, Case, datetime], Awaitable[dict[str, Any]]]  # a case action's change: its audit detail


@dataclass(frozen=True)
class Step:
    """One case action as `CaseEngine._act` runs it: the action, its change and the check before it."""

    action: Action
    change: Change
    precheck: Callable[[Case], None] | None = None


@dataclass(frozen=True)
class ConsentDetails:
    """What a consent covers and how it was obtained, checked (see `CaseEngine._consent_details`)."""

    covers: list[str]
    note: str | None
    form: str | None
    obtained_by: str


class CaseHook(Protocol):
    """Called inside the transaction after every successful case action (the Time module arms timers)."""

    async def after_action(self, tx: Tx, case: Case, action: str, actor_id: str, now: datetime) -> None: ...


def follow_up_of(r: dict[str, Any]) -> FollowUp:
    """A stored follow-up row as a FollowUp (with its status: proposed, accepted or declined)."""

    def dt(key: str) -> datetime | None:
        return datetime.fromisoformat(r[key]) if r.get(key) else None

    return FollowUp(
        id=r["id"], owner_id=r["owner_id"], due_date=date.fromisoformat(r["due_date"]), what=r["what"],
        done_at=dt("done_at"), status=FollowUpStatus(r.get("status") or FollowUpStatus.ACCEPTED.value),
        created_by=r.get("created_by"), created_at=dt("created_at"), accepted_by=r.get("accepted_by"),
        accepted_at=dt("accepted_at"), declined_by=r.get("declined_by"), declined_at=dt("declined_at"),
    )


def participant_of(r: dict[str, Any]) -> MeetingParticipant:
    """A stored meeting participant row: a unit's named person, or an external participant's role."""
    return MeetingParticipant(r["unit_id"], r["person_id"], r["role"], r["first_name"])


class CaseEngine:
    """Dependencies and shared steps of every case action. `CaseService` adds the actions by concern."""

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

    def today(self) -> date:
        return self.clock.now().astimezone(self.tz).date()

    def _require_person(self, person_id: str) -> None:
        if self.directory.person(person_id) is None:
            raise Refusal("unknown_person", person=person_id)

    def _check_privacy(self, fields: dict[str, object]) -> dict[str, str]:
        """Every free-text input goes through here (bot.fields): type, empty, length, identity numbers.

        Returns the normalised texts ("" when empty); raises FieldError naming every offending field.
        """
        return clean_fields(fields, self.today())[0]

    def _consent_details(
        self,
        covers: list[str],
        note: str | None,
        form: str | None,
        obtained_by: str,
        errors: dict[str, tuple[str, dict[str, Any]]],
    ) -> ConsentDetails:
        """Check what a consent covers (choices + free text for "annat", through the identity-number
        guard), its form (skriftligt/muntligt, or None when not stated) and who obtained it; problems are
        added to `errors` under avser, avser_text, form and inhamtat."""
        choices = list(dict.fromkeys(c.strip() for c in covers if c.strip()))
        for c in choices:
            if c not in {i.value for i in Information}:
                errors["avser"] = ("bad_choice", {"field": "avser", "value": c})
        cleaned, problems = clean_fields({"avser_text": note}, self.today(), raise_errors=False)
        errors.update(problems)
        text = cleaned["avser_text"] or None
        if text is not None:
            if Information.OTHER.value not in choices:
                choices.append(Information.OTHER.value)
        elif Information.OTHER.value in choices:
            errors.setdefault("avser_text", ("required", {"field": "avser_text"}))
        kind = parse_form(form) if form else None
        if form and kind is None:
            errors["form"] = ("bad_choice", {"field": "form", "value": form})
        if self.directory.person(obtained_by) is None:
            errors["inhamtat"] = ("unknown_person", {"field": "inhamtat", "person": obtained_by})
        ordered: list[str] = [i.value for i in Information if i.value in choices]
        return ConsentDetails(ordered, text, kind.value if kind else None, obtained_by)

    async def load(self, tx: Tx, ref: str, *, lock: bool = False) -> Case:
        """Read one case by reference (raises NotFound). `lock`: its row is held until the transaction ends (a
        write that decides on the case as read; PostgreSQL, where units run side by side)."""
        norm = parse_ref(ref)
        row = await case_store.find_by_ref(tx, norm, lock=lock) if norm else None
        if row is None:
            raise NotFound(ref)
        return await self._hydrate(tx, row)

    async def _hydrate(self, tx: Tx, row: dict[str, Any]) -> Case:
        assignees = await case_store.assignee_ids(tx, row["id"])
        follow_ups = [follow_up_of(r) for r in await follow_up_store.follow_up_rows(tx, row["id"])]
        attendees = [participant_of(r) for r in await case_store.participant_rows(tx, row["id"])]
        return Case.from_row(row, assignees, follow_ups, attendees)

    async def load_many(self, tx: Tx, refs: list[str]) -> dict[str, Case]:
        """Several cases by (normalised) reference in three queries; a reference not found is left out."""
        return build_many(await read_many(tx, refs))

    async def _hydrate_many(self, tx: Tx, rows: list[dict[str, Any]]) -> list[Case]:
        """Cases of several rows, in their order, with three queries in all (not three per case)."""
        return list(build_many(await _rows_of(tx, rows)).values())

    async def get(self, ref: str) -> Case:
        """A case as last committed (a read: it never waits behind a write)."""
        async with self.db.read() as tx:
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

    async def _changing(self, actor_id: str, ref: str, action: str | Callable[[], str],
                        change: Callable[[Tx, Case, datetime], Awaitable[T]]) -> T:
        """The one way a unit changes a case from what it read: one transaction, the case's row read first and
        locked (`load(lock=True)`; on PostgreSQL another unit on it, on this instance or another, waits and then
        decides on what this one committed), before the audit chain, awaited items and timers (DESIGN, "lock
        order"); then `change(tx, case, now)`. Run again after a deadlock (`change` must change nothing outside
        the transaction). A refusal is audited under `action` (a callable: the name it gives then)."""
        try:
            async def work(tx: Tx) -> T:  # one unit of work: one trip to the store
                self._require_person(actor_id)
                case = await self.load(tx, ref, lock=True)
                return await change(tx, case, self.clock.now())

            return await self.db.run(work, retry=True)
        except Refusal as refusal:
            await self._audit_refusal(actor_id, action if isinstance(action, str) else action(), ref, refusal)
            raise

    async def _act(
        self,
        actor_id: str,
        ref: str,
        action: Action,
        change: Change,
        *,
        precheck: Callable[[Case], None] | None = None,
    ) -> Case:
        """Authorise, change, advance the state, audit, notify and run hooks: all in one transaction."""
        step = Step(action, change, precheck)

        async def always(tx: Tx, case: Case) -> Step:
            return step

        return await self._act_chosen(actor_id, ref, action, always)

    async def _act_chosen(self, actor_id: str, ref: str, asked: Action,
                          choose: Callable[[Tx, Case], Awaitable[Step]]) -> Case:
        """`_act` of the step `choose(tx, case)` picks on the case as read, locked: a request that records or
        corrects, proposes or confirms, withdraws for one unit or whole, decides which on the case as any unit
        before it left it (DESIGN, "lock order"), never on an earlier read. A refusal is audited under the chosen
        step's action (under `asked` when refused before one is chosen)."""
        chosen = [asked]

        async def act(tx: Tx, case: Case, now: datetime) -> Case:
            chosen[0] = asked
            step = await choose(tx, case)
            action = chosen[0] = step.action
            authorize(action, case, actor_id, self.directory)
            if step.precheck is not None:
                step.precheck(case)
            before = case
            detail = await step.change(tx, case, now)
            advanced = await case_store.advance_state(tx, case.id, case.version, next_state(action, before).value, now)
            if not advanced:  # pragma: no cover - the case row is locked since the load; kept as a guard
                raise Refusal("wrong_state", ref=case.ref, action=action.value, state=case.state.value)
            case = await self.load(tx, case.ref)
            await audit.record(
                tx, at=now, actor_id=actor_id, action=action.value, case_id=case.id, case_ref=case.ref,
                from_state=before.state.value, to_state=case.state.value, **detail,
            )
            await messaging.after_action(self, tx, before, case, action, actor_id, now)
            await stop_for_lost_readers(tx, before, case, action.value, self.directory)  # before the Time hook's rows
            await self._run_hooks(tx, case, action.value, actor_id, now)
            return case

        return await self._changing(actor_id, ref, lambda: chosen[0].value, act)


@dataclass(frozen=True)
class CaseRows:
    """Several cases as read (`read_many`), to be built into `Case`s (`build_many`) where it suits: a sweep reads
    them in its short read and builds them off the database thread."""

    rows: list[dict[str, Any]]
    assignees: dict[int, list[str]]
    follow_ups: dict[int, list[dict[str, Any]]]
    attending: dict[int, list[dict[str, Any]]]


async def read_many(tx: Tx, refs: list[str]) -> CaseRows:
    """The rows of several cases by reference (those that exist), in four queries."""
    return await _rows_of(tx, await case_store.find_by_refs(tx, refs))


async def _rows_of(tx: Tx, rows: list[dict[str, Any]]) -> CaseRows:
    ids = [r["id"] for r in rows]
    return CaseRows(rows, await case_store.assignees_of(tx, ids), await follow_up_store.follow_ups_of(tx, ids),
                    await case_store.participants_of(tx, ids))


def build_many(read: CaseRows) -> dict[str, Case]:
    """{ref: case} of cases read by `read_many`, in their order (plain code: no store)."""
    cases = (
        Case.from_row(row, read.assignees[row["id"]], [follow_up_of(r) for r in read.follow_ups[row["id"]]],
                      [participant_of(r) for r in read.attending[row["id"]]])
        for row in read.rows
    )
    return {c.ref: c for c in cases}

"""Writing the anonymous facts: a case hook after every case action, the ladder's escalations, and the
principals of rows the migration backfilled. Everything runs inside the caller's transaction."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from bot.calendar import BusinessCalendar, OfficeHours
from bot.cases.models import FILED, Case
from bot.directory import Directory
from bot.stats import rollup
from bot.store import Database, Tx
from bot.store import stats as stats_store
from bot.store.stats import iso


def fact_row(case: Case, directory: Directory) -> dict[str, Any]:
    """The fact row of a case (codes, units and times only: never the brief, contact, place, notes or people)."""

    def principal(unit_id: str) -> str | None:
        unit = directory.unit(unit_id)
        return unit.principal if unit else None

    return {
        "case_ref": case.ref,
        "target_unit": case.target_unit,
        "target_principal": principal(case.target_unit),
        "requester_unit": case.requester_unit,
        "requester_principal": principal(case.requester_unit),
        "case_type": case.case_type.value,
        "urgent": int(case.urgent),
        "created_at": iso(case.created_at),
        "distributed_at": iso(case.assigned_at),
        "acknowledged_at": iso(case.acknowledged_at),
        # the meeting counts once it was held: its outcome is recorded (a no-show clears the booked time)
        "meeting_at": iso(case.meeting_at) if case.outcome is not None else None,
        "no_shows": case.no_shows,
        "outcome": case.outcome.value if case.outcome else None,
        "evaluation_done": None if case.evaluation_done is None else int(case.evaluation_done),
        "closed_at": iso(case.closed_at),
        "closed_reason": case.closed_reason.value if case.closed_reason else None,
    }


def office_of(directory: Directory) -> Callable[[str], OfficeHours]:
    """A unit's office hours (a unit no longer in the directory counts with the default hours)."""

    def office(unit_id: str) -> OfficeHours:
        unit = directory.unit(unit_id)
        return OfficeHours(unit.office_hours.start, unit.office_hours.end) if unit else OfficeHours()

    return office


class StatsHook:
    """CaseHook: keep the case's fact row, and the rollups the statistics read, in step, in the same
    transaction as the case change."""

    def __init__(self, directory: Directory, calendar: BusinessCalendar) -> None:
        self.directory = directory
        self.calendar = calendar

    async def after_action(self, tx: Tx, case: Case, action: str, actor_id: str, now: datetime) -> None:
        await rollup.record(tx, fact_row(case, self.directory), self.calendar, office_of(self.directory),
                            filed=action == FILED)


async def record_escalation(tx: Tx, unit_id: str, kind: str, rung: int, rung_title: str, at: datetime) -> None:
    """One rung of a ladder was alerted (called by the ladder inside the climb's transaction)."""
    await stats_store.insert_escalation_fact(tx, unit_id, kind, rung, rung_title, at)


async def fill_principals(db: Database, directory: Directory) -> None:
    """Give the rows backfilled by the migration their principals (idempotent; run at start)."""
    async with db.transaction() as tx:
        await stats_store.fill_principals(tx, {u.id: u.principal for u in directory.units.values()})


async def prepare_rollups(db: Database, directory: Directory, calendar: BusinessCalendar, now: datetime) -> bool:
    """Build the statistics rollups if they were never built (run at start; see `bot.stats.rollup.prepare`)."""
    return await rollup.prepare(db, calendar, office_of(directory), now)

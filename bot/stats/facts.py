"""Writing the anonymous facts: a case hook after every case action, the ladder's escalations, and the
principals of rows the migration backfilled. Everything runs inside the caller's transaction."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from bot.cases.models import Case
from bot.directory import Directory
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


class StatsHook:
    """CaseHook: keep the case's fact row in step, in the same transaction as the case change."""

    def __init__(self, directory: Directory) -> None:
        self.directory = directory

    async def after_action(self, tx: Tx, case: Case, action: str, actor_id: str, now: datetime) -> None:
        await stats_store.upsert_case_fact(tx, fact_row(case, self.directory))


async def record_escalation(tx: Tx, unit_id: str, kind: str, rung: int, rung_title: str, at: datetime) -> None:
    """One rung of a ladder was alerted (called by the ladder inside the climb's transaction)."""
    await stats_store.insert_escalation_fact(tx, unit_id, kind, rung, rung_title, at)


async def fill_principals(db: Database, directory: Directory) -> None:
    """Give the rows backfilled by the migration their principals (idempotent; run at start)."""
    async with db.transaction() as tx:
        await stats_store.fill_principals(tx, {u.id: u.principal for u in directory.units.values()})

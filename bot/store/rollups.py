"""Statistics rollups repository: counters per UTC hour of filing and unit, kept in step with `case_facts`, so
a coordinator's Home, `/statistik` and `gfi-bot stats` read aggregates (a bounded number of rows, whatever
the number of facts), never fact by fact. `bot.stats.rollup` decides what to add; this module only writes
and reads it. Tables: `stats_hours`, `stats_waits`, `stats_escalations`, `stats_rollup_state` (migration 0026).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from typing import Any

from bot.store import dialects
from bot.store.db import Tx

Row = dict[str, Any]

COUNTERS = ("requests", "urgent", "no_shows", "lotsning", "kartlaggning", "sip", "aktualiseras", "ingen",
            "evaluations_done")
WAITS = ("wait_distribution", "wait_acknowledgement", "wait_meeting")  # measure 0, 1, 2
_OUTCOMES = ("lotsning", "kartlaggning", "sip", "aktualiseras", "ingen")
# Every rollup table: state derived from the facts, cleared by `rebuild` and by the copy into PostgreSQL
# (bot/store/transfer.py), whose fresh target holds the "built" row already (migration 0030 seeds it).
TABLES = ("stats_hours", "stats_waits", "stats_escalations", "stats_rollup_state")


# --- facts, one by one (the hook) ---------------------------------------------------------------
async def case_fact(tx: Tx, case_ref: str) -> Row | None:
    """The fact row of one case, or None."""
    return await tx.fetchone("SELECT * FROM case_facts WHERE case_ref = ?", (case_ref,))


_FACT_COLUMNS = ("case_ref", "target_unit", "target_principal", "requester_unit", "requester_principal",
                 "case_type", "urgent", "created_at", "distributed_at", "acknowledged_at", "meeting_at",
                 "no_shows", "outcome", "evaluation_done", "closed_at", "closed_reason", *WAITS)


# The statements of the hook, made once (every case action runs it: a filing, on the database thread).
_INSERT_FACT = (f"INSERT INTO case_facts ({', '.join(_FACT_COLUMNS)}) "
                f"VALUES ({', '.join(':' + c for c in _FACT_COLUMNS)})")
_UPDATE_FACT = (f"UPDATE case_facts SET {', '.join(f'{c} = :{c}' for c in _FACT_COLUMNS if c != 'case_ref')} "
                "WHERE case_ref = :case_ref")
_ADD_HOURS = (f"INSERT INTO stats_hours (hour_utc, unit_id, {', '.join(COUNTERS)}) "
              f"VALUES (?, ?, {', '.join('?' for _ in COUNTERS)}) ON CONFLICT (hour_utc, unit_id) DO UPDATE SET "
              + ", ".join(f"{c} = stats_hours.{c} + excluded.{c}" for c in COUNTERS))


async def insert_case_fact(tx: Tx, fact: Row) -> None:
    await tx.write(_INSERT_FACT, {c: fact.get(c) for c in _FACT_COLUMNS})


async def update_case_fact(tx: Tx, fact: Row) -> None:
    """Write the whole (merged) fact row of `fact["case_ref"]`."""
    await tx.write(_UPDATE_FACT, {c: fact.get(c) for c in _FACT_COLUMNS})


async def add_hours(tx: Tx, hour: str, unit_id: str, counts: dict[str, int]) -> None:
    """Add `counts` ({counter: n}, n may be negative) to the counters of one hour and unit."""
    await tx.write_hot(_ADD_HOURS, (hour, unit_id, *(counts.get(c, 0) for c in COUNTERS)))


async def add_waits(tx: Tx, rows: Sequence[tuple[str, str, int, int, int]]) -> None:
    """Add n to the histogram of (hour, unit, measure, bucket) for each (hour, unit, measure, bucket, n)."""
    if rows:
        await tx.executemany_hot(
            "INSERT INTO stats_waits (hour_utc, unit_id, measure, bucket, n) VALUES (?, ?, ?, ?, ?) "
            "ON CONFLICT (hour_utc, unit_id, measure, bucket) DO UPDATE SET n = stats_waits.n + excluded.n",
            rows,
        )


async def add_escalation(tx: Tx, hour: str, unit_id: str, rung: int, rung_title: str) -> None:
    await tx.write_hot(
        "INSERT INTO stats_escalations (hour_utc, unit_id, rung, rung_title, n) VALUES (?, ?, ?, ?, 1) "
        "ON CONFLICT (hour_utc, unit_id, rung, rung_title) DO UPDATE SET n = stats_escalations.n + 1",
        (hour, unit_id, rung, rung_title),
    )


async def add_escalations(tx: Tx, hour: str, rows: list[tuple[str, int, str]]) -> None:
    """`add_escalation` for several escalations of one hour, (unit_id, rung, rung_title) each, in one statement."""
    counted = Counter(rows)
    if counted:  # nobody reads the answer: on PostgreSQL it goes with the next statement (`Tx.write`)
        source, params = dialects.of(tx.engine).rows(
            ("text", "text", "integer", "text", "integer"),
            [(hour, unit_id, rung, title, n) for (unit_id, rung, title), n in counted.items()])
        await tx.write(
            f"INSERT INTO stats_escalations (hour_utc, unit_id, rung, rung_title, n) SELECT * FROM {source} AS v "
            "WHERE true ON CONFLICT (hour_utc, unit_id, rung, rung_title) DO UPDATE SET n = stats_escalations.n + "
            "excluded.n",
            params,
        )


# --- the report (bounded: one row per unit, per unit and wait, per unit and rung) -----------------
def _period(first_hour: str, after_hour: str, unit_id: str | None) -> tuple[str, list[Any]]:
    where = "hour_utc >= ? AND hour_utc < ?"
    params: list[Any] = [first_hour, after_hour]
    if unit_id is not None:
        where += " AND unit_id = ?"
        params.append(unit_id)
    return where, params


async def period(tx: Tx, first_hour: str, after_hour: str, unit_id: str | None = None
                 ) -> tuple[list[Row], list[Row], list[Row]]:
    """The counters, the wait histograms and the escalations of the hours [first_hour, after_hour), summed per
    unit (and per wait and bucket, per rung): three statements, rows bounded by units × buckets, not by facts."""
    where, params = _period(first_hour, after_hour, unit_id)
    counters = await tx.fetchall(
        f"SELECT unit_id, {', '.join(f'SUM({c}) AS {c}' for c in COUNTERS)} FROM stats_hours WHERE {where} "
        "GROUP BY unit_id ORDER BY unit_id", params)
    waits = await tx.fetchall(
        f"SELECT unit_id, measure, bucket, SUM(n) AS n FROM stats_waits WHERE {where} "
        "GROUP BY unit_id, measure, bucket HAVING SUM(n) > 0 ORDER BY unit_id, measure, bucket", params)
    escalations = await tx.fetchall(
        f"SELECT unit_id, rung, rung_title, SUM(n) AS n FROM stats_escalations WHERE {where} "
        "GROUP BY unit_id, rung, rung_title HAVING SUM(n) > 0 ORDER BY unit_id, rung, rung_title", params)
    return counters, waits, escalations


# --- building them from the facts (after the migration, or after a bulk load) ---------------------
async def built(tx: Tx) -> bool:
    """True when the rollups hold every fact (they were rebuilt, and kept in step since)."""
    return await tx.scalar("SELECT 1 FROM stats_rollup_state WHERE id = 1") is not None


async def facts_without_waits(tx: Tx, after_id: int, limit: int) -> list[Row]:
    """Facts with an event whose wait is not computed yet (rows older than migration 0026), by id."""
    return await tx.fetchall(
        "SELECT id, target_unit, created_at, distributed_at, acknowledged_at, meeting_at FROM case_facts "
        "WHERE id > ? AND ((distributed_at IS NOT NULL AND wait_distribution IS NULL) "
        "OR (acknowledged_at IS NOT NULL AND wait_acknowledgement IS NULL) "
        "OR (meeting_at IS NOT NULL AND wait_meeting IS NULL)) ORDER BY id LIMIT ?",
        (after_id, limit),
    )


async def set_waits(tx: Tx, rows: Iterable[tuple[int | None, int | None, int | None, int]]) -> None:
    """(wait_distribution, wait_acknowledgement, wait_meeting, id) for each fact."""
    await tx.executemany(
        "UPDATE case_facts SET wait_distribution = ?, wait_acknowledgement = ?, wait_meeting = ? WHERE id = ?",
        rows,
    )


async def rebuild(tx: Tx, now_iso: str) -> None:
    """Rebuild every rollup from `case_facts` and `escalation_facts` (in SQL; the waits must be filled)."""
    for table in TABLES:
        await tx.execute(f"DELETE FROM {table}")
    outcome = [f"SUM(CASE WHEN outcome = '{o}' THEN 1 ELSE 0 END)" for o in _OUTCOMES]
    evaluated = ("SUM(CASE WHEN outcome IN ('" + "', '".join(_OUTCOMES)
                 + "') AND evaluation_done = 1 THEN 1 ELSE 0 END)")
    await tx.execute(
        f"INSERT INTO stats_hours (hour_utc, unit_id, {', '.join(COUNTERS)}) "
        "SELECT substr(created_at, 1, 13), target_unit, COUNT(*), SUM(urgent), SUM(no_shows), "
        f"{', '.join(outcome)}, {evaluated} FROM case_facts GROUP BY substr(created_at, 1, 13), target_unit")
    for measure, column in enumerate(WAITS):
        await tx.execute(
            "INSERT INTO stats_waits (hour_utc, unit_id, measure, bucket, n) "
            f"SELECT substr(created_at, 1, 13), target_unit, {measure}, {column}, COUNT(*) FROM case_facts "
            f"WHERE {column} IS NOT NULL GROUP BY substr(created_at, 1, 13), target_unit, {column}")
    await tx.execute(
        "INSERT INTO stats_escalations (hour_utc, unit_id, rung, rung_title, n) "
        "SELECT substr(at, 1, 13), unit_id, rung, rung_title, COUNT(*) FROM escalation_facts "
        "GROUP BY substr(at, 1, 13), unit_id, rung, rung_title")
    await tx.execute("INSERT INTO stats_rollup_state (id, built_at) VALUES (1, ?) ON CONFLICT (id) DO NOTHING",
                     (now_iso,))

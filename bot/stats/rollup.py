"""Statistics as aggregates (issue #21 item 4): what each fact adds to the rollups, kept in step as cases
change, and the report read from them in a bounded number of rows, whatever the number of facts.

A fact adds to the counters of the UTC hour it was filed in and its target unit (requests, urgent, no-shows,
outcomes, evaluations), and one to the histogram of each wait it has (business hours from the request to its
first distribution, acknowledgement and held meeting, in the target unit's office hours when the event
happened). A wait is kept in hundredths of an hour below 100 h and in whole hours above: the views show one
decimal, so a median or percentile read from the histogram is the one computed from the exact waits, to the
hundredth (to the hour above 100 h). A period is whole UTC hours; the local days of a Swedish period are.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Callable, Sequence
from datetime import date, datetime
from typing import Any

from bot.calendar import BusinessCalendar, OfficeHours
from bot.stats.models import OUTCOMES, Spread, StatsReport, UnitStats
from bot.store import Database, Tx
from bot.store import rollups as store

Row = dict[str, Any]
Waits = tuple[int | None, int | None, int | None]
FILL_BATCH = 2000  # facts whose waits are computed per transaction at start (rows older than migration 0026)


def bucket(hours: float) -> int:
    """A wait as stored: hundredths of an hour below 100 h, whole hours (as hundredths) above."""
    if hours < 100:
        return math.floor(hours * 100 + 0.5)
    return math.floor(hours + 0.5) * 100


def _dt(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def waits(fact: Row, calendar: BusinessCalendar, office: OfficeHours) -> Waits:
    """The stored waits of a fact row: business time from `created_at` to each event that happened."""
    created = datetime.fromisoformat(fact["created_at"])

    def wait(column: str) -> int | None:
        end = _dt(fact[column])
        return None if end is None else bucket(calendar.business_duration(created, end, office).total_seconds()
                                                / 3600)

    return wait("distributed_at"), wait("acknowledged_at"), wait("meeting_at")


def merge(old: Row | None, new: Row) -> Row:
    """The fact row after writing `new` over `old`: the unit, type, urgency and filing time stay as first
    written, first distribution, acknowledgement and held meeting are kept once set, the rest is the case's."""
    if old is None:
        return dict(new)
    out = dict(old)
    for column in ("target_principal", "requester_principal"):
        out[column] = new[column] if new[column] is not None else old[column]
    for column in ("distributed_at", "acknowledged_at", "meeting_at"):
        out[column] = old[column] if old[column] is not None else new[column]
    for column in ("no_shows", "outcome", "evaluation_done", "closed_at", "closed_reason"):
        out[column] = new[column]
    return out


def _counts(fact: Row) -> dict[str, int]:
    counts = {"requests": 1, "urgent": int(fact["urgent"] or 0), "no_shows": int(fact["no_shows"] or 0)}
    if fact["outcome"] in OUTCOMES:
        counts[fact["outcome"]] = 1
        counts["evaluations_done"] = int(bool(fact["evaluation_done"]))
    return counts


def _wait_keys(fact: Row) -> list[tuple[int, int]]:
    return [(m, fact[c]) for m, c in enumerate(store.WAITS) if fact.get(c) is not None]


async def record(tx: Tx, new: Row, calendar: BusinessCalendar, office: Callable[[str], OfficeHours], *,
                 filed: bool = False) -> None:
    """Write the fact row of a case and add the difference it makes to the rollups (same transaction). `filed`:
    the case was filed in this transaction, so it has no fact row yet (none is read)."""
    old = None if filed else await store.case_fact(tx, new["case_ref"])
    fact = merge(old, new)
    events = ("distributed_at", "acknowledged_at", "meeting_at")
    if old is not None and all(old[e] == fact[e] and (old[e] is None) == (old[w] is None)
                               for e, w in zip(events, store.WAITS, strict=True)):
        fact.update({c: old[c] for c in store.WAITS})  # the waits only change with the events
    else:
        fact.update(zip(store.WAITS, waits(fact, calendar, office(fact["target_unit"])), strict=True))
    if old is not None and all(old.get(c) == fact.get(c) for c in fact):
        return  # nothing changed (most case actions do not touch the facts)
    await (store.update_case_fact if old is not None else store.insert_case_fact)(tx, fact)
    hour, unit = fact["created_at"][:13], fact["target_unit"]
    # a fact keeps its unit and filing time, so only the amounts under the same key change
    counts = _counts(fact)
    if old is not None:
        for key, n in _counts(old).items():
            counts[key] = counts.get(key, 0) - n
    if any(counts.values()):
        await store.add_hours(tx, hour, unit, counts)
    histogram: dict[tuple[int, int], int] = defaultdict(int)
    for wait_key in _wait_keys(fact):
        histogram[wait_key] += 1
    for wait_key in _wait_keys(old or {}):
        histogram[wait_key] -= 1
    await store.add_waits(tx, [(hour, unit, m, b, n) for (m, b), n in sorted(histogram.items()) if n])


async def prepare(db: Database, calendar: BusinessCalendar, office: Callable[[str], OfficeHours],
                  now: datetime) -> bool:
    """Build the rollups from the facts if they were never built (after migration 0026, or after a bulk load
    that cleared `stats_rollup_state`): first the waits of older facts, in batches, then the counters in SQL.
    Returns True when it built them. Run at start, before the bot serves."""
    if await db.run_read(store.built):
        return False
    last = 0
    while True:
        async def fill(tx: Tx, after: int = last) -> int:
            rows = await store.facts_without_waits(tx, after, FILL_BATCH)
            await store.set_waits(tx, [(*waits(r, calendar, office(r["target_unit"])), r["id"]) for r in rows])
            return int(rows[-1]["id"]) if rows else 0
        last = await db.run(fill)
        if not last:
            break

    async def rebuild(tx: Tx) -> None:
        await store.rebuild(tx, now.isoformat())

    try:
        await db.run(rebuild)
    except Exception:
        if await db.run_read(store.built):  # another instance, starting at the same time, built them
            return False
        raise
    return True


# --- the report from the rollups -------------------------------------------------------------------
def percentile_counted(values: Sequence[tuple[float, int]], p: float) -> float | None:
    """The `p`-th quantile of values given as (value, how many) in ascending order, as `service.percentile`
    computes it over the values one by one (linear interpolation between the closest ranks)."""
    total = sum(n for _, n in values)
    if not total:
        return None
    h = (total - 1) * p
    lo = math.floor(h)
    hi = min(lo + 1, total - 1)

    def at(rank: int) -> float:
        seen = 0
        for value, n in values:
            seen += n
            if rank < seen:
                return value
        return values[-1][0]

    low = at(lo)
    return low + (h - lo) * (at(hi) - low)


def _spread(histogram: dict[int, int]) -> Spread:
    values = [(b / 100, n) for b, n in sorted(histogram.items())]
    count = sum(n for _, n in values)
    if not count:
        return Spread()
    return Spread(count, percentile_counted(values, 0.5), percentile_counted(values, 0.9))


def _stats(unit_id: str | None, counters: Sequence[Row], waits_: Sequence[Row],
           escalations: Sequence[Row]) -> UnitStats:
    """The figures of the rows given (those of one unit, or of all)."""
    out = UnitStats(unit_id)
    for row in counters:
        out.requests += int(row["requests"] or 0)
        out.urgent += int(row["urgent"] or 0)
        out.no_shows += int(row["no_shows"] or 0)
        out.evaluations_done += int(row["evaluations_done"] or 0)
        for o in OUTCOMES:
            out.outcomes[o] += int(row[o] or 0)
    histograms: tuple[dict[int, int], ...] = ({}, {}, {})
    for row in waits_:
        h = histograms[int(row["measure"])]
        h[int(row["bucket"])] = h.get(int(row["bucket"]), 0) + int(row["n"])
    out.to_distribution, out.to_acknowledgement, out.to_meeting = (_spread(h) for h in histograms)
    for row in escalations:
        out.escalations[row["rung_title"]] = out.escalations.get(row["rung_title"], 0) + int(row["n"])
    return out


def report(unit_ids: Sequence[str], start: date, end: date, counters: list[Row], waits_: list[Row],
           escalations: list[Row]) -> StatsReport:
    """One `UnitStats` per unit in `unit_ids` (in that order), then any other unit the rows name, and all of
    them together when there are several (pure)."""
    named = set(unit_ids)
    extra = sorted(({r["unit_id"] for r in counters} | {r["unit_id"] for r in waits_}
                    | {r["unit_id"] for r in escalations}) - named)
    units = [
        _stats(u, [r for r in counters if r["unit_id"] == u], [r for r in waits_ if r["unit_id"] == u],
               [r for r in escalations if r["unit_id"] == u])
        for u in [*unit_ids, *extra]
    ]
    total = _stats(None, counters, waits_, escalations) if len(units) > 1 else None
    lowest: dict[str, int] = {}
    for r in escalations:
        lowest[r["rung_title"]] = min(int(r["rung"]), lowest.get(r["rung_title"], int(r["rung"])))
    return StatsReport(start, end, units, sorted(lowest, key=lambda t: (lowest[t], t)), total)

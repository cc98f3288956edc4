"""Retention (DESIGN §7): closed cases older than the retention period are deleted with all their free text
and outbox rows. What stays: the anonymous fact rows (unlinked from the reference, so statistics over any
period are the same before and after), the audit log and the read log (append-only, no content: who did or
saw what, when, under which reference) and the reference counters (a reference is never reused)."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime
from zoneinfo import ZoneInfo

from bot import audit
from bot.stats.service import add_months
from bot.store import Database
from bot.store import stats as stats_store

log = logging.getLogger(__name__)

SYSTEM = "system"


@dataclass(frozen=True)
class PurgeItem:
    """One closed case that is (or would be) deleted, and how many rows hang on it."""

    ref: str
    closed_at: datetime
    closed_reason: str | None
    follow_ups: int
    outbox: int
    awaiting: int
    timers: int


@dataclass
class PurgeResult:
    """What a purge deleted, or with `dry_run` what it would delete."""

    now: datetime
    months: int
    cutoff: datetime  # cases closed before this instant go
    dry_run: bool
    items: list[PurgeItem] = field(default_factory=list)
    scrubbed: bool | None = None  # the WAL checkpoint after the deletion finished (None: nothing to scrub)


def cutoff(now: datetime, months: int, tz: str) -> datetime:
    """The same local wall-clock time `months` calendar months before `now` (as an aware datetime)."""
    local = now.astimezone(ZoneInfo(tz))
    day = add_months(local.date(), -months)
    return datetime.combine(day, local.timetz().replace(fold=0))


async def purge(
    db: Database, now: datetime, months: int, tz: str, *, dry_run: bool = False, run_day: str | None = None,
) -> PurgeResult | None:
    """Delete (or with `dry_run` only list) the closed cases whose closing is more than `months` months old.

    With `run_day` (the daily job) nothing happens, and None is returned, when a purge already ran that local
    day; the run is recorded in the same transaction as the deletion. After a deletion the database file is
    scrubbed (`Database.scrub`), so the erased text is gone from the file and its write-ahead log.
    """
    result = PurgeResult(now, months, cutoff(now, months, tz), dry_run)
    async with db.transaction() as tx:
        if run_day is not None and await stats_store.purge_ran(tx, run_day):
            return None
        # the cases' rows are its first locks, before the audit chain (another instance's reopening waits or is
        # seen): `purgeable_cases(lock=True)`
        for row in await stats_store.purgeable_cases(tx, result.cutoff, lock=not dry_run):
            counts = await stats_store.related_counts(tx, row["id"], row["ref"])
            item = PurgeItem(
                row["ref"], datetime.fromisoformat(row["closed_at"]), row["closed_reason"], counts["follow_ups"],
                counts["outbox"], counts["awaiting"], counts["timers"],
            )
            if not dry_run:
                if not await stats_store.delete_case(tx, row["id"], row["ref"], now, result.cutoff):
                    continue  # pragma: no cover - its row is locked since the read; kept as a guard
                await audit.record(tx, at=now, actor_id=SYSTEM, action="purge", case_ref=row["ref"],
                                   retention_months=months)
            result.items.append(item)
        if result.items and not dry_run:
            await stats_store.delete_messages_showing(tx, [i.ref for i in result.items])
        if run_day is not None and not dry_run:
            await stats_store.record_purge_run(tx, run_day, now, len(result.items))
    if result.items and not dry_run:
        result.scrubbed = await db.scrub()
        log.info("closed cases purged", extra={"event": "retention.purged", "cases": len(result.items),
                                               "months": months, "scrubbed": result.scrubbed})
    return result

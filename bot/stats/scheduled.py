"""The daily purge job: run by the runtime's cron at PURGE_AT and, as a catch-up after downtime (and in
the console, whose `/tid` runs the sweeps), by the sweep. Once per local day whichever comes first."""

from __future__ import annotations

from datetime import time
from typing import Protocol

from bot.calendar import BusinessCalendar
from bot.clock import Clock
from bot.config import Settings
from bot.outbox import drop_old_texts
from bot.stats.pruning import prune_requests
from bot.stats.retention import PurgeResult, purge
from bot.store import Database


class Core(Protocol):
    """What the daily purge uses of the core (`bot.core.Core` has it): it does not import the core."""

    settings: Settings
    db: Database
    clock: Clock
    calendar: BusinessCalendar

# Outside 02:00-03:00, the hour the clock skips or repeats when daylight saving time changes.
PURGE_AT = time(3, 30)


async def daily_purge(core: Core) -> PurgeResult | None:
    """Purge the closed cases past the retention period, once a day from PURGE_AT (local time); from then on,
    also drop the text of messages delivered more than GFI_OUTBOX_RETENTION_DAYS ago; after the day's purge, prune
    the inbound keys and link uses past their retention (`bot.stats.pruning`).
    Returns None when it is too early or the day's purge already ran."""
    now = core.clock.now()
    tz = core.settings.timezone
    local = now.astimezone(core.calendar.tz)
    if local.time() < PURGE_AT:
        return None
    await drop_old_texts(core.db, now, core.settings.outbox_retention_days)  # cheap when done: an index range
    result = await purge(core.db, now, core.settings.retention_months, tz, run_day=local.date().isoformat())
    if result is not None:  # once a day, after the day's purge
        await prune_requests(core.db, now)
    return result

"""Retention of the per-request bookkeeping (#22 item 6, DESIGN §7): what the nightly purge prunes besides
closed cases and old message texts.

- `slack_inbound`, `teams_inbound`: a request's idempotency key guards against the platform delivering it again.
  Slack retries within minutes and the Bot Framework likewise; a key is kept INBOUND_DAYS, ample for any retry.
- `link_uses`: a signed action link works once; its use must outlive the token, or a used link would work again.
  A token expires at most GFI_LINK_DAYS after it was issued (the setting allows at most LINK_DAYS_MAX, and a token
  carries its own expiry, so lowering the setting does not shorten tokens already sent), and it is used after it
  was issued, so a use older than LINK_DAYS_MAX days plus a day of clock margin belongs to an expired token."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from bot import metrics
from bot.store import Database
from bot.store import pruning as store

log = logging.getLogger(__name__)

INBOUND_DAYS = 7
LINK_DAYS_MAX = 60  # the upper bound of GFI_LINK_DAYS (bot/config.py); a test holds them equal
LINK_USE_DAYS = LINK_DAYS_MAX + 1


def retention(table: str) -> timedelta:
    """How long a row of `table` is kept after it was recorded."""
    return timedelta(days=LINK_USE_DAYS if table == "link_uses" else INBOUND_DAYS)


async def prune_requests(db: Database, now: datetime) -> dict[str, int]:
    """Delete the inbound keys and link uses past their retention; returns the rows deleted per table."""
    pruned: dict[str, int] = {}
    for table in store.PRUNABLE:
        count = await store.prune(db, table, now - retention(table))
        pruned[table] = count
        if count:
            metrics.PRUNED.labels(table).inc(count)
            log.info("rows pruned", extra={"event": "purge.pruned", "table": table, "rows": count})
    return pruned

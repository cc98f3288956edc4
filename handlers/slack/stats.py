"""Slack listener for the statistics: a coordinator gets the last 12 months as a CSV file in a direct message
(the same file as `gfi-bot stats --csv`, uploaded as the yearly brist report is)."""

from __future__ import annotations

import asyncio
import logging
import tempfile
from pathlib import Path
from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.brister.rules import is_coordinator
from bot.channels.slack.context import SlackContext
from bot.channels.slack.markup import escape
from bot.stats.export import write_csv
from bot.stats.report import build_report
from bot.stats.service import last_twelve_months
from handlers.slack.common import bind
from handlers.slack.modals import clicked

log = logging.getLogger("handlers.slack.stats")


async def send_csv(ctx: SlackContext, client: AsyncWebClient, user_id: str) -> bool:
    """Build the last 12 months' statistics and upload them as CSV into the person's DM."""
    core = ctx.core
    start, end = last_twelve_months(core.clock.now().astimezone(core.calendar.tz).date())
    report = await build_report(core.db, core.directory, core.calendar, core.settings.timezone, start, end)
    with tempfile.TemporaryDirectory(prefix="gfi-stats-") as tmp:
        path = Path(tmp) / f"gfi-statistik-{start.isoformat()}-{end.isoformat()}.csv"
        rows = await asyncio.to_thread(write_csv, path, core.renderer, report)
        try:
            opened = await client.conversations_open(users=user_id)
            await client.files_upload_v2(
                channel=str(opened["channel"]["id"]),
                initial_comment=escape(core.renderer.macro("stats", "csv_sent", start=start, end=end, rows=rows)),
                file_uploads=[{"file": str(path), "filename": path.name, "title": path.name}],
            )
        except SlackApiError as exc:
            log.warning("stats upload failed", extra={"event": "stats.csv_failed",
                                                      "reason": str(exc.response.get("error"))})
            return False
    log.info("stats sent", extra={"event": "stats.csv_sent", "rows": rows})
    return True


async def stats_csv(ctx: SlackContext, ack: Any, body: dict[str, Any], action: dict[str, Any],
                    client: AsyncWebClient) -> None:
    await ack()
    who = await clicked(ctx, body, client)
    if who is None:
        return
    if not is_coordinator(who.person_id, ctx.core.directory):
        await who.tell(ctx.core.renderer.macro("stats", "not_coordinator"))
        return
    if not await send_csv(ctx, client, who.user_id):
        await who.tell(ctx.core.renderer.macro("stats", "csv_failed"))


def register(app: AsyncApp, ctx: SlackContext) -> None:
    """Wire the statistics listener."""
    app.action("stats_csv")(bind(ctx, stats_csv, "action", "action.stats_csv"))

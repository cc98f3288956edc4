"""`gfi-bot check-config`: what is configured, what is wrong with it, and each credential tried for real."""

from __future__ import annotations

import argparse
import asyncio
from typing import Any

from pydantic import SecretStr

from bot import setup_live
from bot.cli.common import settings_from
from bot.config import Settings
from bot.setup_check import say, startup_problems


def _shown(value: Any) -> str:
    if value is None:
        return say("unset")
    if isinstance(value, SecretStr):
        return say("hidden")
    return str(value)


async def _live(settings: Settings) -> list[tuple[str, setup_live.Check]]:
    checks: list[tuple[str, Any]] = []
    if settings.slack_configured:
        checks.append((say("slack_check"), setup_live.check_slack(settings)))
    if settings.graph_configured:
        checks.append((say("graph_check"), setup_live.check_graph(settings)))
    if settings.teams_configured and not settings.teams_anonymous:
        checks.append((say("teams_check"), setup_live.check_teams(settings)))
    results = await asyncio.gather(*(c for _, c in checks))
    return [(name, result) for (name, _), result in zip(checks, results, strict=True)]


def cmd_check_config(args: argparse.Namespace) -> int:
    """Print the settings (secrets hidden), every problem, and the live checks; 0 only when all is well."""
    settings = settings_from(args)
    print(say("heading"))
    for name, info in Settings.model_fields.items():
        print(say("setting", name=info.alias or name, value=_shown(getattr(settings, name))))
    for channel, on in (("Slack", settings.slack_configured), ("Teams", settings.teams_configured),
                        ("Microsoft Graph", settings.graph_configured), ("Åtgärdslänkar", settings.links_configured)):
        print(say("channel", name=channel, state=say("configured") if on else say("not_configured")))
    problems = startup_problems(settings, stdin_tty=True)
    for line in problems:
        print(say("problem", line=line))
    failed = len(problems)
    live = asyncio.run(_live(settings)) if not problems else []
    for name, check in live:
        if check.ok:
            print(say("check_ok", check=name, detail=check.detail))
        else:
            failed += 1
            print(say("check_failed", check=name, reason=check.detail))
    if failed:
        print(say("some_failed", count=failed))
        return 1
    print(say("all_ok") if live else say("nothing_to_check"))
    return 0


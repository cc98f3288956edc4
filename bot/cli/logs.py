"""`gfi-bot verify-logs`: walk the hash chains of the audit log and the read log (bot/logchain.py), and recount
the read counts kept beside the read log (outside its chain) from the log."""

from __future__ import annotations

import argparse
import sys

from bot.cli.common import run_main, say, settings_from
from bot.config import Settings
from bot.logchain import LOGS, LogState, Recount, recount, seal, verify
from bot.numerals import is_number
from bot.store import open_database
from bot.store.chain import Head


def parse_head(value: str) -> tuple[str, Head]:
    """`--head LOG=ID:HASH` (as the nightly `logs.head` line gives them): the log, and the head expected."""
    name, _, rest = value.partition("=")
    row_id, _, digest = rest.partition(":")
    aliases = {"audit": "audit", "read": "case_reads", "case_reads": "case_reads"}
    if name not in aliases or not is_number(row_id) or len(digest) != 64:
        raise SystemExit(say("bad_head", value=repr(value)))
    return aliases[name], Head(int(row_id), digest.lower())


async def _verify(settings: Settings, expected: dict[str, list[Head]]) -> tuple[list[LogState], Recount]:
    url = settings.database_url.get_secret_value() if settings.database_url is not None else None
    db = open_database(url, settings.db_path)  # PostgreSQL when GFI_DATABASE_URL is set (issue #22)
    await db.open()
    try:
        await seal(db)  # rows from before the chain get theirs first, as at the bot's start
        return await verify(db, expected), await recount(db)
    finally:
        await db.close()


def cmd_verify_logs(args: argparse.Namespace) -> int:
    """Exit 0 when both logs are whole, 1 naming the first broken row of each that is not."""
    settings = settings_from(args)
    expected: dict[str, list[Head]] = {name: [] for name in LOGS}
    for value in args.head or []:
        name, head = parse_head(value)
        expected[name].append(head)
    result: list[LogState] = []
    counts: list[Recount] = []

    async def main() -> int:
        states, counted = await _verify(settings, expected)
        result.extend(states)
        counts.append(counted)
        return 0

    code = run_main(main)
    if code:
        return code
    for state in result:
        out = sys.stdout if state.broken is None else sys.stderr
        print(say("log_state", state=state), file=out)
    [counted] = counts
    print(say("read_counts", recount=counted), file=sys.stdout if not counted.wrong else sys.stderr)
    return 1 if any(s.broken for s in result) or counted.wrong else 0

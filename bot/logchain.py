"""Logs that prove they are whole (issue #23): the audit log and the read log are hash-chained
(`bot/store/chain.py`). `verify` walks both chains and names the first broken row of each; the heads (last id
and hash) go to the application log every night, so that a truncation (the newest rows removed, which no
chain can show by itself) shows against a copy of that log kept elsewhere (`gfi-bot verify-logs --head`).

A trigger refuses UPDATE, DELETE and a REPLACE over an existing id; the chain is what shows it when someone
with the database file in hand drops the triggers first.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, time
from typing import Protocol

from bot.calendar import BusinessCalendar
from bot.clock import Clock
from bot.store import Database, chain, reads


class Core(Protocol):
    """What the nightly heads use of the core (`bot.core.Core` has it): the logs do not import the core."""

    db: Database
    clock: Clock
    calendar: BusinessCalendar

log = logging.getLogger("gfi.logchain")

LOGS = ("audit", "case_reads")  # the audit log, the read log
HEAD_AT = time(3, 40)  # local time of the nightly head line (after the purge at 03:30, outside 02:00-03:00)


@dataclass(frozen=True)
class Break:
    """The first row at which a log's chain does not hold. `reason`: changed (its content or the row before
    it differs from what was hashed), missing (rows `missing_from`..row_id-1 are gone), unchained (a row without
    hash), truncated (an expected head's row is gone), other_head (that row holds another hash)."""

    log: str
    row_id: int
    reason: str
    missing_from: int | None = None


@dataclass(frozen=True)
class LogState:
    log: str
    rows: int
    head: chain.Head
    broken: Break | None


async def seal(db: Database) -> None:
    """Chain the rows written before the chain existed (once, at start, before anything is appended)."""
    async with db.transaction() as tx:
        for name in LOGS:
            sealed = await chain.seal_unchained(tx, name)
            if sealed:
                log.info("log sealed", extra={"event": "logs.sealed", "log": name, "rows": sealed})


async def verify(db: Database, expected: dict[str, list[chain.Head]] | None = None) -> list[LogState]:
    """Walk both logs from their first row (one read snapshot); with `expected` heads (from the nightly
    lines), also check that each is still there with its hash."""
    states = []
    async with db.read() as tx:
        for name in LOGS:
            rows, last, broken = 0, chain.Head(0, chain.GENESIS), None
            while broken is None:
                page = await chain.page(tx, name, last.id)
                if not page:
                    break
                for row in page:
                    broken = _check(name, last, row)
                    if broken is not None:
                        break
                    rows += 1
                    last = chain.Head(int(row["id"]), str(row["hash"]))
            for want in (expected or {}).get(name, []) if broken is None else []:
                found = await chain.row_exists(tx, name, want.id)
                if found is None:
                    broken = Break(name, want.id, "truncated")
                elif found["hash"] != want.hash:
                    broken = Break(name, want.id, "other_head")
                if broken is not None:
                    break
            states.append(LogState(name, rows, last, broken))
    return states


MISCOUNTED_SHOWN = 20  # (case, reader) pairs a recount reads at most; more are "at least" this many


@dataclass(frozen=True)
class Recount:
    """The read counts kept beside the read log (`case_read_counts`: who was shown a case how many times, for
    the case's readers view) recounted from the log. They are outside the hash chain: the chain cannot show a
    count changed, the recount does. `wrong`: pairs that differ (at most MISCOUNTED_SHOWN); `first`: the first
    such case, with the log's and the kept number for that reader."""

    wrong: int
    first: str | None = None
    logged: int = 0
    counted: int = 0


async def recount(db: Database) -> Recount:
    """Recount the read counts from the read log (one aggregate statement) and say whether they agree."""
    async with db.read() as tx:
        rows = await reads.miscounted(tx, MISCOUNTED_SHOWN)
    if not rows:
        return Recount(0)
    first = rows[0]
    return Recount(len(rows), str(first["case_ref"]), int(first["logged"]), int(first["counted"]))


def _check(name: str, last: chain.Head, row: dict[str, object]) -> Break | None:
    row_id = int(str(row["id"]))
    if row["hash"] is None:
        return Break(name, row_id, "unchained")
    if row_id != last.id + 1:
        return Break(name, row_id, "missing", missing_from=last.id + 1)
    if chain.row_hash(name, last.hash, row) != row["hash"]:
        return Break(name, row_id, "changed")
    return None


async def heads(db: Database) -> dict[str, chain.Head]:
    async with db.read() as tx:
        return {name: await chain.head(tx, name) for name in LOGS}


class NightlyHeads:
    """A sweep: once per local day from HEAD_AT, the heads of both logs as one structured line each
    (`logs.head`: the log, the last id and hash; no person, no case)."""

    def __init__(self, core: Core) -> None:
        self.core = core
        self.logged_on: date | None = None

    async def __call__(self) -> bool:
        local = self.core.clock.now().astimezone(self.core.calendar.tz)
        if local.time() < HEAD_AT or self.logged_on == local.date():
            return False
        for name, head in (await heads(self.core.db)).items():
            log.info("log head", extra={"event": "logs.head", "log": name, "id": head.id, "hash": head.hash})
        self.logged_on = local.date()
        return True

"""The read log (loggkontroll): who was shown a case's free text, when, in which view and channel.

Append-only like the audit (and hash-chained, `bot/store/chain.py`). Log review (*loggkontroll*) is each
principal's own duty over its own staff: a coordinator lists the reads of a case of their principal made by
people of their principal; on a case shared by two principals the other principal's reads are counted, not
listed (its own coordinator reviews them). Admins list the reads by one person over a period. Rows hold ids
and codes only, never the text that was shown.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from bot.cases.access import CaseLoader
from bot.cases.models import Case
from bot.directory import Directory, Role
from bot.errors import NotFound, Refusal
from bot.paging import LIST_PAGE, Page
from bot.store import Database, Tx
from bot.store import reads as store

log = logging.getLogger("gfi.reads")


@dataclass(frozen=True)
class Read:
    at: datetime
    person_id: str
    case_ref: str
    view: str
    channel: str


@dataclass(frozen=True)
class CaseReads:
    """What a coordinator is shown of a case's read log: a page of their own principal's reads (`page`: how
    many there are in all), and a count of the rest."""

    reads: list[Read]
    others: int  # reads by another principal's people (or by someone no longer in the directory)
    page: Page[Read] = field(default_factory=Page)


async def record(tx: Tx, *, at: datetime, person_id: str, refs: Iterable[str], view: str, channel: str) -> int:
    """Append one row per case reference shown with free text; returns how many."""
    shown = list(dict.fromkeys(refs))
    if shown:
        await store.insert(tx, at=at, person_id=person_id, refs=shown, view=view, channel=channel)
        log.info("read", extra={"event": "case.read", "view": view, "channel": channel,
                                "cases": shown})
    return len(shown)


async def record_many(tx: Tx, reads: list[tuple[datetime, str, Iterable[str], str, str]]) -> int:
    """`record` for several views in one go, (at, person, case references, view, channel) each: the rows chained in
    this order, in one statement (the dispatcher's messages that went together); returns how many rows."""
    rows = [(at, person_id, list(dict.fromkeys(refs)), view, channel) for at, person_id, refs, view, channel in reads]
    rows = [row for row in rows if row[2]]
    if rows:
        await store.insert_many(tx, rows)
    for _, _, shown, view, channel in rows:  # the log names no person (who read is in the read log)
        log.info("read", extra={"event": "case.read", "view": view, "channel": channel, "cases": shown})
    return sum(len(row[2]) for row in rows)


async def record_now(db: Database, *, at: datetime, person_id: str, refs: Iterable[str], view: str,
                     channel: str) -> int:
    """`record` in a transaction of its own (for views shown outside a business transaction): one unit of work
    (`Store.run`), so on PostgreSQL it takes one write connection of the pool, not every one (the hop form,
    `transaction()`, would wait for every unit in flight and hold back every unit asked for after it)."""
    refs = list(refs)
    if not refs:
        return 0

    async def write(tx: Tx) -> int:
        return await record(tx, at=at, person_id=person_id, refs=refs, view=view, channel=channel)

    return await db.run(write)


def _reads(rows: list[dict[str, object]]) -> list[Read]:
    return [Read(datetime.fromisoformat(str(r["at"])), str(r["person_id"]), str(r["case_ref"]), str(r["view"]),
                 str(r["channel"])) for r in rows]


async def for_case(tx: Tx, ref: str) -> list[Read]:
    """Every read of one case, oldest first."""
    return _reads(await store.for_case(tx, ref))


def day_bounds(start: date, end: date, tz: str) -> tuple[datetime, datetime]:
    """The period from the start of `start` to the end of `end`, local days, as UTC instants."""
    zone = ZoneInfo(tz)
    first = datetime.combine(start, time(0), zone).astimezone(UTC)
    after = datetime.combine(end + timedelta(days=1), time(0), zone).astimezone(UTC)
    return first, after


async def by_person(tx: Tx, person_id: str, start: datetime, before: datetime) -> list[Read]:
    """Every read by one person in [start, before), oldest first."""
    return _reads(await store.by_person(tx, person_id, start, before))


# --- who may list what ----------------------------------------------------------------------------
def may_list_case(directory: Directory, person_id: str, case: Case) -> bool:
    """A coordinator of a principal the case belongs to (the requester's or the target unit's)."""
    person = directory.person(person_id)
    if person is None or Role.COORDINATOR not in person.roles:
        return False
    own = directory.principal_of(person.unit)
    principals = {p.id for p in (directory.principal_of(u) for u in (case.requester_unit, case.target_unit)) if p}
    return own is not None and own.id in principals


def reviews(directory: Directory, reviewer_id: str, reader_id: str) -> bool:
    """Whether a coordinator reviews (sees listed) a read by `reader_id`: only the staff of their own
    principal. Someone no longer in the directory cannot be placed and is counted, not listed."""
    reviewer, reader = directory.person(reviewer_id), directory.person(reader_id)
    if reviewer is None or reader is None:
        return False
    own, theirs = directory.principal_of(reviewer.unit), directory.principal_of(reader.unit)
    return own is not None and theirs is not None and own.id == theirs.id


def may_list_person(directory: Directory, person_id: str) -> bool:
    person = directory.person(person_id)
    return person is not None and Role.ADMIN in person.roles


async def list_for_case(db: Database, load: CaseLoader, directory: Directory, actor_id: str,
                        ref: str, *, limit: int = LIST_PAGE, skip: int = 0) -> CaseReads:
    """A page of the reads of a case for a coordinator: their own principal's people listed, the others
    counted; refuses like an unknown reference when the case is not their principal's. Three statements
    besides the case's: who read it how often, and the page."""
    person = directory.person(actor_id)
    if person is None:
        raise Refusal("unknown_person", person=actor_id)
    if Role.COORDINATOR not in person.roles:
        raise Refusal("read_log_not_coordinator")
    async with db.read() as tx:
        case = await load(tx, ref)
        if not may_list_case(directory, actor_id, case):
            raise NotFound(ref)
        readers = await store.readers_of_case(tx, case.ref)
        own = sorted(p for p in readers if reviews(directory, actor_id, p))
        reads = _reads(await store.case_page(tx, case.ref, own, limit, skip))
    total = sum(readers[p] for p in own)
    return CaseReads(reads, sum(readers.values()) - total, Page(reads, total, skip, limit))


async def list_for_person(
    db: Database, directory: Directory, actor_id: str, person_id: str, start: date, end: date, tz: str,
    *, limit: int = LIST_PAGE, skip: int = 0,
) -> Page[Read]:
    """A page of the reads by one person over local days `start`..`end`, for an admin, and how many."""
    if directory.person(actor_id) is None:
        raise Refusal("unknown_person", person=actor_id)
    if not may_list_person(directory, actor_id):
        raise Refusal("read_log_not_admin")
    first, after = day_bounds(start, end, tz)
    async with db.read() as tx:
        rows, total = await store.person_page(tx, person_id, first, after, limit, skip)
    return Page(_reads(rows), total, skip, limit)

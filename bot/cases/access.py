"""Reading a case for a person: load it, apply the visibility rule, refuse as if it did not exist."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from bot.cases.models import Case
from bot.cases.visibility import Alerts, Awaited, Level, level
from bot.directory import Directory
from bot.errors import NotFound, Refusal
from bot.store import Database, Tx, deliveries
from bot.store import ladder as awaiting
from bot.store import outbox as outbox_store

# Reads one case by reference or raises NotFound (the case service's `load`).
CaseLoader = Callable[[Tx, str], Awaitable[Case]]


async def alerts_for(tx: Tx, case_id: int) -> Alerts:
    """Who the bot alerted about the case (ever: ladder escalations, failed deliveries), and what its open
    items await from whom."""
    rows = await awaiting.rows_for_case(tx, case_id)
    # the coordinators told that a message of the case could not be delivered are alerted about it too
    told = await deliveries.told_about_failure(tx, case_id)
    alerted = frozenset([*(p for r in rows for p in json.loads(r["alerted"])), *told])
    awaited = tuple(
        Awaited(r["kind"], tuple(json.loads(r["answerers"]))) for r in rows if r["resolved_at"] is None
    )
    return Alerts(alerted, awaited)


CasesLoader = Callable[[Tx, list[str]], Awaitable[dict[str, Case]]]


async def levels_of_many(tx: Tx, load_many: CasesLoader, directory: Directory, person_id: str,
                         refs: list[str]) -> dict[str, Level]:
    """`levels` of a page of cases in a fixed number of statements (not a handful per case): the cases, then
    their awaited items and the failure notices of all of them at once."""
    wanted = list(dict.fromkeys(refs))
    cases = await load_many(tx, wanted)
    by_id = {c.id: c for c in cases.values()}
    rows = await awaiting.rows_for_cases(tx, list(by_id))
    told = await deliveries.told_about_failures(tx, list(cases))
    out: dict[str, Level] = {}
    for ref in wanted:
        case = cases.get(ref)
        if case is None:
            out[ref] = Level.NONE
            continue
        mine = [r for r in rows if r["case_id"] == case.id]
        alerted = frozenset([*(p for r in mine for p in json.loads(r["alerted"])),
                             *(t["recipient_id"] for t in told if t["case_ref"] == ref)])
        awaited = tuple(Awaited(r["kind"], tuple(json.loads(r["answerers"]))) for r in mine
                        if r["resolved_at"] is None)
        out[ref] = level(case, person_id, directory, Alerts(alerted, awaited))
    return out


async def level_of(db: Database, case: Case, directory: Directory, person_id: str) -> Level:
    """How much of a loaded case the person may see, with what the ladder knows about it."""
    async with db.read() as tx:
        return level(case, person_id, directory, await alerts_for(tx, case.id))


async def levels(tx: Tx, load: CaseLoader, directory: Directory, person_id: str, refs: list[str]) -> dict[str, Level]:
    """The person's level for each reference (NONE for one that does not exist)."""
    out: dict[str, Level] = {}
    for ref in dict.fromkeys(refs):
        try:
            case = await load(tx, ref)
        except NotFound:
            out[ref] = Level.NONE
            continue
        out[ref] = level(case, person_id, directory, await alerts_for(tx, case.id))
    return out


@dataclass(frozen=True)
class Seen:
    """A case as one person may see it."""

    case: Case
    level: Level
    alerts: Alerts

    @property
    def full(self) -> bool:
        return self.level is Level.FULL


async def read_case(tx: Tx, load: CaseLoader, directory: Directory, person_id: str, ref: str) -> Seen:
    """The case if the person may see at least its summary; else NotFound, exactly as for an unknown ref."""
    case = await load(tx, ref)
    alerts = await alerts_for(tx, case.id)
    seen = level(case, person_id, directory, alerts)
    if seen is Level.NONE:
        raise NotFound(ref)  # the very refusal an unknown reference gets
    return Seen(case, seen, alerts)


async def masked(db: Database, load: CaseLoader, directory: Directory, person_id: str, refusal: Refusal) -> Refusal:
    """A refusal about a case the person may not see at all becomes the unknown-reference answer, so that
    refusing an action (wrong person, wrong state) does not confirm that the case exists. Used by every
    channel (console, Slack, Teams); the caller audits the real reason. Someone who could see the case before
    learns nothing new and gets the real refusal: the target unit's distributors (its queue showed it; e.g. one
    who lost the race to assign it) and anyone the bot told about it."""
    ref = refusal.params.get("ref")
    if not isinstance(ref, str) or isinstance(refusal, NotFound):
        return refusal
    async with db.read() as tx:
        try:
            case = await load(tx, ref)
        except NotFound:
            return refusal
        if level(case, person_id, directory, await alerts_for(tx, case.id)) is not Level.NONE:
            return refusal
        knew = (directory.unit(case.target_unit) is not None
                and person_id in directory.distributors_of(case.target_unit))
        if not knew and not await outbox_store.was_told(tx, case.id, case.ref, person_id):
            # asked by a bevakning's number (an escalation button or /taöver N): not even the reference is told
            item = refusal.params.get("item")
            return Refusal("escalation_not_found", item=item) if item is not None else NotFound(ref)
    return refusal

"""What people leaving a unit still hold, and its hand-over to the unit's distributor (`--force`).

A person leaves a unit when an import or a sync removes them or moves them to another unit. What they hold:
open cases they are assigned to or asked for, follow-ups not done, answers the ladder awaits from them
(bot/store/holdings.py), and the unit's roles in the directory itself (distributor, deputy, a ladder rung).
Without `--force` the change is refused with that list. With it, each is handed to the distributor of the
unit they leave (the first distributor who stays, else the deputy), and every case's history says so
(audit action `directory_handover`). A role nobody would be left in (the only distributor with no deputy,
the only person of a rung) cannot be handed over: the file must be edited first.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime

from bot import audit
from bot.directory.changes import Changes
from bot.directory.model import DirectoryFile, Rung, Unit
from bot.store import Database, Tx
from bot.store import holdings as store

SYSTEM = "system"

# The cases' rule for what the people who leave may still read, and the stop of their messages still to go
# (`bot.cases.leavers.stop_for_leavers`), handed to `hand_over` by whoever runs it (`gfi-bot directory`,
# bot/cli/directory.py): the directory's modules do not import the cases (tests/unit/test_import_cycles.py).
LostReaders = Callable[[Tx, DirectoryFile, dict[str, set[str]]], Awaitable[None]]


@dataclass(frozen=True)
class Holding:
    """One thing a leaving person holds. `kind`: assignment, request, follow_up, awaiting (stored), or
    distributor, deputy, rung (the directory's roles; `what` names the rung)."""

    person_id: str
    kind: str
    unit: str  # the unit they leave, whose distributor takes over
    ref: str | None = None
    case_id: int | None = None
    item_id: int | None = None
    what: str | None = None
    to: str | None = None  # who takes over; None when nobody can


def successor(new: DirectoryFile, unit_id: str, leaving: set[str]) -> str | None:
    """The unit's first distributor who stays, else its deputy if they stay."""
    unit = next((u for u in new.units if u.id == unit_id), None)
    if unit is None:
        return None
    staying = [p for p in (*unit.distributors, unit.deputy) if p and p not in leaving]
    return staying[0] if staying else None


def _role_holdings(new: DirectoryFile, leaving: dict[str, str]) -> list[Holding]:
    """Directory roles of people who leave: any role if they are removed; the old unit's distributor or deputy
    if they move."""
    gone = set(leaving)
    present = {p.id: p.unit for p in new.people}
    out: list[Holding] = []
    for unit in new.units:
        def held(pid: str, unit: Unit = unit) -> bool:
            return pid in gone and (pid not in present or leaving[pid] == unit.id)

        for pid in unit.distributors:
            if held(pid):
                rest = [d for d in unit.distributors if not held(d)]
                to = rest[0] if rest else (unit.deputy if unit.deputy and not held(unit.deputy) else None)
                out.append(Holding(pid, "distributor", unit.id, to=to))
        if unit.deputy and held(unit.deputy):
            out.append(Holding(unit.deputy, "deputy", unit.id, to=successor(new, unit.id, gone)))
        for rung in unit.ladder:
            for pid in rung.people:
                # a rung is not the unit's staff (a section head serves several units' ladders): only someone
                # who leaves the directory leaves a rung
                if pid in gone and pid not in present:
                    rest = [p for p in rung.people if not held(p)]
                    out.append(Holding(pid, "rung", unit.id, what=rung.title, to=rest[0] if rest else None))
    return out


async def _stored_holdings(tx: Tx, new: DirectoryFile, leaving: dict[str, str]) -> list[Holding]:
    gone = set(leaving)
    out: list[Holding] = []
    for pid, unit in leaving.items():
        to = successor(new, unit, gone)
        for row in await store.assignments(tx, pid):
            out.append(Holding(pid, "assignment", unit, row["ref"], row["case_id"], to=to))
        for row in await store.requests(tx, pid):
            out.append(Holding(pid, "request", unit, row["ref"], row["case_id"], to=to))
        for row in await store.follow_ups(tx, pid):
            out.append(Holding(pid, "follow_up", unit, row["ref"], row["case_id"], row["id"], to=to))
    for row in await store.awaiting(tx):
        for pid in row["answerers"]:
            if pid in leaving:
                to = successor(new, leaving[pid], gone)
                out.append(Holding(pid, "awaiting", leaving[pid], row["ref"], row["case_id"], row["id"], to=to))
    return out


async def find_holdings(db: Database | None, new: DirectoryFile, changes: Changes) -> list[Holding]:
    """Everything the people who leave a unit hold (the store's part only when a database is given)."""
    leaving = changes.leaving
    if not leaving:
        return []
    found = _role_holdings(new, leaving)
    if db is not None:
        async with db.transaction() as tx:
            found.extend(await _stored_holdings(tx, new, leaving))
    return found


def hand_over_roles(new: DirectoryFile, holdings: list[Holding]) -> DirectoryFile:
    """The directory with the leaving people's roles given to who takes over (every holding has a `to`)."""
    roles = [h for h in holdings if h.kind in ("distributor", "deputy", "rung")]
    units: list[Unit] = []
    for unit in new.units:
        mine = [h for h in roles if h.unit == unit.id]
        if not mine:
            units.append(unit)
            continue
        out = {h.person_id for h in mine if h.kind == "distributor"}
        distributors = tuple(dict.fromkeys(next(h.to for h in mine if h.person_id == d and h.kind == "distributor")
                                           if d in out else d for d in unit.distributors))
        deputy = unit.deputy
        if any(h.kind == "deputy" for h in mine):
            deputy = None  # its distributor-successor already distributes
        if deputy is not None and deputy in distributors:
            deputy = None
        ladder: list[Rung] = []
        for rung in unit.ladder:
            leaving = {h.person_id for h in mine if h.kind == "rung" and h.what == rung.title}
            ladder.append(rung.model_copy(update={"people": tuple(p for p in rung.people if p not in leaving)}))
        units.append(unit.model_copy(update={"distributors": distributors, "deputy": deputy,
                                             "ladder": tuple(ladder)}))
    return new.model_copy(update={"units": tuple(units)})


async def hand_over(db: Database, new: DirectoryFile, leaving: dict[str, str], now: datetime,
                    written: DirectoryFile | None = None, *, lost_readers: LostReaders) -> int:
    """Give every stored holding of the people `leaving` (id -> the unit they leave) to its `to`, in one
    transaction, each noted in the case's history; returns how many were handed over. `new` chooses who takes
    over; `written` is the directory as it will be written, with their roles handed over too (`hand_over_roles`;
    by default from `new`): by it, `lost_readers` (the cases' rule, `bot.cases.leavers.stop_for_leavers`) judges
    what they may still read and stops the rest. One unit of work, run again on a fresh transaction when
    PostgreSQL aborts it for a deadlock (its cancelled messages meeting an outcomes batch) or a serialization
    failure (`Database.run(retry=True)`, as the case actions).

    What they hold is read again in that transaction, after their open cases are locked (in id order: the cases
    first, DESIGN "lock order"): a case assigned to one of them since the list was shown is handed over too, and
    one they no longer hold is left alone, not noted. Then, after the audit rows, those cases' open items and then
    their timers are locked, and only then is read what the lost-access pass judges: the messages still to go to
    the people who leave, the cases and the ladder's alerts. A sweep's batch holding one of them (it queued a
    message to one of them, or alerted one, from the case as it read it) is waited for and seen, not judged on
    what was there before it."""
    if written is None:
        written = hand_over_roles(new, [h for h in _role_holdings(new, leaving) if h.to is not None])

    async def work(tx: Tx) -> int:  # may run again (a deadlock's victim): everything it counts starts here
        count = 0
        # case reference -> the people who leave and may have lost it: whose holdings in it were handed over, or who
        # have a message of it still to go (a distributor who only assigned it holds nothing stored)
        candidates: dict[str, set[str]] = {}
        locked = await store.lock_cases_of(tx, sorted(leaving), sorted(set(leaving.values())))
        for h in await _stored_holdings(tx, new, leaving):
            if h.to is None or h.case_id is None:
                continue
            if h.kind == "assignment":
                await store.move_assignment(tx, h.case_id, h.person_id, h.to, now)
            elif h.kind == "request":
                await store.move_request(tx, h.case_id, h.to, now)
            elif h.kind == "follow_up" and h.item_id is not None:
                await store.move_follow_up(tx, h.item_id, h.to)
            elif h.kind == "awaiting" and h.item_id is not None:
                await _move_answerer(tx, h.item_id, h.person_id, h.to)
            await audit.record(tx, at=now, actor_id=SYSTEM, action="directory_handover", case_id=h.case_id,
                               case_ref=h.ref, what=h.kind, handed_from=h.person_id, handed_to=h.to)
            if h.ref is not None:
                candidates.setdefault(h.ref, set()).add(h.person_id)
            count += 1
        await store.lock_open_rows(tx, locked)  # waits for a sweep's batch holding one: what it wrote is read below
        for row in await store.pending_to(tx, sorted(leaving)):
            candidates.setdefault(row["ref"], set()).add(row["recipient_id"])
        if candidates:
            await lost_readers(tx, written, candidates)
        return count

    return await db.run(work, retry=True)


async def _move_answerer(tx: Tx, awaiting_id: int, old: str, new: str) -> None:
    row = next((r for r in await store.awaiting(tx) if r["id"] == awaiting_id), None)
    if row is None:
        return
    answerers = [new if p == old else p for p in row["answerers"]]
    await store.set_answerers(tx, awaiting_id, list(dict.fromkeys(answerers)))

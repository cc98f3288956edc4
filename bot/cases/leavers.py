"""What people whose standing changed may still read: the cases' rule (`visibility.level`, with the ladder's
alerts), applied to the cases' messages still to go to them, which are stopped where they no longer read the case
in full (as after a case action, `bot.cases.access_lost`).

- The people who leave a unit, after a directory hand-over (`bot.directory.handover`, handed `stop_for_leavers` by
  `gfi-bot directory`: the directory's modules do not import the cases).
- The people whose roles changed between two directory versions, when an instance serves the newer one
  (`stop_after_reload`): a hand-over commits before every instance serves its directory, and until then a sweep
  or a case action on the older one may still queue a case's text to someone who holds nothing stored in it.
- A stand-in whose cover ended (`bot.absence`): they distributed for the absent person only for the period."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence

from bot.cases import access, offers
from bot.cases.base import build_many, read_many
from bot.cases.codes import CaseState
from bot.cases.visibility import Level, level
from bot.directory.changes import standing_changed
from bot.directory.lookup import Directory
from bot.directory.model import DirectoryFile
from bot.outbox import Outbox
from bot.presence import stand_in
from bot.store import Database, Tx
from bot.store import closing as closing_store
from bot.store import holdings as store
from bot.store.closing import Stopped

log = logging.getLogger(__name__)


async def stop_for_leavers(tx: Tx, written: DirectoryFile, candidates: dict[str, set[str]]) -> None:
    """The people who leave may no longer read these cases in full (by the directory as written, and the ladder's
    alerts: a coordinator the dispute reached still reads it from another unit): the cases' messages to them still
    to go that show the text are stopped, as after a case action (`bot.cases.access_lost`). The hand-over locked
    the cases it found, and their open items and timers, before it read them (`hand_over`)."""
    await _stop(tx, Directory(written), candidates, "directory_handover")


async def _stop(tx: Tx, directory: Directory, candidates: dict[str, set[str]], why: str
                ) -> tuple[int, list[Stopped]]:
    """Judge each candidate (case reference -> people) by `level` with the case's alerts; stop the messages of those
    who do not read the case in full. A case not locked before (its message queued since) has its open items and
    then its timers locked here, in id order, before its messages are stopped: a batch holding one is waited for.
    Returns how many pending messages were stopped, and the rows stopped (pending and failed)."""
    if not candidates:
        return 0, []
    lost: dict[int, tuple[str, list[str]]] = {}
    for ref, case in build_many(await read_many(tx, sorted(candidates))).items():
        alerts = await access.alerts_for(tx, case.id)
        people = sorted(p for p in candidates[ref] if level(case, p, directory, alerts) is not Level.FULL)
        if people:
            lost[case.id] = (ref, people)
    await store.lock_open_rows(tx, sorted(lost))  # waits for a sweep's batch holding one of them
    # their rows of every case in one id order, not case by case (an outcomes batch locks in id order)
    await store.lock_shown(tx, {case_id: ref for case_id, (ref, _) in lost.items()},
                           sorted({p for _, people in lost.values() for p in people}))
    rows: list[Stopped] = []
    for case_id in sorted(lost):
        ref, people = lost[case_id]
        rows += await closing_store.stop_shown(tx, case_id, ref, people, f"no longer reads the case: {why}")
    return sum(1 for r in rows if r.pending), rows


async def stop_for_people(tx: Tx, directory: Directory, people: list[str], why: str,
                          units: Sequence[str] = ()) -> int:
    """`people` may have lost what they read (their roles changed, a cover ended): the open cases they hold
    something in, have a message of still to go, or read as distributors of `units` (the units whose roles they
    had) are locked, then those cases' open items and timers (in id
    order: a sweep's batch that queued to them from the directory as it was is waited for), and only then are
    their messages still to go read and judged by `directory` (the one served now, with the absences). Idempotent:
    what was stopped stays stopped, and a second pass (another instance) finds nothing to stop. Returns how many
    pending messages were stopped; nothing is read when `people` is empty."""
    if not people:
        return 0
    return (await _stop_people(tx, directory, people, why, units))[0]


async def _stop_people(tx: Tx, directory: Directory, people: list[str], why: str, units: Sequence[str]
                       ) -> tuple[int, list[Stopped], list[int]]:
    """`stop_for_people`, also returning the rows it stopped (`_urgent_on` sends on their urgent requests) and the
    cases it locked."""
    wanted = sorted(set(people))
    locked = await store.lock_cases_of(tx, wanted, sorted(set(units)))
    await store.lock_open_rows(tx, locked)
    candidates: dict[str, set[str]] = {}
    for row in await store.pending_to(tx, wanted):
        candidates.setdefault(row["ref"], set()).add(row["recipient_id"])
    stopped, rows = await _stop(tx, directory, candidates, why)
    return stopped, rows, locked


async def stop_for_stand_in(tx: Tx, outbox: Outbox, directory: Directory, stand_in: str, units: Sequence[str],
                            why: str = "absence_cancel") -> int:
    """A stand-in's cover of `units` ended (`bot.absence`): what they read only as the stand-in is stopped
    (`stop_for_people`), and an urgent request of a case still waiting for its unit that was sent only to them goes
    to the unit's distributors on duty now who have none (same message, `bot.cases.messaging.plan_case_filed`):
    stopped without it, it reached nobody. Returns how many were stopped."""
    stopped, rows, _ = await _stop_people(tx, directory, [stand_in], why, units)
    await _urgent_on(tx, outbox, directory, _urgent_cases(rows))
    return stopped


def _urgent_cases(rows: Sequence[Stopped]) -> list[int]:
    """The cases of the urgent requests among the rows a pass stopped."""
    return sorted({r.case_id for r in rows if r.template == "urgent_request"})


async def _urgent_on(tx: Tx, outbox: Outbox, directory: Directory, case_ids: Sequence[int]) -> None:
    """The cases whose urgent request this pass stopped (`_urgent_cases`; the hand-over's too, `_handed_over`): each
    still waiting for its unit has the request go to the unit's distributors on duty now who have none (same
    message, `bot.cases.messaging.plan_case_filed`): stopped without it, it may have reached nobody. Each is
    queued under a dedupe key (`urgent:<case id>:<person>`): two instances' passes do not both send it."""
    if not case_ids:
        return
    for case in build_many(await read_many(tx, await store.refs_of(tx, sorted(set(case_ids))))).values():
        if case.state is not CaseState.REQUESTED or directory.unit(case.target_unit) is None:
            continue
        have = await store.urgent_recipients(tx, case.id)
        for pid in directory.active_distributors(case.target_unit):
            if pid in have:
                continue
            prepared = outbox.prepare(pid, "urgent_request", case_ref=case.ref, urgent=True, case=case,
                                      dedupe_key=f"urgent:{case.id}:{pid}",
                                      offers=offers.for_message("urgent_request", case, pid, directory))
            if prepared is not None:
                await outbox.put(tx, prepared, case_id=case.id, case_ref=case.ref, want_id=False)


async def stop_after_reload(db: Database, outbox: Outbox, directory: Directory, old: DirectoryFile) -> int:
    """This instance now serves `directory` instead of `old`: the messages still to go to the people whose standing
    changed between them (`standing_changed`) are judged by the new one and stopped where they lost the case. Run
    by every instance after its own reload (each may have queued on its old directory until then), in the hop
    form, so every unit this instance began on the old directory has ended first. Nothing is read when nobody's
    standing changed."""
    changed = await asyncio.to_thread(standing_changed, old, directory.data)  # 10⁴ people: off the loop
    if not changed:
        return 0
    # their stand-ins too: a distributor's stand-in distributed for their unit, which the change may have ended
    people = sorted(changed | {s for p in changed if (s := stand_in(directory, p)) is not None})
    units = [u.id for u in old.units if any(p in people for p in (*u.distributors, u.deputy))]
    async with db.transaction():
        pass  # the hop form holds every write connection: the units begun on the old directory have ended

    async def work(tx: Tx) -> int:
        stopped, rows, locked = await _stop_people(tx, directory, people, "directory_reload", units)
        # to who distributes now: what this pass stopped, and what the hand-over stopped (it has no outbox)
        await _urgent_on(tx, outbox, directory, [*_urgent_cases(rows), *await _handed_over(tx, people, locked)])
        return stopped

    stopped = await db.run(work, retry=True)
    log.info("directory reload checked", extra={"event": "directory.reload_access", "people": len(people),
                                                "stopped": stopped})
    return stopped


async def _handed_over(tx: Tx, people: list[str], locked: list[int]) -> list[int]:
    """The cases (of those this pass `locked`) whose urgent request to one of `people` a directory hand-over stopped:
    the hand-over runs in `gfi-bot directory`, without an outbox, and the reload pass of the instances that then
    serve its directory sends them on (found by the stop's reason, the hand-over's rows being another process's)."""
    mine = set(locked) if store.locks_rows(tx) else None  # SQLite's one writer holds the whole store
    return sorted({i for p in people
                   for i in await store.urgent_stopped(tx, p, "no longer reads the case: directory_handover")
                   if mine is None or i in mine})

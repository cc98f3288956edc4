"""What a person holds in open cases (`gfi-bot directory import|sync`): assignments, requests, follow-ups and
awaited answers on the ladder, and the statements that hand each of them to someone else."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from bot.store import dialects
from bot.store import outbox as outbox_store
from bot.store.db import Tx

Row = dict[str, Any]


async def assignments(tx: Tx, person_id: str) -> list[Row]:
    """Open cases the person is assigned to: case_id, ref, unit (the receiving unit)."""
    return await tx.fetchall(
        "SELECT c.id AS case_id, c.ref, c.target_unit AS unit FROM case_assignees a JOIN cases c ON c.id = a.case_id"
        " WHERE a.person_id = ? AND c.state <> 'closed' ORDER BY c.id",
        (person_id,),
    )


async def requests(tx: Tx, person_id: str) -> list[Row]:
    """Open cases the person asked for: case_id, ref, unit (the requesting unit)."""
    return await tx.fetchall(
        "SELECT id AS case_id, ref, requester_unit AS unit FROM cases WHERE requester_id = ? AND state <> 'closed'"
        " ORDER BY id",
        (person_id,),
    )


async def follow_ups(tx: Tx, person_id: str) -> list[Row]:
    """Follow-ups not done, of open cases, owned by the person: id, case_id, ref, unit (the receiving unit)."""
    return await tx.fetchall(
        "SELECT f.id, c.id AS case_id, c.ref, c.target_unit AS unit FROM follow_ups f JOIN cases c ON c.id = f.case_id"
        " WHERE f.owner_id = ? AND f.done_at IS NULL AND c.state <> 'closed' ORDER BY f.id",
        (person_id,),
    )


async def awaiting(tx: Tx) -> list[Row]:
    """Every open awaited answer (the ladder's items): id, case_id, ref, unit, answerers (decoded)."""
    rows = await tx.fetchall(
        "SELECT id, case_id, case_ref AS ref, unit_id AS unit, answerers FROM awaiting WHERE resolved_at IS NULL"
        " ORDER BY id"
    )
    for row in rows:
        row["answerers"] = json.loads(row["answerers"])
    return rows


async def lock_cases_of(tx: Tx, people: list[str], units: Sequence[str] = ()) -> list[int]:
    """Lock the open cases these people hold something in (assigned, asked for, a follow-up not done, an awaited
    answer: at most a few more, an answerer is matched in the item's JSON text), have a message of still to go to
    (`pending_to`), or read as a distributor of `units` (the units they leave): a case they assigned, one waiting
    for such a unit, one whose meeting waits for such a unit to name who attends (`visibility.working_distributors`
    and the waiting queue); in id order, before what they hold is read and handed over
    (`bot.directory.handover.hand_over`): a case action taking one of them waits, or went first and is read.
    Returns their ids (for `lock_open_rows`: a sweep's batch queuing to them meanwhile is waited for). Nothing on
    SQLite, whose one writer holds the whole store."""
    clause = dialects.of(tx.engine).lock_rows()
    if not clause or not people:
        return []
    marks = ", ".join("?" for _ in people)
    answerers = " OR ".join("answerers LIKE ?" for _ in people)
    of_units = ""
    if units:
        unit_marks = ", ".join("?" for _ in units)
        of_units = (f" OR (state = 'requested' AND target_unit IN ({unit_marks}))"
                    f" OR id IN (SELECT case_id FROM meeting_participants WHERE person_id IS NULL"
                    f" AND unit_id IN ({unit_marks}))")
    rows = await tx.fetchall(
        f"SELECT id FROM cases WHERE state <> 'closed' AND (requester_id IN ({marks}) OR assigned_by IN ({marks})"
        f" OR id IN (SELECT case_id FROM case_assignees WHERE person_id IN ({marks}))"
        f" OR id IN (SELECT case_id FROM follow_ups WHERE owner_id IN ({marks}) AND done_at IS NULL)"
        f" OR id IN (SELECT case_id FROM awaiting WHERE resolved_at IS NULL AND ({answerers}))"
        f" OR id IN (SELECT case_id FROM outbox WHERE status IN ('pending', 'failed') AND kind = 'message'"
        f" AND recipient_id IN ({marks})){of_units})"
        f" ORDER BY id{clause}",
        (*people, *people, *people, *people, *(f"%{json.dumps(p)}%" for p in people), *people,
         *units, *units),
    )
    return [int(r["id"]) for r in rows]


async def pending_to(tx: Tx, people: list[str]) -> list[Row]:
    """The open cases with messages still to go to these people (pending, or failed: a send whose lease ran out may
    yet deliver one, `closing.cancel_shown`): ref, recipient_id (one row per pair, by case).
    Someone who leaves may hold nothing stored in such a case (a distributor who assigned it, or a deputy while it
    waits for the unit) and still have its text on its way (`bot.directory.handover`)."""
    if not people:
        return []
    marks = ", ".join("?" for _ in people)
    return await tx.fetchall(
        f"SELECT DISTINCT c.id AS case_id, c.ref, o.recipient_id FROM outbox o"
        f" JOIN cases c ON c.ref = o.case_ref AND c.id = o.case_id"
        f" WHERE o.status IN ('pending', 'failed') AND o.kind = 'message' AND o.recipient_id IN ({marks})"
        f" AND c.state <> 'closed'"
        f" ORDER BY c.id, o.recipient_id",
        tuple(people),
    )


async def lock_open_rows(tx: Tx, case_ids: list[int]) -> None:
    """Hold these cases' open awaited items and then their pending timers until the transaction ends, each in id
    order (DESIGN, "lock order": case, audit chain, items, timers; `bot.store.closing.lock_open_rows` for one
    case): the hand-over waits here for a sweep's batch that holds one of them and queued messages from a case as
    it read it, then sees what it queued. Nothing on SQLite, whose one writer holds the whole store."""
    clause = dialects.of(tx.engine).lock_rows()
    if not clause or not case_ids:
        return
    marks = ", ".join("?" for _ in case_ids)
    await tx.fetchall(f"SELECT id FROM awaiting WHERE case_id IN ({marks}) AND resolved_at IS NULL ORDER BY id"
                      + clause, tuple(case_ids))
    await tx.fetchall(f"SELECT id FROM timers WHERE case_id IN ({marks}) AND done_at IS NULL ORDER BY id" + clause,
                      tuple(case_ids))


def locks_rows(tx: Tx) -> bool:
    """Whether this engine locks rows (`lock_cases_of` returns the cases it locked); SQLite's one writer holds the
    whole store instead."""
    return bool(dialects.of(tx.engine).lock_rows())


async def urgent_stopped(tx: Tx, person_id: str, reason: str) -> list[int]:
    """The open, still requested cases whose urgent request to this person was stopped for `reason`
    (`bot.cases.leavers.stop_for_stand_in`)."""
    rows = await tx.fetchall(
        "SELECT DISTINCT c.id FROM outbox o JOIN cases c ON c.ref = o.case_ref AND c.id = o.case_id"
        " WHERE o.recipient_id = ?"
        " AND o.template = 'urgent_request' AND o.status = 'cancelled' AND o.last_error LIKE ?"
        " AND c.state = 'requested' ORDER BY c.id", (person_id, f"%{reason}%"))
    return [int(r["id"]) for r in rows]


async def refs_of(tx: Tx, case_ids: list[int]) -> list[str]:
    if not case_ids:
        return []
    marks = ", ".join("?" for _ in case_ids)
    return [str(r["ref"]) for r in await tx.fetchall(f"SELECT ref FROM cases WHERE id IN ({marks}) ORDER BY id",
                                                      tuple(case_ids))]


async def urgent_recipients(tx: Tx, case_id: int) -> set[str]:
    """Who has the case's urgent request, not stopped (pending, sent or failed)."""
    return {str(r["recipient_id"]) for r in await tx.fetchall(
        f"SELECT recipient_id FROM outbox WHERE {outbox_store.OWN_BY_ID} AND template = 'urgent_request'"
        " AND status <> 'cancelled'", (case_id, case_id))}


async def lock_shown(tx: Tx, cases: dict[int, str], people: list[str]) -> None:
    """Before the messages of several cases to these people are stopped one case after the other
    (`closing.cancel_shown`, `bot.cases.leavers`): every one of their pending or failed rows showing the case, of
    all those cases, locked in one statement in id order, as a batch of outcomes locks its rows
    (`outbox.lock_in_order`); locked case by case, a case's higher row came before another case's lower one, and
    such a batch could hold the lower while waiting for the higher (a deadlock). Nothing on SQLite."""
    clause = dialects.of(tx.engine).lock_rows()
    if not clause or not cases or not people:
        return
    shows, refs = outbox_store.showing(sorted(set(cases.values())))
    ids = ", ".join("?" for _ in cases)
    own = sorted(set(cases.values()))  # the cases' own rows by their reference: its index (schema 40)
    own_marks = ", ".join("?" for _ in own)
    marks = ", ".join("?" for _ in people)
    await tx.fetchall(
        f"SELECT id FROM outbox WHERE recipient_id IN ({marks}) AND status IN ('failed', 'pending') "
        f"AND kind = 'message' AND case_ref IN ({own_marks}) AND case_id IN ({ids}) AND {shows} ORDER BY id{clause}",
        (*sorted(set(people)), *own, *sorted(cases), *refs))


async def _touch(tx: Tx, case_id: int, now: datetime) -> None:
    """A case changed under its services' feet: a new version, so a stale copy is not written back."""
    await tx.execute("UPDATE cases SET version = version + 1, updated_at = ? WHERE id = ?", (now.isoformat(), case_id))


async def move_assignment(tx: Tx, case_id: int, old: str, new: str, now: datetime) -> None:
    """Hand an assignment from `old` to `new` (dropped when `new` is assigned already)."""
    taken = await tx.fetchone(
        "SELECT 1 AS x FROM case_assignees WHERE case_id = ? AND person_id = ?", (case_id, new)
    )
    if taken:
        await tx.execute("DELETE FROM case_assignees WHERE case_id = ? AND person_id = ?", (case_id, old))
    else:
        await tx.execute(
            "UPDATE case_assignees SET person_id = ? WHERE case_id = ? AND person_id = ?", (new, case_id, old)
        )
    await _touch(tx, case_id, now)


async def move_request(tx: Tx, case_id: int, new: str, now: datetime) -> None:
    await tx.execute("UPDATE cases SET requester_id = ? WHERE id = ?", (new, case_id))
    await _touch(tx, case_id, now)


async def move_follow_up(tx: Tx, follow_up_id: int, new: str) -> None:
    await tx.execute("UPDATE follow_ups SET owner_id = ? WHERE id = ?", (new, follow_up_id))


async def set_answerers(tx: Tx, awaiting_id: int, answerers: list[str]) -> None:
    await tx.execute("UPDATE awaiting SET answerers = ? WHERE id = ?", (json.dumps(answerers), awaiting_id))

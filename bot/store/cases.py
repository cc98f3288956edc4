"""Case repository: every SQL statement the case service runs, one function per statement or step.

Functions take an open `Tx` (the caller owns the transaction) and plain values; dates, times and
lists are serialised here (ISO 8601 text, JSON), so the rest of the bot never sees the storage format.
Rows come back as dicts; `bot.cases` turns them into `Case` records. The per-person and per-unit lists are in
`case_lists`, the follow-ups in `follow_ups`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from bot.store import dialects
from bot.store.db import Tx
from bot.store.tx import Soon

Row = dict[str, Any]


# --- reading ------------------------------------------------------------------------------------
async def find_by_ref(tx: Tx, ref: str, *, lock: bool = False) -> Row | None:
    """The case row with this (normalised) reference, or None. `lock`: held until the transaction ends (a write
    that decides on what it read: `bot.store.dialects`' `lock_rows`)."""
    clause = dialects.of(tx.engine).lock_rows() if lock else ""
    return await tx.fetchone("SELECT * FROM cases WHERE ref = ?" + clause, (ref,))


async def lock(tx: Tx, case_id: int) -> bool:
    """Hold the case's row until the transaction ends, for a unit that comes to the case by another row (an
    awaited item, a timer) and will change it or write from it. The one rule of every unit that changes a case
    from what it read (DESIGN, "lock order"): its case's row is its first lock, taken before it reads what it
    decides on and before the audit chain, awaited items, timers or drafts, as `_act` takes it (`find_by_ref`
    with `lock`). Nothing on SQLite, whose one writer holds the whole store; whether a lock was taken (then what
    was read before it may be stale)."""
    clause = dialects.of(tx.engine).lock_rows()
    if clause:
        await tx.fetchone("SELECT id FROM cases WHERE id = ?" + clause, (case_id,))
    return bool(clause)


async def lock_many(tx: Tx, case_ids: list[int]) -> bool:
    """`lock` several cases, in id order (the order every unit that locks more than one case takes them: the
    hand-over, the purge, a distribution slot), in one statement. Nothing on SQLite; whether locks were taken."""
    clause = dialects.of(tx.engine).lock_rows()
    if clause and case_ids:
        where, params = dialects.of(tx.engine).one_of("id", sorted(set(case_ids)), "bigint")
        await tx.fetchall(f"SELECT id FROM cases WHERE {where} ORDER BY id{clause}", params)
    return bool(clause)


async def lock_of_due(tx: Tx, table: str, row_id: int) -> None:
    """`lock` the case of a due row ("awaiting" or "timers"), before the row is fired alone (the sweep's
    `_fire_alone`: it decides from the case as read, like an action). Nothing on SQLite."""
    if not dialects.of(tx.engine).lock_rows():
        return
    name = {"awaiting": "awaiting", "timers": "timers"}[table]
    case_id = await tx.scalar(f"SELECT case_id FROM {name} WHERE id = ?", (row_id,))
    if case_id is not None:
        await lock(tx, int(case_id))


async def find_by_refs(tx: Tx, refs: list[str]) -> list[Row]:
    """The cases with these references (those that exist), in no particular order."""
    if not refs:
        return []
    where, params = dialects.of(tx.engine).one_of("ref", refs, "text")
    return await tx.fetchall(f"SELECT * FROM cases WHERE {where}", params)


async def target_unit_of(tx: Tx, ref: str) -> str | None:
    """The target unit of the case with this reference, or None."""
    found = await tx.scalar("SELECT target_unit FROM cases WHERE ref = ?", (ref,))
    return str(found) if found is not None else None


async def assignee_ids(tx: Tx, case_id: int) -> list[str]:
    """The named assignees of a case, in the order they were given."""
    rows = await tx.fetchall("SELECT person_id FROM case_assignees WHERE case_id = ? ORDER BY position", (case_id,))
    return [r["person_id"] for r in rows]


async def participant_rows(tx: Tx, case_id: int) -> list[Row]:
    """Who attends the meeting of a case (staff per unit, then external roles), in the order given."""
    return await tx.fetchall(
        "SELECT unit_id, person_id, role, first_name FROM meeting_participants WHERE case_id = ? ORDER BY position",
        (case_id,),
    )


async def set_participants(tx: Tx, case_id: int, rows: list[tuple[str | None, str | None, str | None, str | None]]
                           ) -> None:
    """Replace who attends the meeting: (unit_id, person_id, role, first_name) per participant."""
    await tx.execute("DELETE FROM meeting_participants WHERE case_id = ?", (case_id,))
    for position, (unit_id, person_id, role, first_name) in enumerate(rows):
        await tx.execute(
            "INSERT INTO meeting_participants (case_id, position, unit_id, person_id, role, first_name) "
            "VALUES (?, ?, ?, ?, ?, ?)", (case_id, position, unit_id, person_id, role, first_name),
        )


async def name_participant(tx: Tx, case_id: int, unit_id: str, person_id: str) -> None:
    """The unit's distributor named who attends for the unit."""
    await tx.execute(
        "UPDATE meeting_participants SET person_id = ? WHERE case_id = ? AND unit_id = ? AND person_id IS NULL",
        (person_id, case_id, unit_id),
    )


async def assignees_of(tx: Tx, case_ids: list[int]) -> dict[int, list[str]]:
    """{case id: assignee ids in order} for several cases in one query."""
    if not case_ids:
        return {}
    where, params = dialects.of(tx.engine).one_of("case_id", case_ids, "bigint")
    rows = await tx.fetchall(
        f"SELECT case_id, person_id FROM case_assignees WHERE {where} ORDER BY case_id, position", params)
    out: dict[int, list[str]] = {i: [] for i in case_ids}
    for r in rows:
        out[r["case_id"]].append(r["person_id"])
    return out


async def participants_of(tx: Tx, case_ids: list[int]) -> dict[int, list[Row]]:
    """Who attends the meeting of each case, in one query: {case id: rows in the order given}."""
    out: dict[int, list[Row]] = {i: [] for i in case_ids}
    if not case_ids:
        return out
    where, params = dialects.of(tx.engine).one_of("case_id", case_ids, "bigint")
    rows = await tx.fetchall(
        f"SELECT case_id, unit_id, person_id, role, first_name FROM meeting_participants WHERE {where} "
        "ORDER BY case_id, position", params,
    )
    for r in rows:
        out[r["case_id"]].append(r)
    return out


# --- filing -------------------------------------------------------------------------------------
async def ref_for_inbound(tx: Tx, key: str) -> str | None:
    """The reference of the case already filed under this idempotency key, if any."""
    row = await tx.fetchone(
        "SELECT c.ref FROM inbound_requests i JOIN cases c ON c.id = i.case_id WHERE i.key = ?", (key,)
    )
    return row["ref"] if row else None


async def claim_inbound(tx: Tx, key: str, now: datetime) -> bool:
    """Take an idempotency key before filing under it; False when it was taken before. A filing under the same
    key in flight on another instance makes this wait until it commits (then False) or rolls back (then
    True): a retry never fails on the unique key, and files nothing twice."""
    return await tx.scalar(
        "INSERT INTO inbound_requests (key, case_id, at) VALUES (?, NULL, ?) ON CONFLICT (key) DO NOTHING "
        "RETURNING key", (key, now.isoformat()),
    ) is not None


async def record_inbound(tx: Tx, key: str, case_id: int, now: datetime) -> None:
    """Remember which case an idempotency key (taken with `claim_inbound`) filed."""
    await tx.write("UPDATE inbound_requests SET case_id = ?, at = ? WHERE key = ?", (case_id, now.isoformat(), key))


async def next_ref_number(tx: Tx, year: int) -> int:
    """Take the next case number of the year (1, 2, ...), in one statement."""
    return int(await tx.scalar(COUNTER + " RETURNING last", (year,)))


@dataclass(frozen=True)
class NextRef:
    """A new case's reference: the year's next number (`next_ref_number`), taken by the case's own INSERT."""

    year: int
    prefix: str  # what the reference begins with (`bot.cases.codes.ref_prefix`)
    digits: int  # the number's digits at least, zero-padded
    # Where the engine takes the number last (the dialect's `LATE_REF`: PostgreSQL), the case is stored under this
    # (unique, never a real reference) until `take_ref`; every row the filing writes it on gets the real one there.
    provisional: str | None = None


# The rows a filing writes its case's reference on besides the case's own, and `take_ref` corrects: (table, the
# column that finds them, the columns whose text holds the reference). tests/integration/test_filing_plan.py
# checks that no row of any table keeps a provisional reference.
REF_COPIES: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("outbox", "case_ref", ("case_ref", "text", "message", "reads")),  # by its index (schema 40)
    ("awaiting", "case_id", ("case_ref",)),
    ("timers", "case_id", ("case_ref",)),
    ("case_facts", "case_ref", ("case_ref",)),
)


COUNTER = ("INSERT INTO ref_counters (year, last) VALUES (?, 1) "
           "ON CONFLICT (year) DO UPDATE SET last = ref_counters.last + 1")


_CASE_COLUMNS = """ref, state, case_type, target_unit, requester_id, requester_unit, contact, brief, consent_scope,
    consent_valid_until, urgent, created_at, updated_at, consent_covers, consent_note, consent_form,
    consent_obtained_by, children, other_contacts"""
_CASE_VALUES = "?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?"  # every column after `ref`


async def send_case(
    tx: Tx,
    *,
    ref: str | NextRef,
    state: str,
    case_type: str,
    target_unit: str,
    requester_id: str,
    requester_unit: str,
    contact: str | None,
    brief: str,
    consent_scope: list[str],
    consent_valid_until: date,
    urgent: bool,
    now: datetime,
    consent_covers: list[str] | None = None,
    consent_note: str | None = None,
    consent_form: str | None = None,
    consent_obtained_by: str | None = None,
    children: str | None = None,
    other_contacts: str | None = None,
    inbound_key: str | None = None,
) -> Soon:
    """Store a new case; its row as stored, the schema's defaults included, is read later (`Tx.answer`: read
    back by the same statement, a filing needs no second trip to read what it wrote, and on PostgreSQL the
    statements sent after it before that ride in the same trip). With `NextRef` the year's next number is
    taken here, and the reference made of it by the INSERT, where the counter's row stays locked until the
    filing commits (PostgreSQL). `inbound_key`: the idempotency key taken for it (`claim_inbound`), which is
    to name the case (`record_inbound`). Where the engine writes in a WITH (PostgreSQL) the number, the case
    and the key are one statement: each statement costs the client its own work (its parameters adapted, its
    own send), whatever the trips."""
    values = (
        state, case_type, target_unit, requester_id, requester_unit, contact, brief, json.dumps(consent_scope),
        consent_valid_until.isoformat(), int(urgent), now.isoformat(), now.isoformat(),
        json.dumps(consent_covers or []), consent_note, consent_form, consent_obtained_by, children, other_contacts,
    )
    dialect = dialects.of(tx.engine)
    if isinstance(ref, NextRef) and ref.provisional and dialect.LATE_REF:  # the number last: `take_ref`
        tx.provisional.add(ref.provisional)
        key = ("UPDATE inbound_requests SET case_id = c.id, at = c.created_at FROM c WHERE key = ?"
               if inbound_key else "SELECT 1")
        return await tx.fetchone_soon(
            f"""WITH c AS (INSERT INTO cases ({_CASE_COLUMNS}) VALUES (?, {_CASE_VALUES}) RETURNING *),
                     k AS ({key})
                SELECT * FROM c""",
            (ref.provisional, *values, *((inbound_key,) if inbound_key else ())),
        )
    if isinstance(ref, NextRef) and dialect.WRITES_IN_WITH:
        number = dialect.zero_pad("n.last", ref.digits)
        key = ("UPDATE inbound_requests SET case_id = c.id, at = c.created_at FROM c WHERE key = ?"
               if inbound_key else "SELECT 1")
        return await tx.fetchone_soon(
            f"""WITH n AS ({COUNTER} RETURNING last),
                     c AS (INSERT INTO cases ({_CASE_COLUMNS}) SELECT ? || {number}, {_CASE_VALUES} FROM n
                           RETURNING *),
                     k AS ({key})
                SELECT * FROM c""",
            (ref.year, ref.prefix, *values, *((inbound_key,) if inbound_key else ())),
        )
    ref_params: tuple[Any, ...]
    if isinstance(ref, NextRef):
        await tx.write(COUNTER, (ref.year,))  # answered with the INSERT, which reads the number it took
        number = dialect.zero_pad("(SELECT last FROM ref_counters WHERE year = ?)", ref.digits)
        ref_sql, ref_params = f"? || {number}", (ref.prefix, ref.year)
    else:
        ref_sql, ref_params = "?", (ref,)
    sent = await tx.fetchone_soon(
        f"INSERT INTO cases ({_CASE_COLUMNS}) VALUES ({ref_sql}, {_CASE_VALUES}) RETURNING *", (*ref_params, *values))
    if inbound_key:
        row = await tx.answer(sent)  # its id (at once where a WITH cannot write: SQLite answers in process)
        await record_inbound(tx, inbound_key, int(row["id"]), now)
    return sent


async def take_ref(tx: Tx, case_id: int, ref: NextRef) -> Soon:
    """Give a case stored under its provisional reference (`send_case` where the dialect has `LATE_REF`) the
    year's next number, in one statement: the counter's row, held from here to the commit (send this in the
    filing's last trip, with the commit: the section filings take turns in is then the server's alone), the
    reference on the case and on every row the filing wrote it on (`REF_COPIES`). The case's row as stored is
    the answer, read later."""
    assert ref.provisional
    number = dialects.of(tx.engine).zero_pad("n.last", ref.digits)
    copies = []
    for n, (table, by, columns) in enumerate(REF_COPIES):
        sets = ", ".join(f"{c} = c.ref" if c == "case_ref" else f"{c} = replace({table}.{c}, ?, c.ref)"
                         for c in columns)
        find = "c.id" if by == "case_id" else "?"
        copies.append((f"r{n} AS (UPDATE {table} SET {sets} FROM c WHERE {table}.{by} = {find})",
                       [ref.provisional for c in columns if c != "case_ref"] + ([] if by == "case_id"
                                                                                  else [ref.provisional])))
    taken = await tx.fetchone_soon(
        f"""WITH n AS ({COUNTER} RETURNING last),
                 c AS (UPDATE cases SET ref = ? || {number} FROM n WHERE cases.id = ? AND cases.ref = ?
                       RETURNING cases.*),
                 {", ".join(sql for sql, _ in copies)}
            SELECT * FROM c""",
        (ref.year, ref.prefix, case_id, ref.provisional, *(p for _, params in copies for p in params)),
    )
    tx.renamed[ref.provisional] = taken  # log lines written after the commit name the real one (`Tx.final_ref`)
    tx.provisional.discard(ref.provisional)
    return taken


# --- state and version --------------------------------------------------------------------------
async def advance_state(tx: Tx, case_id: int, version: int, state: str, now: datetime) -> bool:
    """Move the case to `state` and bump its version, only if it is still at `version` (optimistic check).
    Returns False when someone else changed it first."""
    changed = await tx.execute(
        "UPDATE cases SET state = ?, updated_at = ?, version = version + 1 WHERE id = ? AND version = ?",
        (state, now.isoformat(), case_id, version),
    )
    return changed == 1


async def touch(tx: Tx, case_id: int, now: datetime) -> None:
    """Mark the case changed (new version) without changing its state."""
    await tx.execute("UPDATE cases SET updated_at = ?, version = version + 1 WHERE id = ?", (now.isoformat(), case_id))


# --- distribution -------------------------------------------------------------------------------
async def replace_assignees(tx: Tx, case_id: int, person_ids: list[str]) -> None:
    """Set the named assignees (in this order), replacing any earlier ones."""
    await tx.execute("DELETE FROM case_assignees WHERE case_id = ?", (case_id,))
    await tx.executemany(
        "INSERT INTO case_assignees (case_id, person_id, position) VALUES (?, ?, ?)",
        [(case_id, pid, i) for i, pid in enumerate(person_ids)],
    )


async def set_assignment(tx: Tx, case_id: int, other: str | None, assigned_by: str, now: datetime) -> None:
    """Record who distributed the case, when, and to "annan"; a new assignment clears the acknowledgement."""
    await tx.execute(
        "UPDATE cases SET other_assignee = ?, assigned_by = ?, assigned_at = ?, "
        "acknowledged_by = NULL, acknowledged_at = NULL WHERE id = ?",
        (other, assigned_by, now.isoformat(), case_id),
    )


# --- meeting ------------------------------------------------------------------------------------
async def set_acknowledged(tx: Tx, case_id: int, person_id: str, now: datetime) -> None:
    await tx.execute(
        "UPDATE cases SET acknowledged_by = ?, acknowledged_at = ? WHERE id = ?", (person_id, now.isoformat(), case_id)
    )


async def set_meeting(tx: Tx, case_id: int, at: datetime, place: str | None, unit_ids: list[str]) -> None:
    """Book the meeting (a waiting case no longer waits)."""
    await tx.execute(
        "UPDATE cases SET meeting_at = ?, meeting_place = ?, meeting_units = ?, waiting_until = NULL, "
        "waiting_reason = NULL WHERE id = ?",
        (at.isoformat(), place, json.dumps(unit_ids), case_id),
    )


async def set_waiting(tx: Tx, case_id: int, until: date | None, reason: str | None) -> None:
    """Put the case to wait until `until` with `reason` (None, None: it no longer waits)."""
    await tx.execute(
        "UPDATE cases SET waiting_until = ?, waiting_reason = ? WHERE id = ?",
        (until.isoformat() if until else None, reason, case_id),
    )


async def record_no_show(tx: Tx, case_id: int) -> None:
    """Count one more no-show and clear the meeting time."""
    await tx.execute("UPDATE cases SET no_shows = no_shows + 1, meeting_at = NULL WHERE id = ?", (case_id,))


async def set_outcome(tx: Tx, case_id: int, outcome: str, evaluation_done: bool, now: datetime) -> None:
    await tx.execute(
        "UPDATE cases SET outcome = ?, evaluation_done = ?, outcome_at = ? WHERE id = ?",
        (outcome, int(evaluation_done), now.isoformat(), case_id),
    )


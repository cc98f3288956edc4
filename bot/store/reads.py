"""Read-log repository: who was shown a case's free text (table `case_reads`). Append-only and hash-chained
(`chain.py`)."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime
from typing import Any

from bot.store import chain, dialects
from bot.store.db import Tx

Row = dict[str, Any]


def _utc(dt: datetime) -> str:
    return dt.astimezone(UTC).isoformat()


async def insert(tx: Tx, *, at: datetime, person_id: str, refs: list[str], view: str, channel: str) -> None:
    """Append one row per case reference, each chained to the one before."""
    await insert_many(tx, [(at, person_id, refs, view, channel)])


async def insert_many(tx: Tx, reads: list[tuple[datetime, str, list[str], str, str]]) -> None:
    """Append the reads of several views at once, (at, person, case references, view, channel) each: one row per
    case reference, chained in this order (one look at the chain's head, one INSERT), and the counts per case and
    reader kept in step (`case_read_counts`, one statement whose answer nobody waits for)."""
    rows = await chain.chained(tx, "case_reads", [
        {"at": _utc(at), "person_id": person_id, "case_ref": ref, "view": view, "channel": channel}
        for at, person_id, refs, view, channel in reads for ref in refs
    ])
    if not rows:
        return
    await tx.executemany(
        "INSERT INTO case_reads (id, at, person_id, case_ref, view, channel, hash) VALUES (?, ?, ?, ?, ?, ?, ?)",
        [tuple(row[c] for c in (*chain.COLUMNS["case_reads"], "hash")) for row in rows],
    )
    counts = Counter((str(row["case_ref"]), str(row["person_id"])) for row in rows)
    source, params = dialects.of(tx.engine).rows(("text", "text", "bigint"),
                                                 [(*key, n) for key, n in sorted(counts.items())])
    # WHERE true: SQLite reads an ON CONFLICT after a bare SELECT … FROM as a join's ON
    await tx.write(
        f"INSERT INTO case_read_counts (case_ref, person_id, reads) SELECT column1, column2, column3 FROM {source} "
        "AS v WHERE true ON CONFLICT (case_ref, person_id) "
        "DO UPDATE SET reads = case_read_counts.reads + excluded.reads", params)


async def miscounted(tx: Tx, limit: int) -> list[Row]:
    """The (case, reader) pairs whose kept count (`case_read_counts`, outside the hash chain) differs from the
    rows of the read log, recounted in one aggregate statement: the first `limit` by case reference, each with
    `logged` (rows of the log) and `counted` (the kept count)."""
    return await tx.fetchall(
        "SELECT case_ref, person_id, SUM(logged) AS logged, SUM(counted) AS counted FROM ("
        "SELECT case_ref, person_id, 1 AS logged, 0 AS counted FROM case_reads "
        "UNION ALL SELECT case_ref, person_id, 0 AS logged, reads AS counted FROM case_read_counts) AS both_sides "
        "GROUP BY case_ref, person_id HAVING SUM(logged) <> SUM(counted) ORDER BY case_ref, person_id LIMIT ?",
        (limit,),
    )


async def for_case(tx: Tx, case_ref: str) -> list[Row]:
    """Every read of one case, oldest first."""
    return await tx.fetchall("SELECT * FROM case_reads WHERE case_ref = ? ORDER BY id", (case_ref,))


async def by_person(tx: Tx, person_id: str, start: datetime, before: datetime) -> list[Row]:
    """Every read by one person in [start, before), oldest first."""
    return await tx.fetchall(
        "SELECT * FROM case_reads WHERE person_id = ? AND at >= ? AND at < ? ORDER BY at, id",
        (person_id, _utc(start), _utc(before)),
    )


async def readers_of_case(tx: Tx, case_ref: str) -> dict[str, int]:
    """Who has been shown one case's free text, and how many times: as many rows as readers, not reads (the counts
    kept beside the log, `insert_many`)."""
    rows = await tx.fetchall("SELECT person_id, reads FROM case_read_counts WHERE case_ref = ?", (case_ref,))
    return {str(r["person_id"]): int(r["reads"]) for r in rows}


async def case_page(tx: Tx, case_ref: str, person_ids: list[str], limit: int, offset: int = 0) -> list[Row]:
    """A page of one case's reads by these people, oldest first."""
    if not person_ids:
        return []
    marks = ", ".join("?" for _ in person_ids)
    return await tx.fetchall(
        f"SELECT * FROM case_reads WHERE case_ref = ? AND person_id IN ({marks}) ORDER BY id LIMIT ? OFFSET ?",
        (case_ref, *person_ids, limit, offset),
    )


async def person_page(tx: Tx, person_id: str, start: datetime, before: datetime, limit: int,
                      offset: int = 0) -> tuple[list[Row], int]:
    """A page of the reads by one person in [start, before), oldest first, and how many there are."""
    params = (person_id, _utc(start), _utc(before))
    rows = await tx.fetchall(
        "SELECT * FROM case_reads WHERE person_id = ? AND at >= ? AND at < ? ORDER BY at, id LIMIT ? OFFSET ?",
        (*params, limit, offset),
    )
    if offset == 0 and len(rows) < limit:
        return rows, len(rows)
    total = await tx.scalar("SELECT COUNT(*) FROM case_reads WHERE person_id = ? AND at >= ? AND at < ?", params)
    return rows, int(total)

"""SQL of the outbox's lanes: which rows are next in line, their claims by the instance sending them, and the
holds (pacing, Retry-After) that keep a recipient or a whole channel waiting, on every instance.

Claims (issue #22). On PostgreSQL several instances deliver at once: the heads are read with
`FOR UPDATE SKIP LOCKED` (two instances never read the same row at the same moment) and the ones an instance
sends are claimed with a lease (`claimed_by`, `claimed_until`) in the same transaction; a claimed row is
nobody else's head until its outcome is written or its lease ends (its instance died mid-send: another sends
it, once more at most). On SQLite the one process delivers, one run at a time, so nothing is claimed; the
dialect module says which (`CLAIMS`, `skip_locked`).

Holds live in `outbox_holds`, one row per (channel, recipient) or (channel, '*') for the whole channel, written
in the transaction that records the send's outcome (so a recipient's next message is never free before its
hold is visible), and read by the heads query: a recipient paced or rate limited on one instance waits on all.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from bot.store import Database, Tx, dialects
from bot.store.writers import RETRIED

# A row waits for the earlier pending rows to its recipient that are past their `not_before` (a row queued for
# office hours or for a later day does not hold the ones after it), except that an urgent row never waits for a
# non-urgent one. Calendar rows all go to the one organiser mailbox: they wait only for those of their own case.
# A row claimed by an instance (its lease not over) and a recipient or channel held are left out.
_HEADS = """
    SELECT o.* FROM outbox AS o
    WHERE o.status = 'pending' AND o.next_attempt_at <= :now AND o.not_before <= :now AND o.id <= :up_to
      AND (o.claimed_until IS NULL OR o.claimed_until <= :now)
      AND o.recipient_id NOT IN (SELECT value FROM json_each(:held))
      AND o.channel NOT IN (SELECT value FROM json_each(:held_channels))
      AND NOT EXISTS (
          SELECT 1 FROM outbox_holds AS h
          WHERE h.channel = o.channel AND h.recipient_id IN (o.recipient_id, '*') AND h.until > :now)
      AND NOT EXISTS (
          SELECT 1 FROM outbox AS e
          WHERE e.recipient_id = o.recipient_id AND e.status = 'pending' AND e.id < o.id
            AND e.not_before <= :now AND (e.urgent = 1 OR o.urgent = 0)
            AND (o.kind != 'calendar' OR e.case_ref IS o.case_ref))
    ORDER BY o.next_attempt_at, o.id
    LIMIT :limit"""

Pick = Callable[[list[dict[str, Any]]], list[dict[str, Any]]]


async def claim(db: Database, now: datetime, limit: int, *, up_to: int, owner: str, lease_until: datetime,
                pick: Pick, held: Sequence[str] = (), held_channels: Sequence[str] = ()) -> list[dict[str, Any]]:
    """The rows first in line for their recipient and due now, oldest first (`limit` at most; rows after id
    `up_to`, recipients in `held` and channels in `held_channels` left out), narrowed by `pick` (plain code,
    no awaits: it runs inside the transaction) to the ones this instance sends now, which are claimed for
    `owner` until `lease_until` where several instances deliver. One transaction."""
    dialect = dialects.of(db.engine)
    params = {"now": now.isoformat(), "limit": limit, "up_to": up_to,
              "held": json.dumps(list(held)), "held_channels": json.dumps(list(held_channels))}
    query = _HEADS + dialect.skip_locked("o")

    async def work(tx: Tx) -> list[dict[str, Any]]:
        chosen = pick(await tx.fetchall(query, params))
        if dialect.CLAIMS and chosen:
            marks = ", ".join("?" for _ in chosen)
            await tx.execute(f"UPDATE outbox SET claimed_by = ?, claimed_until = ? WHERE id IN ({marks})",
                             (owner, lease_until.isoformat(), *(r["id"] for r in chosen)))
        return chosen

    return await db.run(work)


async def renew(db: Database, ids: Sequence[int], owner: str, until: datetime) -> set[int]:
    """Extend `owner`'s claims on these rows to `until` (they are still being sent); the ids still claimed
    by `owner` (a row missing was recorded meanwhile, or claimed by another instance after its lease ended)."""
    if not dialects.of(db.engine).CLAIMS or not ids:
        return set(ids)
    marks = ", ".join("?" for _ in ids)

    async def work(tx: Tx) -> set[int]:
        rows = await tx.fetchall(
            f"UPDATE outbox SET claimed_until = ? WHERE id IN ({marks}) AND claimed_by = ? AND status = 'pending' "
            "RETURNING id", (until.isoformat(), *ids, owner))
        return {int(r["id"]) for r in rows}

    return await db.run(work)


async def release(tx: Tx, outbox_id: int, owner: str) -> None:
    """Give a claimed row back untouched (it was not sent: its recipient became held meanwhile)."""
    if dialects.of(tx.engine).CLAIMS:
        await tx.execute("UPDATE outbox SET claimed_by = NULL, claimed_until = NULL WHERE id = ? AND claimed_by = ?",
                         (outbox_id, owner))


async def release_all(db: Database, owner: str) -> int:
    """Give back every row `owner` still claims (the instance stops): another instance need not wait for the
    leases. Returns how many."""
    if not dialects.of(db.engine).CLAIMS:
        return 0

    async def work(tx: Tx) -> int:
        return await tx.execute("UPDATE outbox SET claimed_by = NULL, claimed_until = NULL "
                                "WHERE claimed_by = ? AND status = 'pending'", (owner,))

    return await db.run(work)


async def hold(tx: Tx, channel: str, recipient_id: str, until: datetime, kind: str) -> None:
    """Hold a recipient ('*': the whole channel) on `channel` until `until` (a later hold already there
    stays). `kind`: 'pace' (one message per interval) or 'limit' (a Retry-After)."""
    await hold_many(tx, [(channel, recipient_id, until)], kind)


async def hold_many(tx: Tx, holds: Sequence[tuple[str, str, datetime]], kind: str) -> None:
    """`hold` for several (channel, recipient, until), each pair once, in one statement whose answer is not waited
    for (`Tx.write`)."""
    await hold_all(tx, [(channel, recipient, until, kind) for channel, recipient, until in holds])


async def hold_all(tx: Tx, holds: Sequence[tuple[str, str, datetime, str]]) -> None:
    """Several holds of any kind, (channel, recipient, until, kind) each, in one statement whose answer is not
    waited for (`Tx.write`), in key order: two instances writing the same holds take their row locks in one order
    (no deadlock between them). A pair given twice is written once, with the later time (and its kind)."""
    latest: dict[tuple[str, str], tuple[datetime, str]] = {}
    for channel, recipient, until, kind in holds:
        had = latest.get((channel, recipient))
        if had is None or until > had[0]:
            latest[(channel, recipient)] = (until, kind)
    if not latest:
        return
    rows = sorted(latest.items())
    values = ", ".join(["(?, ?, ?, ?)"] * len(rows))
    await tx.write(
        f"""INSERT INTO outbox_holds (channel, recipient_id, kind, until) VALUES {values}
            ON CONFLICT (channel, recipient_id) DO UPDATE SET
              kind = CASE WHEN excluded.until > outbox_holds.until THEN excluded.kind ELSE outbox_holds.kind END,
              until = CASE WHEN excluded.until > outbox_holds.until THEN excluded.until ELSE outbox_holds.until END""",
        [value for (channel, recipient), (until, kind) in rows
         for value in (channel, recipient, kind, until.isoformat())],
    )


async def limit_hold(tx: Tx, channel: str, recipient_id: str, until: datetime, now: datetime,
                     whole_after: int) -> datetime | None:
    """A Retry-After for one recipient; when `whole_after` recipients of the channel are held by one at once
    (on any instance), the limit is taken to be the channel's (Slack: the workspace's) and the whole channel
    is held until the last of them ends. Returns that time when the whole channel was held."""
    await hold(tx, channel, recipient_id, until, "limit")
    return (await hold_channels(tx, [channel], now, whole_after)).get(channel)


async def hold_channels(tx: Tx, channels: Sequence[str], now: datetime, whole_after: int) -> dict[str, datetime]:
    """After the Retry-After holds of recipients (`hold_all`): each of these channels with `whole_after` recipients
    held by a limit at once (on any instance) is held as a whole until the last of them ends, in one statement
    (key order) written after the recipients' holds, so every transaction takes the channel-wide hold last.
    Returns the channels held so, with their times."""
    whole: dict[str, datetime] = {}
    for channel in sorted(set(channels)):
        row = await tx.fetchone(
            "SELECT COUNT(*) AS n, MAX(until) AS last FROM outbox_holds "
            "WHERE channel = ? AND kind = 'limit' AND recipient_id != '*' AND until > ?",
            (channel, now.isoformat()),
        )
        if row is not None and int(row["n"]) >= whole_after:
            whole[channel] = datetime.fromisoformat(str(row["last"]))
    await hold_all(tx, [(channel, "*", last, "limit") for channel, last in whole.items()])
    return whole


def conflicted(exc: BaseException) -> bool:
    """Whether `exc` is a transaction PostgreSQL aborted for another's sake (deadlock detected, serialization
    failure: `bot.store.writers.RETRIED`), worth running again. SQLite never raises these."""
    return getattr(exc, "sqlstate", None) in RETRIED


async def forget_holds(db: Database, now: datetime) -> int:
    """Delete the holds that are over (they are ignored anyway; this keeps the table small), in a transaction of
    their own that waits for no lock: a hold another instance's transaction is writing is left for the next time.
    (In the transaction recording sends, as before, a delete and another instance's upserts of the same holds
    took their locks in opposite orders: deadlocks, the bench's three dispatchers met them.)"""
    query = ("DELETE FROM outbox_holds WHERE (channel, recipient_id) IN (SELECT h.channel, h.recipient_id "
             "FROM outbox_holds AS h WHERE h.until <= ?" + dialects.of(db.engine).skip_locked("h") + ")")

    async def work(tx: Tx) -> int:
        return await tx.execute(query, (now.isoformat(),))

    return await db.run(work)


async def due_again(db: Database, now: datetime, was: datetime) -> int:
    """The wall clock stepped back from `was` to `now` (NTP, an operator, a VM resumed). What was due by `was`
    is due now, not when the clock gets there again; the holds written on the clock before the step would hold
    a recipient as long as the clock went back, so they go (a 429 that is still due comes again). Returns how
    many outbox rows became due again. One transaction."""
    times = {"now": now.isoformat(), "was": was.isoformat()}
    async with db.transaction() as tx:
        moved = await tx.execute(
            """UPDATE outbox SET
                   next_attempt_at = CASE WHEN next_attempt_at > :now AND next_attempt_at <= :was
                                          THEN :now ELSE next_attempt_at END,
                   not_before = CASE WHEN not_before > :now AND not_before <= :was THEN :now ELSE not_before END
               WHERE status = 'pending' AND ((next_attempt_at > :now AND next_attempt_at <= :was)
                                             OR (not_before > :now AND not_before <= :was))""", times)
        await tx.execute("DELETE FROM outbox_holds WHERE until > :now", {"now": times["now"]})
        return moved

"""Applying what the sweep decided: each due row's writes (a `Fire`: a climb of the ladder or a reminder), a batch
of them in one short transaction (here, not in `bot.ladder`: the reminders plan fires too, and the ladder imports them).

The sweep reads the due rows on a read connection, decides and describes (renders) off the database thread,
and only then takes the write lock (`bot.ladder.scheduled`). Between the read and the apply anything may have
happened (an answer, another instance, an earlier sweep that stopped half way), so each row's update checks
that the row is as it was read and the apply skips each whose state changed: an awaiting item no longer open, on
another rung or with another due time; a timer no longer pending or moved. A row skipped is read again, as it
is now, by the sweep's next batch (if it is still due). The writes are a few statements per batch whatever its
size (one UPDATE … FROM <the batch's rows> per table, one multi-row INSERT of the messages and one of the facts;
the rows as one relation in the engine's form, `bot.store.dialects`), so a batch of a hundred rows holds the
lock for milliseconds. Each row's update also checks its case's version: a row whose case changed since it was
read is skipped too, because its messages were decided from the case as it was (a unit whose consent was
withdrawn meanwhile must not be told of the meeting). On PostgreSQL an update that waited on a row lock checked
the version as of before the wait: the versions are read again after the updates, and a batch one of whose cases
moved meanwhile rolls back and is fired row by row (`CaseMoved`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from bot import audit, metrics
from bot.outbox import Outbox, Prepared
from bot.store import Tx, chain, dialects, timers
from bot.store import ladder as awaiting
from bot.store import outbox as outbox_store
from bot.store import stats as stats_store
from bot.store.outbox import OutboxRow
from bot.store.tx import Soon

SYSTEM = "system"


@dataclass
class Fire:
    """One due row's writes, decided and described before the transaction that applies them.

    `due_at` (and for an item `rung`) is the row as read: the apply skips the row when it is no longer so.
    An item's `climbed` is (rung, due_at, alerted, skipped) after the climb, `skipped` the (kind, title) of the
    rungs skipped now (audited), `fact` its escalation fact (unit, kind, rung, title); a timer's `outcome` is
    'fired' or 'stale'. `done` is called once the batch has committed (log lines)."""

    table: str  # "awaiting" or "timers"
    row_id: int
    due_at: str
    case_id: int
    case_ref: str
    case_version: int | None = None  # the case as read: what the messages say, and to whom, was decided from it
    rung: int = 0
    messages: list[Prepared] = field(default_factory=list)
    climbed: tuple[int, str | None, list[str], list[str]] | None = None
    skipped: list[tuple[str, str]] = field(default_factory=list)
    fact: tuple[str, str, int, str] | None = None
    outcome: str | None = None
    done: Callable[[], None] | None = None
    rows: list[OutboxRow] = field(default_factory=list)  # the messages as outbox rows (`ready`)

    def ready(self) -> Fire:
        """Its messages made into outbox rows, before the transaction (plain values: the apply only writes)."""
        self.rows = Outbox.rows([(m, self.case_id, self.case_ref) for m in self.messages])
        return self


def encode(engine: str, fires: list[Fire]) -> outbox_store.Encoded:
    """The messages of `fires` encoded for `apply` on `engine`, before its transaction (plain code)."""
    return outbox_store.encode(engine, [row for f in fires for row in (f.rows or f.ready().rows)])


async def apply(tx: Tx, outbox: Outbox, fires: list[Fire], now: datetime,
                encoded: outbox_store.Encoded | None = None) -> list[Fire]:
    """Apply the fires whose rows are still as they were read, with a few bulk statements; returns those
    applied. The rows' own updates come first and say which are (`climb_many`, `finish_many`: each checks its
    row's state and its case's version in its WHERE, and returns the rows it changed); only those rows'
    messages, facts and audit rows are then written. A fire whose case changed since it was read (an answer, a
    withdrawn consent: who may read what) is left for the next batch, which plans it again from the case as it
    is.

    The commit does not wait for the disk where the engine allows it (`dialects.unflushed_commit`: PostgreSQL's
    WAL flush, a disk sync per batch): a batch lost in a crash of the server is lost whole, its rows'
    marks with their messages, so the next sweep fires its rows again, and nothing of it is sent before it is on
    disk, because the dispatcher's claim of a row commits with a flush, which writes this commit first. Not a
    transaction that appends audit rows (a skipped rung, here or by the caller before: `Tx.audited`): the audit
    chain is relied on outside the database as soon as the commit returns (the row's log line, the nightly head
    `verify-logs --head` checks), and a row lost after that would be appended again under its id with another
    hash, a false alarm of tampering. What a lost batch's `committed` did (the escalation metric, its log lines)
    is done again when its rows fire again."""
    if any(f.skipped for f in fires):  # audited below: the audit log's lock first, before any awaited row, in the
        await chain.serialise(tx, "audit")  # order a case action takes them (its audit row, then `ladder.sync`)
    climbed = await awaiting.climb_many(tx, [(f.row_id, f.rung, f.due_at, *f.climbed, f.case_id, f.case_version)
                                             for f in fires if f.table == "awaiting" and f.climbed is not None], now)
    finished = await timers.finish_many(tx, [(f.row_id, f.due_at, f.outcome, f.case_id, f.case_version)
                                             for f in fires if f.table == "timers" and f.outcome is not None], now)
    live = [f for f in fires if f.row_id in (climbed if f.table == "awaiting" else finished)]
    moved = await _versions_sent(tx, live) if tx.engine == "postgresql" else None
    for f in live:
        for kind, title in f.skipped:  # a rung with nobody on duty goes in the case history
            await audit.record(tx, at=now, actor_id=SYSTEM, action="ladder_skipped", case_id=f.case_id,
                               case_ref=f.case_ref, kind=kind, rung=title)
    await stats_store.insert_escalation_facts(tx, [f.fact for f in live if f.fact is not None], now)
    if encoded is None or len(live) != len(fires):  # encoded before for every fire: only when all are applied
        encoded = outbox_store.encode(tx.engine, [row for f in live for row in (f.rows or f.ready().rows)])
    await outbox.put_encoded(tx, encoded)
    if moved is not None:
        await _check_versions(tx, live, moved)
    unflushed = dialects.of(tx.engine).unflushed_commit()
    if unflushed is not None and not tx.audited:  # takes effect at the commit; not after any audit row of the
        # transaction (a climb audits its skipped rungs itself, before its draft: `LadderService.climb`)
        await tx.write(unflushed)
    rungs = [metrics.rung(f.climbed[0]) for f in live if f.climbed is not None]
    done = [f.done for f in live if f.done is not None]

    def committed() -> None:
        for rung in rungs:  # a rolled-back climb did not happen
            metrics.ESCALATIONS.labels(rung).inc()
        for fn in done:
            fn()

    tx.after_commit(committed)
    return live


class CaseMoved(Exception):
    """A case of the batch changed while its updates waited on a row lock (PostgreSQL): the batch rolls back and
    its rows are fired one by one, each from its case as it is then (`bot.ladder.scheduled._apply`)."""


async def _versions_sent(tx: Tx, live: list[Fire]) -> Soon | None:
    """On PostgreSQL the updates' version check reads the case as of the statement's snapshot, taken before the
    update waited on a row lock (a timer row `reminders.sync` holds with its INSERT … ON CONFLICT): a withdrawal
    committed meanwhile, which changes no row of the batch, is not seen by it. Read the versions again after the
    updates (a fresh snapshot at READ COMMITTED): sent now, its answer read with the messages' (`_check_versions`),
    so that it costs no trip of its own."""
    planned = sorted({(f.case_id, f.case_version) for f in live if f.case_version is not None})
    return await awaiting.cases_moved_soon(tx, planned) if planned else None


async def _check_versions(tx: Tx, live: list[Fire], moved: Soon) -> None:
    """Raise `CaseMoved` if a case of the batch is no longer at the version its fire was planned from."""
    if not (await tx.answer(moved))["moved"]:
        return
    planned = [f for f in live if f.case_version is not None]
    now_at = await awaiting.case_versions(tx, sorted({f.case_id for f in planned}))
    refs = sorted({f.case_ref for f in planned if now_at.get(f.case_id) != f.case_version})
    raise CaseMoved(", ".join(refs))

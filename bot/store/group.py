"""Group commit: the units of work waiting for the write connection are applied together, in one transaction.

While the write connection's thread applies units, more arrive (a burst of submissions: each filing is one
unit). Rather than one trip to the thread, one BEGIN and one COMMIT each, whoever finds the connection idle
takes every unit queued (at most `MAX_GROUP`) and applies them in one call on the thread, in one transaction:
each unit inside a savepoint of its own, so that a unit that fails is rolled back alone and told its own
error while the others go on; one COMMIT (on PostgreSQL one WAL flush, on SQLite one WAL write) for all. A
unit's result, and its `after_commit` callbacks, come only once the group's COMMIT has succeeded; if the
COMMIT fails (a full disk), or the engine ended the transaction itself (SQLite does on a full disk or an I/O
error), every unit of the group fails with that error: nothing of it was stored, and each caller says so.

Units are applied in the order they were queued, each seeing what the ones before it wrote, as they would one
after the other. No unit waits for a group to fill: an idle connection takes what is there, however little. A
unit found alone (nothing else queued, or `MAX_GROUP` 1) is begin, the unit, commit: no savepoint around it.
"""

from __future__ import annotations

import asyncio
import contextvars
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from bot.store.tx import Tx, Work, _unit, drive

if TYPE_CHECKING:
    from bot.store.unit import _Conn

log = logging.getLogger(__name__)

MAX_GROUP = 16  # units per transaction: the lock is held about 1 ms per filing, so at most about 20 ms
SAVEPOINT = "gfi_unit"


@dataclass
class Outcome:
    """What one unit of a group came to: its result and after-commit callbacks, or its error."""

    value: Any = None
    error: BaseException | None = None
    committed: list[Callable[[], None]] = field(default_factory=list)


@dataclass
class _Queued:
    work: Work[Any]
    context: contextvars.Context  # the caller's context variables, as `Worker.call` gives them
    future: asyncio.Future[Any]


def _in_transaction(conn: Any) -> bool:
    return bool(getattr(conn, "in_transaction", True))


def _drive(work: Work[Any], tx: Tx) -> Any:
    return drive(work(tx))


def apply(conn: Any, tx_type: type[Tx], begin: str, queued: list[tuple[Work[Any], contextvars.Context]]
          ) -> list[Outcome]:
    """On the connection's thread: begin, each unit in a savepoint of its own, commit. Raises (everything
    rolled back) when the transaction as a whole cannot be kept. A unit alone needs no savepoint (`alone`)."""
    if len(queued) == 1:
        return [alone(conn, tx_type, begin, *queued[0])]
    outcomes: list[Outcome] = []
    base = tx_type(conn)
    try:
        with base.batch():
            conn.execute(begin)
            for work, context in queued:
                tx = base.fresh()
                conn.execute(f"SAVEPOINT {SAVEPOINT}")
                try:
                    value = context.run(_drive, work, tx)
                    conn.execute(f"RELEASE SAVEPOINT {SAVEPOINT}")
                    tx.settle()  # this unit's errors are its own, never the next one's
                except Exception as exc:
                    tx.settle(quiet=True)
                    if not _in_transaction(conn):  # the engine rolled the whole transaction back
                        raise
                    conn.execute(f"ROLLBACK TO SAVEPOINT {SAVEPOINT}")
                    conn.execute(f"RELEASE SAVEPOINT {SAVEPOINT}")
                    base.settle()  # the transaction goes on only if the savepoint was rolled back
                    outcomes.append(Outcome(error=exc))
                    continue
                outcomes.append(Outcome(value=value, committed=tx.committed))
            conn.execute("COMMIT")
    except BaseException:
        if _in_transaction(conn):
            conn.execute("ROLLBACK")
        raise
    return outcomes


def alone(conn: Any, tx_type: type[Tx], begin: str, work: Work[Any], context: contextvars.Context) -> Outcome:
    """One unit in a transaction of its own: begin, the unit, commit (`bot.store.tx._unit`, as `run_aside` and
    `run_read`). No SAVEPOINT and RELEASE around it: two statements that would buy nothing, its failure rolling
    back the whole transaction anyway."""
    try:
        value, committed = context.run(_unit, conn, tx_type, begin, "COMMIT", work)
    except Exception as exc:  # rolled back by `_unit`: the unit's own failure
        return Outcome(error=exc)
    return Outcome(value=value, committed=committed)


class Group:
    """The queue of units for one write connection (`Store.run`)."""

    def __init__(self, writer: _Conn, begin: str, lock: asyncio.Lock, *, size: int = MAX_GROUP) -> None:
        self.writer = writer
        self.size = size
        self._begin = begin
        self._lock = lock  # held by a hop-form `transaction()`: a group waits for it
        self._queued: list[_Queued] = []
        self._draining: asyncio.Task[None] | None = None

    async def run(self, work: Work[Any]) -> Any:
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Any] = loop.create_future()
        self._queued.append(_Queued(work, contextvars.copy_context(), future))
        if self._draining is None:
            self._draining = loop.create_task(self._drain(), name="gfi-store-group")
        return await future

    async def _drain(self) -> None:
        try:
            while self._queued:
                group, self._queued = self._queued[:self.size], self._queued[self.size:]
                try:
                    async with self._lock:
                        group = [q for q in group if not q.future.cancelled()]  # its caller gave up before it began
                        if not group:
                            continue
                        outcomes = await self.writer.worker.call(
                            apply, self.writer.conn, self.writer.tx_type, self._begin,
                            [(q.work, q.context) for q in group])
                except BaseException as exc:
                    for q in group:
                        if not q.future.done():
                            q.future.set_exception(exc)
                    if isinstance(exc, asyncio.CancelledError):
                        raise
                    continue
                for q, outcome in zip(group, outcomes, strict=True):
                    _settle(q.future, outcome)
        finally:
            self._draining = None


def _settle(future: asyncio.Future[Any], outcome: Outcome) -> None:
    """Tell a unit's caller its outcome, after its after-commit callbacks (on the event loop)."""
    if outcome.error is None:
        for fn in outcome.committed:  # the unit is stored: a callback that fails does not say otherwise
            try:
                fn()
            except Exception as exc:
                log.error("store.after_commit_failed", extra={"event": "store.after_commit_failed",
                                                              "exc_type": type(exc).__name__})
    if future.done():  # the caller stopped waiting (cancelled): the unit was applied all the same
        return
    if outcome.error is not None:
        future.set_exception(outcome.error)
    else:
        future.set_result(outcome.value)

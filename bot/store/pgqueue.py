"""A unit's statements queued in psycopg's pipeline, sent together when an answer is read (issue #22 item 8).

In pipeline mode psycopg's `cursor.execute` queues the statement and then talks to the server at once
(`_communicate_gen`): every statement is a write to the socket of its own (with a poll before it), and the
server's backend is woken for each. A unit's statements whose answer nobody reads yet (`tx.write`, a `Soon`,
BEGIN, COMMIT) need not leave before the next answer is read: `queue` does what `execute` does up to that
point (the query converted, prepared if due, queued with its place in the pipeline's result queue), and the
statements leave together, in one write, with the next statement whose answer is read (psycopg's own `execute`
sends everything queued before its own), at `flush` (before a `Soon` is read) or at the pipeline's sync or exit
(the commit). Errors surface where they did: at the next answer read, or at the commit.

This reaches into psycopg's cursor and pipeline (private names, checked once here: `QUEUES`). Where they are not
what this module expects (another psycopg than the one pinned in constraints.txt), `queue` is psycopg's own
`execute` and nothing is queued; `tests/integration/test_store_pipeline.py` fails then, so an upgrade is noticed.
"""

from __future__ import annotations

from collections.abc import Generator
from typing import Any

import psycopg
from psycopg.abc import PQGen

from bot.store.tx import Params

# psycopg's generator methods this module drives itself (as psycopg 3.3 has them)
QUEUES = (all(hasattr(psycopg.AsyncCursor, name) for name in ("_start_query", "_convert_query", "_maybe_prepare_gen"))
          and hasattr(psycopg.AsyncPipeline, "_communicate_gen"))


def _queue_gen(cursor: psycopg.AsyncCursor[Any], query: str, params: Params | None) -> PQGen[None]:
    """psycopg's `_execute_gen` in pipeline mode, without its `_communicate_gen`."""
    yield from cursor._start_query(query)
    pgq = cursor._convert_query(query, params)
    yield from cursor._maybe_prepare_gen(pgq)
    cursor._last_query = query
    yield from cursor._conn._prepared.maintain_gen(cursor._conn)


def _rest(first: Any, gen: PQGen[None]) -> Generator[Any, Any, None]:
    """The generator `gen` from the wait it asked for first (`first`), for psycopg's `wait`."""
    ready = yield first
    while True:
        try:
            state = gen.send(ready)
        except StopIteration:
            return
        ready = yield state


async def queue(cursor: psycopg.AsyncCursor[Any], query: str, params: Params | None = None) -> None:
    """Queue `query` on `cursor`'s connection, which is in pipeline mode: sent with the next statement whose
    answer is read, or at `flush`, sync or the pipeline's end."""
    conn = cursor.connection
    if not QUEUES or conn._pipeline is None:
        await cursor.execute(query, params)
        return
    gen = _queue_gen(cursor, query, params)
    try:
        first = next(gen)
    except StopIteration:
        return  # queued without a word to the server: the usual case
    await conn.wait(_rest(first, gen))  # it wants the server (psycopg's maintenance): let psycopg wait for it


async def flush(conn: psycopg.AsyncConnection[Any]) -> None:
    """Send what is queued on `conn` (before an answer is read that `execute` does not send for)."""
    pipeline = conn._pipeline
    if QUEUES and pipeline is not None and pipeline.command_queue:
        async with conn.lock:
            await conn.wait(pipeline._communicate_gen())

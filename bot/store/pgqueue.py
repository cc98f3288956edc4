"""A unit's statements queued in psycopg's pipeline, sent together when an answer is read (issue #22 item 8).

In pipeline mode psycopg's `cursor.execute` queues the statement and then talks to the server at once
(`_communicate_gen`: a poll, a flush, and a wait on the event loop when the socket is not ready). A unit's
statements whose answer nobody reads yet (`tx.write`, a `Soon`, BEGIN, COMMIT) need not: `queue` does what
`execute` does up to that point (the query converted, prepared if due, queued with its place in the pipeline's
result queue), and psycopg sends what is queued with the next statement whose answer is read (its own `execute`
sends everything queued before its own), at `flush` (before a `Soon` is read) or at the pipeline's sync or exit
(the commit). psycopg still writes each statement to the socket on its own (`pipeline_communicate` flushes
after every command): what goes is the talking and waiting per statement, not the writes. Errors surface where
they did: at the next answer read, or at the commit.

This reaches into psycopg's cursor and pipeline (private names, checked once here: `QUEUES`), under the upper
bound in pyproject.toml; `tests/unit/test_private_names.py` checks the names and that `_execute_gen`, whose
steps `_queue_gen` copies, is still the one it copied. Where the names are missing `queue` is psycopg's own
`execute` and nothing is queued (`tests/integration/test_store_pipeline.py` fails then).
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
    """The generator `gen` from the wait it asked for first (`first`), for psycopg's `wait`. In psycopg 3.3's
    pipeline mode queuing never waits (a statement prepared or let go is queued too): this is the guard should a
    release make one of those steps talk to the server."""
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
    if not QUEUES:
        return
    pipeline = conn._pipeline
    if pipeline is not None and pipeline.command_queue:
        async with conn.lock:
            await conn.wait(pipeline._communicate_gen())

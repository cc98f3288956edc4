"""What the filings wait for on PostgreSQL (`bench_postgres.py --waits`): which bounds one instance's filings.

A filing holds two things other filings need from its second trip to its commit: the year's counter row (the
next reference) and the audit chain's lock (`bot.store.chain`). Others wait for them (a `Lock` wait of their
backends), so at c=16 one filing at a time is in that section, and filings per second are at most one over its
length, whatever the cores. This samples `pg_stat_activity` of the instance's backends every few milliseconds
and, at each instant where a filing waits for a lock, looks at the backend it waits for (`pg_blocking_pids`):

- `the app`: the holder waits for its client (`ClientRead`): the instance has the answer of the second trip and
  has not yet sent the rest (its thread waiting for the interpreter, then the unit's Python, statement by
  statement, in the pipeline);
- `WAL flush`: the holder's COMMIT writes and flushes the write-ahead log (`IO`, `WAL…`);
- `server`: the holder's backend runs a statement (no wait);
- `other`: anything else (named).

The sampler is a process of its own with one connection; its queries cost the server a little CPU, so the figures
of a run with `--waits` are not the ones to report for CPU or latency.
"""

from __future__ import annotations

import time
from collections import Counter
from multiprocessing.connection import Connection
from multiprocessing.synchronize import Event

INTERVAL = 0.004  # seconds between two looks
QUERY = """
    SELECT pid, state, wait_event_type, wait_event,
           CASE WHEN wait_event_type = 'Lock' THEN pg_blocking_pids(pid) END AS blockers
    FROM pg_stat_activity WHERE application_name = 'gfi-bot' AND backend_type = 'client backend'"""


def kind(wait_type: str | None, wait_event: str | None) -> str:
    """What a lock's holder is doing, in the words of the table above."""
    if wait_type is None:
        return "server"
    if wait_event == "ClientRead":
        return "the app"
    if wait_type == "IO" and (wait_event or "").startswith("WAL"):
        return "WAL flush"
    return f"other ({wait_type} {wait_event})"


def heads(blocked_by: dict[int, list[int]]) -> set[int]:
    """The backends at the head of the lock queues: those the waiters wait for, followed through the ones that
    are themselves waiting for a lock (`pg_blocking_pids` also names a waiter ahead in the queue, or one holding
    a tuple lock while it waits for the row's transaction), to the ones that are not."""
    out: set[int] = set()
    seen: set[int] = set()
    todo = [pid for blockers in blocked_by.values() for pid in blockers]
    while todo:
        pid = todo.pop()
        if pid in seen:
            continue
        seen.add(pid)
        if pid in blocked_by:
            todo.extend(blocked_by[pid])
        else:
            out.add(pid)
    return out


def sample(url: str, stop: Event, out: Connection) -> None:
    """Until `stop`: count the instants, those where some backend waited for a lock, the waiters, and what each
    holder that was waited for was doing; send the counts (a dict) on `out`."""
    import psycopg

    counts: Counter[str] = Counter()
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("SET application_name = 'gfi-bench-waits'")
        while not stop.is_set():
            rows = conn.execute(QUERY).fetchall()
            counts["instants"] += 1
            state = {pid: (wait_type, event) for pid, _, wait_type, event, _ in rows}
            blocked_by = {pid: blockers or [] for pid, _, wait_type, _, blockers in rows if wait_type == "Lock"}
            counts["waiters"] += len(blocked_by)
            holders = heads(blocked_by)
            if holders:
                counts["instants with a wait"] += 1
            for pid in holders:
                counts["holder: " + kind(*state.get(pid, ("?", "?")))] += 1
            time.sleep(INTERVAL)
    out.send(dict(counts))


def received(theirs: Connection, timeout: float = 30.0) -> dict[str, int]:
    """The sampler's counts, or none when it sent none in time (it died: its end closed, an EOF)."""
    try:
        return theirs.recv() if theirs.poll(timeout) else {}  # type: ignore[no-any-return]
    except EOFError:
        return {}


def figures(counts: dict[str, int], elapsed: float, filings: int, concurrency: int) -> dict[str, float]:
    """The table's rows from the counts of one run: the share of the time some filing waited for another, the
    filings waiting on average, and the locked section per filing, split by what its holder was doing (the
    section's length per filing is the run's time per filing while filings always wait for it)."""
    instants = max(counts.get("instants", 0), 1)
    waited = counts.get("instants with a wait", 0)
    held = sum(v for k, v in counts.items() if k.startswith("holder: "))
    out = {f"share of the time a filing waited for a lock, c={concurrency}": 100 * waited / instants,
           f"lock waiters on average, c={concurrency}": counts.get("waiters", 0) / instants}
    section = elapsed / max(filings, 1) * waited / instants * 1000  # ms of locked section per filing
    for key, value in sorted(counts.items()):
        if key.startswith("holder: ") and held:
            out[f"locked section per filing, c={concurrency}: {key[8:]}"] = section * value / held
    return out

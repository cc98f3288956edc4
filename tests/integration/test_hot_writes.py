"""Hot writes (`Tx.write_hot`): writes to rows many units change (the audit chain's lock and rows, the statistics'
rollups), whose locks are held from the statement to the commit. A filing holds them (`Tx.hold_hot`) and sends
them last, after the year's counter (`bot.store.cases.take_ref`), by rank: the chain (rank 0) before the rollups
(rank 1), the lock order every unit keeps (DESIGN, "lock order"). Two safeguards, asserted here by the order of
the statements sent, not only by their effects:

- `Tx.release_hot` sends what was held by rank, each rank in the order it was made, and nothing before;
- a filing with nobody present on its first rung (a hook's audit row, `ladder_skipped`) takes the counter, then
  the audit chain, then the rollups, with nothing else after the counter (its last trip on PostgreSQL). Taken
  mid-filing, the chain's lock deadlocked with another filing's last trip (review of 87cd6fb, fixed in f6c3969)."""

from __future__ import annotations

from typing import Any

import pytest

from bot.store import Tx
from tests.conftest import CoreFactory
from tests.races import BOTH_ENGINES
from tests.sent import Sent, record_statements
from tests.timekit import directory_with, form

pytestmark = BOTH_ENGINES

# each row numbered by the rows before it: the order the statements reached the database
INSERT = "INSERT INTO hot_order (seq, label) SELECT COUNT(*), CAST(? AS text) FROM hot_order"


async def test_hot_writes_held_go_out_at_release_by_rank_each_rank_in_the_order_made(
    make_core: CoreFactory, engine: str,
) -> None:
    core = await make_core()

    async def table(tx: Tx) -> None:
        await tx.execute("CREATE TABLE hot_order (seq INTEGER NOT NULL, label TEXT NOT NULL)")

    await core.db.run(table)

    async def unit(tx: Tx) -> tuple[int, bool, bool]:
        tx.hold_hot()
        await tx.write_hot(INSERT, ("rollup-1",))  # rank 1, as the rollups
        await tx.write_hot(INSERT, ("chain-1",), rank=0)
        await tx.executemany_hot(INSERT, [("waits-1",), ("waits-2",)])  # rank 1
        await tx.write_hot(INSERT, ("later",), rank=2)
        await tx.write_hot(INSERT, ("chain-2",), rank=0)
        await tx.write_hot(INSERT, ("rollup-2",), rank=1)
        sent_while_held = int(await tx.scalar("SELECT COUNT(*) FROM hot_order"))
        holding = tx.holding
        await tx.release_hot()
        await tx.write_hot(INSERT, ("after",))  # no longer held: sent at once
        return sent_while_held, holding, tx.holding

    assert await core.db.run(unit) == (0, True, False)

    async def order(tx: Tx) -> list[str]:
        return [r["label"] for r in await tx.fetchall("SELECT label FROM hot_order ORDER BY seq")]

    assert await core.db.run_read(order) == [
        "chain-1", "chain-2", "rollup-1", "waits-1", "waits-2", "rollup-2", "later", "after"]


def _kind(statement: Sent) -> str | None:
    """What a filing's statement locks or writes, of what matters to its lock order."""
    sql = " ".join(statement.sql.split())
    if "ref_counters" in sql:
        return "counter"
    if "pg_advisory_xact_lock" in sql:
        return "chain"
    if sql.startswith("INSERT INTO audit"):
        return "audit"
    if any(f"INSERT INTO {t}" in sql for t in ("stats_hours", "stats_waits", "stats_escalations")):
        return "rollup"
    return None


def _audited(statement: Sent) -> Any:
    """The action of an audit row as sent (one of its parameters)."""
    return next(p for p in statement.params if p in ("request", "ladder_skipped"))


async def test_a_filing_with_nobody_on_its_first_rung_takes_counter_chain_rollups_in_that_order(
    make_core: CoreFactory, monkeypatch: pytest.MonkeyPatch, engine: str,
) -> None:
    core = await make_core(directory=directory_with(absent=("fatima.ali", "gustav.lund")))
    sent = record_statements(monkeypatch)
    case = await core.cases.request("maria.sand", form())
    monkeypatch.undo()
    assert case.ref == "GFI-2026-0001"
    kinds = [(i, _kind(s)) for i, s in enumerate(sent) if _kind(s)]
    order = [k for _, k in kinds]
    audits = [_audited(s) for s in sent if _kind(s) == "audit"]
    assert audits == ["request", "ladder_skipped"], order  # the filing's own row, then the hook's
    first_rollup = order.index("rollup")
    assert all(k == "rollup" for k in order[first_rollup:]), order  # the chain's lock and rows before the rollups
    if engine == "sqlite":  # the number taken with the case's row; one writer: no lock of the chain's own
        assert "chain" not in order and order.index("counter") < order.index("audit"), order
        return
    # PostgreSQL: the counter, then the chain's lock (once a row), its rows, the rollups: nothing of the chain
    # before the counter, and nothing but these after it (the filing's last trip, with the commit)
    counter = order.index("counter")
    assert order[counter:counter + 2] == ["counter", "chain"] and order.count("counter") == 1, order
    assert order[:counter] == [], order
    after = [s for s in sent[kinds[counter][0] + 1:] if s.sql.strip().upper() not in ("COMMIT", "BEGIN")]
    assert all(_kind(s) for s in after), [s.sql[:60] for s in after if not _kind(s)]

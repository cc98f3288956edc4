"""#22 item 6: the nightly purge prunes the inbound idempotency keys (kept INBOUND_DAYS) and the link uses (kept
past any token's lifetime), in bounded batches, on both engines; younger rows stay."""

from __future__ import annotations

from datetime import timedelta

from bot import metrics
from bot.clock import FrozenClock
from bot.core import Core
from bot.stats.pruning import INBOUND_DAYS, LINK_USE_DAYS, prune_requests
from bot.stats.scheduled import daily_purge
from bot.store import graph as graph_store
from bot.store import pruning, unit
from bot.store import slack as slack_store
from tests.conftest import local


async def record(core: Core, name: str) -> None:
    """One row in each of the three tables, recorded now, named `name`."""
    now = core.clock.now()
    async with core.db.transaction() as tx:
        assert await slack_store.claim_inbound(tx, "s:" + name, "block_actions", now)
        await tx.execute("INSERT INTO teams_inbound (key, kind, at) VALUES (?, ?, ?)", ("t:" + name, "invoke",
                                                                                         now.isoformat()))
        assert await graph_store.mark_link_used(tx, token_id="l:" + name, person_id="sofia.grahn", case_ref=None,
                                                action="acknowledge", now=now)


async def keys(core: Core) -> dict[str, set[str]]:
    async with core.db.read() as tx:
        return {
            "slack_inbound": {r["key"] for r in await tx.fetchall("SELECT key FROM slack_inbound")},
            "teams_inbound": {r["key"] for r in await tx.fetchall("SELECT key FROM teams_inbound")},
            "link_uses": {r["token_id"] for r in await tx.fetchall("SELECT token_id FROM link_uses")},
        }


def pruned_count(table: str) -> float:
    return metrics.REGISTRY.get_sample_value("gfi_pruned_rows_total", {"table": table}) or 0.0


async def test_the_nightly_purge_prunes_old_keys_and_link_uses_and_keeps_young_ones(
    core: Core, clock: FrozenClock
) -> None:
    clock.set(local("2026-11-23T10:00"))
    await record(core, "old")
    clock.set(local("2026-11-30T11:00"))  # 7 days and an hour later
    await record(core, "week")
    before = {t: pruned_count(t) for t in pruning.PRUNABLE}

    clock.set(local("2026-12-01T03:30"))  # the old keys are past INBOUND_DAYS, the week's are not
    assert await daily_purge(core) is not None
    assert await keys(core) == {"slack_inbound": {"s:week"}, "teams_inbound": {"t:week"},
                                "link_uses": {"l:old", "l:week"}}  # a link use outlives any token
    assert {t: pruned_count(t) - before[t] for t in pruning.PRUNABLE} == {
        "slack_inbound": 1, "teams_inbound": 1, "link_uses": 0}

    clock.set(local("2027-01-24T03:30"))  # more than 61 days after the first use: the week's use is 55 days old
    assert await daily_purge(core) is not None
    assert await keys(core) == {"slack_inbound": set(), "teams_inbound": set(), "link_uses": {"l:week"}}
    assert pruned_count("link_uses") - before["link_uses"] == 1


async def test_the_retention_boundaries(core: Core, clock: FrozenClock) -> None:
    start = clock.now()
    await record(core, "a")
    assert await prune_requests(core.db, start + timedelta(days=INBOUND_DAYS)) == {
        "slack_inbound": 0, "teams_inbound": 0, "link_uses": 0}  # exactly the period: kept
    assert await prune_requests(core.db, start + timedelta(days=INBOUND_DAYS, seconds=1)) == {
        "slack_inbound": 1, "teams_inbound": 1, "link_uses": 0}
    assert await prune_requests(core.db, start + timedelta(days=LINK_USE_DAYS)) == {
        "slack_inbound": 0, "teams_inbound": 0, "link_uses": 0}
    assert await prune_requests(core.db, start + timedelta(days=LINK_USE_DAYS, seconds=1)) == {
        "slack_inbound": 0, "teams_inbound": 0, "link_uses": 1}


async def test_pruning_goes_in_batches_until_done(core: Core, clock: FrozenClock) -> None:
    for n in range(7):
        await record(core, str(n))
    clock.advance(timedelta(minutes=1))
    await record(core, "young")
    transactions: list[float] = []
    unit.transaction_observers.append(transactions.append)
    try:
        assert await pruning.prune(core.db, "slack_inbound", clock.now(), batch=3) == 7
    finally:
        unit.transaction_observers.remove(transactions.append)
    assert len(transactions) == 3  # 3 + 3 + 1: a batch short of full ends it
    assert (await keys(core))["slack_inbound"] == {"s:young"}

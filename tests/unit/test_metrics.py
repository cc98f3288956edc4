"""Readiness before and after the first sweep, and the label guard of tests/e2e/test_health_metrics.py."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bot import metrics
from bot.clock import FrozenClock
from bot.core import Core
from bot.dispatcher import DeliveryError
from bot.health import Readiness
from tests.e2e.test_health_metrics import assert_no_identifying_label
from tests.unit.test_dispatcher import ScriptedSender, dispatcher, queue, row


async def test_not_ready_until_the_scheduler_has_ticked(core: Core) -> None:
    readiness = Readiness(core)
    status, body = await readiness.report()
    assert status == 503 and body["ready"] is False and body["store"]["ok"] is True
    readiness.ticked()
    status, body = await readiness.report()
    assert status == 200 and body["scheduler"]["ticked"] is True


async def test_not_ready_when_the_store_is_gone(core: Core) -> None:
    readiness = Readiness(core)
    readiness.ticked()
    await core.db.close()
    status, body = await readiness.report()
    assert status == 503 and body["store"] == {"ok": False}


@pytest.mark.parametrize("value", ["GFI-2026-0001", "maria.sand", "soc-norr"])
def test_the_label_guard_catches_a_case_reference_a_person_or_a_unit(value: str) -> None:
    text = f'gfi_requests_total{{channel="slack",kind="{value}",outcome="ok"}} 1.0\n'
    with pytest.raises(AssertionError):
        assert_no_identifying_label(text)


def test_labels_outside_the_known_values_fold_into_other() -> None:
    assert metrics.label("GFI-2026-0001", metrics.KINDS) == "other"
    assert metrics.label("command", metrics.KINDS) == "command"
    assert metrics.rung(42) == str(metrics.MAX_RUNG)


def _queued(channel: str) -> float:
    labels = {"channel": channel, "event": "queued"}
    return metrics.REGISTRY.get_sample_value("gfi_outbox_messages_total", labels) or 0.0


async def test_a_message_queued_in_a_rolled_back_transaction_is_not_counted(core: Core) -> None:
    """The counters are bumped once the transaction commits (tx.after_commit): a rolled-back one queued
    nothing, so /metrics must not say it did."""
    channel = core.directory.people["linnea.fors"].channel.value
    before = _queued(channel)
    with pytest.raises(RuntimeError):
        async with core.db.transaction() as tx:
            assert await core.outbox.enqueue(tx, "linnea.fors", "slack_brist", coordinators=[]) is not None
            raise RuntimeError("rolled back")
    assert _queued(channel) == before
    async with core.db.transaction() as tx:
        await core.outbox.enqueue(tx, "linnea.fors", "slack_brist", coordinators=[])
    assert _queued(channel) == before + 1


async def test_failed_in_24_hours_counts_by_when_it_failed(core: Core, clock: FrozenClock) -> None:
    """/readyz's "failed in 24 h" counts a message by when it failed for good, not by when its last attempt was
    due: a message due two days ago that fails now (the bot was down meanwhile) failed in the last 24 hours."""
    [mid] = await queue(core)
    clock.advance(timedelta(days=2))  # the bot was down; the attempt happens now
    d = dispatcher(core, ScriptedSender([DeliveryError("slack:users_not_found", permanent=True)]))
    await d.run_once()
    assert (await row(core, mid))["failed_at"] == clock.now().isoformat()
    readiness = Readiness(core)
    readiness.ticked()
    _, body = await readiness.report()
    assert body["outbox"]["failed_24h"] == 1
    clock.advance(timedelta(hours=25))
    _, body = await readiness.report()
    assert body["outbox"]["failed_24h"] == 0

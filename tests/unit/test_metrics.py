"""Readiness before and after the first sweep, and the label guard of tests/e2e/test_health_metrics.py."""

from __future__ import annotations

import pytest

from bot import metrics
from bot.core import Core
from bot.health import Readiness
from tests.e2e.test_health_metrics import assert_no_identifying_label


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

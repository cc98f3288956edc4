"""The lease of one dispatcher pass (`bot.leases`): a row is sent only while it is still this pass's."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
from typing import Any

from bot.clock import FrozenClock
from bot.leases import Lease
from bot.store import outbox_lanes

AT = datetime.fromisoformat("2026-12-07T09:00:00+00:00")


async def test_a_row_taken_by_another_instance_at_a_renewal_is_not_ours_though_the_others_were_renewed(
    monkeypatch: Any,
) -> None:
    clock = FrozenClock(AT)

    async def renew(db: Any, ids: list[int], owner: str, until: datetime) -> set[int]:
        return {1}  # row 2's lease had ended before this renewal: another instance claimed it

    async def no_wait(seconds: float) -> None:
        await asyncio.sleep(0)

    monkeypatch.setattr(outbox_lanes, "renew", renew)
    lease = Lease(None, clock, "me", 120, AT + timedelta(seconds=120), [1, 2], no_wait)  # type: ignore[arg-type]
    keeping = asyncio.ensure_future(lease.keep())
    await asyncio.sleep(0.01)
    lease.done(1)
    await keeping
    later = AT + timedelta(seconds=60)
    assert not lease.lost(later)  # the renewal succeeded: the pass's time is extended ...
    assert not lease.holds(2, later)  # ... but row 2 is another instance's: not sent here
    assert lease.holds(3, later) is False and lease.holds(1, later) is False  # done or never claimed

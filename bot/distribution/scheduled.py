"""The distribution sweep: cheap enough to run every 30 s and also called by the slot crons."""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.distribution.service import DistributionService

if TYPE_CHECKING:
    from bot.core import Core


async def run_distribution(core: Core) -> int:
    """Run every unit's due distribution slot once; returns how many queues were sent."""
    service = DistributionService(core.db, core.directory, core.clock, core.calendar, core.outbox, core.cases)
    return await service.run()

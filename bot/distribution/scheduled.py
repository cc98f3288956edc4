"""The distribution sweep: cheap enough to run every 30 s and also called by the slot crons."""

from __future__ import annotations

from typing import Protocol

from bot.calendar import BusinessCalendar
from bot.cases.service import CaseService
from bot.clock import Clock
from bot.directory import Directory
from bot.distribution.service import DistributionService
from bot.outbox import Outbox
from bot.store import Database


class Core(Protocol):
    """What the distribution sweep uses of the core (`bot.core.Core` has it): it does not import the core."""

    db: Database
    directory: Directory
    clock: Clock
    calendar: BusinessCalendar
    outbox: Outbox
    cases: CaseService


async def run_distribution(core: Core) -> int:
    """Run every unit's due distribution slot once; returns how many queues were sent."""
    service = DistributionService(core.db, core.directory, core.clock, core.calendar, core.outbox, core.cases)
    return await service.run()

"""The App Home tab: data gathered from the core, and a pure function that turns it into a Slack view."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from bot.cases.models import Case
from bot.core import Core
from bot.directory import Role
from bot.ladder.models import AwaitingItem
from bot.rendering import Renderer

log = logging.getLogger(__name__)

MAX_VIEW_BLOCKS = 100
MAX_REQUESTS = 10
MAX_CASES = 15
MAX_QUEUE = 12
MAX_FAILED = 10
MAX_ESCALATIONS = 10


@dataclass
class FailedDelivery:
    case_ref: str | None
    recipient_id: str
    reason: str | None
    at: datetime


@dataclass
class HomeData:
    """Everything the Home tab of one person shows."""

    person_id: str
    now: datetime
    requests: list[Case] = field(default_factory=list)
    cases: list[Case] = field(default_factory=list)
    queues: list[tuple[str, list[Case]]] | None = None  # None: not a distributor
    coordinator: bool = False
    failed: list[FailedDelivery] = field(default_factory=list)
    escalations: list[AwaitingItem] = field(default_factory=list)  # open escalations this person may answer


def home_view(renderer: Renderer, data: HomeData) -> dict[str, Any]:
    """The Home view of `data` (pure: no I/O). Long lists are cut so that Slack's 100-block limit holds."""
    queues = None
    ages: dict[str, str] = {}
    if data.queues is not None:
        queues = []
        for unit_id, cases in data.queues:
            queues.append((unit_id, cases[:MAX_QUEUE], max(0, len(cases) - MAX_QUEUE)))
            for c in cases[:MAX_QUEUE]:
                ages[c.ref] = renderer.age(data.now - c.created_at)
    view = renderer.view(
        "home",
        person=data.person_id,
        now=data.now,
        requests=data.requests[:MAX_REQUESTS],
        more_requests=max(0, len(data.requests) - MAX_REQUESTS),
        cases=data.cases[:MAX_CASES],
        more_cases=max(0, len(data.cases) - MAX_CASES),
        queues=queues,
        ages=ages,
        coordinator=data.coordinator,
        failed=data.failed[:MAX_FAILED],
        escalations=data.escalations[:MAX_ESCALATIONS],
        more_escalations=max(0, len(data.escalations) - MAX_ESCALATIONS),
    )
    blocks = view["blocks"]
    if len(blocks) > MAX_VIEW_BLOCKS:  # keep the footer, cut the middle
        view["blocks"] = [*blocks[: MAX_VIEW_BLOCKS - 1], blocks[-1]]
    return view


async def load_home(core: Core, person_id: str) -> HomeData:
    """Read what `person_id`'s Home tab shows."""
    person = core.directory.person(person_id)
    data = HomeData(person_id=person_id, now=core.clock.now())
    if person is None:
        return data
    mine = await core.cases.mine(person_id)
    data.requests, data.cases = mine.requests, mine.cases
    if core.cases.distributed_units(person_id):
        data.queues = await core.cases.queue(person_id)
    if Role.COORDINATOR in person.roles:
        data.coordinator = True
        async with core.db.transaction() as tx:
            rows = await tx.fetchall(
                "SELECT case_ref, recipient_id, last_error, created_at FROM outbox WHERE status = 'failed' "
                "ORDER BY id DESC LIMIT ?",
                (MAX_FAILED,),
            )
        data.failed = [
            FailedDelivery(r["case_ref"], r["recipient_id"], r["last_error"], datetime.fromisoformat(r["created_at"]))
            for r in rows
        ]
    # A coordinator sees every open escalation; anyone else those they were alerted about.
    assert core.ladder is not None
    data.escalations = await core.ladder.open_escalations(person_id)
    return data

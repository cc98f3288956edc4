"""The App Home tab: data gathered from the core, and a pure function that turns it into a Slack view."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from bot.cases.models import Case
from bot.core import Core
from bot.directory import Role
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
    escalations: list[str] | None = None  # None: no ladder in this installation


def age_text(delta: timedelta) -> str:
    """How long a request has waited, in Swedish."""
    if delta.days >= 1:
        return f"{delta.days} {'dag' if delta.days == 1 else 'dagar'}"
    hours = delta.seconds // 3600
    return f"{hours} tim" if hours else "nyss inkommen"


def home_view(renderer: Renderer, data: HomeData) -> dict[str, Any]:
    """The Home view of `data` (pure: no I/O). Long lists are cut so that Slack's 100-block limit holds."""
    queues = None
    ages: dict[str, str] = {}
    if data.queues is not None:
        queues = []
        for unit_id, cases in data.queues:
            queues.append((unit_id, cases[:MAX_QUEUE], max(0, len(cases) - MAX_QUEUE)))
            for c in cases[:MAX_QUEUE]:
                ages[c.ref] = age_text(data.now - c.created_at)
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
        escalations=None if data.escalations is None else data.escalations[:MAX_ESCALATIONS],
    )
    blocks = view["blocks"]
    if len(blocks) > MAX_VIEW_BLOCKS:  # keep the footer, cut the middle
        view["blocks"] = [*blocks[: MAX_VIEW_BLOCKS - 1], blocks[-1]]
    return view


async def escalation_lines(core: Core, person_id: str) -> list[str] | None:
    """Open escalations as short lines, if the ladder module is installed (else None)."""
    ladder = getattr(core, "ladder", None)
    if ladder is None:
        return None
    fetch = getattr(ladder, "open_escalations", None)
    if fetch is None:
        return None
    try:
        items = await fetch()
    except Exception:
        log.exception("ladder read failed", extra={"event": "slack.home_ladder_failed"})
        return []
    lines: list[str] = []
    for item in items:
        def get(key: str, o: Any = item) -> Any:
            try:
                return o.get(key) if isinstance(o, dict) else getattr(o, key, None)
            except Exception:  # a property of a half-built item
                return None

        ref = get("case_ref") or "–"
        what = get("what") or get("kind") or ""
        since = get("since") or get("started_at")
        rung = get("rung_title") or get("rung") or ""
        parts = [str(ref)]
        if what:
            parts.append(str(what))
        if rung != "":
            parts.append(f"steg {rung}")
        if isinstance(since, datetime):
            parts.append(f"sedan {core.renderer.format_datetime(since)}")
        lines.append(" – ".join(parts))
    return lines


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
        data.escalations = await escalation_lines(core, person_id)
    return data

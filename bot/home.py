"""What one person's Home shows, whatever the channel (Slack's App Home, the Teams Home card): the data read from
the core in a bounded page with counts for the rest, and the open escalations as the Home lists them. Which
cases a person sees here is decided by the same services and access rule as everywhere (need to know)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from bot.brister.models import BristDraft, BristReport
from bot.brister.rules import units_distributed_by
from bot.cases import access
from bot.cases.models import Case
from bot.cases.visibility import Level
from bot.core import Core
from bot.directory import Role
from bot.ladder.models import AwaitingItem
from bot.oversight import escalation_page
from bot.rendering import Renderer
from bot.stats.models import UnitStats
from bot.stats.report import build_report
from bot.stats.service import last_twelve_months
from bot.store import deliveries

MAX_REQUESTS = 10
MAX_CASES = 15
MAX_QUEUE = 12
MAX_FAILED = 10
MAX_ESCALATIONS = 10
MAX_BRISTER = 5
MAX_BRIST_DRAFTS = 5
ESCALATIONS_CHECKED = 2 * MAX_ESCALATIONS  # read case by case for the access check; the rest are only counted
MAX_STATS = 8  # units in the coordinator's statistics section (those with requests or escalations)
# Each list of the Home and how many of it a channel shows at most; when the view is too big for the channel,
# the lists are shortened in SHRINK_ORDER (the open escalations last). Every channel draws with these.
CAPS = {"requests": MAX_REQUESTS, "cases": MAX_CASES, "queue": MAX_QUEUE, "escalations": MAX_ESCALATIONS,
        "failed": MAX_FAILED, "brister": MAX_BRISTER, "brist_drafts": MAX_BRIST_DRAFTS, "stats": MAX_STATS}
SHRINK_ORDER = ("stats", "brister", "failed", "brist_drafts", "queue", "cases", "requests", "escalations")


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
    # How many there are in all when the lists above hold only a page (load_home reads a bounded page): the
    # view says how many more there are. Missing or None: the list is complete.
    request_total: int | None = None
    case_total: int | None = None
    queue_totals: dict[str, int] = field(default_factory=dict)
    more_escalations: int = 0  # open escalations beyond those listed, not checked one by one
    coordinator: bool = False
    failed: list[FailedDelivery] = field(default_factory=list)
    escalations: list[AwaitingItem] = field(default_factory=list)  # open escalations this person may answer
    # coordinators: the latest reports of brister i samverkan (newest first) and the ladder's open drafts;
    # distributors: the open reports naming their units (with the buttons to record measures and dialogue)
    brister: list[BristReport] = field(default_factory=list)
    brist_drafts: list[BristDraft] = field(default_factory=list)
    brister_total: int | None = None  # how many reports (drafts) there are when the lists hold only a page
    drafts_total: int | None = None
    year: int = 0
    stats: list[UnitStats] | None = None  # coordinators: the last 12 months of the units with any activity


def more_brister(data: HomeData, shown: int) -> int:
    """How many reports the Home has beyond the `shown` first."""
    return max(0, max(len(data.brister), data.brister_total or 0) - shown)


def more_drafts(data: HomeData, shown: int) -> int:
    """How many drafts the Home has beyond the `shown` first."""
    return max(0, max(len(data.brist_drafts), data.drafts_total or 0) - shown)


@dataclass(frozen=True)
class EscalationLine:
    """One open escalation as the Home tab shows it."""

    item: AwaitingItem
    rung: str  # the display name of the rung it has reached
    not_answered: list[str]  # everyone asked before that rung (as in the escalation message)
    skipped: list[str]  # display names of the rungs skipped because nobody was present


def escalation_line(renderer: Renderer, item: AwaitingItem) -> EscalationLine:
    """Who has been asked without answering, and where the climb is now (pure)."""

    def on(rung: int) -> set[str]:
        r = item.ladder.rungs[rung]
        return {*r.people, *([r.deputy] if r.deputy else [])}

    current = [p for p in item.alerted if p in on(item.rung)]
    if not current:  # nobody was present on the rungs left: the coordinators answered as the top rung
        earlier: set[str] = set().union(*(on(r) for r in range(item.rung)))
        current = [p for p in item.alerted if p not in earlier]
    waiting = [p for p in dict.fromkeys([*item.answerers, *item.alerted]) if p not in current]
    return EscalationLine(item, renderer.label("RUNGS", item.rung_title), waiting,
                          [renderer.label("RUNGS", t) for t in item.skipped])


async def load_home(core: Core, person_id: str) -> HomeData:
    """Read what `person_id`'s Home tab shows."""
    person = core.directory.person(person_id)
    data = HomeData(person_id=person_id, now=core.clock.now())
    if person is None:
        return data
    # A bounded page in a constant number of queries, however many cases there are: the newest of my
    # requests and cases (newest first), the first of each queue (in queue order), with counts for the rest.
    mine = await core.cases.my_page(person_id, MAX_REQUESTS, MAX_CASES)
    data.requests, data.cases = mine.requests, mine.cases
    data.request_total, data.case_total = mine.request_total, mine.case_total
    units = core.cases.distributed_units(person_id)
    if units:
        data.queues = []
        async with core.db.read() as tx:
            for unit_id in units:
                cases, data.queue_totals[unit_id] = await core.cases.queue_page(tx, unit_id, MAX_QUEUE)
                data.queues.append((unit_id, cases))
    if Role.COORDINATOR in person.roles:
        data.coordinator = True
        async with core.db.read() as tx:
            rows = await deliveries.failed(tx, MAX_FAILED)
            seen = await access.levels_of_many(tx, core.cases.load_many, core.directory, person_id,
                                               [r["case_ref"] for r in rows if r["case_ref"]])
        # the reference of a case the coordinator may not see is left out (the recipient and reason are not)
        data.failed = [
            FailedDelivery(r["case_ref"] if seen.get(r["case_ref"], Level.NONE) > Level.NONE else None,
                           r["recipient_id"], r["last_error"], datetime.fromisoformat(r["created_at"]))
            for r in rows
        ]
        data.year = core.brister.today().year
        reports = await core.brister.report_page(person_id, limit=MAX_BRISTER)
        data.brister, data.brister_total = reports.items, reports.total
        drafts = await core.brister.draft_page(person_id, limit=MAX_BRIST_DRAFTS)
        data.brist_drafts, data.drafts_total = drafts.items, drafts.total
        start, end = last_twelve_months(data.now.astimezone(core.calendar.tz).date())
        report = await build_report(core.db, core.directory, core.calendar, core.settings.timezone, start, end)
        data.stats = [u for u in report.units if u.active]
    elif units_distributed_by(person_id, core.directory):
        reports = await core.brister.report_page(person_id, open_only=True, limit=MAX_BRISTER)
        data.brister, data.brister_total = reports.items, reports.total
    # Open escalations of the cases this person may see (the ladder alerted them, or they are in the case).
    # Only the first ones are read and checked case by case (the view lists MAX_ESCALATIONS); the rest are counted.
    page = await escalation_page(core, person_id, ESCALATIONS_CHECKED)
    data.escalations, data.more_escalations = page.items, page.more
    return data

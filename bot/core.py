"""Wires the bot core together: store, directory, clock, calendar, templates, outbox, services."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from bot import logchain
from bot.absence.service import ABSENCES, AbsenceService
from bot.brister.service import BristService
from bot.calendar import BusinessCalendar
from bot.cases import leavers
from bot.cases.closing import WithdrawalWaits, WithdrawnAgain
from bot.cases.service import CaseService
from bot.cases.visibility import free_text_check
from bot.clock import Clock, SystemClock
from bot.config import Settings
from bot.delivery import quiet_hours, retry_window, tell_coordinators, tell_recovered
from bot.directory import Directory, load_directory
from bot.directory.shared import SharedDirectory
from bot.dispatcher import Dispatcher, Sender
from bot.disputes.service import DisputeService
from bot.distribution.scheduled import run_distribution
from bot.ladder.scheduled import TimeHook, sweep_due
from bot.ladder.service import LadderService
from bot.outbox import Outbox
from bot.reminders.service import ReminderService
from bot.rendering import Renderer
from bot.stats.facts import StatsHook, fill_principals, prepare_rollups
from bot.stats.scheduled import daily_purge
from bot.store import Database, open_database
from bot.store.changes import Changes
from bot.store.directory_versions import TOPIC as DIRECTORY_TOPIC
from bot.store.leader import Leadership
from bot.store.outbox import TOPIC as OUTBOX_TOPIC
from bot.suggestions import Suggestions

log = logging.getLogger(__name__)

Job = Callable[[], Awaitable[object]]


@dataclass
class Core:
    """Everything a channel adapter needs. Build with `open_core`, release with `close()`."""

    settings: Settings
    directory: Directory
    db: Database
    clock: Clock
    calendar: BusinessCalendar
    renderer: Renderer
    outbox: Outbox
    cases: CaseService
    dispatcher: Dispatcher
    # Awaiting answers and escalations (open_escalations, take_over, nudge), and one-shot reminders.
    ladder: LadderService
    reminders: ReminderService
    # Brister i samverkan: reports, the ladder's drafts, measures and dialogue (issue #13).
    brister: BristService
    # Frånvaro (issue #10): absences and stand-ins registered in the bot; presence is asked in bot/absence.
    absences: AbsenceService
    # Disputes about whose a case is (tvist; issue #10 item 7): opened by the receiving unit, settled by managers.
    disputes: DisputeService
    # Periodic work run by `tick()` before dispatching (the Time module registers its sweep here).
    sweeps: list[Job] = field(default_factory=list)
    # Free/busy suggestions for booking forms (issue #9): the Graph channel plugs in the finder.
    suggestions: Suggestions = field(default_factory=Suggestions)
    # The timekeeper (issue #22): on PostgreSQL only the instance that leads sweeps; every instance delivers.
    leader: Leadership = field(default_factory=Leadership)
    # What other instances change that this one keeps in memory (absences): reloaded when announced.
    changes: Changes = field(default_factory=Changes)
    # The directory every instance serves (PostgreSQL: the store's newest, announced; SQLite: the file).
    shared_directory: SharedDirectory | None = None

    async def tick(self) -> None:
        """Run every sweep once, then deliver what is due. Idempotent: safe to call at any time. An instance
        that does not lead (PostgreSQL, several instances) does nothing: the leader does it (the runtime's
        dispatch job delivers on every instance)."""
        if not await self.leader.check():
            return
        for sweep in self.sweeps:
            await sweep()
        await self.dispatcher.run_once()

    async def close(self) -> None:
        await self.changes.close()
        with contextlib.suppress(Exception):  # a store that is gone: the leases end by themselves
            await self.dispatcher.close()
        await self.leader.close()
        await self.db.close()


async def open_core(
    settings: Settings,
    *,
    clock: Clock | None = None,
    senders: dict[str, Sender] | None = None,
    fallback: Sender | None = None,
    directory: Directory | None = None,
    publish_directory: bool = True,
) -> Core:
    """Load the directory (raises DirectoryError), open and migrate the database, build the services. On PostgreSQL
    the directory file is offered to every instance at start (`gfi-bot run`); not with `publish_directory=False`
    (the console, the CLI's reports): the store's newest is served instead when there is one."""
    directory = directory or load_directory(settings.directory_path)
    clock = clock or SystemClock()
    url = settings.database_url.get_secret_value() if settings.database_url is not None else None
    db = open_database(url, settings.db_path)
    await db.open()
    await logchain.seal(db)  # rows from before the logs were chained get their hashes, once
    calendar = BusinessCalendar(settings.timezone)
    renderer = Renderer(directory, settings.timezone)
    renderer.today = lambda: renderer.local(clock.now()).date()  # the century of a 10-digit identity number
    outbox = Outbox(directory, renderer, clock, free_text_check(directory))
    outbox.policy = quiet_hours(directory, calendar)
    cases = CaseService(
        db, directory, clock, outbox, calendar,
        tz=settings.timezone, consent_default_days=settings.consent_default_days,
    )
    dispatcher = Dispatcher(db, clock, senders or {}, fallback=fallback, concurrency=settings.dispatch_concurrency,
                            lease=settings.outbox_lease_seconds)
    dispatcher.on_failed = tell_coordinators(directory, outbox)
    dispatcher.on_recovered = tell_recovered(outbox, dispatcher.in_flight)
    dispatcher.window = retry_window(directory, calendar)
    # The ladder and the reminders use the case service; the case service calls them back through its hooks,
    # registered once both exist (the only order-dependent step).
    ladder = LadderService(db, directory, clock, outbox, calendar, cases)
    reminders = ReminderService(directory, outbox, calendar, cases)
    brister = BristService(db, directory, clock, outbox, tz=settings.timezone, load_case=cases.load,
                           load_many=cases.load_many)
    cases.hooks.append(WithdrawalWaits())  # before the Time module's: the lock order (items, then timers)
    cases.hooks.append(TimeHook(ladder, reminders))
    cases.hooks.append(WithdrawnAgain(outbox, directory))  # after the Time module's: see its docstring
    cases.hooks.append(StatsHook(directory, calendar))
    await fill_principals(db, directory)
    await prepare_rollups(db, directory, calendar, clock.now())
    await db.memory_temp()  # SQLite: after the start's heavy work (its sorts would stay in memory), before serving
    absences = AbsenceService(db, directory, clock, outbox, settings.timezone)
    await absences.load()
    core = Core(
        settings, directory, db, clock, calendar, renderer, outbox, cases, dispatcher,
        ladder=ladder, reminders=reminders, brister=brister, absences=absences,
        disputes=DisputeService(cases, ladder),
    )
    core.leader = db.leadership()
    core.changes = db.changes()
    core.changes.on(ABSENCES, absences.load)
    core.changes.on(OUTBOX_TOPIC, dispatcher.heard, quiet=True)  # rows queued on any instance: deliver
    core.shared_directory = SharedDirectory(db, directory, clock, settings.instance_id)
    # each instance, once it serves a newer directory, stops what it may have queued on the older one to people whose
    # roles changed (a hand-over commits before every instance serves its directory): bot/cases/leavers.py. Also at
    # start, when the store's newest replaces an older local file (an instance restarted after a hand-over)
    core.shared_directory.on_replaced.append(lambda old: leavers.stop_after_reload(db, outbox, directory, old))
    core.changes.on(DIRECTORY_TOPIC, core.shared_directory.reload)
    # PostgreSQL: the file as it was read, published by `gfi-bot run`, or the store's newest (see bot/directory/shared)
    await core.shared_directory.start(publish=publish_directory)
    # Listening begins once all is loaded; its first LISTEN reloads every topic (what changed since the loads)
    await core.changes.start()
    core.sweeps.append(lambda: run_distribution(core))
    core.sweeps.append(lambda: sweep_due(core))
    core.sweeps.append(lambda: daily_purge(core))  # once a day; the catch-up after downtime and in the console
    core.sweeps.append(logchain.NightlyHeads(core))  # the logs' heads in the application log, once a night
    return core

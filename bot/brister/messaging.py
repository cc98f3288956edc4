"""What the bot says about reports: the units involved are told through their distributors, the coordinators
are told what the units recorded, and the units are told when a report is closed."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

from bot.brister.models import BristReport
from bot.brister.rules import offers
from bot.directory import Directory
from bot.outbox import Outbox
from bot.presence import present
from bot.store import Tx

# The report as one recipient may see it (the service's `shown_to`: a case reference they may not know is
# left out).
ShownTo = Callable[[Tx, str, BristReport], Awaitable[BristReport]]


def unit_recipients(directory: Directory, report: BristReport) -> list[str]:
    """The present distributors (or the deputy) of every unit the report names."""
    out: list[str] = []
    for unit_id in report.units:
        if directory.unit(unit_id) is None:
            continue
        out.extend(p for p in directory.active_distributors(unit_id) if p not in out)
    return out


def coordinator_recipients(directory: Directory) -> list[str]:
    return [p.id for p in directory.coordinators() if present(directory, p.id)]


async def _tell(outbox: Outbox, tx: Tx, people: list[str], actor_id: str, template: str, report: BristReport,
                key: str, shown_to: ShownTo, **ctx: Any) -> None:
    for pid in dict.fromkeys(people):
        if pid == actor_id:
            continue
        await outbox.enqueue(tx, pid, template, case_ref=report.ref, dedupe_key=f"brist:{report.id}:{key}:{pid}",
                             offers=offers(report, pid, outbox.directory),
                             report=await shown_to(tx, pid, report), actor=actor_id, **ctx)


async def report_filed(outbox: Outbox, tx: Tx, report: BristReport, actor_id: str, now: datetime,
                       shown_to: ShownTo) -> None:
    """A new report: the units' distributors (to hold the dialogue and record measures) and the coordinators."""
    directory = outbox.directory
    people = [*unit_recipients(directory, report), *coordinator_recipients(directory)]
    person = directory.person(report.filed_by)
    await _tell(outbox, tx, people, actor_id, "brist_filed", report, "filed", shown_to,
                filer_unit=person.unit if person else "")


async def report_changed(outbox: Outbox, tx: Tx, report: BristReport, actor_id: str, change: str,
                         now: datetime, shown_to: ShownTo) -> None:
    """Measures or dialogue recorded: the coordinators are told; closed: the units and whoever filed the report
    are told, with the measures and the dialogue's outcome."""
    directory = outbox.directory
    if change == "closed":
        people = [*unit_recipients(directory, report), report.filed_by]
    else:
        people = coordinator_recipients(directory)
    await _tell(outbox, tx, people, actor_id, "brist_changed", report, f"{change}:{report.version}", shown_to,
                change=change)

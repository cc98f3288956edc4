"""Who may be named as a meeting participant, for the forms (issue #10 item 2): pure functions, no I/O."""

from __future__ import annotations

from bot.cases import consent
from bot.cases.models import Case
from bot.cases.rules import appointers
from bot.directory import Directory

MAX_CHOICES = 100  # Slack's limit on the options of a select
MAX_LABEL = 75  # Slack's limit on an option's text


def _label(name: str, unit_name: str) -> str:
    text = f"{name} ({unit_name})"
    return text if len(text) <= MAX_LABEL else name[:MAX_LABEL]


def bookable(case: Case, directory: Directory) -> list[tuple[str, str]]:
    """(person id, "Name (Unit)") for the staff of the units the consent covers: each attends for their own unit."""
    return [(p.id, _label(p.name, directory.unit_name(p.unit))) for u in consent.covered_units(case)
            for p in directory.staff_of(u)][:MAX_CHOICES]


def named_now(case: Case, directory: Directory) -> list[tuple[str, str]]:
    """The persons named now, as `bookable` labels them (the forms' initial choice)."""
    return [(pid, label) for pid, label in bookable(case, directory) if pid in case.meeting_people()]


def appointable(case: Case, person_id: str | None, directory: Directory) -> list[tuple[str, str]]:
    """Whom `person_id` may name: the staff of meeting units still waiting for a name that they may name for."""
    units = [u for u in case.pending_units() if person_id in appointers(case, u, directory)]
    return [(p.id, _label(p.name, directory.unit_name(u))) for u in units
            for p in directory.staff_of(u)][:MAX_CHOICES]

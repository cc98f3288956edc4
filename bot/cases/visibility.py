"""Who may see what of a case (need to know, OSL 25–26 kap.): pure functions, no I/O.

Three levels, decided once here for every channel and view:

- FULL: the whole case, free text included (brief, contact, place, "annan", close note, follow-ups);
- SUMMARY: reference, state, units, dates and who is awaited, never free text;
- NONE: nothing at all; the answer is the same as for a reference that does not exist.

Acting on a case is decided by `rules.authorize`; this is its sibling for reading.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass
from datetime import date, datetime
from enum import IntEnum
from typing import TYPE_CHECKING, Any

from bot.cases import consent
from bot.cases.disputes import dispute_managers, is_coordinator, sides
from bot.cases.models import Case, CaseState
from bot.directory import Directory

if TYPE_CHECKING:
    from bot.messages.model import Message


class Level(IntEnum):
    NONE = 0
    SUMMARY = 1
    FULL = 2


@dataclass(frozen=True)
class Awaited:
    """One open question of the case: what is awaited, and from whom."""

    kind: str
    people: tuple[str, ...]


@dataclass(frozen=True)
class Alerts:
    """What the ladder knows about a case: who was alerted by an escalation, and what is awaited now."""

    alerted: frozenset[str] = frozenset()
    awaited: tuple[Awaited, ...] = ()


NO_ALERTS = Alerts()


def consent_covers(case: Case, unit_id: str) -> bool:
    """Whether the individual's consent covers sharing the case with `unit_id`.

    The one place where consent coverage enters the rule: the units in scope, less those the individual
    withdrew it for (`bot/cases/consent.py`).
    """
    return consent.covers(case, unit_id)


def named_participants(case: Case) -> list[str]:
    """The people named on the case: the requester, those responsible, the owners of follow-ups, and who
    accepted a follow-up proposed across principals."""
    out = case.participants()
    for f in case.follow_ups:
        for pid in (f.owner_id, f.accepted_by):
            if pid and pid not in out:
                out.append(pid)
    return out


def proposal_deciders(case: Case, directory: Directory) -> list[str]:
    """The distributors of the units whose staff have a follow-up proposed to them, not yet answered: they may
    accept it for their staff, and need to read what it is."""
    out: list[str] = []
    for f in case.follow_ups:
        unit = directory.unit_of(f.owner_id)
        if f.proposed and f.done_at is None and case.is_open and unit is not None:
            out.extend(p for p in directory.distributors_of(unit.id) if p not in out)
    return out


def working_distributors(case: Case, directory: Directory) -> list[str]:
    """Distributors who work on the open case for their unit: the one who assigned it (while still a
    distributor of the receiving unit), and the distributors asked to name who attends the meeting for a unit
    the consent covers (`/utse`, until someone is named)."""
    if not case.is_open:
        return []
    out: list[str] = []
    target = directory.distributors_of(case.target_unit) if directory.unit(case.target_unit) else []
    if case.assigned_by and case.assigned_by in target and consent_covers(case, case.target_unit):
        out.append(case.assigned_by)
    for unit_id in case.pending_units():
        if directory.unit(unit_id) is not None and consent_covers(case, unit_id):
            out.extend(p for p in directory.distributors_of(unit_id) if p not in out)
    return out


def level(case: Case, person_id: str, directory: Directory, alerts: Alerts = NO_ALERTS) -> Level:
    """How much of `case` the person may see."""
    person = directory.person(person_id)
    if person is None:
        return Level.NONE
    if person_id == case.requester_id or person_id in case.responsible():
        return Level.FULL
    waiting = case.state is CaseState.REQUESTED and directory.unit(case.target_unit) is not None
    if waiting and person_id in directory.distributors_of(case.target_unit):
        return Level.FULL  # the target unit's distributors and deputy, while the case waits for them
    if person_id in named_participants(case) and consent_covers(case, person.unit):
        return Level.FULL
    if person_id in proposal_deciders(case, directory) and consent_covers(case, person.unit):
        return Level.FULL  # a follow-up proposed to their staff awaits their answer
    if person_id in working_distributors(case, directory):
        return Level.FULL  # they assigned it, or are asked to name who attends: not working blind
    if case.disputed and any(pid == person_id and consent_covers(case, unit)
                             for pid, unit in dispute_managers(case, directory)):
        return Level.FULL  # asked to settle whose the case is: they read what it is and why it is disputed
    if case.disputed and person_id in alerts.alerted and is_coordinator(person_id, directory) and any(
            consent_covers(case, unit) for unit in sides(case, person_id, directory)):
        return Level.FULL  # a coordinator the dispute reached (samverkansnivå) confirms what they can read
    if person_id in alerts.alerted:
        return Level.SUMMARY  # the ladder's rungs and coordinators: to act, not to read the brief
    return Level.NONE


def full_readers(case: Case, directory: Directory) -> set[str]:
    """Everyone who may read `case` in full by `level` without the ladder's alerts: each way to FULL, each person
    checked by `level` itself (a coordinator a dispute reached is not among them: that needs the alerts)."""
    out = {case.requester_id, *case.responsible(), *named_participants(case), *proposal_deciders(case, directory),
           *working_distributors(case, directory)}
    if case.state is CaseState.REQUESTED and directory.unit(case.target_unit) is not None:
        out.update(directory.distributors_of(case.target_unit))
    if case.disputed:
        out.update(pid for pid, _ in dispute_managers(case, directory))
    return {p for p in out if level(case, p, directory) is Level.FULL}


def lost_readers(before: Case, after: Case, directory: Directory) -> list[str]:
    """Who read `before` in full and may not read `after` so (a reassignment, a unit left out of the meeting, the
    case assigned or closed): their messages still to go that show the case's text are stopped
    (`bot.cases.access_lost`)."""
    return sorted(p for p in full_readers(before, directory) if level(after, p, directory) is not Level.FULL)


def may_see(case: Case, person_id: str, directory: Directory, alerts: Alerts = NO_ALERTS) -> bool:
    """At least the summary."""
    return level(case, person_id, directory, alerts) >= Level.SUMMARY


@dataclass(frozen=True)
class Summary:
    """What SUMMARY shows: codes, units and dates, never free text or who the individual is."""

    ref: str
    state: CaseState
    target_unit: str
    requester_unit: str
    meeting_units: tuple[str, ...]
    created_at: datetime
    meeting_at: datetime | None
    consent_valid_until: date
    closed_at: datetime | None
    awaited: tuple[Awaited, ...]


def summary(case: Case, alerts: Alerts = NO_ALERTS) -> Summary:
    return Summary(
        ref=case.ref, state=case.state, target_unit=case.target_unit, requester_unit=case.requester_unit,
        meeting_units=tuple(case.meeting_units), created_at=case.created_at, meeting_at=case.meeting_at,
        consent_valid_until=case.consent_valid_until, closed_at=case.closed_at, awaited=alerts.awaited,
    )


# --- which texts show free text -------------------------------------------------------------------
def has_free_text(case: Case) -> bool:
    """Whether the case holds free text to show (not when it was erased)."""
    if case.erased_at is not None:
        return False
    return any((case.brief, case.contact, case.meeting_place, case.other_assignee, case.closed_note,
                case.waiting_reason, case.dispute_reason, *(f.what for f in case.follow_ups),
                *case.external_first_names, case.other_contacts, case.guided_to, case.evaluation_comment))


def _case(ctx: dict[str, Any]) -> Case | None:
    case = ctx.get("case")
    return case if isinstance(case, Case) else None


def _when(*fields: str) -> Callable[[dict[str, Any]], list[Case]]:
    """The context's `case` when one of its `fields` (or, for "what", the context's own) is filled in."""

    def shown(ctx: dict[str, Any]) -> list[Case]:
        case = _case(ctx)
        if case is None or case.erased_at is not None:
            return []
        values = [ctx.get("what") if f == "what" else getattr(case, f) for f in fields]
        return [case] if any(values) else []

    return shown


def _action_done(ctx: dict[str, Any]) -> list[Case]:
    fields = {"acknowledge": ("contact",), "book": ("meeting_place",), "assign": ("other_assignee",),
              "wait": ("waiting_reason",)}
    return _when(*fields.get(str(ctx.get("action")), ()))(ctx)


def _journal(ctx: dict[str, Any]) -> list[Case]:
    case = _case(ctx)
    if case is None or case.erased_at is not None:
        return []
    filled = [case.meeting_place, case.other_assignee, case.closed_note, case.consent_note,
              *(f.what for f in case.follow_ups), case.guided_to, case.evaluation_comment]
    return [case] if any(filled) else []


def _queue(ctx: dict[str, Any]) -> list[Case]:
    return [c for _, cases in ctx.get("queues") or [] for c in cases if c.brief and c.erased_at is None]


# Templates (`templates/messages/<name>.*.j2`) that show a case's free text, and which cases they show.
# tests/unit/test_visibility.py checks that every template quoting free text is listed here.
FREE_TEXT_TEMPLATES: dict[str, Callable[[dict[str, Any]], list[Case]]] = {
    "assigned_to_you": _when("brief", "contact", "other_contacts"),
    "urgent_request": _when("brief", "contact", "other_contacts"),
    "case_assigned": _when("other_assignee"),
    "case_closed": _when("closed_note"),
    "meeting_booked": _when("meeting_place", "external_first_names"),
    "case_waiting": _when("waiting_reason"),
    "follow_up_assigned": _when("what"),
    "follow_up_proposed": _when("what"),
    # an overdue follow-up's text, or a dispute's reason, to those who may see the whole case
    "escalation": _when("what", "dispute_reason"),
    "dispute_asked": _when("dispute_reason", "brief"),  # to the line managers asked to settle a dispute
    "action_done": _action_done,
    "teams": _action_done,  # the Teams card answers (templates/messages/teams.j2 `done`; the queue logs its own)
    "queue": _queue,
    "slack_assign": _when("brief"),
    "slack_settle": lambda ctx: [c] if (c := _case(ctx)) is not None and ctx.get("proposal") else [],
    "journal": _journal,  # the journal record (bot/journal.py, which logs every journal shown as a read)
}


def shown_free_text(template: str, ctx: dict[str, Any]) -> list[Case]:
    """The cases whose free text `template` shows when rendered with `ctx`."""
    pick = FREE_TEXT_TEMPLATES.get(template)
    return pick(ctx) if pick else []


def withheld(template: str, ctx: dict[str, Any], person_id: str, directory: Directory,
             alerts: Collection[str] = ()) -> list[str]:
    """References whose free text `template` would show to someone who may not see it (should be none)."""
    extra = Alerts(frozenset(alerts))
    return [c.ref for c in shown_free_text(template, ctx) if level(c, person_id, directory, extra) < Level.FULL]


def shows_free_text(template: str, ctx: dict[str, Any], message: Message) -> list[Case]:
    """The cases whose free text a queued message shows: as FREE_TEXT_TEMPLATES lists it for the kind, or, for a
    kind it does not list, the message's case when the message has a free line."""
    if template in FREE_TEXT_TEMPLATES:
        return shown_free_text(template, ctx)
    case = ctx.get("case")
    if isinstance(case, Case) and case.erased_at is None and any(ln.free for ln in message.lines):
        return [case]
    return []


def free_text_check(directory: Directory) -> Callable[[str, dict[str, Any], Message, str], tuple[list[str], list[str]]]:
    """The outbox's withholding rule (`bot.outbox.FreeTextCheck`): for a message to one recipient, the refs of
    the cases whose free text it shows, and those of them the recipient may not see in full (it is withheld)."""

    def check(template: str, ctx: dict[str, Any], message: Message, recipient_id: str) -> tuple[list[str], list[str]]:
        shown = shows_free_text(template, ctx, message)
        hidden = [c.ref for c in shown if level(c, recipient_id, directory) is not Level.FULL]
        return [c.ref for c in shown], hidden

    return check

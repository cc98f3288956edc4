"""Who may see and do what with reports of brister i samverkan: pure functions, no I/O.

Anyone in the directory may file a report. Coordinators see and list every report and close reports; the
coordinators a climb reached complete or dismiss its draft. A unit's distributors (and its deputy) see the
reports naming their unit and record the measures taken and the outcome of the dialogue. Everyone else sees
nothing: a report they may not see is refused exactly like a reference that does not exist.
"""

from __future__ import annotations

from enum import StrEnum

from bot.brister.models import OPEN_REPORT_STATES, BristDraft, BristReport, BristState, DraftStatus
from bot.directory import Directory, Role
from bot.errors import Refusal
from bot.messages import actions
from bot.messages.model import Offer


class BristAction(StrEnum):
    FILE = "brist_file"
    VIEW = "brist_view"
    RECORD_MEASURES = "brist_measures"
    RECORD_DIALOGUE = "brist_dialogue"
    CLOSE = "brist_close"
    SUBMIT_DRAFT = "brist_draft_submit"
    DISMISS_DRAFT = "brist_draft_dismiss"


A = BristAction
ALLOWED_FROM: dict[BristAction, frozenset[BristState]] = {
    A.VIEW: frozenset(BristState),
    A.RECORD_MEASURES: OPEN_REPORT_STATES,
    A.RECORD_DIALOGUE: OPEN_REPORT_STATES,
    A.CLOSE: OPEN_REPORT_STATES,
}

TARGET_STATE: dict[BristAction, BristState] = {
    A.RECORD_DIALOGUE: BristState.DIALOGUE_HELD,
    A.CLOSE: BristState.CLOSED,
}


def is_coordinator(person_id: str, directory: Directory) -> bool:
    person = directory.person(person_id)
    return person is not None and Role.COORDINATOR in person.roles


def units_distributed_by(person_id: str, directory: Directory) -> list[str]:
    """The units whose reports this person sees as a distributor or deputy."""
    return [u for u in directory.units if person_id in directory.distributors_of(u)]


def works_on(report: BristReport, person_id: str, directory: Directory) -> bool:
    """Coordinators work on every report; a unit's distributors on the reports naming their unit."""
    if is_coordinator(person_id, directory):
        return True
    return any(u in report.units for u in units_distributed_by(person_id, directory))


def may_see(report: BristReport, person_id: str, directory: Directory) -> bool:
    """Those who work on the report, and whoever filed it (issue #18 item 13: they read what became of it)."""
    return person_id == report.filed_by or works_on(report, person_id, directory)


def may_list(person_id: str, directory: Directory) -> bool:
    """Whether `/brister` may show this person anything (besides the reports they filed themselves)."""
    return is_coordinator(person_id, directory) or bool(units_distributed_by(person_id, directory))


def next_state(action: BristAction, report: BristReport) -> BristState:
    """The state after `action`; recording measures leaves the state as it is."""
    return TARGET_STATE.get(action, report.state)


def authorize(action: BristAction, report: BristReport, actor_id: str, directory: Directory) -> None:
    """Raise Refusal unless `actor_id` may do `action` on `report` now. A report the actor may not see is
    refused as not found."""
    if directory.person(actor_id) is None:
        raise Refusal("unknown_person", person=actor_id)
    if not may_see(report, actor_id, directory):
        raise Refusal("brist_not_found", ref=report.ref)
    if report.state not in ALLOWED_FROM[action]:
        raise Refusal("brist_wrong_state", ref=report.ref, action=action.value, state=report.state.value)
    if action is A.CLOSE and not is_coordinator(actor_id, directory):
        raise Refusal("brist_not_coordinator", action=action.value)
    if action in (A.RECORD_MEASURES, A.RECORD_DIALOGUE) and not works_on(report, actor_id, directory):
        raise Refusal("brist_not_unit", ref=report.ref, action=action.value)  # the author reads, the units act


def may_see_draft(draft: BristDraft, actor_id: str) -> bool:
    """A draft is for the people the ladder alerted at its top rung (the coordinators of that ladder): they
    may see the case's summary. Anyone else, other coordinators included, may not learn the case exists."""
    return actor_id in draft.coordinators


def authorize_draft(action: BristAction, draft: BristDraft, actor_id: str, directory: Directory) -> None:
    """Only the draft's coordinators see, complete or dismiss it, and only while it is a draft."""
    if directory.person(actor_id) is None or not may_see_draft(draft, actor_id):
        raise Refusal("brist_draft_not_found", draft=draft.id)
    if action is A.VIEW:
        return
    if draft.status is not DraftStatus.DRAFT:
        raise Refusal("brist_draft_decided", draft=draft.id, status=draft.status.value)


def offers(report: BristReport, person_id: str, directory: Directory) -> tuple[Offer, ...]:
    """What a message about `report` offers `person_id`: the units' distributors record the measures and the
    dialogue's outcome while the report is open, coordinators close it, and everyone who may see it opens it."""
    if directory.person(person_id) is None or not may_see(report, person_id, directory):
        return ()
    out: list[Offer] = []
    if report.is_open and any(u in report.units for u in units_distributed_by(person_id, directory)):
        out.append(Offer(actions.BRIST_MEASURES, report.ref, primary=not report.measures))
        out.append(Offer(actions.BRIST_DIALOGUE, report.ref, primary=bool(report.measures) and not report.dialogue))
    if report.is_open and is_coordinator(person_id, directory):
        out.append(Offer(actions.BRIST_CLOSE, report.ref))
    out.append(Offer(actions.BRIST_OPEN, report.ref))
    return tuple(out)

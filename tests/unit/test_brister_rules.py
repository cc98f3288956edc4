"""Who may see and do what with a report of brist i samverkan (pure rules, table-tested)."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from bot.brister.models import BristDraft, BristReport, BristState, Cause, DraftStatus, parse_brist_ref, parse_cause
from bot.brister.rules import BristAction, authorize, authorize_draft, may_list, may_see
from bot.config import DEFAULT_DIRECTORY
from bot.directory import Directory, load_directory
from bot.errors import Refusal

A = BristAction
S = BristState


@pytest.fixture(scope="module")
def directory() -> Directory:
    return load_directory(DEFAULT_DIRECTORY)


def report(state: BristState = S.SUBMITTED, units: tuple[str, ...] = ("soc-norr", "beroende")) -> BristReport:
    return BristReport(
        id=1, ref="BRIST-2026-0001", year=2026, state=state, incident_date=date(2026, 11, 20), units=list(units),
        principals=["astad", "region-sydvast"], causes=[Cause.KOMMUNIKATION], what="x", measures=None,
        dialogue=None, case_ref=None, filed_by="maria.sand", submitted_at=datetime(2026, 11, 20, tzinfo=UTC),
    )


@pytest.mark.parametrize(
    ("person", "sees"),
    [
        ("jonas.sjo", True),     # coordinator (region)
        ("sara.holm", True),     # coordinator (kommun)
        ("anna.lind", True),     # distributor of soc-norr
        ("bo.ek", True),         # deputy of soc-norr
        ("fatima.ali", True),    # distributor of beroende
        ("ingrid.vik", False),   # distributor of a unit the report does not name
        ("maria.sand", True),    # the one who filed it reads it (issue #18 item 13)
        ("omar.haddad", False),  # staff of a named unit who did not file it
        ("carina.berg", False),  # section head
        ("helena.ros", False),   # operations head
        ("it.admin", False),
    ],
)
def test_who_sees_a_report(directory: Directory, person: str, sees: bool) -> None:
    assert may_see(report(), person, directory) is sees


@pytest.mark.parametrize(
    ("action", "person", "state", "refusal"),
    [
        (A.RECORD_MEASURES, "fatima.ali", S.SUBMITTED, None),
        (A.RECORD_MEASURES, "jonas.sjo", S.DIALOGUE_HELD, None),
        (A.RECORD_MEASURES, "fatima.ali", S.CLOSED, "brist_wrong_state"),
        (A.RECORD_MEASURES, "ingrid.vik", S.SUBMITTED, "brist_not_found"),
        (A.RECORD_MEASURES, "maria.sand", S.SUBMITTED, "brist_not_unit"),  # she filed it: she reads, no more
        (A.RECORD_MEASURES, "omar.haddad", S.SUBMITTED, "brist_not_found"),
        (A.RECORD_DIALOGUE, "anna.lind", S.SUBMITTED, None),
        (A.RECORD_DIALOGUE, "anna.lind", S.DIALOGUE_HELD, None),
        (A.RECORD_DIALOGUE, "anna.lind", S.CLOSED, "brist_wrong_state"),
        (A.CLOSE, "jonas.sjo", S.DIALOGUE_HELD, None),
        (A.CLOSE, "jonas.sjo", S.SUBMITTED, None),
        (A.CLOSE, "anna.lind", S.DIALOGUE_HELD, "brist_not_coordinator"),
        (A.CLOSE, "jonas.sjo", S.CLOSED, "brist_wrong_state"),
        (A.VIEW, "jonas.sjo", S.CLOSED, None),
        (A.VIEW, "yusuf.kaya", S.SUBMITTED, "brist_not_found"),
        (A.VIEW, "nobody", S.SUBMITTED, "unknown_person"),
    ],
)
def test_authorize(directory: Directory, action: BristAction, person: str, state: BristState,
                   refusal: str | None) -> None:
    if refusal is None:
        authorize(action, report(state), person, directory)
    else:
        with pytest.raises(Refusal) as exc:
            authorize(action, report(state), person, directory)
        assert exc.value.code == refusal


def draft(status: DraftStatus = DraftStatus.DRAFT) -> BristDraft:
    return BristDraft(id=3, case_ref="GFI-2026-0001", coordinators=["jonas.sjo"], units=["soc-norr"],
                      principals=["astad"], what="x", causes=[Cause.KOMMUNIKATION], status=status,
                      created_at=datetime(2026, 11, 20, tzinfo=UTC))


@pytest.mark.parametrize(
    ("action", "person", "status", "refusal"),
    [
        (A.SUBMIT_DRAFT, "jonas.sjo", DraftStatus.DRAFT, None),
        (A.SUBMIT_DRAFT, "sara.holm", DraftStatus.DRAFT, "brist_draft_not_found"),  # not reached by the climb
        (A.DISMISS_DRAFT, "jonas.sjo", DraftStatus.DRAFT, None),
        (A.SUBMIT_DRAFT, "jonas.sjo", DraftStatus.SUBMITTED, "brist_draft_decided"),
        (A.DISMISS_DRAFT, "jonas.sjo", DraftStatus.DISMISSED, "brist_draft_decided"),
        (A.SUBMIT_DRAFT, "anna.lind", DraftStatus.DRAFT, "brist_draft_not_found"),
        (A.VIEW, "fatima.ali", DraftStatus.DRAFT, "brist_draft_not_found"),
        (A.VIEW, "jonas.sjo", DraftStatus.DISMISSED, None),
    ],
)
def test_authorize_draft(directory: Directory, action: BristAction, person: str, status: DraftStatus,
                         refusal: str | None) -> None:
    if refusal is None:
        authorize_draft(action, draft(status), person, directory)
    else:
        with pytest.raises(Refusal) as exc:
            authorize_draft(action, draft(status), person, directory)
        assert exc.value.code == refusal


def test_who_lists(directory: Directory) -> None:
    assert may_list("jonas.sjo", directory) and may_list("anna.lind", directory) and may_list("bo.ek", directory)
    assert not may_list("maria.sand", directory) and not may_list("helena.ros", directory)


@pytest.mark.parametrize(
    ("typed", "cause"),
    [
        ("sip", Cause.SIP), ("SIP", Cause.SIP), ("mina-planer", Cause.MINA_PLANER), ("Mina planer", Cause.MINA_PLANER),
        ("kommunikation", Cause.KOMMUNIKATION), ("kommunikation/information", Cause.KOMMUNIKATION),
        ("rutiner", Cause.RUTINER), ("bemotande", Cause.BEMOTANDE), ("bemötande", Cause.BEMOTANDE),
        ("Bemötande/bristande engagemang", Cause.BEMOTANDE), ("kompetens", Cause.KOMPETENS),
        ("helhetssyn", Cause.HELHETSSYN), ("bristande helhetssyn", Cause.HELHETSSYN),
        ("individfokus", Cause.INDIVIDFOKUS), ("forstaelse", Cause.FORSTAELSE), ("förståelse", Cause.FORSTAELSE),
        ("Förståelse för varandras uppdrag", Cause.FORSTAELSE), ("kaos", None), ("", None),
    ],
)
def test_causes_in_either_spelling(typed: str, cause: Cause | None) -> None:
    assert parse_cause(typed) is cause


def test_report_references() -> None:
    assert parse_brist_ref("brist-2026-0007") == "BRIST-2026-0007"
    assert parse_brist_ref("GFI-2026-0007") is None

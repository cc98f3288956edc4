"""The need-to-know rule: who sees the whole case, a summary, or nothing, for every role of the example
directory and every state; and which message templates show free text."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import UTC, date, datetime

import pytest

from bot.cases.models import Case, CaseState, CaseType, FollowUp, FollowUpStatus, MeetingParticipant
from bot.cases.visibility import (
    FREE_TEXT_TEMPLATES,
    Alerts,
    Awaited,
    Level,
    full_readers,
    level,
    shown_free_text,
    summary,
)
from bot.config import DEFAULT_DIRECTORY
from bot.directory import Directory, load_directory
from bot.rendering import TEMPLATE_DIR

DIRECTORY: Directory = load_directory(DEFAULT_DIRECTORY)
NOW = datetime(2026, 11, 23, 9, tzinfo=UTC)
F, S, N = Level.FULL, Level.SUMMARY, Level.NONE


def sample(state: CaseState, **overrides: object) -> Case:
    """maria.sand (soc-norr) asked beroende; linnea.fors is assigned (from `assigned` on)."""
    base = Case(
        id=1, ref="GFI-2026-0001", state=state, case_type=CaseType.NEW_ONE, target_unit="beroende",
        requester_id="maria.sand", requester_unit="soc-norr", contact="Maria Sand, 0450-12 30 00",
        brief="man, 45 år", consent_scope=["soc-norr", "beroende"], consent_valid_until=date(2027, 1, 1),
        urgent=False, created_at=NOW, updated_at=NOW, version=1,
    )
    if state is not CaseState.REQUESTED:
        base = replace(base, assignees=["linnea.fors"], assigned_by="fatima.ali", assigned_at=NOW)
    return replace(base, **overrides)  # type: ignore[arg-type]


LADDER = Alerts(frozenset({"helena.ros", "jonas.sjo"}), (Awaited("distribution", ("fatima.ali",)),))

# role: (person, level while requested (not escalated), requested and escalated, assigned and escalated)
MATRIX: list[tuple[str, str, Level, Level, Level]] = [
    ("requester", "maria.sand", F, F, F),
    ("assignee", "linnea.fors", N, N, F),
    ("distributor (who assigned it)", "fatima.ali", F, F, F),
    ("deputy", "gustav.lund", F, F, N),
    ("staff of the requester's unit", "omar.haddad", N, N, N),
    ("staff of the target unit", "sofia.grahn", N, N, N),
    ("other social services unit", "petra.lund", N, N, N),
    ("vårdcentral kurator", "tove.nyman", N, N, N),
    ("other unit's distributor", "ingrid.vik", N, N, N),
    ("ladder rung (verksamhetschef)", "helena.ros", N, S, S),
    ("ladder rung of the kommun (sektionschef)", "carina.berg", N, N, N),
    ("coordinator alerted", "jonas.sjo", N, S, S),
    ("coordinator not alerted", "sara.holm", N, N, N),
    ("admin", "it.admin", N, N, N),
    ("unknown person", "nobody.here", N, N, N),
]


@pytest.mark.parametrize(("role", "person", "requested", "escalated", "assigned"), MATRIX,
                         ids=[m[0] for m in MATRIX])
def test_role_matrix(role: str, person: str, requested: Level, escalated: Level, assigned: Level) -> None:
    assert level(sample(CaseState.REQUESTED), person, DIRECTORY) is requested
    assert level(sample(CaseState.REQUESTED), person, DIRECTORY, LADDER) is escalated
    assert level(sample(CaseState.ASSIGNED), person, DIRECTORY, LADDER) is assigned


@pytest.mark.parametrize("state", list(CaseState))
def test_the_requester_and_assignees_see_the_whole_case_in_every_state(state: CaseState) -> None:
    case = sample(state)
    assert level(case, "maria.sand", DIRECTORY) is F
    if state is not CaseState.REQUESTED:
        assert level(case, "linnea.fors", DIRECTORY) is F
        # the distributor who assigned it works on it while it is open in her unit, then no longer
        assert level(case, "fatima.ali", DIRECTORY) is (F if case.is_open else N)
        assert level(case, "gustav.lund", DIRECTORY) is N  # the deputy who did not assign it
        assert level(case, "gustav.lund", DIRECTORY, Alerts(frozenset({"gustav.lund"}))) is S


def test_annan_leaves_the_case_with_the_distributor() -> None:
    case = sample(CaseState.ASSIGNED, assignees=[], other_assignee="Kommunens boendestöd")
    assert level(case, "fatima.ali", DIRECTORY) is F


def test_named_participants_see_the_case_only_if_the_consent_covers_their_unit() -> None:
    follow_ups = [FollowUp(1, "omar.haddad", date(2026, 12, 1), "ring"),
                  FollowUp(2, "yusuf.kaya", date(2026, 12, 1), "boka")]
    case = sample(CaseState.FOLLOW_UP, follow_ups=follow_ups)
    assert level(case, "omar.haddad", DIRECTORY) is F  # soc-norr: in the consent
    assert level(case, "yusuf.kaya", DIRECTORY) is N  # psykiatri: outside it
    assert level(replace(case, consent_scope=[*case.consent_scope, "psykiatri"]), "yusuf.kaya", DIRECTORY) is F


def test_summary_carries_no_free_text() -> None:
    case = sample(CaseState.MEETING_BOOKED, meeting_place="Rum 3", meeting_at=NOW, meeting_units=["beroende"],
                  closed_note="x", other_assignee="y",
                  follow_ups=[FollowUp(1, "linnea.fors", date(2026, 12, 1), "uppf")])
    text = repr(summary(case, LADDER))
    for free in ("man, 45 år", "Maria Sand", "0450", "Rum 3", "uppf", "maria.sand"):
        assert free not in text
    assert "GFI-2026-0001" in text and "beroende" in text and "fatima.ali" in text  # who is awaited


# --- templates that show free text ----------------------------------------------------------------
FREE_TEXT_FIELDS = re.compile(
    r"\.(brief|contact|meeting_place|other_assignee|closed_note|waiting_reason)\b|\{\{ what \}\}|~ what ~"
    r"|\"initial_value\": \{\{ proposal")  # the agreement form prefilled with the other side's proposal
NOT_MESSAGES = {"console.j2", "home.view.json.j2"}  # console views and App Home: handled by their adapters


def test_every_template_that_quotes_free_text_is_listed() -> None:
    quoting = set()
    for path in sorted(TEMPLATE_DIR.iterdir()):
        if path.name in NOT_MESSAGES or not FREE_TEXT_FIELDS.search(path.read_text(encoding="utf-8")):
            continue
        quoting.add(path.name.split(".")[0])
    quoting.discard("slack_request")  # the request form: the requester's own input
    assert quoting == set(FREE_TEXT_TEMPLATES)


def test_shown_free_text_follows_what_the_message_shows() -> None:
    case = sample(CaseState.ASSIGNED)
    assert shown_free_text("assigned_to_you", {"case": case}) == [case]
    assert shown_free_text("case_assigned", {"case": case}) == []  # no "annan": no free text
    assert shown_free_text("case_assigned", {"case": replace(case, other_assignee="x")})
    assert shown_free_text("action_done", {"case": case, "action": "acknowledge"}) == [case]
    assert shown_free_text("action_done", {"case": case, "action": "no_show"}) == []
    assert shown_free_text("assigned_to_you", {"case": replace(case, erased_at=NOW)}) == []
    assert shown_free_text("escalation", {"case": case}) == []
    assert shown_free_text("queue", {"queues": [("beroende", [case, case])]}) == [case, case]



def test_a_unit_the_consent_was_withdrawn_for_loses_the_whole_case() -> None:
    """A follow-up owner of a unit the individual withdrew the consent for sees nothing of the case any more."""
    owned = FollowUp(id=1, owner_id="yusuf.kaya", due_date=date(2026, 12, 14), what="ring")
    case = sample(CaseState.FOLLOW_UP, consent_scope=["soc-norr", "beroende", "psykiatri"], follow_ups=[owned])
    assert level(case, "yusuf.kaya", DIRECTORY) is Level.FULL
    assert level(replace(case, consent_withdrawn=["psykiatri"]), "yusuf.kaya", DIRECTORY) is Level.NONE


# --- issue #18 items 1 and 7: who works on the case for their unit sees it ----------------------------------
DISPUTED = datetime(2026, 11, 24, 10, tzinfo=UTC)

# who, the case's consent scope, the level while the dispute is open, and once it is settled
DISPUTE_MATRIX: list[tuple[str, str, list[str], Level, Level]] = [
    ("the receiving unit's line manager (verksamhetschef)", "helena.ros", ["soc-norr", "beroende"], F, N),
    ("the requester's line manager (sektionschef)", "carina.berg", ["soc-norr", "beroende"], F, N),
    ("a line manager of a unit the consent does not cover", "carina.berg", ["beroende"], N, N),
    ("a coordinator (summary through the ladder, not here)", "jonas.sjo", ["soc-norr", "beroende"], N, N),
    ("a line manager of neither unit", "nils.alm", ["soc-norr", "beroende"], N, N),
    ("the other unit's staff", "omar.haddad", ["soc-norr", "beroende"], N, N),
]


def test_a_coordinator_alerted_about_an_open_dispute_sees_the_whole_case() -> None:
    case = sample(CaseState.ACKNOWLEDGED, disputed_at=DISPUTED, disputed_by="linnea.fors", dispute_reason="x")
    alerted = Alerts(frozenset({"jonas.sjo", "sara.holm"}))
    assert level(case, "jonas.sjo", DIRECTORY, alerted) is F  # the region's, for beroende
    assert level(case, "sara.holm", DIRECTORY, alerted) is F  # the kommun's, for soc-norr
    assert level(case, "sara.holm", DIRECTORY, alerted) is F
    assert level(replace(case, consent_scope=["beroende"]), "sara.holm", DIRECTORY, alerted) is S
    assert level(replace(case, disputed_at=None), "jonas.sjo", DIRECTORY, alerted) is S  # settled: summary again
    assert level(case, "jonas.sjo", DIRECTORY) is N  # not alerted: nothing


@pytest.mark.parametrize(("role", "person", "scope", "open_", "settled"), DISPUTE_MATRIX,
                         ids=[m[0] for m in DISPUTE_MATRIX])
def test_the_managers_asked_to_settle_a_dispute_see_the_whole_case_while_it_is_open(
        role: str, person: str, scope: list[str], open_: Level, settled: Level) -> None:
    case = sample(CaseState.ACKNOWLEDGED, consent_scope=scope, disputed_at=DISPUTED, disputed_by="linnea.fors",
                  dispute_reason="gäller socialtjänsten")
    assert level(case, person, DIRECTORY) is open_
    assert level(replace(case, disputed_at=None, disputed_by=None), person, DIRECTORY) is settled
    assert level(replace(case, state=CaseState.CLOSED), person, DIRECTORY) is N  # closed: no longer open


# case, person, level: the distributor who assigned, and the distributors asked to name a participant
WORKING_MATRIX: list[tuple[str, Case, str, Level]] = [
    ("assigned it, open", sample(CaseState.MEETING_HELD), "fatima.ali", F),
    ("assigned it, closed", sample(CaseState.CLOSED), "fatima.ali", N),
    ("the deputy who did not assign it", sample(CaseState.MEETING_HELD), "gustav.lund", N),
    ("assigned it, then left the unit's distributors",
     sample(CaseState.ASSIGNED, assigned_by="ingrid.vik"), "ingrid.vik", N),
    ("asked to name a participant (/utse)",
     sample(CaseState.MEETING_BOOKED, meeting_units=["beroende", "soc-norr", "psykiatri"],
            consent_scope=["soc-norr", "beroende", "psykiatri"],
            attendees=[MeetingParticipant("psykiatri")]), "ingrid.vik", F),
    ("the deputy asked too", sample(CaseState.MEETING_BOOKED, meeting_units=["beroende", "psykiatri"],
                                    consent_scope=["soc-norr", "beroende", "psykiatri"],
                                    attendees=[MeetingParticipant("psykiatri")]), "karl.dahl", F),
    ("after naming someone", sample(CaseState.MEETING_BOOKED, meeting_units=["beroende", "psykiatri"],
                                    consent_scope=["soc-norr", "beroende", "psykiatri"],
                                    attendees=[MeetingParticipant("psykiatri", "yusuf.kaya")]), "ingrid.vik", N),
    ("asked, but the consent was withdrawn for the unit",
     sample(CaseState.MEETING_BOOKED, meeting_units=["beroende", "psykiatri"],
            consent_scope=["soc-norr", "beroende", "psykiatri"], consent_withdrawn=["psykiatri"],
            attendees=[MeetingParticipant("psykiatri")]), "ingrid.vik", N),
]


@pytest.mark.parametrize(("role", "case", "person", "expected"), WORKING_MATRIX, ids=[m[0] for m in WORKING_MATRIX])
def test_distributors_who_work_on_the_case_see_it_while_it_is_open_in_their_unit(
        role: str, case: Case, person: str, expected: Level) -> None:
    assert level(case, person, DIRECTORY) is expected


# Every way to read a case in full, for `full_readers` (the lost-access pass, `bot.cases.access_lost`) to list.
READER_CASES: list[tuple[str, Case]] = [
    *((f"state {s.value}", sample(s)) for s in CaseState),
    ("annan", sample(CaseState.ASSIGNED, assignees=[], other_assignee="Boendet")),
    ("disputed", sample(CaseState.ACKNOWLEDGED, disputed_at=DISPUTED, disputed_by="linnea.fors", dispute_reason="x",
                        consent_scope=["soc-norr", "beroende", "psykiatri"])),
    ("a follow-up proposed across principals",
     sample(CaseState.MEETING_HELD, follow_ups=[FollowUp(1, "omar.haddad", date(2026, 12, 14), "Ringa",
                                                         status=FollowUpStatus.PROPOSED)])),
    ("a follow-up accepted", sample(CaseState.MEETING_HELD, follow_ups=[FollowUp(
        1, "omar.haddad", date(2026, 12, 14), "Ringa", accepted_by="anna.lind")])),
    *((role, case) for role, case, _, _ in WORKING_MATRIX),
]


@pytest.mark.parametrize(("name", "case"), READER_CASES, ids=[c[0] for c in READER_CASES])
def test_full_readers_are_everyone_level_lets_read_the_case_in_full(name: str, case: Case) -> None:
    """`full_readers` lists the ways to FULL again (to stay cheap): it must find everyone `level` gives FULL
    (without the ladder's alerts), or a new way to read a case would keep its text going after access is lost."""
    everyone = {p for p in DIRECTORY.people if level(case, p, DIRECTORY) is F}
    assert full_readers(case, DIRECTORY) == everyone

"""Messages described once, rendered per channel: no console command ever reaches Slack, every offer is a
button there and a command hint in the console; offers come from the rules; erasure clears stored messages."""

from __future__ import annotations

import json
import re
from dataclasses import replace
from datetime import date, timedelta
from typing import Any

import pytest

from bot.absence.service import Listing
from bot.brister.models import BristReport, BristState, Cause
from bot.brister.rules import offers as brist_offers
from bot.cases import offers
from bot.cases.models import Case, CaseState, CaseType, CloseReason, FollowUp, FollowUpStatus, Outcome
from bot.channels.slack import render as slack_render
from bot.config import DEFAULT_DIRECTORY
from bot.core import Core
from bot.directory import load_directory
from bot.messages.actions import ACTIONS
from bot.messages.describe import describe
from bot.messages.model import Line, Message, Offer
from bot.messages.text import plain_text
from bot.presence import Absence
from bot.rendering import TEMPLATE_DIR, Renderer
from tests.conftest import local
from tests.timekit import form

NOW = local("2026-11-23T10:00")
COMMAND = re.compile(r"/(kvittera|utfall|fördela|fordela|klar|boka|uteblev|uppföljning|uppfoljning|avsluta|"
                     r"återöppna|ateroppna|återkalla|aterkalla|förnya|fornya|taöver|taover|påminn|paminn|"
                     r"omfördela|visa|åtgärd|atgard|dialog|stäng|stang)\b")


@pytest.fixture(scope="module")
def renderer() -> Renderer:
    return Renderer(load_directory(DEFAULT_DIRECTORY))


def case(state: CaseState, **kw: Any) -> Case:
    base = Case(
        id=7, ref="GFI-2026-0007", state=state, case_type=CaseType.NEW_ONE, target_unit="beroende",
        requester_id="maria.sand", requester_unit="soc-norr", contact="Maria Sand, 0450-12 30 00",
        brief="Man, 45 år", consent_scope=["soc-norr", "beroende"], consent_valid_until=date(2027, 2, 21),
        urgent=False, created_at=NOW - timedelta(days=1), updated_at=NOW, version=1, assignees=["linnea.fors"],
        assigned_by="fatima.ali", assigned_at=NOW, acknowledged_by="linnea.fors", acknowledged_at=NOW,
        meeting_at=NOW + timedelta(days=3), meeting_place="Rum 3", meeting_units=["soc-norr", "beroende"],
        outcome=Outcome.SIP, evaluation_done=True,
        follow_ups=[FollowUp(1, "linnea.fors", date(2026, 12, 1), "Ring upp")],
        waiting_until=date(2026, 12, 7) if state is CaseState.WAITING else None,
        waiting_reason="Går inte att nå" if state is CaseState.WAITING else None,
    )
    return replace(base, **kw)


S = CaseState
ABSENCE = Absence(1, "linnea.fors", date(2026, 11, 23), date(2026, 11, 25), "sofia.grahn", "fatima.ali", NOW)
COMMON = {"actor": "fatima.ali", "distributors": ["fatima.ali"], "people": ["helena.ros"],
          "next_slot": "tis 24 nov 2026 kl. 09:00",
          "rebooked": False, "missed_at": NOW, "due": date(2026, 12, 1), "what": "Ring upp", "units": ["beroende"],
          "left_meeting": [], "lost_access": False, "meeting_at": NOW, "paused": True, "ref": "GFI-2026-0007",
          "until": date(2027, 2, 21), "number": 1, "on_the_day": False, "may_renew": True,
          "requester": "maria.sand", "since": NOW, "kind": "acknowledgement", "rung_title": "enhetschef",
          "not_answered": ["linnea.fors"], "skipped": [], "top": False, "draft_id": None, "item_id": 5,
          "by": "linnea.fors", "resolution": "answered", "at": NOW, "person": "linnea.fors",
          "reason": "slack:user_not_found", "ages": {"GFI-2026-0007": "1 dag"}, "slot": NOW, "action": "acknowledge",
          "default_days": 90, "waiting_until": date(2026, 12, 7), "unit": "psykiatri",
          "absence": ABSENCE, "listing": Listing([replace(ABSENCE, stand_in=None)], date(2026, 11, 23)),
          "owner": "linnea.fors"}
# kind → (case state, recipient): every kind described in templates/messages/*.msg.j2
KINDS: dict[str, tuple[CaseState, str]] = {
    "case_filed": (S.REQUESTED, "maria.sand"), "urgent_request": (S.REQUESTED, "fatima.ali"),
    "assigned_to_you": (S.ASSIGNED, "linnea.fors"), "case_assigned": (S.ASSIGNED, "maria.sand"),
    "case_reassigned_away": (S.ASSIGNED, "omar.haddad"), "case_acknowledged": (S.ACKNOWLEDGED, "maria.sand"),
    "meeting_booked": (S.MEETING_BOOKED, "linnea.fors"), "meeting_no_show": (S.ACKNOWLEDGED, "linnea.fors"),
    "outcome_recorded": (S.MEETING_HELD, "linnea.fors"), "follow_up_assigned": (S.FOLLOW_UP, "linnea.fors"),
    "case_closed": (S.CLOSED, "linnea.fors"), "case_reopened": (S.FOLLOW_UP, "linnea.fors"),
    "consent_withdrawn": (S.CLOSED, "linnea.fors"), "consent_withdrawn_unit": (S.FOLLOW_UP, "linnea.fors"),
    "consent_renewed": (S.MEETING_BOOKED, "linnea.fors"), "escalation": (S.ASSIGNED, "helena.ros"),
    "escalation_resolved": (S.ACKNOWLEDGED, "helena.ros"), "ladder_nudge": (S.ASSIGNED, "linnea.fors"),
    "reminder_prepare": (S.MEETING_BOOKED, "linnea.fors"), "reminder_meeting_day": (S.MEETING_BOOKED, "linnea.fors"),
    "reminder_outcome": (S.MEETING_BOOKED, "linnea.fors"), "reminder_follow_up": (S.FOLLOW_UP, "linnea.fors"),
    "reminder_consent_expiring": (S.MEETING_BOOKED, "maria.sand"), "consent_expired": (S.MEETING_BOOKED, "maria.sand"),
    "delivery_failed": (S.ASSIGNED, "jonas.sjo"), "delivery_recovered": (S.ASSIGNED, "jonas.sjo"),
    "queue": (S.REQUESTED, "fatima.ali"),
    "action_done": (S.ACKNOWLEDGED, "linnea.fors"),
    "brist_filed": (S.REQUESTED, "fatima.ali"), "brist_changed": (S.REQUESTED, "sara.holm"),
    "meeting_held_now": (S.MEETING_BOOKED, "maria.sand"), "case_waiting": (S.WAITING, "maria.sand"),
    "case_resumed": (S.ACKNOWLEDGED, "maria.sand"), "reminder_waiting_ends": (S.WAITING, "linnea.fors"),
    # frånvaro (no case: the case context is ignored)
    "absence_receipt": (S.REQUESTED, "fatima.ali"), "absence_registered": (S.REQUESTED, "linnea.fors"),
    "absence_stand_in": (S.REQUESTED, "sofia.grahn"), "absence_cancelled": (S.REQUESTED, "sofia.grahn"),
    "absence_cancel_done": (S.REQUESTED, "fatima.ali"), "absence_list": (S.REQUESTED, "fatima.ali"),
    "dispute_opened": (S.ACKNOWLEDGED, "maria.sand"), "dispute_asked": (S.ACKNOWLEDGED, "helena.ros"),
    "dispute_settled": (S.ACKNOWLEDGED, "maria.sand"), "dispute_proposed": (S.ACKNOWLEDGED, "carina.berg"),
    "follow_up_proposed": (S.FOLLOW_UP, "fatima.ali"), "follow_up_accepted": (S.FOLLOW_UP, "linnea.fors"),
    "follow_up_declined": (S.FOLLOW_UP, "maria.sand"),
    "participant_wanted": (S.MEETING_BOOKED, "fatima.ali"), "participant_removed": (S.MEETING_BOOKED, "omar.haddad"),
    "request_escalated": (S.REQUESTED, "maria.sand"), "request_taken_over": (S.REQUESTED, "maria.sand"),
    "samverkan_matter": (S.ACKNOWLEDGED, "jonas.sjo"), "samverkan_decided": (S.ACKNOWLEDGED, "maria.sand"),
}
# What the dispute messages are told besides COMMON (issue #10 item 7).
DISPUTE = {"unit": "beroende", "other_unit": "soc-norr", "by": "linnea.fors", "reason": "Inte vårt uppdrag",
           "agreement": "Beroendemottagningen behåller ärendet", "due": NOW, "item_id": 5, "side": "beroende",
           "proposal": "Beroendemottagningen behåller ärendet", "proposer": "helena.ros"}
# What the samverkan messages are told besides COMMON (issue #18 item 4).
SAMVERKAN = {"matter_id": 1, "group": "Samverkansgruppen psykiatri och missbruk, Åstad",
             "units": ["beroende", "soc-norr"], "outcome": "Kommunen ansvarar för boendestödet"}
# Kinds that ask the recipient to act, and so must offer at least one action.
ASKING = {"case_filed", "urgent_request", "assigned_to_you", "meeting_booked", "meeting_no_show", "outcome_recorded",
          "follow_up_assigned", "case_closed", "escalation", "ladder_nudge", "reminder_meeting_day",
          "reminder_outcome", "reminder_follow_up", "reminder_consent_expiring", "consent_expired", "queue",
          "action_done", "reminder_prepare", "brist_filed", "brist_changed", "reminder_waiting_ends",
          "dispute_asked", "follow_up_proposed", "follow_up_accepted", "participant_wanted", "dispute_proposed"}
BRIST = BristReport(
    id=1, ref="BRIST-2026-0001", year=2026, state=BristState.SUBMITTED, incident_date=date(2026, 11, 20),
    units=["beroende", "soc-norr"], principals=[], causes=[Cause.SIP], what="Ingen svarade på förfrågan",
    measures="Vi har gått igenom rutinen", dialogue=None, case_ref="GFI-2026-0007", filed_by="maria.sand",
    submitted_at=NOW)


def message(renderer: Renderer, kind: str) -> Message:
    state, recipient = KINDS[kind]
    c = case(state, closed_reason=CloseReason.COMPLETED if state is S.CLOSED else None)
    if kind == "follow_up_proposed":  # proposed by the requester (kommun) to a kurator of the region
        c = replace(c, follow_ups=[FollowUp(1, "linnea.fors", date(2026, 12, 1), "Ring upp",
                                            status=FollowUpStatus.PROPOSED, created_by="maria.sand")])
    if kind.startswith("brist_"):
        return describe(renderer, kind, offers=brist_offers(BRIST, recipient, renderer.directory),
                        case_ref=BRIST.ref, report=BRIST, recipient=recipient, filer_unit="soc-norr",
                        change="measures", actor="fatima.ali")
    if kind == "escalation":
        offered = offers.escalation(5, c.ref)
    elif kind == "queue":
        offered = offers.next_steps(c, recipient, renderer.directory)
    elif kind == "action_done":
        offered = offers.after_action(c, recipient, renderer.directory)
    elif kind == "dispute_asked":
        offered = offers.escalation_for(5, c.ref, "dispute", c.target_unit, recipient, renderer.directory)
    elif kind == "dispute_proposed":  # the other side's line manager confirms, or proposes another agreement
        c = replace(c, disputed_at=NOW, disputed_by="linnea.fors", dispute_reason="Inte vårt uppdrag")
        offered = offers.confirm_agreement(c, recipient, renderer.directory)
    else:
        offered = offers.for_message(kind, c, recipient, renderer.directory, number=1)
    extra = {**COMMON, **DISPUTE} if kind.startswith("dispute_") else COMMON
    if kind.startswith("samverkan_"):
        extra = {**COMMON, "kind": "dispute", **SAMVERKAN}
    return describe(renderer, kind, offers=offered, case_ref=c.ref, case=c, recipient=recipient,
                    queues=[("beroende", [c])], **extra)


def test_every_described_kind_is_tested() -> None:
    assert {p.name.removesuffix(".msg.j2") for p in TEMPLATE_DIR.glob("*.msg.j2")} == set(KINDS)


def texts(node: Any) -> list[str]:
    if isinstance(node, dict):
        own = [node["text"]] if isinstance(node.get("text"), str) else []
        return own + [t for v in node.values() if isinstance(v, dict | list) for t in texts(v)]
    if isinstance(node, list):
        return [t for v in node for t in texts(v)]
    return []


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_slack_never_names_a_console_command_and_offers_buttons(renderer: Renderer, kind: str) -> None:
    msg = message(renderer, kind)
    payload = slack_render.payload(msg)
    for text in [payload["text"], *texts(payload["blocks"])]:
        assert not COMMAND.search(text), (kind, text)
    if kind in ASKING:
        assert msg.offers, kind
    buttons = [(e["action_id"], e["value"]) for b in payload["blocks"]
               for e in (b.get("elements", []) if b["type"] == "actions" else [b.get("accessory") or {}])
               if e.get("type") == "button"]
    for offer in msg.offers:
        spec = ACTIONS[offer.action]
        assert (spec.slack_action_id, spec.value_for(offer)) in buttons, (kind, offer)
    json.dumps(payload)  # valid JSON for the Web API


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_the_console_shows_the_command_of_every_offer(renderer: Renderer, kind: str) -> None:
    msg = message(renderer, kind)
    text = plain_text(msg)
    for offer in msg.offers:
        assert ACTIONS[offer.action].command_for(offer) in text, (kind, offer)
    assert msg.title in text


@pytest.mark.parametrize("kind", ["reminder_outcome", "reminder_prepare", "reminder_meeting_day"])
def test_the_meeting_reminders_have_buttons_for_those_responsible(renderer: Renderer, kind: str) -> None:
    blocks = slack_render.fitted_blocks(message(renderer, kind))
    assert any(b["type"] == "actions" for b in blocks)
    c = case(S.MEETING_BOOKED)
    # the requester may record the outcome too (both parties own the case), but is asked nothing else
    assert {o.action for o in offers.for_message(kind, c, "maria.sand", renderer.directory)} <= {"record_outcome"}


def test_free_text_is_marked_and_left_out_on_request(renderer: Renderer) -> None:
    msg = message(renderer, "assigned_to_you")
    assert {ln.text for ln in msg.lines if ln.free} == {"Man, 45 år", "Maria Sand, 0450-12 30 00"}
    bare = msg.without_free_text()
    assert "Man, 45 år" not in json.dumps(bare.to_json(), ensure_ascii=False)
    assert Message.from_json(msg.to_json()) == msg


A = "linnea.fors"  # responsible
R = "maria.sand"  # requester
D = "fatima.ali"  # distributor of beroende


@pytest.mark.parametrize(("state", "person", "expected"), [
    (S.REQUESTED, D, ["assign", "withdraw_consent"]),
    (S.REQUESTED, "helena.ros", ["assign"]),  # on the ladder: may distribute, is not the case's staff
    (S.REQUESTED, R, ["withdraw_consent"]),
    (S.ASSIGNED, A, ["acknowledge", "withdraw_consent"]),
    (S.ASSIGNED, R, ["withdraw_consent"]),
    (S.ACKNOWLEDGED, A, ["book", "hold_now", "wait", "withdraw_consent"]),
    (S.WAITING, A, ["resume", "wait", "book", "hold_now", "close", "withdraw_consent"]),  # wait: extend it
    (S.WAITING, R, ["close", "withdraw_consent"]),
    (S.MEETING_BOOKED, A, ["record_outcome", "no_show", "rebook", "withdraw_consent"]),
    (S.MEETING_BOOKED, R, ["record_outcome", "withdraw_consent"]),  # both parties own the case
    (S.MEETING_HELD, A, ["add_follow_up", "close", "withdraw_consent"]),
    (S.FOLLOW_UP, R, ["add_follow_up", "close", "withdraw_consent"]),
    (S.CLOSED, A, ["reopen"]),
    (S.CLOSED, "omar.haddad", []),
])
def test_next_steps_follow_the_rules(renderer: Renderer, state: CaseState, person: str, expected: list[str]) -> None:
    c = case(state, closed_reason=CloseReason.COMPLETED if state is S.CLOSED else None)
    steps = offers.next_steps(c, person, renderer.directory, withdraw=True)
    assert [o.action for o in steps] == expected
    assert [o.primary for o in steps][:1] == ([True] if expected and expected[0] != "withdraw_consent" else
                                             [False] if expected else [])


def test_withdrawing_after_consent_withdrawal_cannot_reopen(renderer: Renderer) -> None:
    c = case(S.CLOSED, closed_reason=CloseReason.CONSENT_WITHDRAWN)
    assert offers.next_steps(c, A, renderer.directory) == ()


def test_withdraw_is_a_form_when_the_consent_covers_more_units(renderer: Renderer) -> None:
    c = case(S.ACKNOWLEDGED, consent_scope=["soc-norr", "beroende", "psykiatri"])
    assert offers.withdraw_offer(c).action == "withdraw_consent_form"
    assert offers.withdraw_offer(case(S.ACKNOWLEDGED)).action == "withdraw_consent"


def test_follow_up_done_only_for_its_owner_or_those_responsible(renderer: Renderer) -> None:
    c = case(S.FOLLOW_UP, follow_ups=[FollowUp(1, "omar.haddad", date(2026, 12, 1), "x")])
    assert offers.follow_up_done(c, "omar.haddad", 1) == (Offer("complete_follow_up", c.ref, 1, True),)
    assert offers.follow_up_done(c, A, 1)
    assert offers.follow_up_done(c, R, 1) == ()
    assert offers.follow_up_done(c, A, 2) == ()


async def test_withdrawal_leaves_no_stored_message_with_free_text(core: Core) -> None:
    brief = "Kvinna 50 år, unikt fritextord"
    c = await core.cases.request("maria.sand", form(brief=brief, contact="Ring 0450-99"))
    await core.cases.assign("fatima.ali", c.ref, ["linnea.fors"])
    async with core.db.transaction() as tx:
        stored = await tx.fetchall("SELECT message FROM outbox WHERE case_id = ?", (c.id,))
    assert any(brief in (r["message"] or "") for r in stored)  # the assignee's message shows the brief
    await core.cases.withdraw_consent("maria.sand", c.ref)
    async with core.db.transaction() as tx:
        rows = await tx.fetchall("SELECT * FROM outbox WHERE case_id = ?", (c.id,))
    for row in rows:
        assert brief not in json.dumps(row, ensure_ascii=False) and "0450-99" not in json.dumps(row, ensure_ascii=False)


@pytest.mark.parametrize(("person", "expected"), [
    ("fatima.ali", ["brist_measures", "brist_dialogue", "brist_open_report"]),  # distributor of beroende
    ("sara.holm", ["brist_close", "brist_open_report"]),  # coordinator
    ("linnea.fors", []),  # neither: sees nothing
])
def test_brist_offers_follow_who_works_the_report(renderer: Renderer, person: str, expected: list[str]) -> None:
    assert [o.action for o in brist_offers(BRIST, person, renderer.directory)] == expected
    closed = replace(BRIST, state=BristState.CLOSED)
    assert [o.action for o in brist_offers(closed, person, renderer.directory)] == expected[-1:]


def test_brist_messages_show_buttons_in_slack_and_commands_in_the_console(renderer: Renderer) -> None:
    msg = message(renderer, "brist_filed")
    ids = [e["action_id"] for b in slack_render.payload(msg)["blocks"] if b["type"] == "actions"
           for e in b["elements"]]
    assert ids == ["brist_measures_open", "brist_dialogue_open", "brist_report_open"]
    text = plain_text(msg)
    assert '/åtgärd BRIST-2026-0001 "<vidtagna åtgärder>"' in text and "/dialog BRIST-2026-0001" in text
    assert "Ingen svarade på förfrågan" not in plain_text(msg.without_free_text())


def test_brist_messages_on_a_teams_card_offer_card_actions(renderer: Renderer) -> None:
    from bot.channels.teams.cards import message_card

    card = message_card(renderer, message(renderer, "brist_filed"), "n1")
    assert [(a["verb"], a["data"]["ref"]) for a in card["actions"]] == [
        ("brist_measures", "BRIST-2026-0001"), ("brist_dialogue", "BRIST-2026-0001"),
        ("brist_open_report", "BRIST-2026-0001")]
    assert not COMMAND.search(json.dumps(card, ensure_ascii=False))


def test_a_message_is_stored_without_its_defaults_and_read_back_whole() -> None:
    """The outbox stores `to_json()` (a sweep writes 10³ of them): a field at its default is left out."""
    bare = Message("case_filed", "Registrerad", (Line("Mottagare: Beroende"),))
    assert bare.to_json() == {"kind": "case_filed", "title": "Registrerad", "lines": [{"text": "Mottagare: Beroende"}]}
    assert Message.from_json(bare.to_json()) == bare
    full = Message("queue", "Kö", (Line("Vad", "Ärende", True, "item", "GFI-2026-0001"), Line("x", style="more")),
                   (Offer("assign", "GFI-2026-0001", 3, True), Offer("open")), "GFI-2026-0001", "Not", {"free": "y"})
    assert Message.from_json(json.loads(json.dumps(full.to_json()))) == full

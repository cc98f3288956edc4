"""The App Home view and every Slack layout template: pure rendering, valid JSON, within Slack's limits."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta
from typing import Any

import pytest

from bot.calendar import OfficeHours
from bot.cases import offers
from bot.cases.models import Case, CaseState, CaseType, CloseReason, Outcome
from bot.channels.slack import render as slack_render
from bot.channels.slack.home import MAX_VIEW_BLOCKS, FailedDelivery, HomeData, home_view
from bot.channels.slack.views import render_view
from bot.config import DEFAULT_DIRECTORY
from bot.directory import load_directory
from bot.ladder.models import AwaitingItem, AwaitingKind, FrozenLadder, FrozenRung
from bot.messages.describe import describe
from bot.rendering import Renderer
from tests.conftest import local

NOW = local("2026-11-23T10:00")


@pytest.fixture(scope="module")
def renderer() -> Renderer:
    return Renderer(load_directory(DEFAULT_DIRECTORY))


def case(n: int = 1, state: CaseState = CaseState.REQUESTED, **kw: Any) -> Case:
    base = Case(
        id=n, ref=f"GFI-2026-{n:04d}", state=state, case_type=CaseType.NEW_ONE, target_unit="beroende",
        requester_id="maria.sand", requester_unit="soc-norr", contact="Maria Sand, 0450-12 30 00",
        brief='Man, 45 år, "citat" och <b>taggar</b> & \\ snedstreck', consent_scope=["soc-norr", "beroende"],
        consent_valid_until=date(2027, 2, 21), urgent=False, created_at=NOW - timedelta(days=n),
        updated_at=NOW, version=1, assignees=["linnea.fors"], assigned_by="fatima.ali", assigned_at=NOW,
        acknowledged_by="linnea.fors", acknowledged_at=NOW, meeting_at=NOW + timedelta(days=3),
        meeting_place="Rum 3", meeting_units=["soc-norr", "beroende"], outcome=Outcome.SIP, evaluation_done=True,
    )
    return replace(base, **kw)


def buttons(blocks: list[dict[str, Any]]) -> list[tuple[str, str]]:
    out = []
    for b in blocks:
        elements = b.get("elements", []) if b["type"] == "actions" else [b.get("accessory") or {}]
        out += [(e["action_id"], e["value"]) for e in elements if e.get("type") == "button"]
    return out


def test_home_for_staff_shows_requests_cases_and_next_step_buttons(renderer: Renderer) -> None:
    data = HomeData(
        person_id="linnea.fors", now=NOW, requests=[case(1)],
        cases=[case(2, CaseState.ASSIGNED), case(3, CaseState.MEETING_BOOKED), case(4, CaseState.FOLLOW_UP)],
    )
    view = home_view(renderer, data)
    assert view["type"] == "home"
    text = str(view)
    assert "Mina förfrågningar" in text and "Mina ärenden" in text
    assert "Kö –" not in text and "Misslyckade utskick" not in text  # neither distributor nor coordinator
    found = buttons(view["blocks"])
    assert ("gfi_ack", "GFI-2026-0002") in found
    assert {("gfi_outcome_open", "GFI-2026-0003"), ("gfi_no_show", "GFI-2026-0003")} <= set(found)
    assert {("gfi_follow_up_open", "GFI-2026-0004"), ("gfi_close_open", "GFI-2026-0004")} <= set(found)
    assert all(len(value) <= 2000 and " " not in value for _, value in found)  # values carry refs only


def test_home_for_distributor_and_coordinator(renderer: Renderer) -> None:
    data = HomeData(
        person_id="jonas.sjo", now=NOW, queues=[("beroende", [case(5, urgent=True), case(6)]), ("psykiatri", [])],
        coordinator=True, escalations=[],
        failed=[FailedDelivery("GFI-2026-0005", "maria.sand", "slack:account_inactive", NOW)],
    )
    view = home_view(renderer, data)
    text = str(view)
    assert "Kö – Beroendemottagningen Åstad" in text and "Kön är tom." in text
    assert "GFI-2026-0005 BRÅDSKANDE – 5 dagar" in text
    assert ("gfi_assign_open", "GFI-2026-0006") in buttons(view["blocks"])
    assert "Öppna eskaleringar" in text and "Inga öppna eskaleringar." in text
    assert "GFI-2026-0005 till Maria Sand: slack:account_inactive" in text
    with_ladder = home_view(renderer, replace(data, escalations=[escalation(9)]))
    assert "GFI-2026-0009 väntar på kvittering av fördelat ärende sedan mån 23 nov 2026 kl. 10:00" in str(with_ladder)
    assert "Nu hos: verksamhetschef. Väntar fortfarande på svar från: Linnea Fors (kurator)" in str(with_ladder)
    assert {("ladder_take_over", "9"), ("ladder_nudge", "9"), ("ladder_reassign", "9")} <= set(
        buttons(with_ladder["blocks"])
    )


def test_home_stays_within_slacks_block_limit(renderer: Renderer) -> None:
    many = [case(n, CaseState.MEETING_BOOKED) for n in range(1, 80)]
    data = HomeData(person_id="fatima.ali", now=NOW, requests=many, cases=many,
                    # a case is in one queue only (block ids are unique within a view, as Slack demands)
                    queues=[(u, [case(100 * i + n) for n in range(1, 80)])
                            for i, u in enumerate(("beroende", "psykiatri", "soc-norr", "vc-centrum"), start=1)],
                    coordinator=True, escalations=[escalation(n) for n in range(1, 41)],
                    failed=[FailedDelivery(None, "maria.sand", None, NOW)] * 30)
    view = home_view(renderer, data)
    assert len(view["blocks"]) <= MAX_VIEW_BLOCKS
    assert "Uppdaterad" in str(view["blocks"][-1])  # the footer survives the cut


def test_age_text(renderer: Renderer) -> None:
    assert renderer.age(timedelta(minutes=5)) == "nyss"
    assert renderer.age(timedelta(hours=3)) == "3 tim sedan"
    assert renderer.age(timedelta(days=1, hours=2)) == "1 dag sedan"
    assert renderer.age(timedelta(days=4)) == "4 dagar sedan"


def escalation(n: int) -> AwaitingItem:
    ladder = FrozenLadder(
        (FrozenRung("@assignees", ("linnea.fors",)), FrozenRung("verksamhetschef", ("helena.ros",))), OfficeHours()
    )
    return AwaitingItem(
        id=n, case_id=n, case_ref=f"GFI-2026-{n:04d}", kind=AwaitingKind.ACKNOWLEDGEMENT, subject="", arm=1,
        unit_id="beroende", answerers=["linnea.fors"], since=NOW, due_at=None, ladder=ladder, rung=1,
        alerted=["helena.ros"],
    )


STATES = [CaseState.ASSIGNED, CaseState.ACKNOWLEDGED, CaseState.MEETING_BOOKED, CaseState.MEETING_HELD,
          CaseState.FOLLOW_UP, CaseState.CLOSED]


@pytest.mark.parametrize("state", STATES)
@pytest.mark.parametrize("recipient", ["linnea.fors", "maria.sand"])
def test_message_layouts_render_valid_block_kit(renderer: Renderer, state: CaseState, recipient: str) -> None:
    c = case(7, state, closed_reason=CloseReason.COMPLETED if state is CaseState.CLOSED else None)
    ctx: dict[str, Any] = {"case": c, "recipient": recipient, "actor": "linnea.fors", "distributors": ["fatima.ali"],
                           "next_slot": "tis 24 nov 2026 kl. 09:00", "rebooked": False, "outside_consent": [],
                           "missed_at": NOW, "action": "acknowledge"}
    for name in ("case_filed", "urgent_request", "assigned_to_you", "meeting_booked", "meeting_no_show",
                 "outcome_recorded", "case_closed", "action_done"):
        if name == "case_closed" and state is not CaseState.CLOSED:
            continue
        offered = offers.for_message(name, c, recipient, renderer.directory)
        blocks = slack_render.fitted_blocks(describe(renderer, name, offers=offered, **ctx))
        assert blocks is not None and 1 <= len(blocks) <= 50, name
        if name in ("urgent_request", "assigned_to_you"):  # free text survives JSON escaping intact
            assert c.brief in str(blocks[0]["text"]["text"])
        responsible = recipient == "linnea.fors"
        if name == "meeting_booked" and state is CaseState.MEETING_BOOKED:  # sent in that state
            # those responsible act on the meeting; the requester may record its outcome (both own the case)
            assert buttons(blocks) if responsible else buttons(blocks) == [("gfi_outcome_open", c.ref)]


def test_queue_layout(renderer: Renderer) -> None:
    cases = [case(n) for n in range(1, 30)]
    offered = [o for c in cases for o in offers.next_steps(c, "fatima.ali", renderer.directory)]
    blocks = slack_render.fitted_blocks(describe(renderer, "queue", offers=offered, queues=[("beroende", cases)],
                                                 ages={c.ref: "1 dag" for c in cases}, slot=None))
    assert blocks is not None and len(blocks) <= 50
    assert len(buttons(blocks)) == 20


# The booking forms' participant fields at their largest: 100 people, every external role.
PARTICIPANTS: dict[str, Any] = {"people": [(f"p{i}", "P" * 80) for i in range(100)],
                                "initial_people": [("p1", "P" * 80)],
                                "roles": [(f"r{i}", "Roll") for i in range(8)]}


@pytest.mark.parametrize(
    ("template", "extra"),
    [
        ("slack_request", {"units": [("beroende", "Beroendemottagningen Åstad")], "all_units": [("a", "A")],
                           "contact": "Maria Sand", "valid_until": "2027-02-21", "default_days": 90,
                           "people": [("maria.sand", "Maria Sand")], "requester": "maria.sand"}),
        ("slack_renew", {"units": [("a", "A")], "today": "2026-11-23", "recorder": "maria.sand",
                         "people": [("maria.sand", "Maria Sand")]}),
        ("slack_withdraw", {"units": [("psykiatri", "Allmänpsykiatriska mottagningen Åstad")]}),
        ("slack_assign", {"staff": [("linnea.fors", "Linnea Fors")]}),
        ("slack_book", {"units": [("a", "A"), ("b", "B")], "initial_units": [("a", "A")], "today": "2026-11-23",
                        "tz": "Europe/Stockholm", "suggested": None, **PARTICIPANTS}),
        ("slack_book", {"units": [("a", "A")], "initial_units": [], "today": "2026-11-23", "tz": "Europe/Stockholm",
                        "suggested": {"date": "2026-11-24", "time": "09:00", "text": "Förslag: " + "x" * 5000},
                        "people": [], "initial_people": [], "roles": [("narstaende", "närstående")]}),
        ("slack_hold_now", {"units": [("a", "A")], "initial_units": [], **PARTICIPANTS}),
        ("slack_appoint", {"people": [(f"p{i}", "P" * 80) for i in range(100)]}),
        ("slack_outcome", {}),
        ("slack_follow_up", {"people": [("linnea.fors", "Linnea Fors")], "today": "2026-11-23"}),
        ("slack_close", {}),
        ("slack_info", {"text": "x" * 5000}),
    ],
)
def test_modals_respect_slack_limits(renderer: Renderer, template: str, extra: dict[str, Any]) -> None:
    view = render_view(renderer, template, case=case(8, CaseState.ACKNOWLEDGED), **extra)
    assert view["type"] == "modal"
    for key in ("title", "submit", "close"):
        if view.get(key):
            assert len(view[key]["text"]) <= 24, (template, key)
    assert len(view.get("private_metadata", "")) <= 3000
    assert len(view["blocks"]) <= 100
    for block in view["blocks"]:
        if block["type"] == "input":
            assert block["element"]["action_id"] == "v"

"""Free text typed by a user never becomes Slack markup (mentions, links) or terminal control sequences."""

from __future__ import annotations

import io
import shutil
from datetime import date
from pathlib import Path
from typing import Any, ClassVar

import pytest

from bot.cases import offers
from bot.cases.models import Case, CaseState, CloseReason
from bot.channels.console import ConsoleSender, print_message
from bot.channels.slack import render as slack_render
from bot.channels.slack.home import HomeData, home_view
from bot.channels.slack.sender import SlackSender
from bot.channels.slack.views import render_blocks, render_view
from bot.channels.terminal import neutralise
from bot.config import DEFAULT_DIRECTORY
from bot.directory import load_directory
from bot.messages.describe import describe
from bot.messages.model import Offer
from bot.outbox import OutboxMessage
from bot.rendering import TEMPLATE_DIR, Renderer
from tests.unit.test_slack_home import NOW, case

HOSTILE = "Hej <!channel> <!here> <@U0ADMIN> <https://evil.example|Inloggning> & <#C123>"
ESCAPED = ("Hej &lt;!channel&gt; &lt;!here&gt; &lt;@U0ADMIN&gt; &lt;https://evil.example|Inloggning&gt; &amp; "
           "&lt;#C123&gt;")
TERMINAL = "man\x1b[2J\x1b[H 45\x1b]0;owned\x07 år\u202e gpj.exe\x07\x00\x9b31m"


@pytest.fixture(scope="module")
def renderer() -> Renderer:
    return Renderer(load_directory(DEFAULT_DIRECTORY))


def text_objects(node: Any, kind: str) -> list[str]:
    """Every text of the text objects of `kind` (plain_text or mrkdwn) in a Block Kit structure."""
    found: list[str] = []
    if isinstance(node, dict):
        if node.get("type") == kind and isinstance(node.get("text"), str):
            found.append(node["text"])
        for value in node.values():
            found += text_objects(value, kind)
    elif isinstance(node, list):
        for item in node:
            found += text_objects(item, kind)
    return found


def no_live_markup(mrkdwn: str) -> bool:
    return "<" not in mrkdwn and ">" not in mrkdwn


# --- Slack: messages ------------------------------------------------------------------------------------
def test_message_text_is_escaped_and_plain_text_blocks_are_not(renderer: Renderer) -> None:
    c = case(3, CaseState.ASSIGNED, brief=HOSTILE, contact=HOSTILE)
    ctx: dict[str, Any] = {"case": c, "recipient": "fatima.ali", "distributors": ["fatima.ali"],
                           "next_slot": "tis 24 nov 2026 kl. 09:00"}
    payload = slack_render.payload(describe(renderer, "urgent_request", offers=(Offer("assign", c.ref),), **ctx))
    assert ESCAPED in payload["text"] and "<!channel>" not in payload["text"]
    assert "/fördela" not in payload["text"]  # a Slack user gets the button, not the console command
    plain = " ".join(text_objects(payload["blocks"], "plain_text"))
    assert HOSTILE in plain and "&lt;" not in plain and "&amp;" not in plain  # shown exactly as typed


STATES = [CaseState.ASSIGNED, CaseState.ACKNOWLEDGED, CaseState.MEETING_BOOKED, CaseState.FOLLOW_UP,
          CaseState.CLOSED]
LAYOUTS = ("case_filed", "urgent_request", "assigned_to_you", "meeting_booked", "meeting_no_show",
           "outcome_recorded", "case_closed", "action_done", "escalation", "follow_up_assigned",
           "consent_expired", "reminder_consent_expiring", "reminder_follow_up")
DUE = date(2026, 12, 14)


def reminder(c: Case, kind: str, **over: Any) -> dict[str, Any]:
    """What bot/reminders/messaging.py passes with a timer's message."""
    return {"ref": c.ref, "kind": kind, "meeting_at": c.meeting_at, "units": c.meeting_units,
            "until": c.consent_valid_until or DUE, "number": 1, "due": DUE, "on_the_day": False,
            "consent_scope": c.consent_scope, "waiting_until": c.waiting_until, "children": None,
            "may_renew": True, "requester": c.requester_id, **over}


def layout_context(name: str, c: Case) -> dict[str, Any]:
    """The context the code that queues `name` passes beyond the common one (the free text is hostile)."""
    if name == "escalation":  # bot/ladder/messaging.py, for an overdue follow-up shown with its text
        return {"item_id": 1, "ref": c.ref, "kind": "follow_up", "since": NOW, "rung_title": "Enhetschef",
                "not_answered": ["linnea.fors"], "skipped": [], "top": True, "draft_id": None, "unit": "beroende",
                "standing_in_for": [], "task": {"number": 1, "owner": "linnea.fors", "due": DUE, "proposed": False},
                "what": HOSTILE}
    if name == "follow_up_assigned":  # bot/cases/messaging.py
        return {"due": DUE, "what": HOSTILE}
    if name in ("consent_expired", "reminder_consent_expiring"):
        return reminder(c, name)
    if name == "reminder_follow_up":
        return reminder(c, "follow_up_before")
    return {}


def layout_states(name: str) -> list[CaseState]:
    return [CaseState.CLOSED] if name == "case_closed" else STATES


@pytest.mark.parametrize("name", LAYOUTS)
def test_every_message_layout_escapes_mrkdwn_and_its_text(renderer: Renderer, name: str) -> None:
    """Every layout is rendered (no layout may be skipped: issue #23 item 12), in every state it is sent in."""
    for state in layout_states(name):
        c = case(7, state, brief=HOSTILE, contact=HOSTILE, meeting_place=HOSTILE, other_assignee=HOSTILE,
                 closed_reason=CloseReason.COMPLETED if state is CaseState.CLOSED else None)
        ctx: dict[str, Any] = {"case": c, "recipient": "linnea.fors", "actor": "linnea.fors",
                               "distributors": ["fatima.ali"], "next_slot": "tis 24 nov 2026 kl. 09:00",
                               "rebooked": False, "outside_consent": [], "missed_at": NOW, "action": "acknowledge",
                               **layout_context(name, c)}
        message = describe(renderer, name, offers=offers.for_message(name, c, "linnea.fors", renderer.directory),
                           **ctx)
        payload = slack_render.payload(message)
        assert no_live_markup(payload["text"]), name
        mrkdwn = text_objects(payload.get("blocks"), "mrkdwn")
        plain = text_objects(payload.get("blocks"), "plain_text")
        assert all(no_live_markup(t) for t in mrkdwn), name
        assert not any("&lt;" in t or "&amp;" in t for t in plain), name
        if name in ("escalation", "follow_up_assigned"):  # they show free text: it is there, escaped or plain
            assert any(ESCAPED in t for t in [payload["text"], *mrkdwn]) or any(HOSTILE in t for t in plain), name


def test_a_new_template_is_escaped_without_its_author_doing_anything(tmp_path: Path) -> None:
    shutil.copy(TEMPLATE_DIR / "_labels.j2", tmp_path / "_labels.j2")
    (tmp_path / "note.blocks.json.j2").write_text(
        '[{"type": "section", "text": {"type": "mrkdwn", "text": {{ ("*Obs:* " ~ brief) | json }}}},'
        ' {"type": "context", "elements": [{"type": "mrkdwn", "text": {{ brief | json }}}]}]')
    (tmp_path / "note.view.json.j2").write_text(
        '{"type": "modal", "title": {"type": "plain_text", "text": "Obs"}, "blocks": '
        '[{"type": "section", "text": {"type": "mrkdwn", "text": {{ brief | json }}},'
        '  "fields": [{"type": "plain_text", "text": {{ brief | json }}}]}]}')
    renderer = Renderer(load_directory(DEFAULT_DIRECTORY), template_dir=tmp_path)
    blocks = render_blocks(renderer, "note", brief=HOSTILE)
    assert blocks is not None
    assert blocks[0]["text"]["text"] == "*Obs:* " + ESCAPED  # Slack's bold survives
    assert blocks[1]["elements"][0]["text"] == ESCAPED
    view = render_view(renderer, "note", brief=HOSTILE)
    assert view["blocks"][0]["text"]["text"] == ESCAPED
    assert view["blocks"][0]["fields"][0]["text"] == HOSTILE  # plain_text: as typed


async def test_sender_posts_escaped_text() -> None:
    class Client:
        kwargs: ClassVar[dict[str, Any]] = {}

        async def chat_postMessage(self, **kwargs: Any) -> dict[str, Any]:
            Client.kwargs = kwargs
            return {"ok": True, "ts": "1.1", "channel": "D1"}

    class Identity:
        async def slack_id_for(self, person_id: str) -> str:
            return "U1"

    message = OutboxMessage(id=1, recipient_id="maria.sand", channel="slack", template="x", text=HOSTILE,
                            blocks=None, case_ref=None, urgent=False, attempts=0)
    await SlackSender(Client(), Identity()).send(message)  # type: ignore[arg-type]
    assert Client.kwargs["text"] == ESCAPED


async def test_ephemeral_replies_are_escaped() -> None:
    from handlers.slack.common import reply

    class Client:
        kwargs: ClassVar[dict[str, Any]] = {}

        async def chat_postEphemeral(self, **kwargs: Any) -> dict[str, Any]:
            Client.kwargs = kwargs
            return {"ok": True}

    await reply(None, Client(), user_id="U1", text=HOSTILE, channel_id="C1")  # type: ignore[arg-type]
    assert Client.kwargs["text"] == ESCAPED


# --- Slack: views -----------------------------------------------------------------------------------------
def test_modals_and_home_show_free_text_as_typed(renderer: Renderer) -> None:
    c = case(8, brief=HOSTILE)
    views = [
        render_view(renderer, "slack_assign", case=c, show_brief=True, staff=[("linnea.fors", HOSTILE)]),
        render_view(renderer, "slack_info", text=HOSTILE),
        render_view(renderer, "slack_close", case=c),
        render_view(renderer, "slack_request", units=[("x", HOSTILE)], all_units=[("x", HOSTILE)], contact=HOSTILE,
                      valid_until="2027-02-21", default_days=90, people=[("maria.sand", "Maria Sand")],
                         requester="maria.sand"),
        home_view(renderer, HomeData(person_id="fatima.ali", now=NOW, queues=[("beroende", [c])],
                                     requests=[c], cases=[c])),
    ]
    for view in views:
        assert all(no_live_markup(t) for t in text_objects(view, "mrkdwn"))
        assert not any("&lt;" in t or "&amp;" in t for t in text_objects(view, "plain_text"))
    assert HOSTILE in views[0]["blocks"][0]["text"]["text"]
    assert views[1]["blocks"][0]["text"]["text"] == HOSTILE


# --- console ------------------------------------------------------------------------------------------------
def test_console_neutralises_escape_sequences_and_bidi_overrides() -> None:
    out = io.StringIO()
    print_message(out, "maria.sand", f"Kort: {TERMINAL}\nrad två\rskriver över")
    printed = out.getvalue()
    assert "\x1b" not in printed and "\u202e" not in printed and "\x07" not in printed and "\x00" not in printed
    assert "\x9b" not in printed and "\r" not in printed
    assert printed.startswith("→ @maria.sand: Kort: man 45 år gpj.exe")
    assert printed.splitlines()[1:] == ["  rad två", "  skriver över"]  # a CR cannot overwrite a line


async def test_console_sender_prints_messages_neutralised() -> None:
    out = io.StringIO()
    message = OutboxMessage(id=1, recipient_id="maria.sand", channel="console", template="x", text=TERMINAL,
                            blocks=None, case_ref=None, urgent=False, attempts=0)
    await ConsoleSender(out).send(message)
    assert out.getvalue() == f"→ @maria.sand: {neutralise(TERMINAL)}\n"
    assert "\x1b" not in out.getvalue()


def test_neutralise_keeps_ordinary_text() -> None:
    text = "Man, 45 år – ”citat” <b> & 100 % \t tab\nny rad: åäö ÅÄÖ é ü 😀"
    assert neutralise(text) == text

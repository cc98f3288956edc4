"""A sweep's batch describes a message to several people about the same thing once (bot/messages/once.py)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from bot.config import DEFAULT_DIRECTORY
from bot.directory import load_directory
from bot.messages import describe as describing
from bot.messages import once
from bot.messages.describe import describe
from bot.messages.model import Message, Offer
from bot.rendering import Renderer

SINCE = datetime(2026, 11, 23, 9, 0, tzinfo=ZoneInfo("Europe/Stockholm"))


@pytest.fixture
def renderer() -> Renderer:
    return Renderer(load_directory(DEFAULT_DIRECTORY))


@pytest.fixture
def rendered(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The kinds actually rendered (the memo's misses)."""
    calls: list[str] = []
    real = describing._describe

    def spy(renderer: Renderer, kind: str, /, **kw: Any) -> Message:
        calls.append(kind)
        return real(renderer, kind, **kw)

    monkeypatch.setattr(describing, "_describe", spy)
    return calls


def escalation(recipient: str, **more: Any) -> dict[str, Any]:
    return {"recipient": recipient, "item_id": 7, "ref": "GFI-2026-0001", "kind": "acknowledgement", "since": SINCE,
            "rung_title": "manager", "not_answered": ["linnea.fors"], "skipped": [], "top": False, "draft_id": None,
            "unit": "soc-norr", "standing_in_for": [], **more}


def test_the_same_message_to_several_people_is_rendered_once_each_with_its_own_offers(
    renderer: Renderer, rendered: list[str]
) -> None:
    people = ["anna.lind", "sara.holm", "jonas.sjo"]
    alone = [describe(renderer, "escalation", offers=(Offer("take_over", "GFI-2026-0001", 7, p == "anna.lind"),),
                      case_ref="GFI-2026-0001", **escalation(p)) for p in people]
    rendered.clear()
    with once.described_once():
        shared = [describe(renderer, "escalation", offers=(Offer("take_over", "GFI-2026-0001", 7, p == "anna.lind"),),
                           case_ref="GFI-2026-0001", **escalation(p)) for p in people]
    assert rendered == ["escalation"]
    assert shared == alone  # the same messages, offers included
    assert [m.offers[0].primary for m in shared] == [True, False, False]
    assert shared[0].extra is not shared[1].extra


def test_a_context_that_differs_in_anything_but_the_recipient_is_rendered_again(
    renderer: Renderer, rendered: list[str]
) -> None:
    with once.described_once():
        first = describe(renderer, "escalation", **escalation("anna.lind"))
        stand_in = describe(renderer, "escalation", **escalation("sara.holm", standing_in_for=["anna.lind"]))
        top = describe(renderer, "escalation", **escalation("jonas.sjo", top=True))
        other_ref = describe(renderer, "escalation", **escalation("jonas.sjo", ref="GFI-2026-0002"))
        # values equal in Python but rendered differently: 1 and True, one instant in two zones
        one = describe(renderer, "escalation", **escalation("anna.lind", draft_id=1, top=True))
        true = describe(renderer, "escalation", **escalation("anna.lind", draft_id=True, top=True))
        utc = describe(renderer, "escalation", **escalation("anna.lind", since=SINCE.astimezone(UTC)))
    assert len(rendered) == 7
    assert "ersättare" in "\n".join(ln.text for ln in stand_in.lines)
    assert stand_in != first and top != first and other_ref != first
    key = once.key_of
    assert key(renderer.env, "escalation", None, escalation("a", draft_id=1)) != key(
        renderer.env, "escalation", None, escalation("a", draft_id=True))
    assert key(renderer.env, "escalation", None, escalation("a", since=SINCE.astimezone(UTC))) != key(
        renderer.env, "escalation", None, escalation("a"))
    assert one.title and true.title and utc.title


def test_a_template_that_reads_its_recipient_is_rendered_for_each(renderer: Renderer, rendered: list[str]) -> None:
    assert not once.reads_recipient(renderer.env, "escalation")
    assert not once.reads_recipient(renderer.env, "reminder_consent_expiring")
    assert once.reads_recipient(renderer.env, "follow_up_accepted")  # "du" to the owner
    assert once.reads_recipient(renderer.env, "no_such_kind")  # unsure: not shared
    ctx = {"actor": "anna.lind", "number": 1, "case": None, "owner": "linnea.fors", "due": SINCE.date()}
    with once.described_once():
        keys = [once.key_of(renderer.env, "follow_up_accepted", "GFI-2026-0001", {**ctx, "recipient": p})
                for p in ("linnea.fors", "anna.lind")]
    assert keys[0] != keys[1]


def test_a_context_holding_a_case_is_never_shared(renderer: Renderer, rendered: list[str]) -> None:
    """Every message that may show a case's free text has the case in its context (the outbox's check reads it
    there): such a message is described for each recipient, never handed out from the memo."""
    case = object()  # a Case, or any object the memo does not compare
    assert once.key_of(renderer.env, "escalation", "GFI-2026-0001",
                       escalation("anna.lind", what="Ring upp", case=case)) is None
    with once.described_once():
        for p in ("anna.lind", "sara.holm"):
            describe(renderer, "escalation", **escalation(p, task={"number": 1, "owner": p, "due": SINCE.date(),
                                                                     "proposed": False}, what="Ring upp", case=case))
    assert rendered == ["escalation", "escalation"]


def test_outside_a_pass_nothing_is_remembered(renderer: Renderer, rendered: list[str]) -> None:
    describe(renderer, "escalation", **escalation("anna.lind"))
    describe(renderer, "escalation", **escalation("sara.holm"))
    with once.described_once():
        describe(renderer, "escalation", **escalation("anna.lind"))
    with once.described_once():  # a new pass starts empty
        describe(renderer, "escalation", **escalation("anna.lind"))
    assert rendered == ["escalation"] * 4 and not once.active()

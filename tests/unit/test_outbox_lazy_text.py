"""`OutboxMessage.from_row` renders the plain text of a described message only when a channel asks for it (the
console, e-mail's fallback): a Slack or Teams row renders its own from the stored message, and every row built the
plain text before, read or not. Same output when asked."""

from __future__ import annotations

import json
from typing import Any

import pytest

from bot import outbox
from bot.core import Core
from bot.messages.model import Message
from bot.messages.text import plain_text
from tests.timekit import assigned_case, outbox_rows


@pytest.mark.parametrize("engine", ["sqlite", "postgresql"])
async def test_the_plain_text_is_rendered_when_first_read_and_only_then(
    core: Core, monkeypatch: pytest.MonkeyPatch,
) -> None:
    await assigned_case(core)
    rows = await outbox_rows(core)
    assert rows and all(r["message"] for r in rows)
    rendered: list[Message] = []

    def counting(message: Message) -> str:
        rendered.append(message)
        return plain_text(message)

    monkeypatch.setattr(outbox, "plain_text", counting)
    messages = [outbox.OutboxMessage.from_row(r) for r in rows]
    assert rendered == []  # building the rows rendered nothing
    texts = [m.text for m in messages]
    assert texts == [plain_text(Message.from_json(json.loads(r["message"]))) for r in rows]  # the same text
    assert [m.text for m in messages] == texts and len(rendered) == len(rows)  # rendered once each


def test_a_row_from_before_messages_were_described_keeps_its_stored_text() -> None:
    row: dict[str, Any] = {"id": 1, "recipient_id": "maria.sand", "channel": "console", "template": "case_filed",
                           "text": "Din GFI-förfrågan är registrerad.", "blocks": None, "case_ref": None,
                           "urgent": 0, "attempts": 0, "message": None}
    assert outbox.OutboxMessage.from_row(row).text == "Din GFI-förfrågan är registrerad."

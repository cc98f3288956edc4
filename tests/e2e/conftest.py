"""Fixtures for the end-to-end tests."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.clock import FrozenClock
from tests.fakes.slack_bot import SlackBot, running_bot


@pytest.fixture
async def bot(tmp_path: Path, clock: FrozenClock, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[SlackBot]:
    """The Bolt app served on 127.0.0.1, talking to a local fake Slack Web API (single-workspace mode)."""
    monkeypatch.delenv("SLACK_CLIENT_ID", raising=False)  # both set would switch Bolt to OAuth
    monkeypatch.delenv("SLACK_CLIENT_SECRET", raising=False)
    async with running_bot(tmp_path, clock) as running:
        yield running

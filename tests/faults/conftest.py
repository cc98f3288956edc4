"""Fixtures of the fault suite: the Slack app and the Teams channel served over real HTTP against their fakes."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.clock import FrozenClock
from tests.fakes.slack_bot import SlackBot, running_bot
from tests.fakes.teams_bot import TeamsBot, running_teams


@pytest.fixture
async def slack(tmp_path: Path, clock: FrozenClock, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[SlackBot]:
    """The Bolt app behind the bot's own HTTP front (`build_web_app`), against the fake Slack Web API."""
    monkeypatch.delenv("SLACK_CLIENT_ID", raising=False)  # both set would switch Bolt to OAuth
    monkeypatch.delenv("SLACK_CLIENT_SECRET", raising=False)
    async with running_bot(tmp_path, clock) as running:
        yield running


@pytest.fixture
async def teams(tmp_path: Path, clock: FrozenClock) -> AsyncIterator[TeamsBot]:
    """`POST /api/messages` with the real token gate, against the fake Bot Connector and a local key issuer."""
    async with running_teams(tmp_path, clock) as running:
        yield running

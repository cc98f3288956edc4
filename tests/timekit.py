"""Helpers for time-driven tests: step the frozen clock, tick, and note when each message went out."""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml

from bot.cases.models import Case
from bot.cases.service import GfiRequest
from bot.clock import FrozenClock
from bot.config import DEFAULT_DIRECTORY
from bot.core import Core
from bot.directory import Directory, parse_directory
from tests.conftest import STOCKHOLM, RecordingSender


@dataclass(frozen=True)
class Stamped:
    at: datetime  # local Stockholm time of the tick that delivered it
    recipient: str
    template: str
    text: str
    case_ref: str | None


async def advance(
    core: Core, clock: FrozenClock, sender: RecordingSender, to: datetime, step: timedelta = timedelta(minutes=15)
) -> list[Stamped]:
    """Tick every `step` up to and including `to`; return what was delivered, stamped with the tick time."""
    out: list[Stamped] = []
    while True:
        nxt = min(clock.now() + step, to)
        clock.set(nxt)
        before = len(sender.sent)
        await core.tick()
        for s in sender.sent[before:]:
            out.append(Stamped(nxt.astimezone(STOCKHOLM), s.recipient, s.template, s.text, s.case_ref))
        if nxt >= to:
            return out


def times(stamped: list[Stamped], template: str) -> list[tuple[str, str]]:
    """[(recipient, 'YYYY-MM-DDTHH:MM')] of one template, in delivery order."""
    return [(s.recipient, s.at.strftime("%Y-%m-%dT%H:%M")) for s in stamped if s.template == template]


def form(**overrides: Any) -> GfiRequest:
    data: dict[str, Any] = {
        "target_unit": "beroende",
        "case_type": "ny-en",
        "brief": "Man, 45 år, alkohol, vill veta vad beroendemottagningen kan erbjuda.",
        "consent_confirmed": True,
        "children": "nej",
    }
    data.update(overrides)
    return GfiRequest(**data)


async def assigned_case(core: Core, **overrides: Any) -> Case:
    """maria.sand (soc-norr) asks beroende; fatima.ali assigns linnea.fors."""
    case = await core.cases.request("maria.sand", form(**overrides))
    return await core.cases.assign("fatima.ali", case.ref, ["linnea.fors"])


def directory_with(absent: tuple[str, ...] = (), **unit_changes: dict[str, Any]) -> Directory:
    """The example directory with some people absent and some unit fields replaced."""
    raw = yaml.safe_load(Path(DEFAULT_DIRECTORY).read_text(encoding="utf-8"))
    for person in raw["people"]:
        if person["id"] in absent:
            person["absent"] = True
    for unit in raw["units"]:
        unit.update(unit_changes.get(unit["id"].replace("-", "_"), {}))
    return parse_directory(raw, Path(DEFAULT_DIRECTORY))


async def outbox_rows(core: Core, template: str | None = None) -> list[dict[str, Any]]:
    async with core.db.transaction() as tx:
        if template is None:
            return await tx.fetchall("SELECT * FROM outbox ORDER BY id")
        return await tx.fetchall("SELECT * FROM outbox WHERE template = ? ORDER BY id", (template,))


def slack_blocks(row: dict[str, Any]) -> list[dict[str, Any]]:
    """The Block Kit the Slack sender posts for an outbox row (rendered from its stored message)."""
    from bot.channels.slack import render
    from bot.messages.model import Message

    return render.fitted_blocks(Message.from_json(json.loads(row["message"])))


def describe_threads(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The names of the threads the outbox describes (renders) messages on, from now on: the list fills as
    messages are described."""
    import bot.outbox

    threads: list[str] = []
    describe = bot.outbox.describe

    def spy(*args: Any, **kwargs: Any) -> Any:
        threads.append(threading.current_thread().name)
        return describe(*args, **kwargs)

    monkeypatch.setattr(bot.outbox, "describe", spy)
    return threads

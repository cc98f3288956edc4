"""CPU work over 5 ms per call runs off the event loop (issue #21 item 5; bench/bench_loop.py lists the steps):
the Homes' rendering (Slack view, Teams card), the Teams queue card, the journal's text, the statistics'
figures, and a directory reload takes the tables the reload's thread built instead of building them again."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pytest

from bot.config import DEFAULT_DIRECTORY
from bot.core import Core
from bot.directory.loading import load_directory
from tests.unit.test_home_refresh import FakeClient, refresher
from tests.unit.test_teams_handlers import assigned, context_of


def on_threads(monkeypatch: pytest.MonkeyPatch, module: Any, name: str) -> list[bool]:
    """Record, for each call of `module.name`, whether it ran off the event loop's thread."""
    original: Callable[..., Any] = getattr(module, name)
    off: list[bool] = []

    def recorded(*args: Any, **kwargs: Any) -> Any:
        off.append(threading.current_thread() is not threading.main_thread())
        return original(*args, **kwargs)

    monkeypatch.setattr(module, name, recorded)
    return off


async def test_the_slack_home_is_rendered_off_the_loop(core: Core, monkeypatch: pytest.MonkeyPatch) -> None:
    from bot.channels.slack import context

    off = on_threads(monkeypatch, context, "home_view")
    client = FakeClient()
    assert await refresher(core, client).publish("sara.holm")
    assert off == [True] and client.published == ["U-sara.holm"]


async def test_the_teams_home_and_queue_cards_are_built_off_the_loop(core: Core,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    from bot.channels.teams import home as teams_home
    from handlers.teams import commands, home

    homes = on_threads(monkeypatch, teams_home, "home_card")
    queues = on_threads(monkeypatch, commands, "_queue_body")
    await home.home_card(context_of(core, "fatima.ali"), "fatima.ali", ["29:x"])
    await commands.queue_card(context_of(core, "fatima.ali"), "fatima.ali")
    assert homes == [True] and queues and all(queues)


async def test_the_journal_and_the_statistics_are_computed_off_the_loop(
    core: Core, monkeypatch: pytest.MonkeyPatch
) -> None:
    from bot.journal import journal_for
    from bot.stats import report
    from bot.stats.service import last_twelve_months

    ref = await assigned(core)
    renders = on_threads(monkeypatch, core.renderer, "render")
    await journal_for(core.db, core.cases.load, core.directory, core.renderer, person_id="linnea.fors", ref=ref,
                      now=core.clock.now(), channel="console")
    assert renders == [True]
    figures = on_threads(monkeypatch, report.rollup, "report")
    start, end = last_twelve_months(core.clock.now().date())
    await report.build_report(core.db, core.directory, core.calendar, core.settings.timezone, start, end)
    assert figures == [True]


def test_a_reload_takes_the_tables_the_reload_thread_built() -> None:
    directory = load_directory(DEFAULT_DIRECTORY)
    absences = directory.absences
    new = load_directory(DEFAULT_DIRECTORY)
    before = directory.tables
    replaced = directory.replace(new)
    assert replaced["tables"] is before  # handed back, for the caller to free on a thread
    assert directory.people is new.people and directory.units is new.units and directory.data is new.data
    assert directory.absences is absences  # the absences registered in the bot stay

"""The Home refresh is debounced: many changes to one person's cases within the window → one publish, a few
people at a time, in the background (the clock is moved, nothing sleeps)."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any, cast

import pytest
from slack_sdk.web.async_client import AsyncWebClient

from bot.channels.slack.context import HomeRefresher
from bot.channels.slack.identity import SlackIdentity
from bot.clock import FrozenClock
from bot.core import Core
from tests.timekit import form


class FakeIdentity:
    async def slack_id_for(self, person_id: str) -> str:
        return f"U-{person_id}"


class FakeClient:
    """Records views.publish."""

    def __init__(self) -> None:
        self.published: list[str] = []

    async def views_publish(self, *, user_id: str, view: dict[str, Any]) -> None:
        self.published.append(user_id)


def refresher(core: Core, client: FakeClient) -> HomeRefresher:
    homes = HomeRefresher(core, cast(SlackIdentity, FakeIdentity()), cast(AsyncWebClient, client))
    homes.window = 2.0
    return homes


async def test_many_changes_within_the_window_publish_once(core: Core, clock: FrozenClock) -> None:
    client = FakeClient()
    homes = refresher(core, client)
    core.cases.hooks.append(homes)
    case = await core.cases.request("maria.sand", form())
    clock.advance(timedelta(seconds=1))
    await core.cases.assign("fatima.ali", case.ref, ["linnea.fors"])
    clock.advance(timedelta(milliseconds=500))
    await core.cases.acknowledge("linnea.fors", case.ref)
    assert await homes.flush() == 0  # the window (2 s from the first change) has not passed
    assert client.published == []
    clock.advance(timedelta(milliseconds=500))  # 2 s after the request: its people, once each
    assert await homes.flush() == 3
    assert sorted(client.published) == ["U-fatima.ali", "U-gustav.lund", "U-maria.sand"]
    clock.advance(timedelta(seconds=1))  # 2 s after the assignment first named the assignee
    assert await homes.flush() == 1
    assert await homes.flush() == 0  # nothing more: three changes, each person published once
    assert sorted(client.published) == ["U-fatima.ali", "U-gustav.lund", "U-linnea.fors", "U-maria.sand"]


async def test_a_change_after_the_refresh_is_published_again(core: Core, clock: FrozenClock) -> None:
    client = FakeClient()
    homes = refresher(core, client)
    homes.note(["maria.sand"])
    clock.advance(timedelta(seconds=2))
    await homes.flush()
    homes.note(["maria.sand"])
    clock.advance(timedelta(seconds=2))
    await homes.flush()
    assert client.published == ["U-maria.sand", "U-maria.sand"]


async def test_at_most_a_few_home_tabs_are_published_at_once(core: Core, clock: FrozenClock) -> None:
    gate, started = asyncio.Event(), asyncio.Event()
    homes = refresher(core, FakeClient())
    running, most, done = 0, 0, []

    async def publish(person_id: str, slack_user_id: str | None = None) -> bool:
        nonlocal running, most
        running += 1
        most = max(most, running)
        started.set()
        await gate.wait()
        running -= 1
        done.append(person_id)
        return True

    homes.publish = publish  # type: ignore[method-assign]
    people = ["maria.sand", "omar.haddad", "anna.lind", "bo.ek", "fatima.ali", "gustav.lund", "linnea.fors"]
    homes.note(people)
    clock.advance(timedelta(seconds=2))
    flushing = asyncio.create_task(homes.flush())
    await started.wait()
    for _ in range(100):
        await asyncio.sleep(0)  # let every publish that may start, start (no time passes)
    assert most == homes.concurrency < len(people)
    gate.set()
    assert await flushing == len(people)
    assert sorted(done) == sorted(people)


async def test_the_background_refresh_runs_outside_the_caller(core: Core, clock: FrozenClock) -> None:
    client = FakeClient()
    tasks: list[asyncio.Task[Any]] = []

    def spawn(coro: Any, name: str) -> asyncio.Task[Any]:
        tasks.append(asyncio.get_running_loop().create_task(coro, name=name))
        return tasks[-1]

    homes = HomeRefresher(core, cast(SlackIdentity, FakeIdentity()), cast(AsyncWebClient, client), spawn)
    homes.window = 0.0
    homes.note(["maria.sand"])
    homes.schedule()
    homes.schedule()  # already running: not started twice
    assert len(tasks) == 1 and client.published == []  # scheduling returns at once
    await asyncio.gather(*tasks)
    assert client.published == ["U-maria.sand"]


async def test_after_the_clock_went_back_the_refresh_waits_one_window_not_the_step(
        core: Core, clock: FrozenClock, monkeypatch: pytest.MonkeyPatch) -> None:
    """Noted on a clock an hour ahead, then the wall clock steps back: the refresh waits at most its window
    (it waited the hour, and a shutdown waited with it; tests/faults/test_clock_jump.py)."""
    client = FakeClient()
    waited: list[float] = []

    async def sleep(seconds: float) -> None:
        waited.append(seconds)

    tasks: list[asyncio.Task[Any]] = []

    def spawn(coro: Any, name: str) -> asyncio.Task[Any]:
        tasks.append(asyncio.get_running_loop().create_task(coro, name=name))
        return tasks[-1]

    homes = HomeRefresher(core, cast(SlackIdentity, FakeIdentity()), cast(AsyncWebClient, client), spawn)
    homes.window = 2.0
    homes.note(["maria.sand"])
    clock.advance(timedelta(hours=-1))
    monkeypatch.setattr(asyncio, "sleep", sleep)
    homes.schedule()
    await asyncio.wait_for(asyncio.gather(*tasks), timeout=10)
    assert waited == [2.0] and client.published == ["U-maria.sand"]

"""A running GFI-boten Slack app against the fake Slack Web API, for the e2e tests (test_slack_*.py)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
from slack_sdk.web.async_client import AsyncWebClient

from bot.channels.slack.app import build_app
from bot.channels.slack.context import SlackContext
from bot.channels.slack.front_door import build_web_app
from bot.channels.slack.identity import SlackIdentity
from bot.channels.slack.sender import SlackSender
from bot.clock import FrozenClock
from bot.config import DEFAULT_DIRECTORY, Settings
from bot.core import Core, open_core
from handlers.slack import register
from tests.fakes.slack_api import FakeSlackAPI, SlackCall, serve_web_app, view_problem
from tests.fakes.slack_signing import (
    app_home_opened_event,
    block_actions_payload,
    event_body,
    interaction_body,
    signed_headers,
    slash_command_body,
    view_submission_payload,
)

SECRET = "gfi-test-signing-secret"
TOKEN = "xoxb-gfi-test"

# Slack user ids from deploy/directory.example.yaml
MARIA = "U01MARIA"  # maria.sand, staff at soc-norr
FATIMA = "U04FATIMA"  # fatima.ali, distributor of beroende
GUSTAV = "U04GUSTAV"  # gustav.lund, deputy distributor of beroende
LINNEA = "U04LINNEA"  # linnea.fors, staff at beroende
JONAS = "U07JONAS"  # jonas.sjo, coordinator


@dataclass
class Reply:
    status: int
    text: str

    def json(self) -> dict[str, Any]:
        return json.loads(self.text) if self.text else {}


@dataclass
class SlackBot:
    """The app under test, the fake Slack, and helpers that play Slack's part over real HTTP."""

    fake: FakeSlackAPI
    core: Core
    ctx: SlackContext
    url: str
    http: aiohttp.ClientSession
    clock: FrozenClock

    async def post(self, body: bytes, secret: str = SECRET, **sign: Any) -> Reply:
        async with self.http.post(self.url, data=body, headers=signed_headers(secret, body, **sign)) as resp:
            reply = Reply(resp.status, await resp.text())
        if reply.text.startswith("{") and isinstance(view := reply.json().get("view"), dict):
            # a view in an ack (response_action update or push) is checked as views.update would check it
            if (problem := view_problem(view)) is not None:
                self.fake.layout_refusals.append(("ack", str(problem)))
        return reply

    async def command(self, user: str, command: str = "/gfi", text: str = "", **kw: Any) -> Reply:
        return await self.post(slash_command_body(command, text, user, **kw))

    async def submit(self, user: str, callback_id: str, values: dict[str, Any], ref: str = "", **kw: Any) -> Reply:
        """Submit a modal; `values` is {block_id: element state} (our modals use action_id "v")."""
        state = {block: {"v": st} for block, st in values.items()}
        payload = view_submission_payload(user, callback_id, state, private_metadata=ref, **kw)
        return await self.post(interaction_body(payload))

    async def click(self, user: str, action_id: str, ref: str, *, home: bool = False, **kw: Any) -> Reply:
        """Click a button in the bot's DM with `user` (or on the Home tab)."""
        if home:
            payload = block_actions_payload(user, action_id, ref, view={"type": "home", "blocks": []}, **kw)
        else:
            payload = block_actions_payload(user, action_id, ref, channel_id=FakeSlackAPI.dm_channel_id(user), **kw)
        return await self.post(interaction_body(payload))

    async def open_home(self, user: str, event_id: str | None = None, **sign: Any) -> Reply:
        return await self.post(event_body(app_home_opened_event(user), event_id=event_id), **sign)

    async def settle(self) -> None:
        """Wait for the work listeners started after their ack (dispatch, Home refresh), and for the listeners
        Bolt itself still runs after acking (e.g. a form opened, then its read logged)."""
        while True:
            await self.ctx.drain()
            listeners = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()
                         and getattr(t.get_coro(), "__qualname__", "").endswith("run_ack_function_asynchronously")]
            if not listeners:
                return
            await asyncio.gather(*listeners, return_exceptions=True)

    async def dm(self, user: str, contains: str, count: int = 1) -> list[SlackCall]:
        """Wait for DMs (chat.postMessage) to `user` whose text contains `contains`."""
        return await self.fake.wait_for(
            "chat.postMessage",
            lambda c: c.params.get("channel") == user and contains in str(c.params.get("text")),
            count=count,
        )

    async def ephemeral(self, user: str, contains: str) -> SlackCall:
        calls = await self.fake.wait_for(
            "chat.postEphemeral", lambda c: c.params.get("user") == user and contains in str(c.params.get("text"))
        )
        return calls[-1]

    async def opened_view(self, callback_id: str, count: int = 1) -> dict[str, Any]:
        calls = await self.fake.wait_for(
            "views.open", lambda c: c.params["view"].get("callback_id") == callback_id, count=count
        )
        return calls[-1].params["view"]

    async def case_state(self, ref: str) -> str:
        return (await self.core.cases.get(ref)).state.value

    async def count(self, sql: str, params: tuple[Any, ...] = ()) -> int:
        async with self.core.db.transaction() as tx:
            return int(await tx.scalar(sql, params))


@asynccontextmanager
async def running_bot(tmp_path: Path, clock: FrozenClock, directory: Path = DEFAULT_DIRECTORY,
                      ) -> AsyncIterator[SlackBot]:
    async with FakeSlackAPI(token=TOKEN) as fake:
        client = AsyncWebClient(token=TOKEN, base_url=fake.base_url)
        sender = SlackSender(client)
        # The clock is frozen here, so one-per-second pacing would hold every second DM for ever;
        # pacing has its own tests (tests/e2e/test_dispatcher_slack.py).
        sender.min_interval = 0.0
        settings = Settings(db_path=tmp_path / "gfi.sqlite3", directory_path=directory, _env_file=None)
        core = await open_core(settings, clock=clock, senders={"slack": sender}, fallback=sender)
        identity = SlackIdentity(core.db, core.directory, client, clock)
        sender.bind(identity)
        ctx = SlackContext(core, client, identity)
        # Likewise the Home refresh's debounce window would never pass: refresh at once (settle() waits for it);
        # the debounce has its own tests (tests/unit/test_home_refresh.py).
        ctx.homes.window = 0.0
        app = build_app(core, client, register=register, signing_secret=SECRET, context=ctx)
        submissions = build_app(core, client, register=register, signing_secret=SECRET, context=ctx, answer_first=True)
        try:
            async with serve_web_app(build_web_app(app, core, SECRET, submissions=submissions)) as base, \
                    aiohttp.ClientSession() as http:
                yield SlackBot(fake, core, ctx, f"{base}/slack/events", http, clock)
                await ctx.drain()
                # Every view and message the test made Slack receive was valid (ids unique, within limits).
                assert not fake.layout_refusals, f"Slack refused layouts: {fake.layout_refusals}"
        finally:
            await ctx.drain()
            await core.close()

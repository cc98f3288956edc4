"""A running GFI-boten Teams channel against the fake Bot Connector, for the e2e tests (test_teams_*.py).

Directory: the example directory with maria.sand (requester, soc-norr), fatima.ali (distributor, beroende) and
linnea.fors (staff, beroende) on Teams; gustav.lund (deputy distributor) stays on Slack (a recording sender).
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web

from bot.channels.teams.app import TeamsChannel, build_teams
from bot.channels.teams.sender import ChatInstaller
from bot.clock import FrozenClock
from bot.config import DEFAULT_DIRECTORY, Settings
from bot.core import Core, open_core
from bot.dispatcher import Sender
from handlers.teams import register
from tests.conftest import RecordingSender
from tests.fakes import card_schema
from tests.fakes.slack_api import serve_web_app
from tests.fakes.teams import (
    APP_ID,
    CARD_TYPE,
    ENTRA_ISSUER,
    ENTRA_V1_ISSUER,
    ISSUER,
    TENANT,
    FakeConnector,
    KeyIssuer,
    LocalConnections,
    LocalTokenProvider,
    activity,
    execute,
    serve_openid,
)

# Teams users: (Teams user id, Entra object id, UPN)
MARIA = ("29:maria", "aad-maria", "maria.sand@astad.example.se")
FATIMA = ("29:fatima", "aad-fatima", "fatima.ali@rsv.example.se")
LINNEA = ("29:linnea", "aad-linnea", "linnea.fors@rsv.example.se")
STRANGER = ("29:stranger", "aad-stranger", "okand@astad.example.se")
ON_TEAMS = {"maria.sand": MARIA, "fatima.ali": FATIMA, "linnea.fors": LINNEA}


def teams_directory(tmp_path: Path, email_people: tuple[str, ...] = ()) -> Path:
    """The example directory with three people on Teams (channel teams, m365_upn set, no Slack id), and
    `email_people` reached by e-mail only."""
    text = DEFAULT_DIRECTORY.read_text(encoding="utf-8")
    for person in email_people:
        text = "\n".join(line.replace("channel: m365", "channel: email") if f"{{id: {person}," in line else line
                         for line in text.splitlines()) + "\n"
    for person, (_, _, upn) in ON_TEAMS.items():
        lines = []
        for line in text.splitlines():
            if line.strip().startswith(f"- {{id: {person},"):
                line = line.replace("}", f", channel: teams, m365_upn: {upn}}}")
                line = line.replace(f"slack_user_id: {line.split('slack_user_id: ')[1].split(',')[0]}, ", "")
            lines.append(line)
        text = "\n".join(lines) + "\n"
    path = tmp_path / "directory.yaml"
    path.write_text(text, encoding="utf-8")
    return path


@dataclass
class Reply:
    status: int
    body: Any

    @property
    def card(self) -> dict[str, Any]:
        """The refreshed card of an Action.Execute answer."""
        return self.body["value"]


@dataclass
class TeamsBot:
    """The bot under test, the fake connector, and helpers that play Teams' part over real HTTP."""

    core: Core
    channel: TeamsChannel
    connector: FakeConnector
    issuer: KeyIssuer
    url: str
    http: aiohttp.ClientSession
    clock: FrozenClock
    slack: RecordingSender
    tokens: LocalTokenProvider
    entra: KeyIssuer | None = None
    ids: dict[str, tuple[str, str, str]] = field(default_factory=lambda: dict(ON_TEAMS))

    async def post(self, body: dict[str, Any] | bytes, *, token: str | None = "", headers: dict[str, str] | None = None,
                   ) -> Reply:
        """POST an activity; `token` "" means a valid token, None no Authorization header."""
        if token == "":
            token = self.issuer.token(service_url=self.connector.url)
        hdrs = {"Content-Type": "application/json", **(headers or {})}
        if token is not None:
            hdrs["Authorization"] = f"Bearer {token}"
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        async with self.http.post(self.url, data=data, headers=hdrs) as resp:
            text = await resp.text()
            try:
                parsed = json.loads(text) if text else None
            except ValueError:
                parsed = text
            if isinstance(parsed, dict) and parsed.get("type") == CARD_TYPE:  # a card answering an invoke
                card_schema.check(parsed.get("value") or {})
            return Reply(resp.status, parsed)

    def activity(self, who: str | tuple[str, str, str], kind: str, **kw: Any) -> dict[str, Any]:
        user, aad, _ = self.ids[who] if isinstance(who, str) else who
        return activity(kind, user=user, aad=aad, service_url=self.connector.url, **kw)

    async def say(self, who: str | tuple[str, str, str], text: str, **kw: Any) -> Reply:
        reply = await self.post(self.activity(who, "message", text=text, **kw))
        await self.settle()
        return reply

    async def act(self, who: str | tuple[str, str, str], verb: str, data: dict[str, Any], **kw: Any) -> Reply:
        body = self.activity(who, "invoke", name="adaptiveCard/action", value=execute(verb, data), **kw)
        reply = await self.post(body)
        await self.settle()
        return reply

    async def settle(self) -> None:
        await self.channel.ctx.drain()
        await self.core.dispatcher.run_once()

    def chat(self, who: str) -> str:
        return f"a:chat-{self.ids[who][0]}"

    async def count(self, sql: str, params: tuple[Any, ...] = ()) -> int:
        async with self.core.db.transaction() as tx:
            return int(await tx.scalar(sql, params))


@asynccontextmanager
async def running_teams(
    tmp_path: Path, clock: FrozenClock, *, installer: ChatInstaller | None = None, email: Sender | None = None,
    db_name: str = "gfi.sqlite3", issuer: KeyIssuer | None = None, connector: FakeConnector | None = None,
    email_people: tuple[str, ...] = (), anonymous: bool = False,
) -> AsyncIterator[TeamsBot]:
    """The bot on the fake connector; `anonymous`: as for Microsoft's Agents Playground (TEAMS_ANONYMOUS=1, no
    Entra app at all), the outbound token provider still counts any token asked for."""
    issuer = issuer or KeyIssuer()
    entra_keys = KeyIssuer(kid="gfi-entra-key")  # the tenant's Entra ID: its own keys, its own metadata
    jwks_runner, trusted = await serve_openid({ISSUER: issuer, ENTRA_ISSUER: entra_keys,
                                               ENTRA_V1_ISSUER: entra_keys})
    connector_owned = connector is None or not connector.url
    connector = connector or FakeConnector(issuer)
    for user, aad, upn in [*ON_TEAMS.values(), STRANGER]:
        connector.members.setdefault(user, {"userPrincipalName": upn, "aadObjectId": aad, "name": user})
    entra: dict[str, Any] = (
        {"TEAMS_ANONYMOUS": True} if anonymous
        else {"TEAMS_APP_ID": APP_ID, "TEAMS_APP_PASSWORD": "not-used-in-tests", "TEAMS_TENANT_ID": TENANT})
    settings = Settings(db_path=tmp_path / db_name, directory_path=teams_directory(tmp_path, email_people),
                        _env_file=None, **entra)
    slack = RecordingSender()
    senders: dict[str, Sender] = {"slack": slack}
    if email is not None:
        senders["email"] = email
    core = await open_core(settings, clock=clock, senders=senders)
    from microsoft_agents.hosting.core.authorization import AgentAuthConfiguration

    tokens = LocalTokenProvider(issuer, AgentAuthConfiguration(client_id=APP_ID, tenant_id=TENANT))
    try:
        async with contextlib.AsyncExitStack() as stack:
            if not connector.url:  # a connector served by the test outlives this bot (restarts)
                connector.url = await stack.enter_async_context(serve_web_app(connector.app())) + "/"
            channel = build_teams(core, settings, register=register, connections=LocalConnections(tokens),
                                  installer=installer, fallback=email, service_url=connector.url,
                                  token_issuers=trusted)
            web_app = web.Application()
            channel.attach(web_app)
            async with serve_web_app(web_app) as base, aiohttp.ClientSession() as http:
                yield TeamsBot(core, channel, connector, issuer, f"{base}/api/messages", http, clock, slack, tokens,
                               entra=entra_keys)
                await channel.ctx.drain()
                assert not connector.violations, f"cards Teams would refuse: {connector.violations}"
    finally:
        await core.close()
        if connector.url and connector_owned:
            connector.url = ""
        await jwks_runner.cleanup()

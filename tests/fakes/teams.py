"""Local stand-ins for Microsoft's side of Teams: token issuers whose OpenID metadata and keys the bot really
fetches (served on 127.0.0.1), a Bot Connector service (the activities' `serviceUrl`), an outbound token
provider (instead of Entra), and helpers that build Teams activities.

`serve_openid` publishes, per issuer, `/<name>/.well-known/openid-configuration` naming the issuer and its
`jwks_uri`, and the keys there; `running_teams` passes the bot these as its trusted issuers
(`build_teams(token_issuers=…)`), so signature, issuer, audience and expiry are checked by the bot's own
validator (bot/channels/teams/tokens.py) against the local keys.
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import jwt
from aiohttp import web
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm
from microsoft_agents.hosting.core.authorization import AgentAuthConfiguration, ClaimsIdentity
from microsoft_agents.hosting.core.authorization.authentication_constants import AuthenticationConstants

from bot.channels.teams import limits
from bot.channels.teams.tokens import TrustedIssuer
from tests.fakes import card_schema

APP_ID = "11111111-2222-3333-4444-555555555555"
TENANT = "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee"
OTHER_TENANT = "99999999-bbbb-cccc-dddd-eeeeeeeeeeee"
CARD_TYPE = "application/vnd.microsoft.card.adaptive"
ISSUER = AuthenticationConstants.AGENTS_SDK_TOKEN_ISSUER  # Bot Framework tokens: iss https://api.botframework.com


class KeyIssuer:
    """An RSA key pair that signs tokens like the Bot Connector service does."""

    def __init__(self, kid: str = "gfi-test-key") -> None:
        self.kid = kid
        self.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)

    def jwks(self) -> dict[str, Any]:
        public = json.loads(RSAAlgorithm.to_jwk(self.key.public_key()))
        return {"keys": [{**public, "kid": self.kid, "use": "sig", "alg": "RS256"}]}

    def token(self, *, aud: str = APP_ID, service_url: str = "", expires_in: int = 3600, kid: str | None = "",
              iss: str = ISSUER, **claims: Any) -> str:
        now = int(time.time())
        payload = {"iss": iss, "aud": aud, "iat": now - 5, "nbf": now - 5, "exp": now + expires_in,
                   "serviceurl": service_url, **claims}
        payload = {k: v for k, v in payload.items() if v is not None}  # a claim given as None is left out
        headers = {} if kid is None else {"kid": kid or self.kid}
        return jwt.encode(payload, self.key, algorithm="RS256", headers=headers)


@dataclass
class Call:
    method: str
    path: str
    body: dict[str, Any]
    auth: str | None


@dataclass
class FakeConnector:
    """The Bot Connector REST API on 127.0.0.1: records every call, answers like the service does.

    `throttle` (count, retry_after) answers that many activity posts with 429 and Retry-After first;
    `members` maps a Teams user id to what `GET …/members/{id}` returns (UPN, e-mail, object id).
    """

    issuer: KeyIssuer
    calls: list[Call] = field(default_factory=list)
    throttle: list[float] = field(default_factory=list)
    members: dict[str, dict[str, Any]] = field(default_factory=dict)
    url: str = ""
    changed: asyncio.Event = field(default_factory=asyncio.Event)
    violations: list[str] = field(default_factory=list)

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self.handle)
        return app

    async def handle(self, request: web.Request) -> web.StreamResponse:
        body: dict[str, Any] = {}
        if request.can_read_body:
            raw = await request.read()
            try:
                body = json.loads(raw)
            except ValueError:
                body = {}
            self.check_cards(raw, body)
        self.calls.append(Call(request.method, request.path, body, request.headers.get("Authorization")))
        self.changed.set()
        parts = request.path.strip("/").split("/")
        if request.method == "GET" and len(parts) == 5 and parts[3] == "members":
            member = self.members.get(parts[4])
            if member is None:
                return web.json_response({"error": {"code": "MemberNotFound"}}, status=404)
            return web.json_response({"id": parts[4], **member})
        if request.method == "GET" and parts[-1].lower() == "pagedmembers":
            return web.json_response({"members": [{"id": k, **v} for k, v in self.members.items()]})
        if request.method == "POST" and parts[-1] == "activities" and self.throttle:
            retry_after = self.throttle.pop(0)
            return web.json_response({"error": {"code": "Throttled"}}, status=429,
                                     headers={"Retry-After": str(int(retry_after))})
        if request.method == "DELETE":
            return web.Response(status=200)
        return web.json_response({"id": f"act-{len(self.calls)}"})

    def check_cards(self, raw: bytes, body: Any) -> None:
        """Every card the bot sends, checked with Microsoft's parser and Teams' limits (tests/fakes/card_schema):
        what is wrong is kept in `violations`, which `running_teams` asserts empty when the test ends."""
        if not isinstance(body, dict) or not body.get("attachments"):
            return
        if len(raw) > limits.CARD_BYTES:
            self.violations.append(f"activity of {len(raw)} bytes: over Teams' {limits.CARD_BYTES}")
        for attachment in body.get("attachments") or []:
            if isinstance(attachment, dict) and attachment.get("contentType") == CARD_TYPE:
                self.violations += card_schema.violations(attachment.get("content") or {})

    def posts(self, conversation: str | None = None) -> list[Call]:
        """Activities the bot posted (replies and proactive messages), optionally in one conversation."""
        return [c for c in self.calls if c.method == "POST" and "/activities" in c.path
                and (conversation is None or f"/conversations/{conversation}/" in c.path + "/")]

    def cards(self, conversation: str | None = None) -> list[dict[str, Any]]:
        return [a["content"] for c in self.posts(conversation) for a in c.body.get("attachments") or []]


def nodes(content: Any) -> Iterator[dict[str, Any]]:
    """Every object on a card (elements, actions, inputs, their data), each before what it holds, in order."""
    if isinstance(content, dict):
        yield content
        for value in content.values():
            yield from nodes(value)
    elif isinstance(content, list):
        for value in content:
            yield from nodes(value)


def card_text(content: dict[str, Any]) -> str:
    """Every text on a card, for assertions."""
    return "\n".join(node[key] for node in nodes(content) for key in ("text", "title", "label")
                     if isinstance(node.get(key), str))


def actions_of(content: dict[str, Any]) -> list[dict[str, Any]]:
    return [node for node in nodes(content) if node.get("type") == "Action.Execute"]


def inputs_of(content: dict[str, Any]) -> list[dict[str, Any]]:
    """The card's inputs (Input.*), in order."""
    return [node for node in nodes(content) if str(node.get("type", "")).startswith("Input.")]


class LocalTokenProvider:
    """Stands in for MSAL: the bot's outbound token, signed by the local issuer (the fake connector sees it)."""

    def __init__(self, issuer: KeyIssuer, config: AgentAuthConfiguration) -> None:
        self.issuer = issuer
        self._config = config
        self.asked = 0

    @property
    def configuration(self) -> AgentAuthConfiguration:
        return self._config

    async def get_access_token(self, resource_url: str, scopes: list[str], force_refresh: bool = False) -> str:
        self.asked += 1
        return self.issuer.token(aud=resource_url)


class LocalConnections:
    """A Connections whose every provider is the local token provider (nothing asks Entra)."""

    def __init__(self, provider: LocalTokenProvider) -> None:
        self.provider = provider

    def get_connection(self, connection_name: str) -> LocalTokenProvider:
        return self.provider

    def get_default_connection(self) -> LocalTokenProvider:
        return self.provider

    def get_token_provider(self, claims_identity: ClaimsIdentity, service_url: str) -> LocalTokenProvider:
        return self.provider

    def get_token_provider_from_activity(self, claims_identity: ClaimsIdentity, activity: Any) -> LocalTokenProvider:
        return self.provider

    def get_default_connection_configuration(self) -> AgentAuthConfiguration:
        return self.provider.configuration


ENTRA_ISSUER = f"https://login.microsoftonline.com/{TENANT}/v2.0"
ENTRA_V1_ISSUER = f"https://sts.windows.net/{TENANT}/"


async def serve_openid(issuers: dict[str, KeyIssuer]) -> tuple[web.AppRunner, list[TrustedIssuer]]:
    """Serve each issuer's OpenID metadata and keys on 127.0.0.1; returns (runner, the bot's trusted issuers).
    `issuers` maps an issuer (the `iss` of its tokens) to the key pair that signs them."""
    app = web.Application()
    names = {f"i{n}": (iss, keys) for n, (iss, keys) in enumerate(issuers.items())}

    async def metadata(request: web.Request) -> web.Response:
        iss, _ = names[request.match_info["name"]]
        base = f"{request.scheme}://{request.host}"
        return web.json_response({"issuer": iss, "jwks_uri": f"{base}/{request.match_info['name']}/keys",
                                  "id_token_signing_alg_values_supported": ["RS256"]})

    async def keys(request: web.Request) -> web.Response:
        return web.json_response(names[request.match_info["name"]][1].jwks())

    app.router.add_get("/{name}/.well-known/openid-configuration", metadata)
    app.router.add_get("/{name}/keys", keys)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    trusted = [TrustedIssuer(iss, f"http://127.0.0.1:{port}/{name}/.well-known/openid-configuration")
               for name, (iss, _) in names.items()]
    return runner, trusted


def activity(kind: str, *, user: str, aad: str, service_url: str, conversation: str | None = None,
             tenant: str = TENANT, text: str | None = None, value: Any = None, name: str | None = None,
             activity_id: str | None = None, **extra: Any) -> dict[str, Any]:
    """A Teams activity from `user` in their personal chat with the bot."""
    body: dict[str, Any] = {
        "type": kind, "id": activity_id or f"a-{uuid.uuid4().hex[:12]}", "channelId": "msteams",
        "serviceUrl": service_url, "timestamp": "2026-11-23T09:00:00Z",
        "from": {"id": user, "aadObjectId": aad, "name": user},
        "recipient": {"id": f"28:{APP_ID}", "name": "GFI-boten"},
        "conversation": {"id": conversation or f"a:chat-{user}", "conversationType": "personal", "tenantId": tenant},
        "channelData": {"tenant": {"id": tenant}},
        **extra,
    }
    if text is not None:
        body["text"] = text
    if value is not None:
        body["value"] = value
    if name is not None:
        body["name"] = name
    return body


def execute(verb: str, data: dict[str, Any], **kw: Any) -> dict[str, Any]:
    """The invoke Teams sends for an Action.Execute (inputs merged into data)."""
    return {"action": {"type": "Action.Execute", "verb": verb, "data": data}, "trigger": "manual"}

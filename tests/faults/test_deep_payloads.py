"""Fault: deeply nested and oversized JSON on every endpoint, past authentication (issue #23, item 4).

Python's JSON parser recurses per level: `[[[…]]]` some thousands deep raised RecursionError, which nothing
caught, and aiohttp answered 500. Each endpoint now bounds size and depth before parsing: 400 for too deep
or not JSON, 413 for too large, never 500, and nothing is stored.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from urllib.parse import urlencode

import pytest

from bot.channels.payload import MAX_BODY_BYTES, MAX_DEPTH, depth_exceeds, loads
from tests.fakes.slack_bot import SlackBot
from tests.fakes.teams_bot import TeamsBot
from tests.faults.test_malformed_payloads import signed
from tests.faults.test_refused_requests import Links, links  # noqa: F401  (the fixture)

DEEP = 100_000


def nested(depth: int, open_: str = "[", close: str = "]") -> str:
    return open_ * depth + close * depth


def deep_event(depth: int) -> bytes:
    return ('{"type": "event_callback", "team_id": "T0GFI", "api_app_id": "A0GFI", "event_id": "Ev1", '
            '"event_time": 1, "event": {"type": "app_mention", "user": "U01MARIA", "text": ' + nested(depth)
            + "}}").encode()


async def post_slack(bot: SlackBot, body: bytes, content_type: str) -> tuple[int, str]:
    async with bot.http.post(bot.url, data=body, headers=signed(body, content_type)) as resp:
        return resp.status, await resp.text()


async def count_everything(core: object) -> int:
    async with core.db.transaction() as tx:  # type: ignore[attr-defined]
        return int(await tx.scalar("SELECT (SELECT COUNT(*) FROM cases) + (SELECT COUNT(*) FROM outbox)"))


@pytest.mark.parametrize("depth", [1_000, DEEP])
async def test_deep_json_on_slack_events_is_400(slack: SlackBot, depth: int) -> None:
    bodies = {
        "event": (deep_event(depth), "application/json"),
        "payload": (urlencode({"payload": nested(depth)}).encode(), "application/x-www-form-urlencoded"),
        "payload-object": (urlencode({"payload": '{"type": "block_actions", "x": ' + nested(depth // 10, "{\"a\":", "}")
                                      + "}"}).encode(), "application/x-www-form-urlencoded"),
    }
    for name, (body, content_type) in bodies.items():
        status, text = await post_slack(slack, body, content_type)
        assert status == 400, (name, status, text[:200])
        assert "Traceback" not in text
    assert slack.fake.calls() == []
    assert await count_everything(slack.core) == 0


async def test_oversized_body_on_slack_events_is_413(slack: SlackBot) -> None:
    body = json.dumps({"type": "event_callback", "pad": "x" * (MAX_BODY_BYTES + 10)}).encode()
    status, _ = await post_slack(slack, body, "application/json")
    assert status == 413


@pytest.mark.parametrize("depth", [1_000, DEEP])
async def test_deep_json_on_api_messages_is_400(teams: TeamsBot, depth: int) -> None:
    activity = teams.activity("maria.sand", "message", text="gfi")
    for body in (nested(depth).encode(),
                 json.dumps(activity)[:-1].encode() + b', "channelData": ' + nested(depth).encode() + b"}"):
        reply = await teams.post(body)
        assert reply.status == 400, (reply.status, str(reply.body)[:200])
    await teams.settle()
    assert teams.connector.posts() == []
    assert await count_everything(teams.core) == 0


async def test_oversized_body_on_api_messages_is_413(teams: TeamsBot) -> None:
    activity = teams.activity("maria.sand", "message", text="x" * (MAX_BODY_BYTES + 10))
    assert (await teams.post(activity)).status == 413


def signed_token(key: bytes, payload: bytes) -> str:
    mac = hmac.new(key, payload, hashlib.sha256).digest()
    return (base64.urlsafe_b64encode(payload).rstrip(b"=").decode() + "."
            + base64.urlsafe_b64encode(mac).rstrip(b"=").decode())


async def test_deep_json_in_a_signed_action_link_is_400(links: Links) -> None:  # noqa: F811
    # the longest request line aiohttp reads is 8190 bytes: about 4,000 levels fit in a token
    for depth in (1_500, 4_000):
        token = signed_token(links.signer.key, nested(depth).encode())
        for method in ("GET", "POST"):
            async with links.http.request(method, f"{links.base}/a/{token}") as resp:
                text = await resp.text()
                assert resp.status == 400, (method, depth, resp.status, text[:200])
                assert "Traceback" not in text


def test_depth_is_counted_outside_strings_only() -> None:
    assert not depth_exceeds(json.dumps({"text": "[" * 1000}))
    assert not depth_exceeds(json.dumps({"text": '\\"' + "[" * 1000}))
    assert depth_exceeds(nested(MAX_DEPTH + 1))
    assert not depth_exceeds(nested(MAX_DEPTH))
    assert loads(nested(MAX_DEPTH)) is not None

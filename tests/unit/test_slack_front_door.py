"""The Slack front door parses a request's body once (issue #21 item 2): the guard's parse is what Bolt and the
request counter get. Bolt still checks the signature over the raw body itself, and it reads the same body as
it would have parsed on its own."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from slack_bolt.async_app import AsyncApp
from slack_bolt.request.internals import parse_body
from slack_sdk.web.async_client import AsyncWebClient

from bot.channels.slack import front_door
from bot.channels.slack.front_door import SLACK_BODY, bolt_endpoint, slack_body
from tests.fakes.slack_api import serve_web_app
from tests.fakes.slack_signing import (
    interaction_body,
    plain_text_state,
    signed_headers,
    slash_command_body,
    view_submission_payload,
)

SECRET = "front-door-secret"
FORM = "application/x-www-form-urlencoded"


def text_of(body: bytes | str) -> str:
    return body.decode() if isinstance(body, bytes) else body


BODIES = [
    text_of(slash_command_body("/gfi", "enhet=beroende", "U1", trigger_id="t1")),
    text_of(interaction_body(view_submission_payload("U1", "gfi_request", {"kort": {"v": plain_text_state("å %&+")}}))),
]


@pytest.mark.parametrize("body", BODIES)
def test_the_guard_parses_as_bolt_does(body: str) -> None:
    assert slack_body(body, FORM) == parse_body(body, FORM)


def app_behind_parse(seen: list[dict[str, Any]]) -> web.Application:
    """Bolt's endpoint behind a middleware that parses as the guard does (no signature check of its own)."""
    bolt = AsyncApp(client=AsyncWebClient(token="xoxb-test", base_url="http://127.0.0.1:9/api/"),
                    signing_secret=SECRET, request_verification_enabled=True, process_before_response=False)

    @bolt.command("/gfi")
    async def command(ack: Any, body: dict[str, Any]) -> None:
        seen.append(body)
        await ack()

    @web.middleware
    async def parse(request: web.Request,
                    handler: Callable[[web.Request], Awaitable[web.StreamResponse]]) -> web.StreamResponse:
        data = slack_body(await request.text(), request.content_type)
        assert data is not None
        request[SLACK_BODY] = data
        return await handler(request)

    web_app = web.Application(middlewares=[parse])
    web_app.router.add_post(front_door.EVENTS_PATH, bolt_endpoint(bolt))
    return web_app


async def test_bolt_refuses_a_wrong_signature_on_a_body_parsed_before_it() -> None:
    seen: list[dict[str, Any]] = []
    body = BODIES[0]
    async with serve_web_app(app_behind_parse(seen)) as base, aiohttp.ClientSession() as http:
        async with http.post(f"{base}{front_door.EVENTS_PATH}", data=body,
                             headers={**signed_headers("not-the-secret", body), "Content-Type": FORM}) as resp:
            assert resp.status == 401
    assert seen == []

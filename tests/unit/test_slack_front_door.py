"""The Slack front door parses a request's body once (issue #21 item 2): the guard's parse is what Bolt and the
request counter get. Bolt still checks the signature over the raw body itself, and it reads the same body as
it would have parsed on its own."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, cast

import aiohttp
import pytest
from aiohttp import web
from slack_bolt.async_app import AsyncApp
from slack_bolt.request.internals import parse_body
from slack_sdk.web.async_client import AsyncWebClient

from bot.channels.slack import front_door
from bot.channels.slack.app import build_app
from bot.channels.slack.context import SlackContext
from bot.channels.slack.front_door import SLACK_BODY, bolt_endpoint, slack_body
from bot.core import Core
from tests.fakes.slack_api import FakeSlackAPI, serve_web_app
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

    return behind_parse(bolt_endpoint(bolt))


def behind_parse(endpoint: Callable[[web.Request], Awaitable[web.StreamResponse]]) -> web.Application:
    """`endpoint` behind a middleware that parses as the guard does (no signature check of its own)."""

    @web.middleware
    async def parse(request: web.Request,
                    handler: Callable[[web.Request], Awaitable[web.StreamResponse]]) -> web.StreamResponse:
        data = slack_body(await request.text(), request.content_type)
        assert data is not None
        request[SLACK_BODY] = data
        return await handler(request)

    web_app = web.Application(middlewares=[parse])
    web_app.router.add_post(front_door.EVENTS_PATH, endpoint)
    return web_app


async def test_bolt_refuses_a_wrong_signature_on_a_body_parsed_before_it() -> None:
    seen: list[dict[str, Any]] = []
    body = BODIES[0]
    async with serve_web_app(app_behind_parse(seen)) as base, aiohttp.ClientSession() as http:
        async with http.post(f"{base}{front_door.EVENTS_PATH}", data=body,
                             headers={**signed_headers("not-the-secret", body), "Content-Type": FORM}) as resp:
            assert resp.status == 401
    assert seen == []


def recording_app(name: str, handled: list[tuple[str, str]], api: str, *, answer_first: bool) -> AsyncApp:
    """A Bolt app whose /gfi command and gfi_request form note that this app (`name`) answered them."""
    bolt = AsyncApp(client=AsyncWebClient(token="xoxb-test", base_url=api), signing_secret=SECRET,
                    request_verification_enabled=True, process_before_response=answer_first)

    @bolt.command("/gfi")
    async def command(ack: Any) -> None:
        handled.append((name, "command"))
        await ack()

    @bolt.view("gfi_request")
    async def submission(ack: Any) -> None:
        handled.append((name, "view"))
        await ack(response_action="errors", errors={"kort": "fel"})

    return bolt


async def test_a_form_submission_is_answered_by_the_app_that_answers_when_its_listener_returns() -> None:
    """A form's ack does not wait for Bolt's next look at it (every 10 ms by default): submissions and slash
    commands (whose listeners ack and open the form in a task of their own) go to the app built with
    `answer_first` (`process_before_response`); clicks stay on the default app."""
    handled: list[tuple[str, str]] = []
    async with FakeSlackAPI(token="xoxb-test") as fake:
        main = recording_app("main", handled, fake.base_url, answer_first=False)
        submissions = recording_app("submissions", handled, fake.base_url, answer_first=True)
        await send_each(behind_parse(bolt_endpoint(main, submissions)))
    assert handled == [("submissions", "command"), ("submissions", "view")]


async def send_each(app: web.Application) -> None:
    async with serve_web_app(app) as base, aiohttp.ClientSession() as http:
        for body in BODIES:
            async with http.post(f"{base}{front_door.EVENTS_PATH}", data=body,
                                 headers={**signed_headers(SECRET, body), "Content-Type": FORM}) as resp:
                assert resp.status == 200
                if "payload" in body:
                    assert (await resp.json())["errors"] == {"kort": "fel"}


def test_the_submissions_app_answers_when_its_listener_returns() -> None:
    client = AsyncWebClient(token="xoxb-test", base_url="http://127.0.0.1:9/api/")
    nobody = cast(SlackContext, object())  # `register` below wires nothing

    def build(**kwargs: Any) -> AsyncApp:
        return build_app(cast(Core, None), client, register=lambda *_: None, signing_secret=SECRET, context=nobody,
                         **kwargs)

    assert build(answer_first=True).process_before_response
    assert not build().process_before_response  # commands and clicks: Bolt's default

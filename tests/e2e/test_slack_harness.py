"""Proof that the offline Slack harness works end to end with a real Bolt app over real HTTP."""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from slack_bolt.async_app import AsyncApp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from tests.fakes.slack_api import FakeSlackAPI, serve_web_app
from tests.fakes.slack_signing import (
    app_home_opened_event,
    block_actions_payload,
    event_body,
    interaction_body,
    plain_text_state,
    signed_headers,
    slash_command_body,
    static_select_state,
    view_submission_payload,
)

SECRET = "test-signing-secret"
TOKEN = "xoxb-test"
USER = "U0ALICE"


@pytest.fixture
async def fake() -> AsyncIterator[FakeSlackAPI]:
    """A running fake Slack Web API."""
    async with FakeSlackAPI() as api:
        yield api


def build_app(fake: FakeSlackAPI) -> AsyncApp:
    """A tiny Bolt app wired to the fake: the token lives in the client, which owns base_url."""
    app = AsyncApp(signing_secret=SECRET, client=AsyncWebClient(token=TOKEN, base_url=fake.base_url))

    @app.command("/gfi")
    async def open_form(ack: Any, body: dict[str, Any], client: AsyncWebClient) -> None:
        await ack()
        await client.views_open(
            trigger_id=body["trigger_id"],
            view={
                "type": "modal",
                "callback_id": "gfi_request",
                "title": {"type": "plain_text", "text": "Begär GFI-möte"},
                "submit": {"type": "plain_text", "text": "Skicka"},
                "blocks": [],
            },
        )

    @app.action("gfi_ack")
    async def acknowledge(ack: Any, body: dict[str, Any], client: AsyncWebClient) -> None:
        await ack()
        value = body["actions"][0]["value"]
        await client.chat_postMessage(channel=body["user"]["id"], text=f"Kvitterat: {value}")

    @app.view("gfi_request")
    async def submit(ack: Any, view: dict[str, Any]) -> None:
        text = view["state"]["values"]["what"]["what"]["value"] or ""
        if any(ch.isdigit() for ch in text):
            await ack(response_action="errors", errors={"what": "Skriv inga personnummer."})
        else:
            await ack()

    @app.event("app_home_opened")
    async def home(event: dict[str, Any], client: AsyncWebClient) -> None:
        await client.views_publish(user_id=event["user"], view={"type": "home", "blocks": []})

    return app


@pytest.fixture
async def bolt_url(fake: FakeSlackAPI, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[str]:
    """``app.web_app()`` served on 127.0.0.1; yields the ``/slack/events`` URL."""
    # Both set would switch AsyncApp to OAuth mode.
    monkeypatch.delenv("SLACK_CLIENT_ID", raising=False)
    monkeypatch.delenv("SLACK_CLIENT_SECRET", raising=False)
    app = build_app(fake)
    assert fake.calls() == []  # AsyncApp makes no Web API call at construction time
    async with serve_web_app(app.web_app()) as base:
        yield f"{base}/slack/events"


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    """A plain HTTP client playing Slack's role."""
    async with aiohttp.ClientSession() as session:
        yield session


async def post(http: aiohttp.ClientSession, url: str, body: bytes, **sign: Any) -> tuple[int, str, str]:
    """POST a signed body; return status, content type and text."""
    async with http.post(url, data=body, headers=signed_headers(SECRET, body, **sign)) as resp:
        return resp.status, resp.content_type, await resp.text()


async def test_slash_command_acks_and_opens_modal(
    fake: FakeSlackAPI, bolt_url: str, http: aiohttp.ClientSession
) -> None:
    body = slash_command_body("/gfi", "", USER, trigger_id="trig-123")
    status, _, text = await post(http, bolt_url, body)
    assert status == 200
    assert text == ""

    (call,) = await fake.wait_for("views.open", lambda c: c.params.get("trigger_id") == "trig-123")
    assert call.token == TOKEN
    assert call.params["view"]["callback_id"] == "gfi_request"  # parsed into an object
    assert call.params["team_id"] == fake.team_id  # Bolt's per-request client adds team_id
    assert [c.method for c in fake.calls()] == ["auth.test", "views.open"]

    # auth.test is cached by Bolt: the second request goes straight to views.open.
    await post(http, bolt_url, slash_command_body("/gfi", "", USER, trigger_id="trig-456"))
    await fake.wait_for("views.open", count=2)
    assert len(fake.calls("auth.test")) == 1


async def test_forged_signature_is_refused_and_reaches_nothing(
    fake: FakeSlackAPI, bolt_url: str, http: aiohttp.ClientSession
) -> None:
    body = slash_command_body("/gfi", "", USER, trigger_id="forged")
    headers = signed_headers("wrong-secret", body)
    async with http.post(bolt_url, data=body, headers=headers) as resp:
        assert resp.status == 401
    assert fake.calls() == []

    # A genuine request afterwards proves the server was alive and the forged one left no trace.
    await post(http, bolt_url, slash_command_body("/gfi", "", USER, trigger_id="genuine"))
    await fake.wait_for("views.open")
    assert [c.params["trigger_id"] for c in fake.calls("views.open")] == ["genuine"]


async def test_stale_timestamp_is_refused(
    fake: FakeSlackAPI, bolt_url: str, http: aiohttp.ClientSession
) -> None:
    body = slash_command_body("/gfi", "", USER)
    status, _, _ = await post(http, bolt_url, body, timestamp=int(time.time()) - 600)
    assert status == 401
    assert fake.calls() == []


async def test_block_action_posts_message(
    fake: FakeSlackAPI, bolt_url: str, http: aiohttp.ClientSession
) -> None:
    payload = block_actions_payload(USER, "gfi_ack", "GFI-2025-0001")
    status, _, _ = await post(http, bolt_url, interaction_body(payload))
    assert status == 200
    (call,) = await fake.wait_for("chat.postMessage")
    assert call.params["channel"] == USER
    assert call.params["text"] == "Kvitterat: GFI-2025-0001"


async def test_view_submission_errors_reach_the_http_client(
    fake: FakeSlackAPI, bolt_url: str, http: aiohttp.ClientSession
) -> None:
    payload = view_submission_payload(
        USER,
        "gfi_request",
        {
            "what": {"what": plain_text_state("man, 45 år, 19800101-1234")},
            "unit": {"u": static_select_state("x")},
        },
    )
    status, content_type, text = await post(http, bolt_url, interaction_body(payload))
    assert status == 200
    assert content_type == "application/json"
    assert json.loads(text) == {"response_action": "errors", "errors": {"what": "Skriv inga personnummer."}}

    ok_payload = view_submission_payload(USER, "gfi_request", {"what": {"what": plain_text_state("man")}})
    status, _, text = await post(http, bolt_url, interaction_body(ok_payload))
    assert (status, text) == (200, "")


async def test_event_with_retry_header_is_delivered(
    fake: FakeSlackAPI, bolt_url: str, http: aiohttp.ClientSession
) -> None:
    body = event_body(app_home_opened_event(USER), event_id="Ev0001")
    status, _, _ = await post(http, bolt_url, body, retry_num=1)
    assert status == 200
    await fake.wait_for("views.publish")
    home = fake.home_view(USER)
    assert home is not None and home["type"] == "home"


async def test_rate_limit_is_visible_to_a_plain_client(fake: FakeSlackAPI) -> None:
    client = AsyncWebClient(token=TOKEN, base_url=fake.base_url)
    fake.fail_next("chat.postMessage", times=1, status=429, retry_after=1)
    with pytest.raises(SlackApiError) as excinfo:
        await client.chat_postMessage(channel="C1", text="hej")
    response = excinfo.value.response
    assert response.status_code == 429
    assert response.headers["Retry-After"] == "1"
    assert response["error"] == "ratelimited"

    ok = await client.chat_postMessage(channel="C1", text="hej")
    assert ok["ok"] and ok["channel"] == "C1" and ok["message"]["text"] == "hej"
    assert [(c.status, c.ok) for c in fake.calls("chat.postMessage")] == [(429, False), (200, True)]


async def test_scripted_errors_and_directory(fake: FakeSlackAPI) -> None:
    client = AsyncWebClient(token=TOKEN, base_url=fake.base_url)
    fake.fail_next("chat.postMessage", status=500)
    fake.fail_next("chat.postMessage", error="channel_not_found")
    with pytest.raises(SlackApiError) as server_error:
        await client.chat_postMessage(channel="C1", text="a")
    assert server_error.value.response.status_code == 500
    with pytest.raises(SlackApiError) as not_found:
        await client.chat_postMessage(channel="C1", text="a", blocks=[{"type": "divider"}])
    response = not_found.value.response
    assert (response.status_code, response["error"]) == (200, "channel_not_found")

    fake.add_user("U0BOB", "bob@example.se", "Bob")
    found = await client.users_lookupByEmail(email="BOB@example.se")
    assert found["user"]["id"] == "U0BOB"
    with pytest.raises(SlackApiError) as missing:
        await client.users_lookupByEmail(email="nobody@example.se")
    assert missing.value.response["error"] == "users_not_found"
    dm = await client.conversations_open(users="U0BOB")
    assert dm["channel"]["id"] == FakeSlackAPI.dm_channel_id("U0BOB")

    # Form-encoded bodies: blocks arrive as a JSON string and are parsed back.
    form = {"channel": "C2", "blocks": json.dumps([{"type": "divider"}])}
    await client.api_call("chat.postMessage", data=form)
    assert fake.last("chat.postMessage").params["blocks"] == [{"type": "divider"}]

    # Limits Slack enforces are enforced here too.
    with pytest.raises(SlackApiError) as too_long:
        long_title = {"type": "plain_text", "text": "x" * 25}
        await client.views_open(trigger_id="t", view={"type": "modal", "title": long_title, "blocks": []})
    assert too_long.value.response["error"] == "invalid_arguments"

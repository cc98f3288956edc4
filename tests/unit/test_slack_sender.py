"""SlackSender's error mapping and identity use, with stub clients (no network)."""

from __future__ import annotations

from typing import Any

import pytest
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_slack_response import AsyncSlackResponse

from bot.channels.slack.identity import IdentityLookupError
from bot.channels.slack.sender import SlackSender, delivery_error
from bot.dispatcher import DeliveryError
from bot.outbox import OutboxMessage


def api_error(status: int, error: str, headers: dict[str, str] | None = None) -> SlackApiError:
    response = AsyncSlackResponse(
        client=None, http_verb="POST", api_url="https://slack.test/api/chat.postMessage", req_args={},
        data={"ok": False, "error": error}, headers=headers or {}, status_code=status,
    )
    return SlackApiError("failed", response)


@pytest.mark.parametrize(
    ("status", "error", "headers", "permanent", "retry_after"),
    [
        (429, "ratelimited", {"Retry-After": "12"}, False, 12.0),
        (500, "internal_error", {}, False, None),
        (503, "service_unavailable", {}, False, None),
        (200, "channel_not_found", {}, True, None),
        (200, "user_not_found", {}, True, None),
        (200, "users_not_found", {}, True, None),
        (200, "account_inactive", {}, True, None),
        (200, "user_disabled", {}, True, None),
        (200, "is_archived", {}, True, None),
        (200, "not_in_channel", {}, True, None),
        (200, "invalid_auth", {}, True, None),
        (200, "cannot_dm_bot", {}, True, None),
        (200, "fatal_error", {}, False, None),
    ],
)
def test_delivery_error_mapping(
    status: int, error: str, headers: dict[str, str], permanent: bool, retry_after: float | None
) -> None:
    mapped = delivery_error(api_error(status, error, headers))
    assert isinstance(mapped, DeliveryError)
    assert (mapped.permanent, mapped.retry_after) == (permanent, retry_after)


class StubIdentity:
    def __init__(self, answer: str | Exception | None) -> None:
        self.answer = answer

    async def slack_id_for(self, person_id: str) -> str | None:
        if isinstance(self.answer, Exception):
            raise self.answer
        return self.answer


class StubClient:
    def __init__(self, fail: Exception | None = None) -> None:
        self.fail = fail
        self.calls: list[dict[str, Any]] = []

    async def chat_postMessage(self, **kwargs: Any) -> dict[str, Any]:
        self.calls.append(kwargs)
        if self.fail:
            raise self.fail
        return {"ok": True, "ts": "1.000001", "channel": "DU01MARIA"}


def message(blocks: list[dict[str, Any]] | None = None) -> OutboxMessage:
    return OutboxMessage(id=1, recipient_id="maria.sand", channel="slack", template="case_filed", text="hej",
                         blocks=blocks, case_ref="GFI-2026-0001", urgent=False, attempts=0)


async def test_sends_text_and_blocks_to_the_user_id() -> None:
    client = StubClient()
    sender = SlackSender(client, StubIdentity("U01MARIA"))  # type: ignore[arg-type]
    # the external id names the delivered DM ("channel:ts"), so that it can be deleted later
    assert await sender.send(message([{"type": "divider"}])) == "DU01MARIA:1.000001"
    assert client.calls == [{"channel": "U01MARIA", "text": "hej", "blocks": [{"type": "divider"}]}]


async def test_person_unknown_to_slack_is_a_permanent_failure() -> None:
    sender = SlackSender(StubClient(), StubIdentity(None))  # type: ignore[arg-type]
    with pytest.raises(DeliveryError) as exc:
        await sender.send(message())
    assert exc.value.permanent


async def test_lookup_rate_limit_is_retried_later() -> None:
    sender = SlackSender(StubClient(), StubIdentity(IdentityLookupError("slack:ratelimited", retry_after=3)))  # type: ignore[arg-type]
    with pytest.raises(DeliveryError) as exc:
        await sender.send(message())
    assert (exc.value.permanent, exc.value.retry_after) == (False, 3)


async def test_connection_errors_are_transient() -> None:
    import aiohttp

    sender = SlackSender(StubClient(aiohttp.ClientConnectionError("down")), StubIdentity("U1"))  # type: ignore[arg-type]
    with pytest.raises(DeliveryError) as exc:
        await sender.send(message())
    assert not exc.value.permanent and "connection" in exc.value.reason


async def test_unbound_sender_does_not_lose_messages() -> None:
    with pytest.raises(DeliveryError) as exc:
        await SlackSender(StubClient()).send(message())  # type: ignore[arg-type]
    assert not exc.value.permanent

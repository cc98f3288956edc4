"""Slack refuses a view or message with an `action_id` twice in one block or a `block_id` twice (issue #23 item
6): the bot's layouts are checked when fitted, and the fake Slack refuses such layouts as Slack does."""

from __future__ import annotations

from typing import Any

import pytest
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.channels.slack import limits
from tests.fakes.slack_api import FakeSlackAPI


def button(action_id: str, value: str) -> dict[str, Any]:
    return {"type": "button", "text": {"type": "plain_text", "text": value}, "action_id": action_id, "value": value}


TWO_EQUAL_ACTIONS = [{"type": "actions", "block_id": "a", "elements": [button("x", "1"), button("x", "2")]}]
TWO_EQUAL_BLOCKS = [{"type": "actions", "block_id": "a", "elements": [button("x", "1")]},
                    {"type": "actions", "block_id": "a", "elements": [button("y", "2")]}]
FINE = [{"type": "actions", "block_id": "a", "elements": [button("x", "1"), button("y", "2")]},
        {"type": "actions", "block_id": "b", "elements": [button("x", "1")]},  # equal ids in two blocks: fine
        {"type": "section", "text": {"type": "mrkdwn", "text": "t"}, "accessory": button("x", "3")}]


@pytest.mark.parametrize("blocks", [TWO_EQUAL_ACTIONS, TWO_EQUAL_BLOCKS], ids=["action_id", "block_id"])
def test_fitting_a_layout_with_a_repeated_id_raises(blocks: list[dict[str, Any]]) -> None:
    with pytest.raises(limits.DuplicateId):
        limits.fit_blocks(blocks)
    with pytest.raises(limits.DuplicateId):
        limits.fit_view({"type": "home", "blocks": blocks})


def test_an_accessory_and_an_input_element_count_as_their_block_s_actions() -> None:
    assert limits.duplicate_id(FINE) is None
    assert limits.fit_blocks(FINE) == FINE
    twice = [{"type": "section", "block_id": "s", "text": {"type": "mrkdwn", "text": "t"},
              "accessory": button("x", "1")},
             {"type": "input", "block_id": "s", "label": {"type": "plain_text", "text": "l"},
              "element": {"type": "plain_text_input", "action_id": "v"}}]
    assert limits.duplicate_id(twice) == "block_id 's' is used twice (blocks/1)"


@pytest.mark.parametrize("blocks", [TWO_EQUAL_ACTIONS, TWO_EQUAL_BLOCKS], ids=["action_id", "block_id"])
async def test_the_fake_slack_refuses_repeated_ids_as_slack_does(blocks: list[dict[str, Any]]) -> None:
    async with FakeSlackAPI(token="xoxb-t") as fake:
        client = AsyncWebClient(token="xoxb-t", base_url=fake.base_url)
        with pytest.raises(SlackApiError) as message:
            await client.chat_postMessage(channel="U1", text="t", blocks=blocks)
        assert message.value.response["error"] == "invalid_blocks"
        with pytest.raises(SlackApiError) as view:
            await client.views_publish(user_id="U1", view={"type": "home", "blocks": blocks})
        assert view.value.response["error"] == "invalid_arguments"
        assert "must be unique" in str(view.value.response["response_metadata"])
        assert len(fake.layout_refusals) == 2
        await client.chat_postMessage(channel="U1", text="t", blocks=FINE)
        await client.views_publish(user_id="U1", view={"type": "home", "blocks": FINE})
        assert len(fake.layout_refusals) == 2

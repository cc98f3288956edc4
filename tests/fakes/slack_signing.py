"""Build and sign inbound Slack requests exactly as Slack does, for end-to-end tests.

Bodies are bytes ready to POST to ``/slack/events``; `signed_headers` adds
``X-Slack-Request-Timestamp`` and ``X-Slack-Signature`` (``v0=HMAC-SHA256(secret, "v0:{ts}:{body}")``).
"""

from __future__ import annotations

import itertools
import json
import time
from typing import Any
from urllib.parse import urlencode

from slack_sdk.signature import SignatureVerifier

DEFAULT_TEAM_ID = "T0GFI"
DEFAULT_TEAM_DOMAIN = "gfi-test"
DEFAULT_APP_ID = "A0GFI"
DEFAULT_CHANNEL_ID = "C0GFI"
DEFAULT_TRIGGER_ID = "1111111111.2222222222.trigger"
# Slack's deprecated verification token; Bolt ignores it when signatures are verified.
VERIFICATION_TOKEN = "legacy-verification-token"

FORM_CONTENT_TYPE = "application/x-www-form-urlencoded"
JSON_CONTENT_TYPE = "application/json"

_ids = itertools.count(1)


def _next_id(prefix: str) -> str:
    """A unique, Slack-looking id for this test process."""
    return f"{prefix}{next(_ids):08d}"


def _user(user_id: str, team_id: str) -> dict[str, Any]:
    return {"id": user_id, "username": user_id.lower(), "name": user_id.lower(), "team_id": team_id}


def _team(team_id: str) -> dict[str, Any]:
    return {"id": team_id, "domain": DEFAULT_TEAM_DOMAIN}


# ---------------------------------------------------------------------- bodies


def slash_command_body(
    command: str,
    text: str,
    user_id: str,
    trigger_id: str = DEFAULT_TRIGGER_ID,
    team_id: str = DEFAULT_TEAM_ID,
    channel_id: str = DEFAULT_CHANNEL_ID,
    response_url: str = "https://hooks.slack.com/commands/T0GFI/1/fake",
) -> bytes:
    """Form-encoded body of a slash command invocation."""
    fields = {
        "token": VERIFICATION_TOKEN,
        "team_id": team_id,
        "team_domain": DEFAULT_TEAM_DOMAIN,
        "channel_id": channel_id,
        "channel_name": "directmessage" if channel_id.startswith("D") else "general",
        "user_id": user_id,
        "user_name": user_id.lower(),
        "command": command,
        "text": text,
        "api_app_id": DEFAULT_APP_ID,
        "is_enterprise_install": "false",
        "response_url": response_url,
        "trigger_id": trigger_id,
    }
    return urlencode(fields).encode()


def interaction_body(payload: dict[str, Any]) -> bytes:
    """Form-encoded ``payload=<json>`` body of an interactive request."""
    return urlencode({"payload": json.dumps(payload, ensure_ascii=False)}).encode()


def event_body(
    event: dict[str, Any],
    event_id: str | None = None,
    team_id: str = DEFAULT_TEAM_ID,
    event_time: int | None = None,
    bot_user_id: str = "U0GFIBOT",
) -> bytes:
    """JSON ``event_callback`` envelope around ``event`` (event id generated unless given)."""
    envelope = {
        "token": VERIFICATION_TOKEN,
        "team_id": team_id,
        "api_app_id": DEFAULT_APP_ID,
        "event": event,
        "type": "event_callback",
        "event_id": event_id or _next_id("Ev"),
        "event_time": event_time if event_time is not None else int(time.time()),
        "authorizations": [
            {
                "enterprise_id": None,
                "team_id": team_id,
                "user_id": bot_user_id,
                "is_bot": True,
                "is_enterprise_install": False,
            }
        ],
        "is_ext_shared_channel": False,
    }
    return json.dumps(envelope, ensure_ascii=False).encode()


def app_home_opened_event(user_id: str, tab: str = "home") -> dict[str, Any]:
    """An ``app_home_opened`` event for ``event_body``."""
    return {
        "type": "app_home_opened",
        "user": user_id,
        "channel": f"D{user_id}",
        "tab": tab,
        "event_ts": f"{int(time.time())}.000100",
    }


# ---------------------------------------------------------------------- signing


def signed_headers(
    secret: str,
    body: bytes,
    timestamp: int | None = None,
    retry_num: int | None = None,
    retry_reason: str = "http_timeout",
    content_type: str | None = None,
) -> dict[str, str]:
    """Headers Slack sends with ``body``: timestamp, v0 signature, content type, retry info.

    ``content_type`` defaults to JSON for bodies starting with ``{``, otherwise form encoding.
    """
    ts = str(int(time.time()) if timestamp is None else timestamp)
    signature = SignatureVerifier(signing_secret=secret).generate_signature(timestamp=ts, body=body)
    if signature is None:  # only when timestamp is None, which cannot happen here
        raise RuntimeError("could not sign request")
    if content_type is None:
        content_type = JSON_CONTENT_TYPE if body.lstrip()[:1] == b"{" else FORM_CONTENT_TYPE
    headers = {
        "Content-Type": content_type,
        "X-Slack-Request-Timestamp": ts,
        "X-Slack-Signature": signature,
    }
    if retry_num is not None:
        headers["X-Slack-Retry-Num"] = str(retry_num)
        headers["X-Slack-Retry-Reason"] = retry_reason
    return headers


# ---------------------------------------------------------------------- interactive payloads


def block_suggestion_payload(user_id: str, block_id: str, value: str, *, action_id: str = "v",
                             view: dict[str, Any] | None = None, team_id: str = DEFAULT_TEAM_ID) -> dict[str, Any]:
    """A ``block_suggestion`` payload: Slack asking an external select's options as the user types ``value``."""
    return {
        "type": "block_suggestion", "user": _user(user_id, team_id), "team": _team(team_id),
        "api_app_id": DEFAULT_APP_ID, "token": VERIFICATION_TOKEN, "action_id": action_id, "block_id": block_id,
        "value": value, "container": {"type": "view", "view_id": "VSUGGEST"},
        "view": view or {"id": "VSUGGEST", "type": "modal", "callback_id": "gfi_request", "blocks": []},
    }


def block_actions_payload(
    user_id: str,
    action_id: str,
    value: str,
    block_id: str = "actions",
    trigger_id: str = DEFAULT_TRIGGER_ID,
    view: dict[str, Any] | None = None,
    container: dict[str, Any] | None = None,
    message: dict[str, Any] | None = None,
    channel_id: str = DEFAULT_CHANNEL_ID,
    action_type: str = "button",
    team_id: str = DEFAULT_TEAM_ID,
) -> dict[str, Any]:
    """A ``block_actions`` payload for one action.

    With ``view`` the click came from a modal/Home tab; otherwise from a message in ``channel_id``
    (``message`` defaults to a minimal bot message). ``value`` becomes ``selected_option`` for
    selects/radio buttons, ``selected_user`` for users_select, ``selected_date`` for datepicker.
    """
    action: dict[str, Any] = {
        "type": action_type,
        "action_id": action_id,
        "block_id": block_id,
        "action_ts": f"{time.time():.6f}",
    }
    if action_type in ("static_select", "external_select", "radio_buttons", "overflow"):
        action["selected_option"] = _option(value)
    elif action_type == "users_select":
        action["selected_user"] = value
    elif action_type == "datepicker":
        action["selected_date"] = value
    else:
        action["value"] = value
        if action_type == "button":
            action["text"] = {"type": "plain_text", "text": value, "emoji": True}

    payload: dict[str, Any] = {
        "type": "block_actions",
        "user": _user(user_id, team_id),
        "api_app_id": DEFAULT_APP_ID,
        "token": VERIFICATION_TOKEN,
        "team": _team(team_id),
        "enterprise": None,
        "is_enterprise_install": False,
        "trigger_id": trigger_id,
        "actions": [action],
        "state": {"values": {}},
    }
    if view is not None:
        view = {"id": _next_id("V"), "type": "modal", **view}
        view.setdefault("state", {"values": {}})
        payload["view"] = view
        payload["container"] = container or {"type": "view", "view_id": view["id"]}
    else:
        if message is None:
            message = {
                "type": "message",
                "user": "U0GFIBOT",
                "bot_id": "B0GFIBOT",
                "text": "",
                "blocks": [],
                "ts": f"{int(time.time())}.{next(_ids):06d}",
            }
        payload["message"] = message
        payload["channel"] = {"id": channel_id, "name": "general"}
        payload["container"] = container or {
            "type": "message",
            "message_ts": message.get("ts"),
            "channel_id": channel_id,
            "is_ephemeral": False,
        }
        payload["response_url"] = f"https://hooks.slack.com/actions/{team_id}/1/fake"
    return payload


def view_submission_payload(
    user_id: str,
    callback_id: str,
    state_values: dict[str, dict[str, dict[str, Any]]],
    private_metadata: str = "",
    view_id: str | None = None,
    trigger_id: str = DEFAULT_TRIGGER_ID,
    team_id: str = DEFAULT_TEAM_ID,
    title: str = "GFI",
) -> dict[str, Any]:
    """A ``view_submission`` payload of a modal (``view.type == "modal"``).

    ``state_values`` is ``{block_id: {action_id: <element state>}}``; build the element
    states with the ``*_state`` helpers below.
    """
    view_id = view_id or _next_id("V")
    return {
        "type": "view_submission",
        "team": _team(team_id),
        "user": _user(user_id, team_id),
        "api_app_id": DEFAULT_APP_ID,
        "token": VERIFICATION_TOKEN,
        "trigger_id": trigger_id,
        "view": {
            "id": view_id,
            "team_id": team_id,
            "type": "modal",
            "blocks": [],
            "private_metadata": private_metadata,
            "callback_id": callback_id,
            "state": {"values": state_values},
            "hash": f"{int(time.time())}.fakehash",
            "title": {"type": "plain_text", "text": title, "emoji": True},
            "clear_on_close": False,
            "notify_on_close": False,
            "close": None,
            "submit": {"type": "plain_text", "text": "Skicka", "emoji": True},
            "previous_view_id": None,
            "root_view_id": view_id,
            "app_id": DEFAULT_APP_ID,
            "external_id": "",
            "app_installed_team_id": team_id,
            "bot_id": "B0GFIBOT",
        },
        "response_urls": [],
        "is_enterprise_install": False,
        "enterprise": None,
    }


# ---------------------------------------------------------------------- element states


def _option(value: str, text: str | None = None) -> dict[str, Any]:
    return {"text": {"type": "plain_text", "text": text or value, "emoji": True}, "value": value}


def plain_text_state(value: str | None) -> dict[str, Any]:
    """State of a ``plain_text_input`` (``None`` when left empty)."""
    return {"type": "plain_text_input", "value": value}


def static_select_state(value: str | None, text: str | None = None) -> dict[str, Any]:
    """State of a ``static_select`` (``None`` when nothing is chosen)."""
    return {"type": "static_select", "selected_option": None if value is None else _option(value, text)}


def multi_static_select_state(values: list[str]) -> dict[str, Any]:
    """State of a ``multi_static_select``."""
    return {"type": "multi_static_select", "selected_options": [_option(v) for v in values]}


def checkboxes_state(values: list[str]) -> dict[str, Any]:
    """State of a ``checkboxes`` element."""
    return {"type": "checkboxes", "selected_options": [_option(v) for v in values]}


def radio_buttons_state(value: str | None) -> dict[str, Any]:
    """State of a ``radio_buttons`` element."""
    return {"type": "radio_buttons", "selected_option": None if value is None else _option(value)}


def users_select_state(user_id: str | None) -> dict[str, Any]:
    """State of a ``users_select``."""
    return {"type": "users_select", "selected_user": user_id}


def multi_users_select_state(user_ids: list[str]) -> dict[str, Any]:
    """State of a ``multi_users_select``."""
    return {"type": "multi_users_select", "selected_users": list(user_ids)}


def datepicker_state(iso_date: str | None) -> dict[str, Any]:
    """State of a ``datepicker`` (``YYYY-MM-DD``)."""
    return {"type": "datepicker", "selected_date": iso_date}

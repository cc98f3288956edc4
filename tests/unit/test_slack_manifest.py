"""The Slack manifest asks for exactly the scopes and events the code uses."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
MANIFEST = ROOT / "deploy" / "slack-manifest.yaml"

# Web API method (as slack-sdk names it) → the bot scope it needs (None: no scope).
METHOD_SCOPES: dict[str, str | None] = {
    "chat_postMessage": "chat:write",
    "chat_postEphemeral": "chat:write",
    "chat_update": "chat:write",
    "chat_delete": "chat:write",
    "users_info": "users:read",
    "users_lookupByEmail": "users:read.email",
    "views_open": None,
    "views_update": None,
    "views_push": None,
    "views_publish": None,
    "conversations_open": "im:write",  # the DM the yearly brist report is uploaded into
    "files_upload_v2": "files:write",  # files.getUploadURLExternal + files.completeUploadExternal
}
# Event (as `app.event(...)` names it) → what the manifest subscribes to, and the scope it needs.
EVENTS: dict[str, tuple[str, str | None]] = {
    "app_home_opened": ("app_home_opened", None),
    "message": ("message.im", "im:history"),  # only direct messages to the bot
}
CALL = re.compile(r"\.((?:chat|users|views|conversations|reactions|files|im|team)_[A-Za-z0-9_]+)\(")
EVENT = re.compile(r"\.event\(\"([a-z_.]+)\"\)")


def sources() -> str:
    return "\n".join(p.read_text(encoding="utf-8") for d in ("bot", "handlers") for p in (ROOT / d).rglob("*.py"))


def test_every_scope_is_used_and_every_used_scope_is_asked_for() -> None:
    manifest = yaml.safe_load(MANIFEST.read_text(encoding="utf-8"))
    code = sources()
    methods = set(CALL.findall(code))
    unknown = methods - METHOD_SCOPES.keys()
    assert not unknown, f"map these Web API methods to their scopes: {unknown}"
    events = set(EVENT.findall(code))
    assert events <= EVENTS.keys(), f"map these events: {events - EVENTS.keys()}"
    needed = {"commands"} | {METHOD_SCOPES[m] for m in methods} | {EVENTS[e][1] for e in events}
    needed.discard(None)
    assert set(manifest["oauth_config"]["scopes"]["bot"]) == needed
    assert set(manifest["settings"]["event_subscriptions"]["bot_events"]) == {EVENTS[e][0] for e in events}


def test_messages_tab_answers_rather_than_accepting_messages_nobody_reads() -> None:
    manifest = yaml.safe_load(MANIFEST.read_text(encoding="utf-8"))
    home = manifest["features"]["app_home"]
    answered = "message" in set(EVENT.findall(sources()))
    if home["messages_tab_enabled"] and not answered:
        assert home["messages_tab_read_only_enabled"] is True  # nobody reads what is written there
    if answered:
        assert home["messages_tab_enabled"] is True and home["messages_tab_read_only_enabled"] is False


def test_slash_commands_in_the_manifest_are_handled() -> None:
    manifest = yaml.safe_load(MANIFEST.read_text(encoding="utf-8"))
    handled = set(re.findall(r"\.command\(\"(/[a-zåäö]+)\"\)", sources()))
    assert {c["command"] for c in manifest["features"]["slash_commands"]} <= handled

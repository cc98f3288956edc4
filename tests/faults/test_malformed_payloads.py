"""Fault: generated malformed payloads for every endpoint, properly signed so that they pass authentication,
then arbitrary structure, types and unicode. The bot never answers 500 and never shows a stack trace or Python
exception text, neither in the HTTP answer nor in what it posts to the user afterwards.

Endpoints: Slack `POST /slack/events` (slash commands, interactions incl. view_submission and block_actions,
events, and raw bodies), Teams `POST /api/messages` (messages and card actions), and the action links of the
Microsoft Graph e-mail (`POST /a/<token>`, tokens signed with the bot's key around arbitrary JSON). The bot
subscribes to no Graph change notifications, so it has no such endpoint to test.

Hypothesis drives a sync test; the bot runs on an event loop of the test's own (one bot per test, its state
accumulating over the examples, as in production). Examples are bounded (`EXAMPLES`, default 50 per endpoint)
and derandomized, so CI is quick and repeatable; set GFI_FAULT_EXAMPLES to explore with more, at random."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import os
import time
from collections.abc import Coroutine, Iterator
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlencode

import aiohttp
import pytest
from aiohttp import web
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from bot.channels.graph import GraphChannel, edge
from bot.channels.graph.links import LinkSigner
from bot.clock import FrozenClock
from bot.config import DEFAULT_DIRECTORY, Settings
from bot.core import Core, open_core
from tests.conftest import RecordingSender, local
from tests.fakes.slack_api import FakeSlackAPI, serve_web_app
from tests.fakes.slack_bot import SECRET, SlackBot, running_bot
from tests.fakes.slack_signing import (
    block_actions_payload,
    event_body,
    interaction_body,
    signed_headers,
    slash_command_body,
    view_submission_payload,
)
from tests.fakes.teams_bot import TeamsBot, running_teams
from tests.timekit import form

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning", "ignore::ResourceWarning")

T = TypeVar("T")
_EXPLORE = os.environ.get("GFI_FAULT_EXAMPLES")
EXAMPLES = int(_EXPLORE or 50)
FUZZ = settings(max_examples=EXAMPLES, deadline=None, derandomize=_EXPLORE is None, database=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                       HealthCheck.data_too_large, HealthCheck.filter_too_much])
TRACE_MARKERS = ("Traceback", 'File "', "Error:", "Exception", "NoneType", "object has no attribute",
                 "KeyError", "TypeError", "ValueError", "line ")

# --- strategies ----------------------------------------------------------------------------------------------------

USERS = ["U01MARIA", "U04FATIMA", "U04LINNEA", "U07JONAS", "U08ADMIN", "U03SARA", "UNOBODY", ""]
REFS = ["GFI-2026-0001", "GFI-2026-0002", "GFI-2026-0003", "GFI-2026-9999", "BRIST-2026-0001", "gfi-2026-0001"]
INTERESTING = [*USERS, *REFS, "beroende", "soc-norr", "maria.sand", "linnea.fors", "2026-11-30", "13:00",
               "2026-02-30", "ja", "nej", "null", "{}", "[]", "0", "-1", "1e999", "19850101-1234", "\u0000",
               "\ud7ff\ue000", "Å" * 3001, "<script>", "&amp;", "${x}", "{{ 7*7 }}", "%s", "\u202e"]
texts = st.one_of(st.sampled_from(INTERESTING), st.text(max_size=40))
scalars = st.one_of(st.none(), st.booleans(), st.integers(min_value=-(2**70), max_value=2**70),
                    st.floats(), texts)
json_values = st.recursive(
    scalars, lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(texts, inner, max_size=4)),
    max_leaves=12)


@st.composite
def mutated(draw: st.DrawFn, base: Any, depth: int = 0) -> Any:
    """`base` with some of its values (at any depth) replaced by arbitrary JSON, some keys dropped, some added."""
    if isinstance(base, dict) and depth < 4:
        out: dict[str, Any] = {}
        for key, value in base.items():
            choice = draw(st.integers(min_value=0, max_value=9))
            if choice == 0:
                continue  # dropped
            if choice == 1:
                out[key] = draw(json_values)
            else:
                out[key] = draw(mutated(value, depth + 1))
        out.update(draw(st.dictionaries(texts, json_values, max_size=2)))
        return out
    if isinstance(base, list) and depth < 4:
        return [draw(mutated(v, depth + 1)) for v in base] + draw(st.lists(json_values, max_size=1))
    return draw(st.one_of(st.just(base), json_values)) if draw(st.integers(0, 4)) == 0 else base


ELEMENT_STATES = st.one_of(
    st.builds(lambda v: {"type": "plain_text_input", "value": v}, st.one_of(st.none(), texts)),
    st.builds(lambda v: {"type": "static_select", "selected_option": v},
              st.one_of(st.none(), st.builds(lambda t: {"value": t, "text": {"type": "plain_text", "text": t}}, texts),
                        json_values)),
    st.builds(lambda vs: {"type": "checkboxes", "selected_options": [{"value": v} for v in vs]},
              st.lists(texts, max_size=3)),
    st.builds(lambda vs: {"type": "multi_static_select", "selected_options": [{"value": v} for v in vs]},
              st.lists(texts, max_size=3)),
    st.builds(lambda v: {"type": "datepicker", "selected_date": v}, st.one_of(st.none(), texts)),
    st.builds(lambda v: {"type": "timepicker", "selected_time": v}, st.one_of(st.none(), texts)),
    st.builds(lambda v: {"type": "users_select", "selected_user": v}, st.one_of(st.none(), texts)),
    st.builds(lambda v: {"type": "radio_buttons", "selected_option": v},
              st.one_of(st.none(), st.builds(lambda t: {"value": t}, texts))),
    json_values,
)
BLOCK_IDS = ["enhet", "typ", "kort", "kontakt", "samtycke", "omfattar", "avser", "avser_text", "form", "inhamtat",
             "giltigt", "bradskande", "barn", "personer", "annan", "datum", "tid", "plats", "enheter", "bekrafta",
             "till", "vantar_skal", "utfall", "utvardering", "agare", "vad", "skal", "annat", "nykontakt",
             "aterkalla", "berorda", "orsaker", "handelse", "atgarder", "dialog", "text", "beslut"]
CALLBACKS = ["gfi_request", "gfi_assign", "gfi_reassign", "gfi_book", "gfi_hold_now", "gfi_wait", "gfi_outcome",
             "gfi_follow_up", "gfi_close", "gfi_renew", "gfi_withdraw_consent", "brist_report", "brist_dismiss",
             "brist_measures", "brist_dialogue", "ladder_reassign", "samverkan_decide", "nope"]
ACTIONS = ["gfi_ack", "gfi_no_show", "gfi_reopen", "gfi_resume", "gfi_withdraw", "gfi_assign_open", "gfi_book_open",
           "gfi_close_open", "gfi_follow_up_open", "gfi_hold_now_open", "gfi_outcome_open", "gfi_renew_open",
           "gfi_wait_open", "gfi_withdraw_open", "gfi_follow_up_done", "gfi_open_request", "ladder_take_over",
           "ladder_nudge", "ladder_reassign", "brist_open", "brist_draft_open", "brist_draft_dismiss_open",
           "brist_year_report", "brist_measures_open", "brist_dialogue_open", "brist_close", "brist_report_open",
           "stats_csv", "gfi_journal", "gfi_follow_up_accept", "gfi_follow_up_decline", "samverkan_decide_open",
           "nope"]
BUTTON_VALUES = st.one_of(st.sampled_from(REFS), texts, st.builds(lambda r, i: f"{r}:{i}", st.sampled_from(REFS),
                                                                   st.integers(-2, 2**40)),
                          json_values.map(lambda v: json.dumps(v)))


@st.composite
def slash_commands(draw: st.DrawFn) -> bytes:
    command = draw(st.one_of(st.sampled_from(["/gfi", "/brist"]), texts))
    body = slash_command_body(command, draw(texts), draw(st.one_of(st.sampled_from(USERS), texts)),
                              trigger_id=draw(texts), response_url=draw(st.sampled_from(["", "not a url", "x"])))
    fields = dict(pair.split("=", 1) for pair in body.decode().split("&"))
    if draw(st.booleans()):
        fields = {k: v for k, v in fields.items() if draw(st.integers(0, 5)) > 0}
        fields.update({k: urlencode({"v": v})[2:] for k, v in draw(st.dictionaries(texts, texts, max_size=3)).items()
                       if k})
        fields["command"] = fields.get("command") or "%2Fgfi"
    return "&".join(f"{urlencode({'k': k})[2:]}={v}" for k, v in fields.items()).encode()


@st.composite
def view_submissions(draw: st.DrawFn) -> bytes:
    blocks = draw(st.lists(st.one_of(st.sampled_from(BLOCK_IDS), texts), max_size=8, unique=True))
    state = {b: {draw(st.sampled_from(["v", "v", "x"])): draw(ELEMENT_STATES)} for b in blocks}
    payload = view_submission_payload(draw(st.sampled_from(USERS)), draw(st.one_of(st.sampled_from(CALLBACKS), texts)),
                                      state, private_metadata=draw(st.one_of(st.sampled_from(REFS), texts,
                                                                             json_values.map(json.dumps))))
    return interaction_body(draw(mutated(payload)))


@st.composite
def block_actions(draw: st.DrawFn) -> bytes:
    kind = draw(st.sampled_from(["button", "button", "static_select", "users_select", "datepicker", "overflow"]))
    user = draw(st.sampled_from(USERS))
    kwargs: dict[str, Any] = {"action_type": kind}
    if draw(st.booleans()):
        kwargs["view"] = {"type": draw(st.sampled_from(["home", "modal"])), "blocks": [],
                          "private_metadata": draw(st.one_of(st.sampled_from(REFS), texts))}
    else:
        kwargs["channel_id"] = f"D{user}"
    payload = block_actions_payload(user, draw(st.one_of(st.sampled_from(ACTIONS), texts)), draw(BUTTON_VALUES),
                                    **kwargs)
    return interaction_body(draw(mutated(payload)))


@st.composite
def other_interactions(draw: st.DrawFn) -> bytes:
    kind = draw(st.one_of(st.sampled_from(["view_closed", "shortcut", "message_action", "block_suggestion",
                                           "interactive_message", "dialog_submission"]), texts))
    payload = {"type": kind, "user": {"id": draw(st.sampled_from(USERS))}, "callback_id": draw(texts),
               "action_id": draw(st.sampled_from(ACTIONS)), "trigger_id": draw(texts), "team": {"id": "T0GFI"},
               "view": {"id": "V1", "type": "modal", "callback_id": draw(st.sampled_from(CALLBACKS))}}
    return interaction_body(draw(mutated(payload)))


@st.composite
def events(draw: st.DrawFn) -> bytes:
    kind = draw(st.one_of(st.sampled_from(["app_home_opened", "message", "app_mention", "app_uninstalled",
                                           "tokens_revoked", "member_joined_channel"]), texts))
    user = draw(st.sampled_from(USERS))
    event = {"type": kind, "user": user, "channel": f"D{user}",
             "channel_type": draw(st.sampled_from(["im", "channel"])),
             "tab": draw(st.sampled_from(["home", "messages", "about"])), "text": draw(texts),
             "ts": f"{int(time.time())}.000100", "event_ts": f"{int(time.time())}.000100"}
    if draw(st.booleans()):
        event["subtype"] = draw(st.one_of(st.sampled_from(["bot_message", "message_changed"]), texts))
    body = json.loads(event_body(draw(mutated(event))))
    if draw(st.integers(0, 3)) == 0:
        body = draw(mutated(body))
    return json.dumps(body, ensure_ascii=False).encode()


raw_bodies = st.one_of(
    json_values.map(lambda v: json.dumps(v).encode()),
    st.binary(max_size=200),
    st.dictionaries(texts, texts, max_size=5).map(lambda d: urlencode(d).encode()),
    json_values.map(lambda v: urlencode({"payload": json.dumps(v)}).encode()),
    st.builds(lambda t: urlencode({"payload": t}).encode(), texts),
    st.builds(lambda t, c: json.dumps({"type": t, "challenge": c, "token": "x"}).encode(),
              st.sampled_from(["url_verification", "event_callback", "app_rate_limited"]), json_values),
)

# --- harness -------------------------------------------------------------------------------------------------------


class Loop:
    """An event loop of the test's own, for a sync Hypothesis test driving an async bot."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()

    def run(self, coro: Coroutine[Any, Any, T]) -> T:
        return self.loop.run_until_complete(asyncio.wait_for(coro, 60))

    def close(self) -> None:
        self.loop.run_until_complete(self.loop.shutdown_asyncgens())
        self.loop.close()


def assert_clean(status: int, text: str, what: Any) -> None:
    assert status < 500, (status, text[:300], what)
    for marker in TRACE_MARKERS:
        assert marker not in text, (marker, text[:500], what)


def nothing_leaked_to_slack(fake: FakeSlackAPI) -> None:
    """Nothing the bot posted to users (messages, ephemerals, modals, Home) carries exception text."""
    for call in fake.calls():
        shown = json.dumps({k: v for k, v in call.params.items() if k not in ("token",)}, ensure_ascii=False,
                           default=str)
        for marker in ("Traceback", 'File "', "Exception", "NoneType", "object has no attribute"):
            assert marker not in shown, (call.method, shown[:500])


async def seed(core: Core) -> None:
    """Cases in several states, so that generated clicks and forms reach the rules, not only the parsers."""
    first = await core.cases.request("maria.sand", form())
    second = await core.cases.request("maria.sand", form())
    await core.cases.assign("fatima.ali", second.ref, ["linnea.fors"])
    third = await core.cases.request("maria.sand", form(urgent=True))
    await core.cases.assign("fatima.ali", third.ref, ["linnea.fors"])
    await core.cases.acknowledge("linnea.fors", third.ref)
    await core.cases.book("linnea.fors", third.ref, local("2026-11-30T13:00"), "Rum 3", ["soc-norr", "beroende"])
    assert [first.ref, second.ref, third.ref] == REFS[:3]


@pytest.fixture
def slack_sync(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Loop, SlackBot]]:
    monkeypatch.delenv("SLACK_CLIENT_ID", raising=False)
    monkeypatch.delenv("SLACK_CLIENT_SECRET", raising=False)
    loop = Loop()
    context = running_bot(tmp_path, FrozenClock(local("2026-11-23T10:00")))
    bot = loop.run(context.__aenter__())
    loop.run(seed(bot.core))
    try:
        yield loop, bot
    finally:
        loop.run(context.__aexit__(None, None, None))
        loop.close()


def signed(body: bytes, content_type: str | None) -> dict[str, str]:
    """Slack's headers for any bytes (the signature is over the raw body, UTF-8 or not)."""
    headers = signed_headers(SECRET, b"", content_type=content_type or (
        "application/json" if body.lstrip()[:1] == b"{" else "application/x-www-form-urlencoded"))
    base = b"v0:" + headers["X-Slack-Request-Timestamp"].encode() + b":" + body
    headers["X-Slack-Signature"] = "v0=" + hmac.new(SECRET.encode(), base, hashlib.sha256).hexdigest()
    return headers


async def slack_post(bot: SlackBot, body: bytes, content_type: str | None = None) -> tuple[int, str]:
    headers = signed(body, content_type)
    async with bot.http.post(bot.url, data=body, headers=headers) as resp:
        text = await resp.text()
    await bot.settle()
    return resp.status, text


def fuzz_slack(loop: Loop, bot: SlackBot, body: bytes, content_type: str | None = None) -> None:
    status, text = loop.run(slack_post(bot, body, content_type))
    assert_clean(status, text, body[:400])
    nothing_leaked_to_slack(bot.fake)
    bot.fake.clear()


# --- Slack ---------------------------------------------------------------------------------------------------------

@FUZZ
@given(body=slash_commands())
def test_slash_commands(slack_sync: tuple[Loop, SlackBot], body: bytes) -> None:
    fuzz_slack(*slack_sync, body)


@FUZZ
@given(body=view_submissions())
@example(body=interaction_body({"type": "view_submission", "user": {"id": "U01MARIA"}, "response_urls": [{}, {}],
                                "view": {"id": "V1", "type": "modal", "callback_id": "gfi_request"}}))
@example(body=interaction_body({"type": "view_submission", "user": {"id": "U01MARIA"}, "team": 5,
                                "view": {"id": "V1", "type": "modal", "callback_id": "gfi_request"}}))
def test_view_submissions(slack_sync: tuple[Loop, SlackBot], body: bytes) -> None:
    fuzz_slack(*slack_sync, body)


@FUZZ
@given(body=block_actions())
def test_block_actions(slack_sync: tuple[Loop, SlackBot], body: bytes) -> None:
    fuzz_slack(*slack_sync, body)


@FUZZ
@given(body=other_interactions())
@example(body=interaction_body({"type": "shortcut", "callback_id": "x", "view": None}))  # Bolt's unhandled log
@example(body=interaction_body({"type": "interactive_message", "callback_id": None}))  # Bolt's action matcher
@example(body=interaction_body({"type": "block_suggestion", "action_id": False}))  # Bolt's options suggestion
@example(body=interaction_body({"type": "dialog_suggestion", "action_id": {"a": 1}, "callback_id": "x"}))
@example(body=interaction_body({"type": "shortcut", "callback_id": ["x"]}))
def test_other_interactions(slack_sync: tuple[Loop, SlackBot], body: bytes) -> None:
    fuzz_slack(*slack_sync, body)


@FUZZ
@given(body=events())
def test_events(slack_sync: tuple[Loop, SlackBot], body: bytes) -> None:
    fuzz_slack(*slack_sync, body)


@FUZZ
@given(body=raw_bodies, content_type=st.sampled_from([None, "application/json", "application/x-www-form-urlencoded",
                                                      "text/plain", "multipart/form-data"]))
def test_raw_bodies(slack_sync: tuple[Loop, SlackBot], body: bytes, content_type: str | None) -> None:
    fuzz_slack(*slack_sync, body, content_type)


# --- Teams ---------------------------------------------------------------------------------------------------------

TEAMS_VERBS = ["request", "acknowledge", "no_show", "reopen", "resume", "take_over", "nudge", "withdraw_consent",
               "complete_follow_up", "brist_close", "brist_open_report", "assign", "reassign", "book", "rebook",
               "book_again", "record_outcome", "add_follow_up", "close", "wait", "hold_now", "renew_consent",
               "withdraw_consent_form", "brist", "brist_report", "brist_measures", "brist_dialogue", "open", "journal",
               "accept_follow_up", "decline_follow_up", "nope"]
TEAMS_FIELDS = ["card", "ref", "item", "enhet", "typ", "kort", "kontakt", "samtycke", "omfattar", "avser", "form",
                "inhamtat", "giltigt", "bradskande", "personer", "annan", "datum", "tid", "plats", "enheter", "utfall",
                "skal", "vad", "agare", "till", "text", "berorda", "orsaker", "handelse"]
TEAMS_TEXTS = ["gfi", "hjälp", "kö", "brist", "eskaleringar", "visa GFI-2026-0001", "fördela GFI-2026-0001 linnea.fors",
               "journal GFI-2026-0003", "journal",
               "<at>GFI-boten</at> gfi", ""]


@st.composite
def teams_activities(draw: st.DrawFn, bot: TeamsBot) -> dict[str, Any]:
    who = draw(st.sampled_from(["maria.sand", "fatima.ali", "linnea.fors"]))
    kind = draw(st.sampled_from(["message", "message", "invoke", "invoke", "invoke", "conversationUpdate",
                                 "installationUpdate", "messageReaction", "event", "typing"]))
    kw: dict[str, Any] = {}
    if kind == "message":
        kw["text"] = draw(st.one_of(st.sampled_from(TEAMS_TEXTS), texts))
        if draw(st.booleans()):
            kw["value"] = draw(json_values)
    elif kind == "invoke":
        kw["name"] = draw(st.one_of(st.sampled_from(["adaptiveCard/action", "adaptiveCard/action", "task/fetch",
                                                     "composeExtension/query"]), texts))
        data = {**draw(st.dictionaries(st.sampled_from(TEAMS_FIELDS), st.one_of(texts, json_values), max_size=8)),
                **draw(st.fixed_dictionaries({}, optional={"ref": st.sampled_from(REFS), "card": texts}))}
        value = {"action": {"type": "Action.Execute", "verb": draw(st.one_of(st.sampled_from(TEAMS_VERBS), texts)),
                            "data": data}, "trigger": "manual"}
        kw["value"] = draw(mutated(value))
    else:
        kw["membersAdded"] = draw(st.one_of(st.just([{"id": "29:maria"}]), json_values))
    activity = bot.activity(who, kind, **kw)
    # the gate checks the tenant and serviceUrl against the token: keep those, mutate the rest
    kept = {k: activity[k] for k in ("serviceUrl", "channelData", "conversation")}
    out = draw(mutated(activity))
    if not isinstance(out, dict) or draw(st.integers(0, 3)) > 0:
        out = {**(out if isinstance(out, dict) else {}), **kept}
    return out


@pytest.fixture
def teams_sync(tmp_path: Path) -> Iterator[tuple[Loop, TeamsBot]]:
    loop = Loop()
    context = running_teams(tmp_path, FrozenClock(local("2026-11-23T10:00")))
    bot = loop.run(context.__aenter__())
    loop.run(seed(bot.core))
    try:
        yield loop, bot
    finally:
        loop.run(context.__aexit__(None, None, None))
        loop.close()


async def teams_post(bot: TeamsBot, body: dict[str, Any] | bytes) -> tuple[int, str]:
    token = bot.issuer.token(service_url=bot.connector.url)
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    headers = {"Content-Type": "application/json", "Authorization": f"Bearer {token}"}
    async with bot.http.post(bot.url, data=data, headers=headers) as resp:
        text = await resp.text()
    await bot.settle()
    return resp.status, text


def nothing_leaked_to_teams(bot: TeamsBot) -> None:
    shown = json.dumps([c.body for c in bot.connector.calls], ensure_ascii=False, default=str)
    for marker in ("Traceback", 'File "', "Exception", "NoneType", "object has no attribute"):
        assert marker not in shown, shown[:500]
    bot.connector.calls.clear()


@FUZZ
@given(data=st.data())
def test_teams_activities(teams_sync: tuple[Loop, TeamsBot], data: st.DataObject) -> None:
    loop, bot = teams_sync
    activity = data.draw(teams_activities(bot))
    status, text = loop.run(teams_post(bot, activity))
    if status == 501 and isinstance(activity, dict) and activity.get("type") == "invoke":
        status = 200  # the Bot Framework's answer to an invoke the bot does not implement (not a failure)
    assert_clean(status, text, activity)
    nothing_leaked_to_teams(bot)


def test_teams_shapes_found_before(teams_sync: tuple[Loop, TeamsBot]) -> None:
    loop, bot = teams_sync
    for change in [
        {"channelData": {"tenant": True}, "conversation": None},  # the tenant check read a bool as an object
        {"type": "conversationUpdate", "membersAdded": None},  # the SDK's model refuses it: 400, not 500
        {"channelId": {"x": 1}},
        {"from": {"id": "29:maria", "name": {}}},
    ]:
        activity = {**bot.activity("maria.sand", "message", text="gfi"), **change}
        status, text = loop.run(teams_post(bot, activity))
        assert_clean(status, text, activity)


# --- action links --------------------------------------------------------------------------------------------------

LINK_SECRET = "faults-link-secret-0123456789"


@pytest.fixture
def links_sync(tmp_path: Path,
               monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Loop, LinkSigner, str, aiohttp.ClientSession]]:
    # every fuzzed link is refused: the per-address limit (tests/e2e/test_graph.py) would answer 429 after a
    # few, and the fuzz is about what the claim's parsing does
    monkeypatch.setattr(edge, "PER_ADDRESS", 10**9)
    loop = Loop()
    settings = Settings(_env_file=None, db_path=tmp_path / "gfi.sqlite3", directory_path=DEFAULT_DIRECTORY,
                        GFI_PUBLIC_URL="http://127.0.0.1", GFI_LINK_SECRET=LINK_SECRET)

    async def start() -> tuple[Core, GraphChannel, Any, str, aiohttp.ClientSession]:
        core = await open_core(settings, clock=FrozenClock(local("2026-11-23T10:00")), fallback=RecordingSender())
        await seed(core)
        channel = GraphChannel.from_settings(settings)
        assert channel is not None
        channel.attach(core)
        app = web.Application()
        channel.add_routes(app)
        server = serve_web_app(app)
        base = await server.__aenter__()
        return core, channel, server, base, aiohttp.ClientSession()

    core, channel, server, base, http = loop.run(start())
    assert channel.signer is not None
    try:
        yield loop, channel.signer, base, http
    finally:
        async def stop() -> None:
            await http.close()
            await server.__aexit__(None, None, None)
            await core.close()

        loop.run(stop())
        loop.close()


def signed_token(signer: LinkSigner, payload: bytes, sealed: bool = True) -> str:
    """A token around any payload, sealed with the bot's own key (or in the readable v1 form, signed with it),
    so it passes the key check and reaches the claim's parsing."""
    if sealed:
        return signer.seal(payload)
    mac = hmac.new(signer.key, payload, hashlib.sha256).digest()
    return (base64.urlsafe_b64encode(payload).rstrip(b"=").decode() + "."
            + base64.urlsafe_b64encode(mac).rstrip(b"=").decode())


FUTURE = int(time.time()) + 86400
EDGE_NUMBERS = [0, 1, -1, 2**31, 2**62, -(2**62), 2**70, 1e20, -1e20, float("inf"), float("-inf"), float("nan"),
                "1", "x", True, None, int(time.time()) + 86400]
link_claims = st.one_of(
    st.fixed_dictionaries({
        "j": st.one_of(texts, json_values),
        "p": st.one_of(st.sampled_from(["linnea.fors", "maria.sand", "fatima.ali"]), json_values),
        "a": st.one_of(st.sampled_from(["acknowledge", "take_over", "nudge", "complete_follow_up", "open"]),
                       json_values),
        "c": st.one_of(st.sampled_from(REFS), json_values),
        "i": st.one_of(st.sampled_from(EDGE_NUMBERS), json_values),
        "e": st.one_of(st.sampled_from(EDGE_NUMBERS), st.integers(min_value=-(2**70), max_value=2**70), json_values,
                       st.just(int(time.time()) + 86400 * 365 * 3)),
    }),
    json_values,
)


@FUZZ
@given(claim=link_claims, method=st.sampled_from(["GET", "POST"]), sealed=st.booleans())
@example(claim={"j": "x1", "p": "linnea.fors", "a": "take_over", "c": None, "i": 2**70, "e": FUTURE},
         method="POST", sealed=True)
@example(claim={"j": "x2", "p": "linnea.fors", "a": "nudge", "c": REFS[2], "i": -(2**63) - 1, "e": FUTURE},
         method="POST", sealed=True)
@example(claim={"j": "x3", "p": "linnea.fors", "a": "open", "c": None, "i": float("inf"), "e": FUTURE},
         method="GET", sealed=False)
@example(claim={"j": "x4", "p": "linnea.fors", "a": "open", "c": None, "i": None, "e": 2**62},
         method="GET", sealed=False)
def test_action_links(links_sync: tuple[Loop, LinkSigner, str, aiohttp.ClientSession], claim: Any,
                      method: str, sealed: bool) -> None:
    loop, signer, base, http = links_sync
    token = signed_token(signer, json.dumps(claim, ensure_ascii=False).encode(), sealed)

    async def go() -> tuple[int, str]:
        async with http.request(method, f"{base}/a/{token}") as resp:
            return resp.status, await resp.text()

    status, text = loop.run(go())
    assert_clean(status, text, claim)

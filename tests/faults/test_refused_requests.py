"""Fault: forged, stale and replayed requests. Each is refused (or, for a replay within Slack's window, answered
without doing anything twice) and nothing is stored: no case, no audit row, no message queued, no Slack call.

Slack: wrong secret, a timestamp more than five minutes off, a tampered body, missing headers; a captured
request sent again. Teams: missing, foreign, expired or malformed tokens; a redelivered activity. Action links
(the bot's only Microsoft Graph endpoint; it subscribes to no Graph change notifications): forged, expired,
used twice."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from bot.cases.models import CaseState
from bot.channels.graph import GraphChannel
from bot.channels.graph.links import LinkSigner
from bot.clock import FrozenClock
from bot.config import DEFAULT_DIRECTORY, Settings
from bot.core import Core, open_core
from tests.conftest import RecordingSender
from tests.e2e.test_slack_lifecycle import request_values
from tests.fakes.slack_api import serve_web_app
from tests.fakes.slack_bot import MARIA, SECRET, SlackBot
from tests.fakes.slack_signing import (
    app_home_opened_event,
    block_actions_payload,
    event_body,
    interaction_body,
    signed_headers,
    slash_command_body,
    view_submission_payload,
)
from tests.fakes.teams import KeyIssuer
from tests.fakes.teams_bot import TeamsBot
from tests.timekit import form

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")  # msgraph-sdk's own request configs

TABLES = ("cases", "audit", "outbox", "inbound_requests", "slack_inbound", "slack_identities", "case_reads",
          "awaiting", "timers", "brister", "teams_inbound", "teams_references", "teams_identities", "link_uses")
TRACE_MARKERS = ("Traceback", 'File "', "Error:", "Exception")


async def snapshot(core: Core) -> dict[str, int]:
    async with core.db.transaction() as tx:
        return {t: int(await tx.scalar(f"SELECT COUNT(*) FROM {t}")) for t in TABLES}


def no_trace(text: str) -> None:
    for marker in TRACE_MARKERS:
        assert marker not in text, text[:500]


# --- Slack ---------------------------------------------------------------------------------------------------------

def slack_bodies() -> dict[str, bytes]:
    state = {block: {"v": st} for block, st in request_values().items()}
    return {
        "command": slash_command_body("/gfi", "", MARIA, trigger_id="t-forged"),
        "submission": interaction_body(view_submission_payload(MARIA, "gfi_request", state, view_id="VFORGED")),
        "click": interaction_body(block_actions_payload(MARIA, "gfi_ack", "GFI-2026-0001", channel_id="DU01MARIA")),
        "event": event_body(app_home_opened_event(MARIA)),
    }


def forged_headers(how: str, body: bytes) -> dict[str, str]:
    now = int(time.time())
    if how == "wrong_secret":
        return signed_headers("not-the-signing-secret", body)
    if how == "stale":  # a genuine signature, captured more than five minutes ago
        return signed_headers(SECRET, body, timestamp=now - 6 * 60)
    if how == "future":
        return signed_headers(SECRET, body, timestamp=now + 6 * 60)
    if how == "tampered":  # signed for another body
        return signed_headers(SECRET, body + b"&x=1", content_type=signed_headers(SECRET, body)["Content-Type"])
    headers = signed_headers(SECRET, body)
    if how == "no_signature":
        del headers["X-Slack-Signature"]
    elif how == "no_timestamp":
        del headers["X-Slack-Request-Timestamp"]
    elif how == "bad_timestamp":
        headers["X-Slack-Request-Timestamp"] = "yesterday"
    elif how == "v1_signature":
        headers["X-Slack-Signature"] = "v1=" + headers["X-Slack-Signature"][3:]
    return headers


@pytest.mark.parametrize("how", ["wrong_secret", "stale", "future", "tampered", "no_signature", "no_timestamp",
                                 "bad_timestamp", "v1_signature"])
async def test_forged_and_stale_slack_requests_are_refused_and_store_nothing(slack: SlackBot, how: str) -> None:
    before = await snapshot(slack.core)
    for kind, body in slack_bodies().items():
        async with slack.http.post(slack.url, data=body, headers=forged_headers(how, body)) as resp:
            text = await resp.text()
        assert resp.status == 401, (kind, resp.status, text)
        no_trace(text)
    await slack.settle()
    assert await snapshot(slack.core) == before
    assert slack.fake.calls() == []  # not even an identity lookup or a modal


async def test_a_replayed_form_submission_files_one_case(slack: SlackBot) -> None:
    body = slack_bodies()["submission"]
    headers = signed_headers(SECRET, body)
    async with slack.http.post(slack.url, data=body, headers=headers) as resp:
        first = await resp.json()
    ref = json.dumps(first, ensure_ascii=False).split("registrerad: ")[1][:13]
    await slack.settle()
    stored = await snapshot(slack.core)

    async def replay() -> tuple[int, str]:
        async with slack.http.post(slack.url, data=body, headers=headers) as resp:
            return resp.status, await resp.text()

    answers = await asyncio.gather(*(replay() for _ in range(5)))  # the same bytes and headers, at once
    await slack.settle()
    for status, text in answers:
        assert status == 200
        assert ref in text  # the case already filed, not a new one
        no_trace(text)
    after = await snapshot(slack.core)
    assert after["cases"] == stored["cases"] == 1
    assert after["outbox"] == stored["outbox"] and after["audit"] == stored["audit"]
    receipts = [c for c in slack.fake.calls("chat.postMessage") if "registrerad" in str(c.params.get("text"))]
    assert len(receipts) == 1


async def test_a_replayed_command_opens_one_form(slack: SlackBot) -> None:
    body = slash_command_body("/gfi", "", MARIA, trigger_id="t-replayed")
    headers = signed_headers(SECRET, body)
    for _ in range(3):
        async with slack.http.post(slack.url, data=body, headers=headers) as resp:
            assert resp.status == 200
    await slack.settle()
    assert len(slack.fake.calls("views.open")) == 1


async def test_a_captured_request_replayed_after_five_minutes_is_refused(slack: SlackBot) -> None:
    body = slack_bodies()["submission"]
    captured = signed_headers(SECRET, body, timestamp=int(time.time()) - 5 * 60 - 30)
    async with slack.http.post(slack.url, data=body, headers=captured) as resp:
        assert resp.status == 401
    assert (await snapshot(slack.core))["cases"] == 0


# --- Teams ---------------------------------------------------------------------------------------------------------

def teams_request(bot: TeamsBot, activity_id: str = "a-replayed") -> dict[str, Any]:
    values = {"enhet": "beroende", "typ": "ny-bada", "kort": "man, 45 år, alkohol", "kontakt": "070-123 45 67",
              "samtycke": "ja", "omfattar": "", "avser": "kontaktuppgifter", "avser_text": "",
              "form": "skriftligt", "inhamtat": "maria.sand", "giltigt": "2027-02-01", "bradskande": "",
              "barn": "nej"}
    value = {"action": {"type": "Action.Execute", "verb": "request", "data": {"card": "c1", **values}},
             "trigger": "manual"}
    return bot.activity("maria.sand", "invoke", name="adaptiveCard/action", value=value, activity_id=activity_id)


@pytest.mark.parametrize("how", ["missing", "garbage", "expired", "foreign_key", "wrong_audience", "unsigned",
                                 "not_yet_valid", "basic"])
async def test_teams_requests_without_a_valid_token_are_refused_and_store_nothing(teams: TeamsBot, how: str) -> None:
    url = teams.connector.url
    tokens: dict[str, str | None] = {
        "missing": None,
        "garbage": "eyJhbGciOiJub25lIn0.e30.",
        "expired": teams.issuer.token(service_url=url, expires_in=-600),
        "foreign_key": KeyIssuer().token(service_url=url),
        "wrong_audience": teams.issuer.token(service_url=url, aud="another-bot"),
        "unsigned": teams.issuer.token(service_url=url).rsplit(".", 1)[0] + ".",
        "not_yet_valid": teams.issuer.token(service_url=url, nbf=int(time.time()) + 3600, iat=int(time.time()) + 3600),
        "basic": None,
    }
    before = await snapshot(teams.core)
    headers = {"Authorization": "Basic dXNlcjpwYXNz"} if how == "basic" else None
    for body in (teams_request(teams), teams.activity("maria.sand", "message", text="gfi")):
        reply = await teams.post(body, token=tokens[how], headers=headers)
        assert reply.status == 401, (how, reply)
        no_trace(json.dumps(reply.body))
    await teams.settle()
    assert await snapshot(teams.core) == before
    assert teams.connector.posts() == []


async def test_a_redelivered_teams_submission_files_one_case(teams: TeamsBot) -> None:
    body = teams_request(teams)
    token = teams.issuer.token(service_url=teams.connector.url)
    replies = [await teams.post(body, token=token) for _ in range(3)]  # the same activity, the same token
    await teams.settle()
    assert [r.status for r in replies] == [200, 200, 200]
    assert await teams.count("SELECT COUNT(*) FROM cases") == 1
    assert await teams.count("SELECT COUNT(*) FROM audit WHERE action = 'request'") == 1


# --- action links (Microsoft Graph e-mail) -------------------------------------------------------------------------

LINK_SECRET = "faults-link-secret-0123456789"


@dataclass
class Links:
    core: Core
    signer: LinkSigner
    base: str
    http: aiohttp.ClientSession


@pytest.fixture
async def links(tmp_path: Path, clock: FrozenClock) -> AsyncIterator[Links]:
    settings = Settings(_env_file=None, db_path=tmp_path / "gfi.sqlite3", directory_path=DEFAULT_DIRECTORY,
                        GFI_PUBLIC_URL="http://127.0.0.1", GFI_LINK_SECRET=LINK_SECRET)
    core = await open_core(settings, clock=clock, fallback=RecordingSender())
    channel = GraphChannel.from_settings(settings)
    assert channel is not None and channel.signer is not None
    channel.attach(core)
    app = web.Application()
    channel.add_routes(app)
    try:
        async with serve_web_app(app) as base, aiohttp.ClientSession() as http:
            yield Links(core, channel.signer, base, http)
    finally:
        await core.close()


async def test_forged_expired_and_reused_links_change_nothing(links: Links, clock: FrozenClock) -> None:
    case = await links.core.cases.request("maria.sand", form())
    await links.core.cases.assign("fatima.ali", case.ref, ["linnea.fors"])
    now = clock.now()
    good = links.signer.token("linnea.fors", "acknowledge", case.ref, None, now)
    middle = len(good) // 2
    forged = {
        "other_key": LinkSigner("someone-elses-secret-0123", "http://x").token(
            "linnea.fors", "acknowledge", case.ref, None, now),
        "tampered": good[:middle] + ("A" if good[middle] != "A" else "B") + good[middle + 1:],
        "truncated": good[:-4],
        "as_v1_without_mac": good + ".",
        "expired": links.signer.token("linnea.fors", "acknowledge", case.ref, None, now - timedelta(days=8)),
    }
    for name, token in forged.items():
        async with links.http.post(f"{links.base}/a/{token}") as resp:
            text = await resp.text()
        assert resp.status in (400, 403, 410), (name, resp.status)
        no_trace(text)
    assert (await links.core.cases.get(case.ref)).state is CaseState.ASSIGNED
    # the genuine link works once; used again (a replay, a second click) it is refused
    async with links.http.post(f"{links.base}/a/{good}") as resp:
        assert resp.status == 200
    acknowledged = await snapshot(links.core)
    for _ in range(2):
        async with links.http.post(f"{links.base}/a/{good}") as resp:
            assert resp.status == 410
            no_trace(await resp.text())
    after = await snapshot(links.core)
    assert after["outbox"] == acknowledged["outbox"] and after["cases"] == acknowledged["cases"]
    async with links.core.db.transaction() as tx:
        done = await tx.scalar("SELECT COUNT(*) FROM audit WHERE action = 'acknowledge' AND result = 'ok'")
    assert done == 1


async def test_two_concurrent_posts_of_one_link_act_once(links: Links, clock: FrozenClock,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    """Issue #23 item 11: both requests pass the early "was it used?" look-up before either records the use
    (held at a barrier, so the race happens every run); only the atomic record of the use lets one through."""
    from bot.channels.graph import pages

    case = await links.core.cases.request("maria.sand", form())
    await links.core.cases.assign("fatima.ali", case.ref, ["linnea.fors"])
    token = links.signer.token("linnea.fors", "acknowledge", case.ref, None, clock.now())
    barrier = asyncio.Barrier(2)
    look_up = pages.LinkPages._claim

    async def both_look_first(self: Any, request: Any) -> Any:
        claim = await look_up(self, request)
        await barrier.wait()  # outside any transaction: each request has checked, neither has recorded
        return claim

    monkeypatch.setattr(pages.LinkPages, "_claim", both_look_first)

    async def post() -> tuple[int, str]:
        async with links.http.post(f"{links.base}/a/{token}") as resp:
            return resp.status, await resp.text()

    replies = await asyncio.wait_for(asyncio.gather(post(), post()), 30)
    assert sorted(status for status, _ in replies) == [200, 410], [s for s, _ in replies]
    async with links.core.db.transaction() as tx:
        done = await tx.scalar("SELECT COUNT(*) FROM audit WHERE action = 'acknowledge' AND result = 'ok'")
        refused = await tx.scalar("SELECT COUNT(*) FROM audit WHERE action = 'link' AND result = 'refused'")
    assert (done, refused) == (1, 1)


async def test_a_link_exactly_at_its_expiry_is_expired(links: Links, clock: FrozenClock) -> None:
    """Issue #23 item 11: a link is valid until its expiry, not at it (`expires <= now` is expired)."""
    case = await links.core.cases.request("maria.sand", form())
    await links.core.cases.assign("fatima.ali", case.ref, ["linnea.fors"])
    token = links.signer.token("linnea.fors", "acknowledge", case.ref, None, clock.now())
    claim = links.signer.check(token, clock.now())
    clock.set(claim.expires - timedelta(seconds=1))
    async with links.http.get(f"{links.base}/a/{token}") as resp:
        assert resp.status == 200  # a second before: still valid
    clock.set(claim.expires)
    for method in ("GET", "POST"):
        async with links.http.request(method, f"{links.base}/a/{token}") as resp:
            assert resp.status == 410, method
    assert (await links.core.cases.get(case.ref)).state is CaseState.ASSIGNED

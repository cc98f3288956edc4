"""Microsoft Graph end to end, against a local TLS fake of Graph and of the sign-in host.

The real msgraph-sdk and azure-identity (async, client secret) talk to `tests/fakes/graph_api.py`, which
checks the request shapes Graph documents. Outlook events through the outbox (created, updated, cancelled,
Graph down, throttled), e-mail without free text, and signed action links served over HTTP.
"""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import aiohttp
import pytest
import yaml
from aiohttp import web

from bot import audit
from bot.cases.models import CaseState
from bot.channels.graph import GraphChannel, edge
from bot.channels.graph.calendar import event_of
from bot.channels.graph.client import GraphClient
from bot.channels.graph.links import LinkSigner
from bot.clock import FrozenClock
from bot.config import DEFAULT_DIRECTORY, Settings
from bot.core import Core, open_core
from bot.directory import parse_directory
from tests.conftest import RecordingSender, local
from tests.fakes.graph_api import FakeGraph
from tests.timekit import form

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")  # msgraph-sdk's own request configs

BRIEF = "Behöver stöd med boende och samordning av insatser"
CONTACT = "Nås på 070-111 22 33 efter kl 15"
PLACE = "Beroendemottagningen, rum 3"
SECRET = "test-link-secret-0123456789"
SENDER = "gfi-boten@rsv.example.se"


def graph_directory() -> Any:
    """The example directory with Sofia Grahn reached by e-mail only (no Slack, no Teams)."""
    data = yaml.safe_load(DEFAULT_DIRECTORY.read_text(encoding="utf-8"))
    for person in data["people"]:
        if person["id"] == "sofia.grahn":
            person["channel"] = "email"
    return parse_directory(data, DEFAULT_DIRECTORY)


@dataclass
class Running:
    core: Core
    graph: FakeGraph
    slack: RecordingSender
    channel: GraphChannel
    base_url: str
    clock: FrozenClock

    @property
    def signer(self) -> LinkSigner:
        """The channel's link signer (the fixture always configures one)."""
        assert self.channel.signer is not None
        return self.channel.signer

    async def tick(self) -> None:
        await self.core.tick()

    def mails_to(self, address: str) -> list[dict[str, Any]]:
        return [c.body["message"] for c in self.graph.of("sendMail")
                if c.body["message"]["toRecipients"][0]["emailAddress"]["address"] == address]


@pytest.fixture
async def running(tmp_path: Path, clock: FrozenClock, sender: RecordingSender,
                  monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[Running]:
    async with FakeGraph(tmp_path) as graph:
        monkeypatch.setenv("SSL_CERT_FILE", str(graph.cert))
        site_port = _free_port()
        settings = Settings(
            _env_file=None, db_path=tmp_path / "gfi.sqlite3", directory_path=DEFAULT_DIRECTORY,
            GRAPH_TENANT_ID=graph.tenant, GRAPH_CLIENT_ID="app-id", GRAPH_CLIENT_SECRET="app-secret",
            GRAPH_SENDER=SENDER, GRAPH_API_URL=graph.api_url, GRAPH_AUTHORITY_HOST=graph.url, GRAPH_TIMEOUT=2,
            GFI_PUBLIC_URL=f"http://127.0.0.1:{site_port}", GFI_LINK_SECRET=SECRET,
        )
        core = await open_core(settings, clock=clock, senders={"slack": sender}, fallback=sender,
                               directory=graph_directory())
        channel = GraphChannel.from_settings(settings)
        assert channel is not None
        channel.attach(core)
        app = web.Application()
        channel.add_routes(app)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", site_port).start()
        try:
            yield Running(core, graph, sender, channel, f"http://127.0.0.1:{site_port}", clock)
        finally:
            await runner.cleanup()
            await channel.close()
            await core.close()
        assert graph.problems == []  # no request Graph would have refused


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def booked(r: Running, *, at: str = "2026-11-30T13:00") -> str:
    case = await r.core.cases.request("maria.sand", form(brief=BRIEF, contact=CONTACT))
    await r.core.cases.assign("fatima.ali", case.ref, ["linnea.fors", "sofia.grahn"])
    await r.core.cases.acknowledge("linnea.fors", case.ref)
    await r.core.cases.book("linnea.fors", case.ref, local(at), PLACE, ["soc-norr", "beroende"])
    return case.ref


PHONE = re.compile(r"\b070[- ]")  # the contact's mobile number, never a uuid's or a timestamp's digits


def bodies(r: Running) -> str:
    return json.dumps([c.body for c in r.graph.calls], ensure_ascii=False)


async def test_booking_creates_an_outlook_event_without_free_text(running: Running) -> None:
    ref = await booked(running)
    await running.tick()
    [create] = running.graph.of("events")
    assert create.path == f"/users/{SENDER}/events" and create.token and create.token.startswith("fake-token")
    body = create.body
    assert body["subject"] == f"GFI-möte {ref}"
    assert body["start"] == {"dateTime": "2026-11-30T13:00:00", "timeZone": "Europe/Stockholm"}
    assert body["end"] == {"dateTime": "2026-11-30T14:00:00", "timeZone": "Europe/Stockholm"}
    # private: a calendar shared with someone else shows busy, not the subject or the place (issue #23 item 7);
    # the place is as typed, for the attendees
    assert body["sensitivity"] == "private"
    assert body["location"]["displayName"] == PLACE
    for unit in ("soc-norr", "beroende"):
        assert running.core.directory.unit_name(unit) in body["body"]["content"]
    # only participants with a Microsoft 365 address are invited (Sofia; Linnea and Maria are on Slack)
    assert [a["emailAddress"]["address"] for a in body["attendees"]] == ["sofia.grahn@rsv.example.se"]
    assert body["transactionId"]
    stored = await event_of(running.core.db, ref)
    assert stored is not None and stored["event_id"] == running.graph.events[str(stored["event_id"])]["id"]
    for secret in (BRIEF, CONTACT):
        assert secret not in bodies(running)
    assert not PHONE.search(bodies(running))  # a random id may hold "070"; a phone number starts with it


async def test_a_stored_place_the_guard_now_refuses_goes_out_as_no_place(running: Running) -> None:
    """A place stored before the identity-number guard knew its disguise reaches Graph as no place at all."""
    ref = await booked(running)
    async with running.core.db.transaction() as tx:
        await tx.execute("UPDATE cases SET meeting_place = ? WHERE ref = ?", ("Hemma hos 811218–9876", ref))
    await running.tick()
    [create] = running.graph.of("events")
    assert create.body["location"]["displayName"] == "" and create.body["sensitivity"] == "private"
    assert "9876" not in bodies(running)


async def test_a_stored_external_first_name_the_guard_now_refuses_leaves_the_role_alone(running: Running) -> None:
    """An external participant's first name is free text in the event body: one stored before the guard knew
    its disguise goes out as the role alone, the others by name (status.md of issue #23, Noticed)."""
    ref = await booked(running)
    await running.core.cases.book("linnea.fors", ref, local("2026-11-30T13:00"), PLACE, ["soc-norr", "beroende"],
                                  externals=[("narstaende", "Eva"), ("god-man", "Karl")])
    async with running.core.db.transaction() as tx:
        await tx.execute("UPDATE meeting_participants SET first_name = ? WHERE first_name = 'Karl'",
                         ("Karl 811218–9876",))
    await running.tick()
    [create] = running.graph.of("events")
    body = create.body["body"]["content"]
    assert "närstående (Eva)" in body and "god man<br>" in body
    assert "9876" not in bodies(running) and "Karl" not in bodies(running)


async def test_rebooking_updates_and_no_show_cancels_with_a_swedish_comment(running: Running) -> None:
    ref = await booked(running)
    await running.tick()
    await running.core.cases.book("linnea.fors", ref, local("2026-12-02T10:00"), "Rum 5", ["soc-norr", "beroende"])
    await running.tick()
    [patch] = running.graph.of("patch")
    [event_id] = running.graph.events
    assert patch.path == f"/users/{SENDER}/events/{event_id}"
    assert patch.body["start"]["dateTime"] == "2026-12-02T10:00:00" and patch.body["location"]["displayName"] == "Rum 5"
    assert patch.body["sensitivity"] == "private"
    assert "transactionId" not in patch.body

    await running.core.cases.no_show("linnea.fors", ref)
    await running.tick()
    [cancel] = running.graph.of("cancel")
    assert cancel.path == f"/users/{SENDER}/events/{event_id}/cancel"
    assert cancel.body == {"comment": f"GFI-mötet i {ref} är inställt eftersom den enskilde uteblev. "
                                      "En ny tid bokas i GFI-boten."}
    assert running.graph.events[event_id]["cancelled"]

    # booked again after the no-show: a new event
    await running.core.cases.book("linnea.fors", ref, local("2026-12-03T10:00"), "Rum 5", ["soc-norr", "beroende"])
    await running.tick()
    assert len(running.graph.of("events")) == 2 and len(running.graph.events) == 2
    for secret in (BRIEF, CONTACT):
        assert secret not in bodies(running)


@pytest.mark.parametrize(("how", "comment"), [
    ("close", "är inställt eftersom ärendet är avslutat"),
    ("withdraw", "är inställt eftersom samtycket har återkallats"),
])
async def test_closing_or_withdrawal_cancels_the_event(running: Running, how: str, comment: str) -> None:
    ref = await booked(running)
    await running.tick()
    if how == "close":
        await running.core.cases.close("linnea.fors", ref, "ej-aktuellt")
    else:
        await running.core.cases.withdraw_consent("maria.sand", ref)
    await running.tick()
    [cancel] = running.graph.of("cancel")
    assert comment in cancel.body["comment"]
    stored = await event_of(running.core.db, ref)
    assert stored is not None and stored["state"] == "cancelled"


async def test_graph_down_during_booking_the_event_is_created_once_it_recovers(running: Running) -> None:
    running.graph.fail_next("events", 503, times=2)
    ref = await booked(running)  # the booking itself never waits for Graph
    case = await running.core.cases.get(ref)
    assert case.state is CaseState.MEETING_BOOKED
    await running.tick()
    assert running.graph.of("events") == []
    running.clock.advance(timedelta(minutes=5))
    await running.tick()
    running.graph.fail_next("events", 429, retry_after=120)
    running.clock.advance(timedelta(minutes=5))
    await running.tick()
    running.clock.advance(timedelta(seconds=60))  # Retry-After not yet over: no request
    calls = len(running.graph.calls)
    await running.tick()
    assert len([c for c in running.graph.calls[calls:] if "/events" in c.path]) == 0
    running.clock.advance(timedelta(seconds=61))
    await running.tick()
    assert len(running.graph.of("events")) == 1 and len(running.graph.events) == 1
    async with running.core.db.transaction() as tx:
        row = await tx.fetchone("SELECT status, attempts FROM outbox WHERE kind = 'calendar' AND case_ref = ?", (ref,))
    assert row is not None and row["status"] == "sent"


async def test_a_create_that_timed_out_is_not_made_twice(running: Running) -> None:
    ref = await booked(running)
    # the fake takes the create but the answer never comes back in time: the client gives up
    running.graph.fail_next("events", 0)
    await running.tick()
    running.graph.release.set()
    async with running.core.db.transaction() as tx:
        row = await tx.fetchone("SELECT status, last_error FROM outbox WHERE kind = 'calendar'")
    assert row == {"status": "pending", "last_error": "graph:event_create:timeout"}
    running.clock.advance(timedelta(minutes=2))
    await running.tick()
    # the retry sent the same transactionId, and Graph answered with the event made the first time
    first, second = running.graph.of("events")
    assert first.body["transactionId"] == second.body["transactionId"]
    assert len(running.graph.events) == 1
    stored = await event_of(running.core.db, ref)
    assert stored is not None and stored["state"] == "active" and stored["event_id"] in running.graph.events


async def test_an_email_person_is_notified_without_free_text_and_acts_by_link(running: Running) -> None:
    case = await running.core.cases.request("maria.sand", form(brief=BRIEF, contact=CONTACT))
    await running.core.cases.assign("fatima.ali", case.ref, ["sofia.grahn"])
    await running.tick()
    [mail] = running.mails_to("sofia.grahn@rsv.example.se")
    assert case.ref in mail["subject"]
    html = mail["body"]["content"]
    for secret in (BRIEF, CONTACT):
        assert secret not in json.dumps(mail, ensure_ascii=False)
    assert not PHONE.search(json.dumps(mail, ensure_ascii=False))
    # Kvittera, "Inte vårt ärende" (as Slack's buttons), and Visa ärendet (no dead end)
    assert len(re.findall(r'href="([^"]+/a/[^"]+)"', html)) == 3
    url = re.findall(r'href="([^"]+/a/[^"]+)"', html)[0]
    assert re.search(r">\s*Visa ärendet\s*<", html) and re.search(r">\s*Inte vårt ärende\s*<", html)
    assert running.slack.to("sofia.grahn") == []  # not on Slack

    async with aiohttp.ClientSession() as http:
        async with http.get(url) as resp:
            page = await resp.text()
            assert resp.status == 200 and "Kvittera" in page and "<script" not in page
            assert "tar kontakt med den som begärde mötet" in page  # what acknowledging promises
            assert "Stänger du sidan utan att trycka ändras ingenting" in page
            assert f"<title>Kvittera – {case.ref} – GFI-boten</title>" in page
        assert (await running.core.cases.get(case.ref)).state is CaseState.ASSIGNED  # GET changes nothing
        async with http.post(url) as resp:
            page = await resp.text()
            assert resp.status == 200 and f'du har kvitterat <span class="ref">{case.ref}</span>' in page
            assert f"<title>Klart – {case.ref} – GFI-boten</title>" in page
        assert (await running.core.cases.get(case.ref)).state is CaseState.ACKNOWLEDGED
        async with http.post(url) as resp:  # used twice: when, and that it worked
            page = await resp.text()
            assert resp.status == 410 and "redan använd (mån 23 nov 2026" in page and "gick igenom" in page
        async with http.get(url) as resp:  # the page of a used link, on GET as well
            assert resp.status == 410 and "<title>Länken är redan använd – GFI-boten</title>" in await resp.text()
    async with running.core.db.transaction() as tx:
        trail = [(r["actor_id"], r["action"], r["result"], json.loads(r["detail"]).get("reason"))
                 for r in await audit.for_case(tx, case.ref)]
    assert ("sofia.grahn", "acknowledge", "ok", None) in trail
    assert ("sofia.grahn", "link", "ok", None) in trail
    assert ("sofia.grahn", "link", "refused", "used") in trail


async def test_expired_tampered_and_foreign_links_change_nothing(running: Running) -> None:
    case = await running.core.cases.request("maria.sand", form())
    await running.core.cases.assign("fatima.ali", case.ref, ["sofia.grahn"])
    signer = running.signer
    now = running.clock.now()
    valid = signer.url("sofia.grahn", "acknowledge", case.ref, None, now)
    body, _, mac = valid.rpartition("/a/")[2].partition(".")
    tampered = f"{running.base_url}/a/{body[:-2]}xx.{mac}"
    other_key = LinkSigner("another-secret-0123456789", running.base_url).url(
        "sofia.grahn", "acknowledge", case.ref, None, now)
    foreign = signer.url("maria.sand", "acknowledge", case.ref, None, now)  # the requester may not acknowledge
    unknown = signer.url("nobody.here", "acknowledge", case.ref, None, now)
    expired = signer.url("sofia.grahn", "acknowledge", case.ref, None, now - timedelta(days=8))
    async with aiohttp.ClientSession() as http:
        for url, status, text in [
            (tampered, 400, "Länken är ogiltig"),
            (other_key, 400, "Länken är ogiltig"),
            (expired, 410, "Länken har gått ut"),
            (unknown, 403, "gäller inte dig"),
            (foreign, 403, "gäller inte dig"),
        ]:
            async with http.post(url) as resp:
                assert resp.status == status, url
                assert text in await resp.text()
    assert (await running.core.cases.get(case.ref)).state is CaseState.ASSIGNED
    async with running.core.db.transaction() as tx:
        reasons = [json.loads(r["detail"])["reason"] for r in
                   await tx.fetchall("SELECT detail FROM audit WHERE action = 'link' AND result = 'refused'")]
    assert sorted(reasons) == sorted(["tampered", "tampered", "expired", "foreign", "foreign"])


async def test_a_flood_of_bad_links_is_rate_limited_and_audited_in_aggregate(
        running: Running, monkeypatch: pytest.MonkeyPatch) -> None:
    """Issue #23: bad links from an anonymous client get 429 past PER_ADDRESS a window; the audit gets AUDITED
    rows one by one and one aggregate row for the rest, so a flood cannot grow it without bound."""
    monkeypatch.setattr(edge, "AUDITED", 5)
    case = await running.core.cases.request("maria.sand", form())
    await running.core.cases.assign("fatima.ali", case.ref, ["sofia.grahn"])
    signer = running.signer
    valid = signer.url("sofia.grahn", "acknowledge", case.ref, None, running.clock.now())
    statuses = []
    async with aiohttp.ClientSession() as http:
        for n in range(edge.PER_ADDRESS + 5):
            async with http.get(f"{running.base_url}/a/not-a-token-{n}") as resp:
                statuses.append(resp.status)
                if resp.status == 429:
                    assert int(resp.headers["Retry-After"]) > 0 and "För många" in await resp.text()
        assert statuses == [400] * edge.PER_ADDRESS + [429] * 5
        async with http.post(valid) as resp:  # the address is limited, even for a good link, until the window ends
            assert resp.status == 429
        running.clock.advance(edge.WINDOW)
        await running.tick()  # the sweep closes the window and writes its aggregate row
        async with http.post(valid) as resp:
            assert resp.status == 200 and "Klart" in await resp.text()
    async with running.core.db.read() as tx:
        rows = [json.loads(r["detail"]) for r in
                await tx.fetchall("SELECT detail FROM audit WHERE action = 'link' AND result = 'refused' ORDER BY id")]
    assert [r["reason"] for r in rows] == ["tampered"] * 5 + ["aggregate"]
    assert {k: rows[-1][k] for k in ("refused", "addresses", "not_audited", "limited")} == {
        "refused": edge.PER_ADDRESS, "addresses": 1, "not_audited": edge.PER_ADDRESS - 5, "limited": 6}
    assert "127.0.0.1" not in json.dumps(rows)  # counts, never the client's address


async def test_link_pages_forbid_framing_and_base_changes(running: Running) -> None:
    async with aiohttp.ClientSession() as http, http.get(f"{running.base_url}/a/x") as resp:
        csp = resp.headers["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in csp and "base-uri 'none'" in csp and "default-src 'none'" in csp


async def test_slack_and_email_people_on_one_case_each_get_their_own_channel(running: Running) -> None:
    ref = await booked(running)
    await running.tick()
    slack_people = {s.recipient for s in running.slack.sent}
    assert {"maria.sand", "linnea.fors"} & slack_people and "sofia.grahn" not in slack_people
    mailed = {c.body["message"]["toRecipients"][0]["emailAddress"]["address"] for c in running.graph.of("sendMail")}
    assert mailed == {"sofia.grahn@rsv.example.se"}
    subjects = [m["subject"] for m in running.mails_to("sofia.grahn@rsv.example.se")]
    assert any(ref in s for s in subjects)
    assert BRIEF not in bodies(running) and PLACE not in json.dumps(
        [c.body for c in running.graph.of("sendMail")], ensure_ascii=False)


async def test_without_graph_settings_the_bot_runs_without_the_channel(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    settings = Settings(_env_file=None, db_path=tmp_path / "x.sqlite3")
    with caplog.at_level("INFO"):
        assert GraphChannel.from_settings(settings) is None
    assert [r for r in caplog.records if getattr(r, "event", None) == "graph.disabled"]


def test_graph_client_builds_from_settings_without_network(tmp_path: Path) -> None:
    settings = Settings(_env_file=None, GRAPH_TENANT_ID="t", GRAPH_CLIENT_ID="c", GRAPH_CLIENT_SECRET="s",
                        GRAPH_SENDER=SENDER)
    client = GraphClient.from_settings(settings)
    assert client.client.request_adapter.base_url == "https://graph.microsoft.com/v1.0"


async def test_free_busy_suggestions_from_get_schedule(running: Running) -> None:
    from bot.channels.graph.freebusy import suggest

    case = await running.core.cases.request("maria.sand", form())
    case = await running.core.cases.assign("fatima.ali", case.ref, ["sofia.grahn"])
    utc = ZoneInfo("UTC")
    running.graph.busy["sofia.grahn@rsv.example.se"] = [
        (local("2026-11-23T10:00").astimezone(utc), local("2026-11-23T15:00").astimezone(utc))]
    channel_graph = running.channel.graph
    assert channel_graph is not None
    slots = await suggest(channel_graph, case, running.core.directory, running.core.calendar, running.clock.now())
    assert [s.strftime("%d %H:%M") for s in slots] == ["23 15:00", "23 15:30", "23 16:00"]
    [call] = running.graph.of("getSchedule")
    assert call.path == f"/users/{SENDER}/calendar/getSchedule"
    assert call.body["schedules"] == ["sofia.grahn@rsv.example.se"]  # Maria is on Slack: not asked


async def test_a_link_page_offers_only_what_may_be_done_now(running: Running) -> None:
    """GET shows no button for an action that would be refused (acknowledged already, a follow-up that does
    not exist), changes nothing and audits nothing; someone outside the case learns no more than for a case
    that does not exist."""
    case = await running.core.cases.request("maria.sand", form())
    await running.core.cases.assign("fatima.ali", case.ref, ["sofia.grahn"])
    signer = running.signer
    now = running.clock.now()
    ack = signer.url("sofia.grahn", "acknowledge", case.ref, None, now)
    no_follow_up = signer.url("sofia.grahn", "complete_follow_up", case.ref, 7, now)
    outsider = signer.url("jonas.sjo", "acknowledge", case.ref, None, now)
    missing = signer.url("jonas.sjo", "acknowledge", "GFI-2026-9999", None, now)
    await running.core.cases.acknowledge("sofia.grahn", case.ref)
    async with aiohttp.ClientSession() as http:
        async with http.get(ack) as resp:
            page = await resp.text()
            assert resp.status == 409 and "<button" not in page and "är redan kvitterat" in page
        async with http.get(no_follow_up) as resp:
            page = await resp.text()
            assert resp.status == 409 and "<button" not in page
            assert "Det går inte att markera uppföljningen som klar" in page
        pages = []
        for url in (outsider, missing):
            async with http.get(url) as resp:
                pages.append((resp.status, (await resp.text()).replace(case.ref, "X").replace("GFI-2026-9999", "X")))
        assert pages[0] == pages[1] and "<button" not in pages[0][1]
    async with running.core.db.transaction() as tx:
        refused = await tx.fetchall("SELECT detail FROM audit WHERE action = 'link'")
    assert refused == []  # GET audits nothing

"""`/readyz` and `/metrics` of `gfi-bot run` as a real process, scraped over HTTP (issue #19 item 5): readiness
JSON, requests by channel, kind and outcome, and no label holding a case reference, a person or a unit."""

from __future__ import annotations

import asyncio
import re
import sys
from pathlib import Path

import aiohttp
import pytest
from prometheus_client.parser import text_string_to_metric_families

from bot.config import DEFAULT_DIRECTORY
from bot.directory import load_directory
from tests.e2e.test_slack_lifecycle import request_values
from tests.e2e.test_slack_server import SECRET, TOKEN, gfi_bot_run
from tests.fakes.slack_api import FakeSlackAPI
from tests.fakes.slack_signing import interaction_body, signed_headers, slash_command_body, view_submission_payload

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")
MARIA = "U01MARIA"


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(text) for s in family.samples}


async def test_readyz_and_metrics_on_their_own_port(tmp_path: Path) -> None:
    async with FakeSlackAPI(token=TOKEN) as fake, gfi_bot_run(
            tmp_path, fake, GFI_SWEEP_SECONDS="1", GFI_METRICS_PORT="0") as seen:
        ready_line = seen[-1]
        base, ops = f"http://127.0.0.1:{ready_line['port']}", f"http://127.0.0.1:{ready_line['metrics_port']}"
        async with aiohttp.ClientSession() as http:
            # the first sweep runs at start, once the templates are compiled (about a second of CPU: several
            # seconds on a loaded machine); until it has, /readyz says 503
            for _ in range(300):
                async with http.get(f"{ops}/readyz") as resp:
                    report = await resp.json()
                    if resp.status == 200:
                        break
                    assert resp.status == 503 and report["ready"] is False
                await asyncio.sleep(0.1)
            assert report["ready"] is True
            assert report["store"]["ok"] is True and report["store"]["schema_version"] > 0
            assert report["scheduler"]["last_tick_seconds_ago"] < 30
            assert set(report["outbox"]) == {"pending", "oldest_pending_seconds", "failed_24h"}
            assert report["channels"]["slack"] in ("ok", "checking")
            assert report["version"]
            async with http.get(f"{base}/metrics") as resp:
                assert resp.status == 404  # not beside the chat channels when it has its own port

            command = slash_command_body("/gfi", "", MARIA, trigger_id="trig-metrics")
            async with http.post(f"{base}/slack/events", data=command, headers=signed_headers(SECRET, command)) as r:
                assert r.status == 200
            async with http.post(f"{base}/slack/events", data=command, headers=signed_headers("fel", command)) as r:
                assert r.status == 401
            submit = interaction_body(view_submission_payload(
                MARIA, "gfi_request", {k: {"v": v} for k, v in request_values().items()}))
            async with http.post(f"{base}/slack/events", data=submit, headers=signed_headers(SECRET, submit)) as r:
                assert r.status == 200
            await fake.wait_for("chat.postMessage", timeout=15)  # the case is filed and its messages go out

            async with http.get(f"{ops}/metrics") as resp:
                assert resp.status == 200
                assert resp.content_type == "text/plain"
                text = await resp.text()
    found = samples(text)
    ok = ("gfi_requests_total", (("channel", "slack"), ("kind", "command"), ("outcome", "ok")))
    refused = ("gfi_requests_total", (("channel", "slack"), ("kind", "other"), ("outcome", "refused")))
    submitted = ("gfi_requests_total", (("channel", "slack"), ("kind", "view_submission"), ("outcome", "ok")))
    assert found[ok] == 1 and found[refused] == 1 and found[submitted] == 1
    assert found[("gfi_ack_seconds_count", (("channel", "slack"),))] == 3
    assert found[("gfi_outbox_messages_total", (("channel", "slack"), ("event", "queued")))] >= 1
    assert found[("gfi_store_transaction_seconds_count", ())] > 0
    assert found[("gfi_job_seconds_count", (("job", "sweep"),))] >= 1
    assert_no_identifying_label(text)


def assert_no_identifying_label(text: str) -> None:
    """No label value is a case reference, a person (id, name, Slack id or e-mail) or a unit."""
    directory = load_directory(DEFAULT_DIRECTORY)
    forbidden: set[str] = set(directory.units)
    for person in directory.people.values():
        forbidden |= {person.id, person.name, *(str(v) for v in vars(person).values() if isinstance(v, str))}
    forbidden -= {"", "slack", "teams", "graph", "console", "email"}  # a channel name is not a person
    values = {v for family in text_string_to_metric_families(text) for s in family.samples for v in s.labels.values()}
    for value in values:
        assert not re.search(r"GFI-\d{4}-\d+", value, re.IGNORECASE), value
        assert value not in forbidden, value

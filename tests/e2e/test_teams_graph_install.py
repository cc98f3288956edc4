"""A person who never opened the bot, against the fake Graph (TLS): the app is installed for them through Graph
(`installedApps`, then the installation's chat) and the card arrives there; installing not permitted (403) sends
e-mail instead; another refusal fails with its reason for the coordinators."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest

from bot.channels.graph.client import GraphClient
from bot.channels.teams.installer import GraphChatInstaller
from bot.clock import FrozenClock
from bot.config import Settings
from tests.conftest import RecordingSender
from tests.e2e.test_teams_delivery import assign_to_linnea, outbox
from tests.fakes.graph_api import FakeGraph
from tests.fakes.teams import card_text
from tests.fakes.teams_bot import running_teams

CATALOG = "c0ffee00-0000-4000-8000-000000000001"
LINNEA = "linnea.fors@rsv.example.se"


@asynccontextmanager
async def graph_installer(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                          ) -> AsyncIterator[tuple[FakeGraph, GraphChatInstaller]]:
    async with FakeGraph(tmp_path) as graph:
        monkeypatch.setenv("SSL_CERT_FILE", str(graph.cert))
        graph.catalog.add(CATALOG)
        settings = Settings(_env_file=None, GRAPH_TENANT_ID=graph.tenant, GRAPH_CLIENT_ID="app-id",
                            GRAPH_CLIENT_SECRET="app-secret", GRAPH_SENDER="gfi@rsv.example.se",
                            GRAPH_API_URL=graph.api_url, GRAPH_AUTHORITY_HOST=graph.url, GRAPH_TIMEOUT=2)
        client = GraphClient.from_settings(settings)
        try:
            yield graph, GraphChatInstaller(client, CATALOG)
        finally:
            await client.close()
        assert graph.problems == []  # no request Graph would have refused


async def test_never_opened_gets_the_app_installed_and_the_card_in_that_chat(
        tmp_path: Path, clock: FrozenClock, monkeypatch: pytest.MonkeyPatch) -> None:
    async with graph_installer(tmp_path, monkeypatch) as (graph, installer), \
            running_teams(tmp_path, clock, installer=installer) as bot:
        ref = await assign_to_linnea(bot)
        [install] = graph.of("installApp")
        assert install.path == f"/users/{LINNEA}/teamwork/installedApps"
        assert install.body["teamsApp@odata.bind"] == f"{graph.api_url}/appCatalogs/teamsApps/{CATALOG}"
        assert install.token and install.token.startswith("fake-token-")
        chat = f"19:{graph.installed[LINNEA][CATALOG]}@unq.gbl.spaces"
        assert [c.path for c in graph.of("installChat")] == [
            f"/users/{LINNEA}/teamwork/installedApps/{graph.installed[LINNEA][CATALOG]}/chat"]
        assert any(ref in card_text(c) for c in bot.connector.cards(chat))
        assert await bot.count("SELECT COUNT(*) FROM teams_references WHERE person_id = 'linnea.fors' "
                               "AND source = 'graph' AND conversation_id = ?", (chat,)) == 1
        # the next message uses the stored chat: Graph is not asked again
        await bot.core.cases.acknowledge("linnea.fors", ref)
        await bot.core.dispatcher.run_once()
        assert len(graph.of("installApp")) == 1
        assert all(r["status"] == "sent" for r in await outbox(bot, "linnea.fors"))


async def test_already_installed_409_still_finds_the_chat(
        tmp_path: Path, clock: FrozenClock, monkeypatch: pytest.MonkeyPatch) -> None:
    async with graph_installer(tmp_path, monkeypatch) as (graph, installer), \
            running_teams(tmp_path, clock, installer=installer) as bot:
        graph.installed[LINNEA] = {CATALOG: "inst-earlier"}  # installed by an admin policy, never opened
        ref = await assign_to_linnea(bot)
        assert [c.status for c in graph.calls if c.path.endswith("/installedApps") and c.method == "POST"] == [409]
        assert any(ref in card_text(c) for c in bot.connector.cards("19:inst-earlier@unq.gbl.spaces"))


async def test_installing_not_permitted_sends_email_instead(
        tmp_path: Path, clock: FrozenClock, monkeypatch: pytest.MonkeyPatch) -> None:
    email = RecordingSender()
    async with graph_installer(tmp_path, monkeypatch) as (graph, installer), \
            running_teams(tmp_path, clock, installer=installer, email=email) as bot:
        graph.install_forbidden.add(LINNEA)
        ref = await assign_to_linnea(bot)
        assert [s.case_ref for s in email.to("linnea.fors")] == [ref]
        row = next(r for r in await outbox(bot, "linnea.fors") if r["case_ref"] == ref)
        assert row["status"] == "sent" and row["external_id"].startswith("email:")
        assert await bot.count("SELECT COUNT(*) FROM teams_references WHERE person_id = 'linnea.fors'") == 0


async def test_app_missing_from_the_catalog_fails_with_the_reason_for_coordinators(
        tmp_path: Path, clock: FrozenClock, monkeypatch: pytest.MonkeyPatch) -> None:
    email = RecordingSender()
    async with graph_installer(tmp_path, monkeypatch) as (graph, installer), \
            running_teams(tmp_path, clock, installer=installer, email=email) as bot:
        graph.catalog.clear()  # TEAMS_CATALOG_APP_ID names no app in the catalog: not a matter for e-mail
        ref = await assign_to_linnea(bot)
        row = next(r for r in await outbox(bot, "linnea.fors") if r["case_ref"] == ref)
        assert row["status"] == "failed" and row["last_error"] == "teams:install:http_404"
        assert email.to("linnea.fors") == []
        told = await bot.count("SELECT COUNT(*) FROM outbox WHERE template = 'delivery_failed' AND case_ref = ?",
                               (ref,))
        assert told >= 1


def test_the_installer_is_wired_only_with_graph_and_the_catalog_id() -> None:
    from types import SimpleNamespace

    from bot.channels.graph.sender import EmailSender
    from bot.channels.teams.installer import chat_installer

    email = EmailSender.__new__(EmailSender)
    email.graph = graph = object()  # type: ignore[assignment]
    with_graph = SimpleNamespace(dispatcher=SimpleNamespace(senders={"email": email}))
    without = SimpleNamespace(dispatcher=SimpleNamespace(senders={}))
    catalog = Settings(_env_file=None, TEAMS_CATALOG_APP_ID=CATALOG)
    installer = chat_installer(with_graph, catalog)  # type: ignore[arg-type]
    assert isinstance(installer, GraphChatInstaller) and installer.graph is graph
    assert installer.catalog_app_id == CATALOG
    assert chat_installer(with_graph, Settings(_env_file=None)) is None  # type: ignore[arg-type]
    assert chat_installer(without, catalog) is None  # type: ignore[arg-type]

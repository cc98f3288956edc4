"""`gfi-bot check-config` as a real process against the local fakes: Slack's auth.test, a Graph token and the
Teams app's Bot Connector token, each tried for real; exit 0 only when all is well."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from tests.e2e.test_config_refusals import clean_env
from tests.e2e.test_process_guards import gfi_bot
from tests.fakes.graph_api import FakeGraph
from tests.fakes.slack_api import FakeSlackAPI

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX processes")

TOKEN = "xoxb-check-config"
TEAMS_APP = "11111111-2222-3333-4444-555555555555"


def env_for(tmp_path: Path, slack: FakeSlackAPI, graph: FakeGraph, *, token: str = TOKEN,
            teams_secret: str = "teams-secret") -> dict[str, str]:
    return clean_env(
        tmp_path, GFI_ALLOW_EXAMPLE_DIRECTORY="1", SSL_CERT_FILE=str(graph.cert),
        SLACK_BOT_TOKEN=token, SLACK_SIGNING_SECRET="s" * 32, SLACK_API_URL=slack.base_url,
        GRAPH_TENANT_ID=graph.tenant, GRAPH_CLIENT_ID="graph-app", GRAPH_CLIENT_SECRET="graph-secret",
        GRAPH_SENDER="gfi@kommun.example.se", GRAPH_API_URL=graph.api_url, GRAPH_AUTHORITY_HOST=graph.url,
        GFI_PUBLIC_URL="https://gfi.kommun.example.se", GFI_LINK_SECRET="k" * 40,
        TEAMS_APP_ID=TEAMS_APP, TEAMS_APP_PASSWORD=teams_secret, TEAMS_TENANT_ID=graph.tenant,
        TEAMS_AUTHORITY_HOST=graph.url,
    )


async def test_every_credential_checked_for_real_and_secrets_never_printed(tmp_path: Path) -> None:
    async with FakeSlackAPI(token=TOKEN) as slack, FakeGraph(tmp_path) as graph:
        graph.client_secrets[TEAMS_APP] = "teams-secret"
        result = await gfi_bot("check-config", env=env_for(tmp_path, slack, graph), cwd=tmp_path)
        assert result.code == 0, result.out + result.err
        assert "Traceback" not in result.err
        assert len(slack.calls("auth.test")) == 1
        assert sorted(graph.scopes) == ["https://api.botframework.com/.default",
                                        "https://graph.microsoft.com/.default"]
    ok_lines = [line for line in result.out.splitlines() if line.startswith("OK")]
    assert len(ok_lines) == 3, result.out
    assert "Allt är i ordning" in result.out
    for secret in (TOKEN, "graph-secret", "teams-secret", "k" * 40):
        assert secret not in result.out + result.err
    assert not (tmp_path / "gfi.sqlite3").exists()  # the bot was not started


async def test_a_wrong_teams_secret_and_a_revoked_slack_token_fail(tmp_path: Path) -> None:
    async with FakeSlackAPI(token=TOKEN) as slack, FakeGraph(tmp_path) as graph:
        graph.client_secrets[TEAMS_APP] = "the-right-one"
        env = env_for(tmp_path, slack, graph, token="xoxb-revoked", teams_secret="wrong")
        result = await gfi_bot("check-config", env=env, cwd=tmp_path)
    assert result.code == 1
    failed = [line for line in result.out.splitlines() if line.startswith("FEL")]
    assert len(failed) == 2, result.out
    assert any("Slack" in line and "invalid_auth" in line for line in failed)
    assert any("Teams" in line and "AADSTS7000215" in line for line in failed)
    assert "2 fel" in result.out


async def test_a_configuration_problem_is_reported_without_live_checks(tmp_path: Path) -> None:
    env = clean_env(tmp_path, SLACK_BOT_TOKEN=TOKEN)
    result = await gfi_bot("check-config", env=env, cwd=tmp_path)
    assert result.code == 1
    assert any("SLACK_SIGNING_SECRET" in line for line in result.out.splitlines() if line.startswith("FEL"))

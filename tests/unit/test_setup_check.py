"""The configuration rules of `gfi-bot run` (bot/setup_check.py) and secrets read from files (bot/config.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.config import Settings
from bot.setup_check import is_loopback, startup_problems

CHANNEL_VARS = ("SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET", "SLACK_APP_TOKEN", "GRAPH_CLIENT_SECRET",
                "TEAMS_APP_PASSWORD", "GFI_LINK_SECRET", "GFI_SECRETS_DIR", "CREDENTIALS_DIRECTORY",
                "SLACK_BOT_TOKEN_FILE", "SLACK_SIGNING_SECRET_FILE")


@pytest.fixture(autouse=True)
def _clean(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)  # no .env
    for name in CHANNEL_VARS:
        monkeypatch.delenv(name, raising=False)


def test_a_secret_is_read_from_its_file(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    (tmp_path / "token").write_text("xoxb-from-file\n", encoding="utf-8")
    monkeypatch.setenv("SLACK_BOT_TOKEN_FILE", str(tmp_path / "token"))
    settings = Settings()
    assert settings.slack_bot_token is not None
    assert settings.slack_bot_token.get_secret_value() == "xoxb-from-file"


@pytest.mark.parametrize("folder_var", ["GFI_SECRETS_DIR", "CREDENTIALS_DIRECTORY"])
def test_a_secret_is_read_from_a_secrets_folder(monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
                                                folder_var: str) -> None:
    (tmp_path / "creds").mkdir()
    (tmp_path / "creds" / "SLACK_SIGNING_SECRET").write_text("from-folder", encoding="utf-8")
    monkeypatch.setenv(folder_var, str(tmp_path / "creds"))
    settings = Settings()
    assert settings.slack_signing_secret is not None
    assert settings.slack_signing_secret.get_secret_value() == "from-folder"


def test_the_variable_wins_over_its_file(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    (tmp_path / "token").write_text("from-file", encoding="utf-8")
    monkeypatch.setenv("SLACK_BOT_TOKEN_FILE", str(tmp_path / "token"))
    monkeypatch.setenv("SLACK_BOT_TOKEN", "from-env")
    settings = Settings()
    assert settings.slack_bot_token is not None
    assert settings.slack_bot_token.get_secret_value() == "from-env"


def test_an_empty_variable_counts_as_unset(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SLACK_BOT_TOKEN", "")  # as deploy/env.example ships it
    assert Settings().slack_bot_token is None


def test_the_console_starts_on_a_terminal_without_channels() -> None:
    assert startup_problems(Settings(), {}, stdin_tty=True) == []
    assert len(startup_problems(Settings(), {}, stdin_tty=False)) == 1


@pytest.mark.parametrize(("host", "loopback"), [("127.0.0.1", True), ("localhost", True), ("[::1]", True),
                                                 ("127.0.0.2", True), ("gfi.kommun.se", False), ("10.0.0.1", False)])
def test_loopback(host: str, loopback: bool) -> None:
    assert is_loopback(host) is loopback


def test_http_on_loopback_and_a_long_secret_are_accepted() -> None:
    settings = Settings(GFI_PUBLIC_URL="http://127.0.0.1:8080", GFI_LINK_SECRET="x" * 32)
    assert startup_problems(settings, {}, stdin_tty=True) == []

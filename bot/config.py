"""Settings from environment variables (pydantic-settings).

A secret may also come from a file, for Docker secrets and systemd's `LoadCredential=`: `NAME_FILE=/path`
(e.g. `SLACK_BOT_TOKEN_FILE`), or a file called NAME in `GFI_SECRETS_DIR` or in systemd's
`$CREDENTIALS_DIRECTORY`. The variable itself wins over its file. An empty variable counts as unset.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, SecretStr, field_validator
from pydantic.fields import FieldInfo
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

# where templates/ and deploy/ are (bot/paths.py, importable without pydantic), re-exported
from bot.paths import DEFAULT_DIRECTORY as DEFAULT_DIRECTORY
from bot.paths import PROJECT_ROOT as PROJECT_ROOT

# The settings that may be read from a file (NAME_FILE, or NAME in a secrets folder).
SECRET_NAMES = ("SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET", "SLACK_APP_TOKEN", "GRAPH_CLIENT_SECRET",
                "TEAMS_APP_PASSWORD", "GFI_LINK_SECRET")
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")


def secret_file(name: str, env: Mapping[str, str] = os.environ) -> Path | None:
    """Where secret `name` is read from when the variable itself is not set: NAME_FILE, else a file named
    NAME in GFI_SECRETS_DIR or CREDENTIALS_DIRECTORY (systemd). None when there is no such file to read."""
    if env.get(f"{name}_FILE"):
        return Path(env[f"{name}_FILE"])
    for folder in (env.get("GFI_SECRETS_DIR"), env.get("CREDENTIALS_DIRECTORY")):
        if folder and (Path(folder) / name).is_file():
            return Path(folder) / name
    return None


class FileSecrets(PydanticBaseSettingsSource):
    """Secrets from files (see the module's doc). An unreadable file is left out here; `bot.setup_check`
    names it to the operator."""

    def get_field_value(self, field: FieldInfo, field_name: str) -> tuple[Any, str, bool]:
        return None, field_name, False

    def __call__(self) -> dict[str, Any]:
        values: dict[str, Any] = {}
        for name in SECRET_NAMES:
            if os.environ.get(name):
                continue
            path = secret_file(name)
            if path is None:
                continue
            try:
                value = path.read_text(encoding="utf-8").strip()
            except (OSError, UnicodeDecodeError):
                continue
            if value:
                values[name] = value
        return values


class Settings(BaseSettings):
    """Runtime configuration. Every field can be set with the environment variable in its alias."""

    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore", populate_by_name=True,
                                      env_ignore_empty=True)

    db_path: Path = Field(default=Path("gfi-bot.sqlite3"), alias="GFI_DB_PATH")
    # Issue #22: postgresql://… (or postgres://…, libpq parameters such as sslmode passed through) selects
    # PostgreSQL for everything the store holds; unset, the SQLite file at GFI_DB_PATH. A secret: it may
    # hold the password, so it is never printed.
    database_url: SecretStr | None = Field(default=None, alias="GFI_DATABASE_URL")
    directory_path: Path = Field(default=DEFAULT_DIRECTORY, alias="GFI_DIRECTORY")
    timezone: str = Field(default="Europe/Stockholm", alias="GFI_TIMEZONE")
    consent_default_days: int = Field(default=90, ge=1, le=730, alias="GFI_CONSENT_DEFAULT_DAYS")
    http_host: str = Field(default="127.0.0.1", alias="GFI_HTTP_HOST")
    http_port: int = Field(default=3000, ge=0, le=65535, alias="GFI_HTTP_PORT")
    http_header_timeout: float = Field(default=10.0, gt=0, le=300, alias="GFI_HTTP_HEADER_TIMEOUT")
    http_body_timeout: float = Field(default=10.0, gt=0, le=300, alias="GFI_HTTP_BODY_TIMEOUT")
    retention_months: int = Field(default=12, ge=1, le=120, alias="GFI_RETENTION_MONTHS")
    sweep_seconds: int = Field(default=30, ge=1, alias="GFI_SWEEP_SECONDS")
    # Issue #14: sends in flight to different recipients; days a delivered message's text is kept.
    dispatch_concurrency: int = Field(default=32, ge=1, le=256, alias="GFI_DISPATCH_CONCURRENCY")
    outbox_retention_days: int = Field(default=30, ge=1, le=3650, alias="GFI_OUTBOX_RETENTION_DAYS")
    # Issue #22: seconds a message being sent is its instance's; after that (the instance died) another sends it.
    outbox_lease_seconds: int = Field(default=120, ge=5, le=3600, alias="GFI_OUTBOX_LEASE_SECONDS")
    # Issue #22: this instance's name in the store's record of which directory file each machine last published or
    # served (`directory_hosts`); unset: its /etc/machine-id with its host name. Set it where containers share one.
    instance_id: str | None = Field(default=None, alias="GFI_INSTANCE_ID")
    log_level: str = Field(default="INFO", alias="GFI_LOG_LEVEL")
    # Real credentials with deploy/directory.example.yaml (fictional people) are refused unless this is 1.
    allow_example_directory: bool = Field(default=False, alias="GFI_ALLOW_EXAMPLE_DIRECTORY")
    # /readyz and /metrics also (or only) on this port, e.g. for a scraper inside the firewall. Unset: on
    # GFI_HTTP_PORT beside the chat channels.
    metrics_port: int | None = Field(default=None, ge=0, le=65535, alias="GFI_METRICS_PORT")
    # Where secrets are read from files named after their variable (see the module's doc).
    secrets_dir: Path | None = Field(default=None, alias="GFI_SECRETS_DIR")

    slack_bot_token: SecretStr | None = Field(default=None, alias="SLACK_BOT_TOKEN")
    slack_signing_secret: SecretStr | None = Field(default=None, alias="SLACK_SIGNING_SECRET")
    slack_app_token: SecretStr | None = Field(default=None, alias="SLACK_APP_TOKEN")
    slack_api_url: str | None = Field(default=None, alias="SLACK_API_URL")
    # The workspace (T…) and app (A…) ids: with both, the e-mail link pages open the bot's Home tab in Slack.
    slack_team_id: str | None = Field(default=None, alias="SLACK_TEAM_ID")
    slack_app_id: str | None = Field(default=None, alias="SLACK_APP_ID")

    # Microsoft Graph (issue #9): Outlook calendar events, e-mail and free/busy; see deploy/M365.md.
    graph_tenant_id: str | None = Field(default=None, alias="GRAPH_TENANT_ID")
    graph_client_id: str | None = Field(default=None, alias="GRAPH_CLIENT_ID")
    graph_client_secret: SecretStr | None = Field(default=None, alias="GRAPH_CLIENT_SECRET")
    graph_certificate_path: Path | None = Field(default=None, alias="GRAPH_CERTIFICATE_PATH")
    graph_sender: str | None = Field(default=None, alias="GRAPH_SENDER")
    graph_api_url: str | None = Field(default=None, alias="GRAPH_API_URL")
    graph_authority_host: str | None = Field(default=None, alias="GRAPH_AUTHORITY_HOST")
    graph_timeout: float = Field(default=20.0, gt=0, le=300, alias="GRAPH_TIMEOUT")
    public_url: str | None = Field(default=None, alias="GFI_PUBLIC_URL")
    link_secret: SecretStr | None = Field(default=None, alias="GFI_LINK_SECRET")
    link_days: int = Field(default=7, ge=1, le=60, alias="GFI_LINK_DAYS")

    # Microsoft Teams (Microsoft 365 Agents SDK): the Entra app (client) id, its secret or a PFX certificate,
    # and the organisation's tenant. TEAMS_ANONYMOUS=1 only for Microsoft's local Agents Playground.
    teams_app_id: str | None = Field(default=None, alias="TEAMS_APP_ID")
    teams_app_password: SecretStr | None = Field(default=None, alias="TEAMS_APP_PASSWORD")
    teams_cert_file: Path | None = Field(default=None, alias="TEAMS_CERT_FILE")
    teams_tenant_id: str | None = Field(default=None, alias="TEAMS_TENANT_ID")
    teams_anonymous: bool = Field(default=False, alias="TEAMS_ANONYMOUS")
    # The app's id in the organisation's Teams app catalog: lets the bot install itself for a person who never
    # opened it (Graph, TeamsAppInstallation.ReadWriteSelfForUser.All). Unset: such a person is not reachable.
    teams_catalog_app_id: str | None = Field(default=None, alias="TEAMS_CATALOG_APP_ID")
    # The Entra sign-in host that `gfi-bot check-config` asks for the bot's token (national clouds, tests).
    teams_authority_host: str | None = Field(default=None, alias="TEAMS_AUTHORITY_HOST")
    # The Teams app package (`gfi-bot teams-package`): who publishes it and the pages its listing links to.
    teams_publisher: str | None = Field(default=None, alias="TEAMS_PUBLISHER")
    teams_website_url: str | None = Field(default=None, alias="TEAMS_WEBSITE_URL")
    teams_privacy_url: str | None = Field(default=None, alias="TEAMS_PRIVACY_URL")
    teams_terms_url: str | None = Field(default=None, alias="TEAMS_TERMS_URL")

    @classmethod
    def settings_customise_sources(
        cls, settings_cls: type[BaseSettings], init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource, dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return init_settings, env_settings, dotenv_settings, FileSecrets(settings_cls), file_secret_settings

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError("unknown time zone") from exc
        return value

    @field_validator("log_level")
    @classmethod
    def _known_level(cls, value: str) -> str:
        if value.upper() not in LOG_LEVELS:
            raise ValueError("unknown log level")
        return value.upper()

    @property
    def teams_configured(self) -> bool:
        """True when the bot has what it needs to serve Teams (or is explicitly anonymous, for local tests)."""
        signed = bool(self.teams_app_id and self.teams_tenant_id and (self.teams_app_password or self.teams_cert_file))
        return signed or self.teams_anonymous

    @property
    def slack_configured(self) -> bool:
        """True when the bot has what it needs to serve Slack over HTTP."""
        return self.slack_bot_token is not None and self.slack_signing_secret is not None

    @property
    def graph_configured(self) -> bool:
        """True when Microsoft Graph can be used: tenant, app, a secret or certificate, and the sender mailbox."""
        has_key = self.graph_client_secret is not None or self.graph_certificate_path is not None
        return bool(self.graph_tenant_id and self.graph_client_id and self.graph_sender and has_key)

    @property
    def links_configured(self) -> bool:
        """True when signed action links can be made: a public base URL and a signing key."""
        return bool(self.public_url and self.link_secret is not None)

    @property
    def serves_http(self) -> bool:
        """True when `gfi-bot run` serves HTTP: Slack, Teams, or Graph with its link pages (`/a/…`)."""
        return self.slack_configured or self.teams_configured or (self.graph_configured and self.links_configured)

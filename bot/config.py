"""Settings from environment variables (pydantic-settings); secrets never live in files."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DIRECTORY = PROJECT_ROOT / "deploy" / "directory.example.yaml"


class Settings(BaseSettings):
    """Runtime configuration. Every field can be set with the environment variable in its alias."""

    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore", populate_by_name=True)

    db_path: Path = Field(default=Path("gfi-bot.sqlite3"), alias="GFI_DB_PATH")
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
    log_level: str = Field(default="INFO", alias="GFI_LOG_LEVEL")

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

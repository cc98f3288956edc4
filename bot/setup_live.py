"""`gfi-bot check-config`'s live checks: each configured credential tried for real, without starting the bot.

Slack: `auth.test` with the bot token. Microsoft Graph: an app-only token from Entra. Teams: a token for the
Bot Connector (`https://api.botframework.com/.default`) for TEAMS_APP_ID, which proves the app id, its
secret or certificate and the tenant. A failure is its reason in a few words (an error code, never a
secret); each check gives up after CHECK_TIMEOUT seconds.
"""

from __future__ import annotations

import asyncio
import os
from dataclasses import dataclass
from typing import Any

from bot import texts
from bot.config import Settings

CHECK_TIMEOUT = 15.0
GRAPH_SCOPE = "https://graph.microsoft.com/.default"
BOT_CONNECTOR_SCOPE = "https://api.botframework.com/.default"
SLACK_API_URL = "https://slack.com/api/"


@dataclass(frozen=True)
class Check:
    ok: bool
    detail: str = ""


def _reason(exc: BaseException) -> str:
    if isinstance(exc, TimeoutError):
        return texts.text("config", "check_timeout", seconds=f"{CHECK_TIMEOUT:g}")
    text = str(exc).splitlines()[0] if str(exc) else ""
    code = next((w.strip(".:,'\"") for w in text.split() if w.startswith(("AADSTS", "invalid_", "unauthorized"))),
                "")
    return f"{type(exc).__name__}{': ' + code if code else ''}"


async def check_slack(settings: Settings) -> Check:
    from slack_sdk.errors import SlackApiError
    from slack_sdk.web.async_client import AsyncWebClient

    assert settings.slack_bot_token is not None
    base_url = settings.slack_api_url or SLACK_API_URL
    client = AsyncWebClient(token=settings.slack_bot_token.get_secret_value(),
                            base_url=base_url if base_url.endswith("/") else base_url + "/",
                            timeout=int(CHECK_TIMEOUT))
    try:
        answer = await asyncio.wait_for(client.auth_test(), CHECK_TIMEOUT)
    except SlackApiError as exc:
        return Check(False, str(exc.response.get("error", "not_ok")))
    except Exception as exc:
        return Check(False, _reason(exc))
    return Check(True, f"{answer.get('team', '?')}/{answer.get('user', '?')}")


def _credential(tenant: str, client_id: str, secret: str | None, cert: str | None, authority: str | None) -> Any:
    from azure.identity.aio import CertificateCredential, ClientSecretCredential

    kwargs: dict[str, Any] = {}
    if os.environ.get("SSL_CERT_FILE"):
        kwargs["connection_verify"] = os.environ["SSL_CERT_FILE"]
    if authority:
        kwargs.update(authority=authority, disable_instance_discovery=True)
    if secret is not None:
        return ClientSecretCredential(tenant, client_id, secret, **kwargs)
    return CertificateCredential(tenant, client_id, certificate_path=cert, **kwargs)


async def _token(credential: Any, scope: str) -> Check:
    try:
        async with credential:
            await asyncio.wait_for(credential.get_token(scope), CHECK_TIMEOUT)
    except Exception as exc:
        return Check(False, _reason(exc))
    return Check(True)


async def check_graph(settings: Settings) -> Check:
    assert settings.graph_tenant_id and settings.graph_client_id
    secret = settings.graph_client_secret.get_secret_value() if settings.graph_client_secret else None
    cert = str(settings.graph_certificate_path) if settings.graph_certificate_path else None
    return await _token(_credential(settings.graph_tenant_id, settings.graph_client_id, secret, cert,
                                    settings.graph_authority_host), GRAPH_SCOPE)


async def check_teams(settings: Settings) -> Check:
    assert settings.teams_tenant_id and settings.teams_app_id
    secret = settings.teams_app_password.get_secret_value() if settings.teams_app_password else None
    cert = str(settings.teams_cert_file) if settings.teams_cert_file else None
    return await _token(_credential(settings.teams_tenant_id, settings.teams_app_id, secret, cert,
                                    settings.teams_authority_host), BOT_CONNECTOR_SCOPE)

"""Who may post to `/api/messages`: every inbound activity's token is checked before the SDK sees the body.

The token itself is checked by `bot.channels.teams.tokens` (issuer among the Bot Framework's and the tenant's
Entra issuers, signing key from that issuer's OpenID metadata, audience, expiry with bounded skew). Around it
this gate answers 401, never 500, for a missing or malformed header, a token or an activity from another
tenant, and an activity whose `serviceUrl` is not the one the token was issued for. Anonymous requests (no
Authorization header) are accepted only in the explicit anonymous mode (`TEAMS_ANONYMOUS=1`, Microsoft's
local Agents Playground, loopback only).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from microsoft_agents.hosting.core.authorization import AgentAuthConfiguration, AuthTypes, ClaimsIdentity

from bot.channels.payload import MalformedPayload
from bot.channels.teams.tokens import TokenRefused, TokenValidator
from bot.config import Settings

log = logging.getLogger(__name__)

LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})


class Unauthorized(Exception):
    """The request is refused with 401; `reason` is logged (never the token)."""

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(reason)


def auth_configuration(settings: Settings) -> AgentAuthConfiguration:
    """The SDK's configuration of the bot's Entra app: secret or PFX certificate, single tenant."""
    if settings.teams_cert_file is not None:
        return AgentAuthConfiguration(
            AuthTypes.certificate, settings.teams_app_id, settings.teams_tenant_id,
            cert_pfx_file=str(settings.teams_cert_file), anonymous_allowed=settings.teams_anonymous,
        )
    secret = settings.teams_app_password.get_secret_value() if settings.teams_app_password else None
    return AgentAuthConfiguration(
        AuthTypes.client_secret, settings.teams_app_id, settings.teams_tenant_id, secret,
        anonymous_allowed=settings.teams_anonymous,
    )


def activity_tenant(body: dict[str, Any]) -> str | None:
    """The tenant an activity says it comes from (`conversation.tenantId`, else `channelData.tenant.id`)."""
    def member(node: Any, key: str) -> Any:
        return node.get(key) if isinstance(node, dict) else None

    tenant = member(body.get("conversation"), "tenantId") or member(
        member(body.get("channelData"), "tenant"), "id")
    return str(tenant) if tenant else None


@dataclass
class TokenGate:
    """Checks one request's Authorization header and activity body; returns the caller's ClaimsIdentity."""

    validator: TokenValidator
    tenant_id: str | None
    anonymous: bool = False

    async def identity(self, header: str | None) -> ClaimsIdentity:
        """Validate the header (Unauthorized when refused)."""
        if header is None:
            if self.anonymous:
                return ClaimsIdentity()
            raise Unauthorized("no_token")
        parts = header.split()
        if len(parts) != 2 or parts[0].lower() != "bearer":
            raise Unauthorized("bad_header")
        token = parts[1]
        try:
            claims = await self.validator.claims(token)
        except TokenRefused as exc:
            raise Unauthorized(exc.reason) from None
        except Exception as exc:  # a claim of an unexpected type, a key PyJWT cannot use: refuse, do not crash
            raise Unauthorized(f"validation:{type(exc).__name__}") from None
        tid = claims.get("tid")
        if tid and self.tenant_id and str(tid).lower() != self.tenant_id.lower():
            raise Unauthorized("token_tenant")
        return ClaimsIdentity(claims, security_token=token)

    def check_activity(self, identity: ClaimsIdentity, body: Any) -> None:
        """The activity must be a JSON object (MalformedPayload) from our tenant, sent to the service URL the
        token names (Unauthorized)."""
        if not isinstance(body, dict) or not isinstance(body.get("type"), str):
            raise MalformedPayload("not_an_activity")  # answered with 400: the caller is who the token says
        tenant = activity_tenant(body)
        if self.tenant_id and not (identity.allow_anonymous and tenant is None):
            if tenant is None or tenant.lower() != self.tenant_id.lower():
                raise Unauthorized("activity_tenant")
        claimed = identity.get_claim_value("serviceurl")
        service_url = body.get("serviceUrl")
        if claimed and (not isinstance(service_url, str) or _host(service_url) != _host(str(claimed))):
            raise Unauthorized("service_url")


def _host(url: str) -> str:
    try:
        return (urlsplit(url).netloc or "").lower()
    except ValueError:
        return ""

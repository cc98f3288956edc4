"""Inbound Teams tokens, fully checked: issuer, signing key from that issuer's OpenID metadata, audience, expiry.

Who may send a token to `/api/messages`, and where its signing keys are published:

* the Bot Framework (the Bot Connector service that relays Teams): issuer `https://api.botframework.com`,
  keys from `https://login.botframework.com/v1/.well-known/openidconfiguration`;
* Entra ID of the bot's own tenant (single tenant; tokens from skills, the Emulator or Agents Playground):
  issuers `https://sts.windows.net/{tenant}/` (v1) and `https://login.microsoftonline.com/{tenant}/v2.0` (v2),
  keys from the tenant's OpenID metadata of the same version.

A token whose `iss` is none of these is refused before any key is fetched; a token is verified only with keys
from *its* issuer's metadata (a key of another issuer is unknown there), and the metadata must name that same
issuer. The audience must be the bot's app id, `exp` is required, and `exp`, `nbf` and `iat` are checked
with at most `MAX_SKEW_SECONDS` (5 minutes, as the Bot Framework SDKs allow) of clock skew. The tenant and the
`serviceurl` claim are checked against the activity by `bot.channels.teams.auth.TokenGate`.

Keys are fetched with aiohttp (never blocking the loop), cached for `KEYS_TTL_SECONDS`, and fetched again
for an unknown key id at most once per `REFETCH_SECONDS` (so tokens with made-up key ids cannot make the bot
hammer Microsoft's endpoints).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import jwt

__all__ = [
    "BOT_FRAMEWORK_ISSUER",
    "MAX_SKEW_SECONDS",
    "KeySource",
    "TokenRefused",
    "TokenValidator",
    "TrustedIssuer",
    "default_issuers",
]

BOT_FRAMEWORK_ISSUER = "https://api.botframework.com"
BOT_FRAMEWORK_METADATA = "https://login.botframework.com/v1/.well-known/openidconfiguration"
ENTRA_V1_ISSUER = "https://sts.windows.net/{tenant}/"
ENTRA_V1_METADATA = "https://login.microsoftonline.com/{tenant}/.well-known/openid-configuration"
ENTRA_V2_ISSUER = "https://login.microsoftonline.com/{tenant}/v2.0"
ENTRA_V2_METADATA = "https://login.microsoftonline.com/{tenant}/v2.0/.well-known/openid-configuration"
MAX_SKEW_SECONDS = 300
KEYS_TTL_SECONDS = 24 * 3600
REFETCH_SECONDS = 300
FETCH_TIMEOUT_SECONDS = 10


class TokenRefused(Exception):
    """The token is not accepted; `reason` is logged (never the token)."""

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(reason)


@dataclass(frozen=True)
class TrustedIssuer:
    """An issuer whose tokens are accepted, and the OpenID metadata that publishes its signing keys."""

    issuer: str
    metadata_url: str


def default_issuers(tenant_id: str | None) -> list[TrustedIssuer]:
    """The Bot Framework, and (single tenant) the tenant's Entra v1 and v2 issuers."""
    issuers = [TrustedIssuer(BOT_FRAMEWORK_ISSUER, BOT_FRAMEWORK_METADATA)]
    if tenant_id:
        issuers += [TrustedIssuer(ENTRA_V1_ISSUER.format(tenant=tenant_id), ENTRA_V1_METADATA.format(tenant=tenant_id)),
                    TrustedIssuer(ENTRA_V2_ISSUER.format(tenant=tenant_id), ENTRA_V2_METADATA.format(tenant=tenant_id))]
    return issuers


@dataclass
class KeySource:
    """The signing keys one issuer publishes (its OpenID metadata's `jwks_uri`), cached."""

    trusted: TrustedIssuer
    _keys: dict[str, jwt.PyJWK] = field(default_factory=dict)
    _fetched_at: float | None = None
    _lock: asyncio.Lock = field(default_factory=asyncio.Lock)

    async def key(self, kid: str) -> jwt.PyJWK:
        async with self._lock:
            now = time.monotonic()
            stale = self._fetched_at is None or now - self._fetched_at > KEYS_TTL_SECONDS
            may_refetch = self._fetched_at is None or now - self._fetched_at > REFETCH_SECONDS
            if stale or (kid not in self._keys and may_refetch):
                self._keys = await self._fetch()
                self._fetched_at = now
        found = self._keys.get(kid)
        if found is None:
            raise TokenRefused("unknown_key")
        return found

    async def _fetch(self) -> dict[str, jwt.PyJWK]:
        try:
            timeout = aiohttp.ClientTimeout(total=FETCH_TIMEOUT_SECONDS)
            async with aiohttp.ClientSession(timeout=timeout) as http:
                async with http.get(self.trusted.metadata_url) as resp:
                    resp.raise_for_status()
                    metadata = await resp.json(content_type=None)
                if not isinstance(metadata, dict) or not isinstance(metadata.get("jwks_uri"), str):
                    raise TokenRefused("bad_metadata")
                named = metadata.get("issuer")
                if named is not None and named != self.trusted.issuer and "{tenantid}" not in str(named):
                    raise TokenRefused("metadata_issuer")
                async with http.get(metadata["jwks_uri"]) as resp:
                    resp.raise_for_status()
                    jwks = await resp.json(content_type=None)
        except TokenRefused:
            raise
        except (aiohttp.ClientError, TimeoutError, ValueError):
            raise TokenRefused("keys_unavailable") from None
        keys: dict[str, jwt.PyJWK] = {}
        for entry in jwks.get("keys", []) if isinstance(jwks, dict) else []:
            if not isinstance(entry, dict) or not isinstance(entry.get("kid"), str):
                continue
            try:
                keys[entry["kid"]] = jwt.PyJWK(entry)
            except jwt.PyJWTError:
                continue  # a key type PyJWT cannot use is no key of ours
        return keys


class TokenValidator:
    """Validates a bearer token of an inbound activity; returns its claims or raises TokenRefused."""

    def __init__(self, app_id: str | None, issuers: Iterable[TrustedIssuer]) -> None:
        self.app_id = app_id
        self.sources = {t.issuer: KeySource(t) for t in issuers}

    async def claims(self, token: str) -> dict[str, Any]:
        try:
            header = jwt.get_unverified_header(token)
            unverified = jwt.decode(token, options={"verify_signature": False})
        except jwt.PyJWTError:
            raise TokenRefused("not_a_jwt") from None
        kid = header.get("kid")
        if not isinstance(kid, str) or not kid:
            raise TokenRefused("no_kid")
        if header.get("alg") != "RS256":
            raise TokenRefused("bad_alg")
        issuer = unverified.get("iss")
        source = self.sources.get(issuer) if isinstance(issuer, str) else None
        if source is None:
            raise TokenRefused("issuer")
        if not self.app_id:
            raise TokenRefused("no_app_id")
        key = await source.key(kid)
        try:
            claims: dict[str, Any] = jwt.decode(
                token, key=key, algorithms=["RS256"], audience=self.app_id, issuer=issuer,
                leeway=MAX_SKEW_SECONDS, options={"require": ["exp", "iss", "aud"]},
            )
        except jwt.ExpiredSignatureError:
            raise TokenRefused("expired") from None
        except jwt.ImmatureSignatureError:
            raise TokenRefused("not_yet_valid") from None
        except jwt.InvalidAudienceError:
            raise TokenRefused("audience") from None
        except jwt.PyJWTError as exc:
            raise TokenRefused(f"invalid:{type(exc).__name__}") from None
        return claims

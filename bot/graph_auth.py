"""Signing in to Microsoft Graph app-only: the async azure-identity credential, shared by the Graph channel
(bot/channels/graph) and the directory's Entra sync (bot/directory/entra.py)."""

from __future__ import annotations

import os
from typing import Any

from azure.core.credentials_async import AsyncTokenCredential

from bot.config import Settings


def build_credential(settings: Settings) -> AsyncTokenCredential:
    """The async app-only credential: a client secret, else a certificate (PEM or PFX file)."""
    from azure.identity.aio import CertificateCredential, ClientSecretCredential

    kwargs: dict[str, Any] = {}
    ca_file = os.environ.get("SSL_CERT_FILE")
    if ca_file:  # aiohttp (under azure-identity) builds its default TLS context once, at import: pass it on
        kwargs["connection_verify"] = ca_file
    if settings.graph_authority_host:
        kwargs.update(authority=settings.graph_authority_host, disable_instance_discovery=True)
    assert settings.graph_tenant_id and settings.graph_client_id
    if settings.graph_client_secret is not None:
        return ClientSecretCredential(settings.graph_tenant_id, settings.graph_client_id,
                                      settings.graph_client_secret.get_secret_value(), **kwargs)
    assert settings.graph_certificate_path is not None
    return CertificateCredential(settings.graph_tenant_id, settings.graph_client_id,
                                 certificate_path=str(settings.graph_certificate_path), **kwargs)

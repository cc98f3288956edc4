"""What is wrong with the configuration, as one Swedish line per problem naming the variable.

`gfi-bot` checks before it starts anything, so a bad setting stops the process at once with a non-zero exit
instead of a hang, a traceback or a silent fall-back to the console. `gfi-bot check-config` prints the same
lines and then tries each credential for real (`bot.setup_live`).
"""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from pydantic import ValidationError

from bot import texts
from bot.config import DEFAULT_DIRECTORY, SECRET_NAMES, Settings, secret_file

CHANNEL_PREFIXES = ("SLACK_", "TEAMS_", "GRAPH_")
# Settings that tune a channel without being one of its credentials (set alone they are not "partial").
_TUNING = {"GRAPH_TIMEOUT", "TEAMS_ANONYMOUS", "TEAMS_AUTHORITY_HOST", "TEAMS_PUBLISHER", "TEAMS_WEBSITE_URL",
           "TEAMS_PRIVACY_URL", "TEAMS_TERMS_URL"}


def say(macro: str, /, **params: Any) -> str:
    return texts.text("config", macro, **params)


def _hint(error: Any) -> str:
    kind, ctx = str(error.get("type", "")), error.get("ctx") or {}
    name = str(error["loc"][0]) if error.get("loc") else ""
    if name == "GFI_TIMEZONE":
        return say("hint_timezone")
    if name == "GFI_LOG_LEVEL":
        return say("hint_log_level")
    if kind.startswith("int_"):
        return say("hint_int")
    if kind.startswith("float_"):
        return say("hint_number")
    if kind.startswith("bool_"):
        return say("hint_bool")
    if kind == "greater_than":
        return say("hint_above", low=f"{ctx.get('gt'):g}")
    if kind == "greater_than_equal":
        return say("hint_range", low=f"{ctx.get('ge'):g}", high=None)
    if kind in ("less_than_equal", "less_than"):
        return say("hint_range", low=None, high=f"{ctx.get('le', ctx.get('lt')):g}")
    return ""


def settings_problems(exc: ValidationError) -> list[str]:
    """One line per invalid variable (pydantic names it by its alias, the environment variable)."""
    lines: dict[str, str] = {}
    for error in exc.errors():
        if not error.get("loc"):
            continue
        name = str(error["loc"][0])
        value = error.get("input")
        shown = repr(value) if not any(s in name for s in ("SECRET", "TOKEN", "PASSWORD")) else "(dold)"
        lines.setdefault(name, say("bad_value", name=name, value=shown, hint=_hint(error)))
    return list(lines.values())


def _set_names(settings: Settings, prefixes: tuple[str, ...]) -> list[str]:
    """The channel variables that are set (differ from their default), by environment name."""
    names = []
    for field_name, info in Settings.model_fields.items():
        alias = info.alias or field_name
        if alias.startswith(prefixes) and alias not in _TUNING and getattr(settings, field_name) != info.default:
            names.append(alias)
    return names


def channel_vars_set(settings: Settings) -> bool:
    """True when any SLACK_*, TEAMS_* or GRAPH_* setting is given (then the console is never a fall-back)."""
    return bool(_set_names(settings, CHANNEL_PREFIXES)) or settings.teams_anonymous


def _missing(pairs: list[tuple[str, bool]]) -> str:
    return texts.text("config", "and_list", names=[name for name, present in pairs if not present])


def _partial(settings: Settings) -> list[str]:
    lines = []
    if _set_names(settings, ("SLACK_",)) and not settings.slack_configured:
        lines.append(say("partial", channel="Slack", missing=_missing([
            ("SLACK_BOT_TOKEN", settings.slack_bot_token is not None),
            ("SLACK_SIGNING_SECRET", settings.slack_signing_secret is not None)])))
    if _set_names(settings, ("TEAMS_",)) and not settings.teams_configured:
        key = say("either", first="TEAMS_APP_PASSWORD", second="TEAMS_CERT_FILE")
        lines.append(say("partial", channel="Teams", missing=_missing([
            ("TEAMS_APP_ID", bool(settings.teams_app_id)), ("TEAMS_TENANT_ID", bool(settings.teams_tenant_id)),
            (key, bool(settings.teams_app_password or settings.teams_cert_file))])))
    if _set_names(settings, ("GRAPH_",)) and not settings.graph_configured:
        key = say("either", first="GRAPH_CLIENT_SECRET", second="GRAPH_CERTIFICATE_PATH")
        lines.append(say("partial", channel="Microsoft Graph", missing=_missing([
            ("GRAPH_TENANT_ID", bool(settings.graph_tenant_id)), ("GRAPH_CLIENT_ID", bool(settings.graph_client_id)),
            (key, bool(settings.graph_client_secret or settings.graph_certificate_path)),
            ("GRAPH_SENDER", bool(settings.graph_sender))])))
    if bool(settings.public_url) != (settings.link_secret is not None):
        lines.append(say("partial", channel="Åtgärdslänkarna", missing=_missing([
            ("GFI_PUBLIC_URL", bool(settings.public_url)), ("GFI_LINK_SECRET", settings.link_secret is not None)])))
    return lines


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def _links(settings: Settings) -> list[str]:
    lines = []
    if settings.public_url:
        parts = urlsplit(settings.public_url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            lines.append(say("public_url_bad", value=repr(settings.public_url)))
        elif parts.scheme == "http" and not is_loopback(parts.hostname):
            lines.append(say("public_url_http", value=repr(settings.public_url)))
    if settings.link_secret is not None:
        length = len(settings.link_secret.get_secret_value().encode())
        if length < 32:
            lines.append(say("link_secret_short", length=length))
    return lines


def _files(settings: Settings, env: Mapping[str, str]) -> list[str]:
    lines = []
    for name in SECRET_NAMES:
        path = secret_file(name, env)
        if not env.get(name) and path is not None and not os.access(path, os.R_OK):
            lines.append(say("secret_file_unreadable", name=name, path=path))
    for name, path in (("GRAPH_CERTIFICATE_PATH", settings.graph_certificate_path),
                       ("TEAMS_CERT_FILE", settings.teams_cert_file)):
        if path is not None and not (path.is_file() and os.access(path, os.R_OK)):
            lines.append(say("file_missing", name=name, path=path))
    return lines


def _real_credentials(settings: Settings) -> bool:
    signed_teams = bool(settings.teams_app_id and (settings.teams_app_password or settings.teams_cert_file))
    return settings.slack_configured or signed_teams or settings.graph_configured


def _uses_example_directory(settings: Settings) -> bool:
    try:
        return settings.directory_path.resolve() == DEFAULT_DIRECTORY.resolve()
    except OSError:
        return False


def startup_problems(settings: Settings, env: Mapping[str, str] = os.environ, *,
                     stdin_tty: bool = True) -> list[str]:
    """Every reason `gfi-bot run` must not start with these settings, one line each (empty: start)."""
    lines = [*_files(settings, env), *_partial(settings), *_links(settings)]
    if _real_credentials(settings) and _uses_example_directory(settings) and not settings.allow_example_directory:
        lines.append(say("example_directory", path=DEFAULT_DIRECTORY))
    if (settings.graph_configured and not (settings.slack_configured or settings.teams_configured)
            and not settings.links_configured and not lines):
        lines.append(say("graph_without_channel"))
    if not channel_vars_set(settings) and not stdin_tty:
        lines.append(say("no_terminal"))
    return lines

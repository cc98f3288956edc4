"""The deploy files an IT department starts from: deploy/env.example lists every setting and nothing else,
the Dockerfile installs non-editable as a non-root user with a health check and no dev tools, the systemd
unit is hardened, and constraints.txt pins what scripts/setup, the Dockerfile and CI install."""

from __future__ import annotations

import re
from pathlib import Path

from bot.config import PROJECT_ROOT, Settings

DEPLOY = PROJECT_ROOT / "deploy"


def env_example_names() -> list[str]:
    lines = (DEPLOY / "env.example").read_text(encoding="utf-8").splitlines()
    return [m[1] for line in lines if (m := re.match(r"^([A-Z][A-Z0-9_]*)=", line))]


def test_env_example_lists_every_setting_once() -> None:
    settings = {info.alias or name for name, info in Settings.model_fields.items()}
    listed = env_example_names()
    assert len(listed) == len(set(listed)), "a setting is listed twice"
    assert sorted(settings - set(listed)) == [], "missing from deploy/env.example"
    assert sorted(set(listed) - settings) == [], "not a setting"


def test_the_example_env_starts_nothing_by_itself() -> None:
    """Copied as it is, every secret is empty (empty counts as unset)."""
    values = dict(line.split("=", 1) for line in (DEPLOY / "env.example").read_text(encoding="utf-8").splitlines()
                  if re.match(r"^[A-Z]", line))
    for name in ("SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET", "TEAMS_APP_PASSWORD", "GRAPH_CLIENT_SECRET",
                 "GFI_LINK_SECRET"):
        assert values[name] == ""


def test_dockerfile_non_editable_non_root_with_healthcheck() -> None:
    text = (DEPLOY / "Dockerfile").read_text(encoding="utf-8")
    installs = [line for line in text.splitlines() if "pip install" in line]
    assert installs and all("-e " not in line and "[dev]" not in line for line in installs)
    assert all("-c constraints.txt" in line for line in installs)
    assert re.search(r"^USER (?!root)\w+", text, re.MULTILINE)
    assert "HEALTHCHECK" in text and "GFI_HTTP_PORT" in text.split("HEALTHCHECK", 1)[1]


def test_systemd_unit_is_hardened() -> None:
    unit = (DEPLOY / "gfi-bot.service").read_text(encoding="utf-8")
    for line in ("UMask=0077", "StateDirectoryMode=0700", "NoNewPrivileges=true", "ProtectSystem=strict",
                 "ProtectHome=true", "PrivateTmp=true", "CapabilityBoundingSet=", "RestrictAddressFamilies="):
        assert re.search(rf"^{re.escape(line)}", unit, re.MULTILINE), line


def test_setup_and_dockerfile_use_the_constraints() -> None:
    assert "-c constraints.txt" in (PROJECT_ROOT / "scripts" / "setup").read_text(encoding="utf-8")
    pins = [line for line in (PROJECT_ROOT / "constraints.txt").read_text(encoding="utf-8").splitlines()
            if line and not line.startswith("#")]
    assert pins and all(re.fullmatch(r"[A-Za-z0-9_.\-\[\]]+==[^\s]+", pin) for pin in pins)
    names = {pin.split("==")[0].lower().replace("_", "-") for pin in pins}
    assert {"slack-bolt", "prometheus-client", "microsoft-agents-hosting-core"} <= names


def test_compose_file_names_the_dockerfile_and_a_volume() -> None:
    compose = Path(DEPLOY / "compose.yaml").read_text(encoding="utf-8")
    assert "dockerfile: deploy/Dockerfile" in compose and "/data" in compose

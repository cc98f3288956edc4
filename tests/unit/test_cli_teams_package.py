"""`gfi-bot teams-package` takes the publisher and its pages (options or TEAMS_* settings) and refuses to build
a package with placeholders."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

APP = "11111111-2222-3333-4444-555555555555"
REAL = ["--publisher", "Region Norrland", "--website-url", "https://www.rn.se", "--privacy-url",
        "https://www.rn.se/personuppgifter", "--terms-url", "https://www.rn.se/villkor"]


def package(tmp_path: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "GFI_", "TEAMS_", "GRAPH_"))}
    return subprocess.run([sys.executable, "-m", "bot.cli", "teams-package", "--out", str(tmp_path / "app.zip"),
                           "--app-id", APP, *args], capture_output=True, text=True, env={**base, **env},
                          cwd=tmp_path, timeout=60, check=False)


def test_placeholders_are_refused_one_line_each(tmp_path: Path) -> None:
    result = package(tmp_path, "--website-url", "https://example.org")
    assert result.returncode == 2
    lines = result.stderr.splitlines()
    assert len(lines) == 4 and "Traceback" not in result.stderr
    assert any("--website-url" in line and "example.org" in line for line in lines)
    assert all("platshållare" in line for line in lines)
    assert not (tmp_path / "app.zip").exists()


def test_http_urls_are_refused(tmp_path: Path) -> None:
    result = package(tmp_path, *REAL[:6], "--terms-url", "http://www.rn.se/villkor")
    assert result.returncode == 2 and "--terms-url" in result.stderr


def test_the_publisher_goes_into_the_manifest_from_options_or_settings(tmp_path: Path) -> None:
    result = package(tmp_path, *REAL)
    assert result.returncode == 0, result.stderr
    with zipfile.ZipFile(tmp_path / "app.zip") as zf:
        developer = json.loads(zf.read("manifest.json"))["developer"]
    assert developer == {"name": "Region Norrland", "websiteUrl": "https://www.rn.se",
                         "privacyUrl": "https://www.rn.se/personuppgifter", "termsOfUseUrl": "https://www.rn.se/villkor"}
    (tmp_path / "app.zip").unlink()
    by_settings = package(tmp_path, TEAMS_PUBLISHER="Region Norrland", TEAMS_WEBSITE_URL="https://www.rn.se",
                          TEAMS_PRIVACY_URL="https://www.rn.se/p", TEAMS_TERMS_URL="https://www.rn.se/v")
    assert by_settings.returncode == 0, by_settings.stderr

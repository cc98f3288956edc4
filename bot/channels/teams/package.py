"""The Teams app package: `manifest.json` (personal scope, the bot and its command menu) and the two icons Teams
requires (192×192 colour, 32×32 transparent outline), zipped flat. Texts live in `teams_manifest.json.j2`."""

from __future__ import annotations

import json
import struct
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined

from bot.config import PROJECT_ROOT

TEMPLATE_DIR = PROJECT_ROOT / "templates" / "messages"
MANIFEST_VERSION = "1.19"
SCHEMA = f"https://developer.microsoft.com/json-schemas/teams/v{MANIFEST_VERSION}/MicrosoftTeams.schema.json"
ACCENT = (0x1F, 0x6F, 0x8B)


@dataclass(frozen=True)
class Publisher:
    """Who publishes the app in the organisation's catalog, and the pages its listing links to."""

    name: str
    website_url: str
    privacy_url: str
    terms_url: str

    def placeholders(self) -> list[str]:
        """The fields still unset or left as a placeholder (an example address, or not https)."""
        fields = {"name": self.name, "website_url": self.website_url, "privacy_url": self.privacy_url,
                  "terms_url": self.terms_url}
        bad = [k for k, v in fields.items() if not v or any(p in v.lower() for p in PLACEHOLDER_MARKS)]
        bad += [k for k, v in fields.items() if k.endswith("_url") and v and not v.startswith("https://")
                and k not in bad]
        return bad


PLACEHOLDER_MARKS = ("example", "github.com/gfi-boten", "changeme", "todo", "xxx")
# For tests and previews only: `gfi-bot teams-package` refuses these.
PLACEHOLDER = Publisher("GFI-boten", "https://github.com/gfi-boten", "https://github.com/gfi-boten/privacy",
                        "https://github.com/gfi-boten/terms")


def manifest(app_id: str, version: str = "1.0.0", publisher: Publisher = PLACEHOLDER) -> dict[str, Any]:
    env = Environment(loader=FileSystemLoader(str(TEMPLATE_DIR)), undefined=StrictUndefined, autoescape=False)
    env.filters["json"] = lambda v: json.dumps(v, ensure_ascii=False)
    text = env.get_template("teams_manifest.json.j2").render(
        app_id=app_id, version=version, schema=SCHEMA, manifest_version=MANIFEST_VERSION, publisher=publisher)
    data: dict[str, Any] = json.loads(text)
    return data


def png(size: int, pixel: Any) -> bytes:
    """A minimal RGBA PNG; `pixel(x, y)` gives (r, g, b, a)."""
    rows = b"".join(b"\x00" + b"".join(bytes(pixel(x, y)) for x in range(size)) for y in range(size))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    header = struct.pack(">IIBBBBB", size, size, 8, 6, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows, 9)) + chunk(b"IEND", b"")


def color_icon() -> bytes:
    """192×192: a white ring on the accent colour."""
    def pixel(x: int, y: int) -> tuple[int, int, int, int]:
        d = ((x - 96) ** 2 + (y - 96) ** 2) ** 0.5
        return (255, 255, 255, 255) if 44 <= d <= 60 else (*ACCENT, 255)
    return png(192, pixel)


def outline_icon() -> bytes:
    """32×32: a white ring on transparency (Teams requires white and transparent only)."""
    def pixel(x: int, y: int) -> tuple[int, int, int, int]:
        d = ((x - 15.5) ** 2 + (y - 15.5) ** 2) ** 0.5
        return (255, 255, 255, 255) if 9 <= d <= 13 else (0, 0, 0, 0)
    return png(32, pixel)


def write_package(out: Path, *, app_id: str, version: str = "1.0.0", publisher: Publisher = PLACEHOLDER) -> None:
    """Write the zip Teams admin center uploads: manifest.json, color.png, outline.png at the top level."""
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("manifest.json", json.dumps(manifest(app_id, version, publisher), ensure_ascii=False, indent=2))
        zf.writestr("color.png", color_icon())
        zf.writestr("outline.png", outline_icon())

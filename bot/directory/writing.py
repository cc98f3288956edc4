"""Writing a directory as the YAML (or JSON, for `*.json`) file the bot reads (`gfi-bot directory import|sync`).

Times as "HH:MM", distribution days as Swedish weekday names, defaults left out, so the file stays as
short and readable as a hand-written one. The file is replaced atomically (a temporary file in the same
folder, then `os.replace`) with the old file's permissions, so a running bot never reads half a file.
"""

from __future__ import annotations

import json
import os
import tempfile
from datetime import time
from pathlib import Path
from typing import Any

import yaml

from bot.directory.model import WEEKDAY_NAMES_SV, DirectoryFile

HEADER = (
    "# GFI-boten — katalog, skriven av `gfi-bot directory {how}`.\n"
    "# Kontrollera den med:  gfi-bot check-directory {name}\n\n"
)


def _plain(value: Any) -> Any:
    if isinstance(value, time):
        return f"{value.hour:02d}:{value.minute:02d}"
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if hasattr(value, "value") and isinstance(getattr(value, "value", None), str):  # StrEnum
        return str(value.value)
    return value


def _data(data: DirectoryFile) -> dict[str, Any]:
    raw: dict[str, Any] = _plain(data.model_dump(exclude_defaults=True))
    for unit in raw.get("units", []):
        days = unit.get("distribution", {}).get("days")
        if days is not None:
            unit["distribution"]["days"] = [WEEKDAY_NAMES_SV[d] for d in days]
    return raw


def to_yaml(data: DirectoryFile) -> str:
    """The directory as YAML text (without header)."""
    return yaml.safe_dump(_data(data), allow_unicode=True, sort_keys=False, default_flow_style=False, width=120)


def to_text(data: DirectoryFile, path: Path) -> str:
    """The directory as the file `path` holds it: JSON for `*.json` (read fastest, for large directories;
    JSON has no comments, so no header), else YAML (without header)."""
    if path.suffix.lower() == ".json":
        return json.dumps(_data(data), ensure_ascii=False, indent=1) + "\n"
    return to_yaml(data)


def file_text(data: DirectoryFile, path: Path, how: str) -> str:
    """The whole file `write_directory` writes: the header (YAML only) and the directory."""
    header = "" if path.suffix.lower() == ".json" else HEADER.format(how=how, name=path.name)
    return header + to_text(data, path)


def write_directory(data: DirectoryFile, path: Path, how: str) -> None:
    """Replace `path` atomically with the directory (its permissions kept; 0644 for a new file)."""
    write_text(path, file_text(data, path, how))


def write_text(path: Path, text: str) -> None:
    """Replace `path` atomically with `text` (UTF-8; its permissions kept; 0644 for a new file)."""
    mode = path.stat().st_mode & 0o777 if path.exists() else 0o644
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(text)
            out.flush()
            os.fsync(out.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise

"""Every Adaptive Card the tests see checked with Microsoft's own card parser and against Teams' limits.

The parser is the npm package `adaptivecards` (the library Teams' clients render with), installed into
.venv/npm by scripts/setup and run once per test session by node (`validate_cards.js`). A card it complains
about (unknown element or action, invalid property value, a property newer than schema 1.5, duplicate input
ids) or one past Teams' limits (`bot/channels/teams/limits.py`: size as sent, six actions per set) fails the
test. Without node or the package the check is skipped, except on CI (`CI` set), where it fails.

One Teams extension the parser does not know is allowed: dynamic typeahead (`choices.data` of type
`Data.Query`), which Teams renders in 1.5 cards; a choice set that has it needs no static choices.
"""

from __future__ import annotations

import atexit
import json
import os
import shutil
import subprocess
import threading
from pathlib import Path
from typing import Any

from bot.channels.teams import limits

ROOT = Path(__file__).resolve().parents[2]
MODULES = ROOT / ".venv" / "npm" / "node_modules"
SCRIPT = Path(__file__).with_name("validate_cards.js")
TEAMS_EXTENSIONS = ('Property "choices.data" is supported in version 1.6',
                    "An Input.ChoiceSet must have at least one choice defined")


class Unavailable(Exception):
    """node or the adaptivecards package is missing."""


class _Parser:
    """One node process for the session: a card per line in, its complaints per line out."""

    def __init__(self) -> None:
        self.proc: subprocess.Popen[str] | None = None
        self.lock = threading.Lock()

    def start(self) -> subprocess.Popen[str]:
        if self.proc is not None and self.proc.poll() is None:
            return self.proc
        node = shutil.which("node")
        if node is None or not (MODULES / "adaptivecards" / "dist" / "adaptivecards.js").exists():
            raise Unavailable("node and the npm package adaptivecards (scripts/setup installs it) are needed")
        self.proc = subprocess.Popen([node, str(SCRIPT), str(MODULES)], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, text=True, encoding="utf-8")
        return self.proc

    def errors(self, content: dict[str, Any]) -> list[str]:
        with self.lock:
            proc = self.start()
            assert proc.stdin is not None and proc.stdout is not None
            proc.stdin.write(json.dumps(content, ensure_ascii=False) + "\n")
            proc.stdin.flush()
            return list(json.loads(proc.stdout.readline()))

    def close(self) -> None:
        if self.proc is not None:
            self.proc.kill()
            self.proc.wait()
            self.proc = None


PARSER = _Parser()
atexit.register(PARSER.close)


def _has_dynamic_choices(content: Any) -> bool:
    return '"choices.data"' in json.dumps(content)


def violations(content: dict[str, Any]) -> list[str]:
    """What is wrong with one card as Teams would get it: the parser's complaints and the limits."""
    found: list[str] = []
    try:
        errors = PARSER.errors(content)
    except Unavailable as exc:
        if os.environ.get("CI"):
            return [f"card parser unavailable: {exc}"]
        errors = []
    dynamic = _has_dynamic_choices(content)
    found += [e for e in errors if not (dynamic and e.startswith(TEAMS_EXTENSIONS))]
    if content.get("version") != limits.VERSION:
        found.append(f"version {content.get('version')} is not {limits.VERSION}")
    if limits.size(content) > limits.CARD_BUDGET:
        found.append(f"{limits.size(content)} bytes: over {limits.CARD_BUDGET}")
    if not limits.fits(content, budget=limits.CARD_BYTES):
        found.append(f"more than {limits.ACTIONS_PER_SET} actions in one set")
    return found


def check(content: dict[str, Any]) -> None:
    """AssertionError naming what is wrong with the card."""
    found = violations(content)
    assert not found, f"card rejected: {found}\n{json.dumps(content, ensure_ascii=False)[:2000]}"


def available() -> bool:
    try:
        PARSER.start()
    except Unavailable:
        return False
    return True

"""`gfi-bot` imports a subcommand's module only when it runs (issue #19: a bad configuration is refused within
2 s; `--help` and `--version` at once). What a refusal or `--help` imported is read from `sys.modules` of a
real process; the time itself is measured by bench/startup_refusal.py, never here."""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from bot.cli import build_parser
from bot.cli.commands import CHANNELS, Lazy
from bot.directory.model import Channel

# Heavy libraries and the bot's own heavy parts that a refused start-up never needs.
NEVER_FOR_A_REFUSAL = ("slack_bolt", "slack_sdk", "aiohttp", "microsoft_agents", "msgraph", "azure", "matplotlib",
                       "fpdf", "holidays", "httpx", "psycopg", "prometheus_client", "apscheduler", "bot.core",
                       "bot.store", "bot.directory", "bot.channels", "handlers")

PROBE = """
import json, sys
from bot.cli import main
try:
    code = main(sys.argv[1:])
except SystemExit as exc:
    code = exc.code
print(json.dumps({"code": code, "modules": sorted(sys.modules)}), file=sys.stderr)
"""


def probe(tmp_path: Path, *argv: str, **env: str) -> tuple[int, list[str]]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "GFI_", "TEAMS_", "GRAPH_"))}
    clean.update({"GFI_DB_PATH": str(tmp_path / "gfi.sqlite3"), **env})
    result = subprocess.run([sys.executable, "-c", PROBE, *argv], env=clean, stdin=subprocess.DEVNULL,
                            capture_output=True, text=True, timeout=60, check=False)
    report = json.loads(result.stderr.strip().splitlines()[-1])
    return int(report["code"] or 0), list(report["modules"])


def heavy(modules: list[str]) -> list[str]:
    return [m for m in modules if any(m == h or m.startswith(h + ".") for h in NEVER_FOR_A_REFUSAL)]


@pytest.mark.parametrize("env", [
    {"SLACK_BOT_TOKEN": "xoxb-1"},
    {"TEAMS_APP_ID": "app"},
    {"GFI_TIMEZONE": "Mars/Olympus"},
    {"SLACK_BOT_TOKEN": "x", "SLACK_SIGNING_SECRET": "y"},  # real credentials with the example directory
    {},  # no channel and no terminal
], ids=["partial-slack", "partial-teams", "timezone", "example-directory", "no-channel"])
def test_a_refused_start_imports_no_channel_store_or_core(tmp_path: Path, env: dict[str, str]) -> None:
    code, modules = probe(tmp_path, "run", **env)
    assert code != 0
    assert heavy(modules) == []
    assert not (tmp_path / "gfi.sqlite3").exists()


@pytest.mark.parametrize("argv", [("--help",), ("--version",), ("backup", "--help"), ("directory", "sync", "--help")])
def test_help_and_version_import_not_even_the_settings(tmp_path: Path, argv: tuple[str, ...]) -> None:
    code, modules = probe(tmp_path, *argv)
    assert code == 0
    assert heavy(modules) == []
    assert "pydantic_settings" not in modules and "pydantic" not in modules


def test_version_is_printed_on_stdout() -> None:
    result = subprocess.run([sys.executable, "-m", "bot.cli", "--version"], capture_output=True, text=True,
                            timeout=60, check=True)
    assert result.stdout.startswith("gfi-bot ")


def test_the_directory_channels_match_the_model() -> None:
    assert CHANNELS == tuple(c.value for c in Channel)


def _functions(parser: argparse.ArgumentParser) -> list[Lazy]:
    found = [parser.get_default("func")] if parser.get_default("func") is not None else []
    for action in parser._actions:  # argparse has no public way to walk subparsers
        if isinstance(action, argparse._SubParsersAction):
            for child in action.choices.values():
                found.extend(_functions(child))
    return found


def test_every_subcommand_names_a_function_that_exists() -> None:
    import importlib

    functions = _functions(build_parser())
    assert len(functions) == 16  # every subcommand, found by walking the parser
    for function in functions:
        assert isinstance(function, Lazy)
        assert callable(getattr(importlib.import_module(function.module), function.name)), function.name

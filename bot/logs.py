"""Structured logging: one JSON object per line, with case references and ids, never free text."""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

# APScheduler logs two INFO lines per job run (the dispatcher runs every second: ~170,000 lines a day) and
# free-text lines at start. The bot logs its own structured events, so these show only at DEBUG.
QUIET_AT_INFO = ("apscheduler.executors.default", "apscheduler.scheduler")
# fpdf2 warns with the characters its font lacks ("missing the following glyphs: …", which can be letters of a
# name), and fontTools, subsetting the font of a journal PDF, logs its glyph lists: both carry pieces of the
# journal's text, so only their errors are logged, at every level.
TEXT_IN_MESSAGES = ("fpdf", "fontTools")
# Their DEBUG output holds SQL parameters and request bodies, i.e. free text: never below INFO.
NEVER_DEBUG = ("aiosqlite", "slack_sdk", "slack_bolt")
# slack_sdk's Web API client builds its DEBUG lines (the whole request and answer, headers and body) whenever its
# logger's own level is NOTSET or DEBUG, whether or not they are written (`logger.level <= logging.DEBUG`, not
# `isEnabledFor`): on every call, a third of a millisecond of CPU per message sent. Its loggers get a level of
# their own, at least INFO (the same lines pass as before).
SLACK_CLIENT_LOGGERS = ("slack_sdk.web.async_base_client", "slack_sdk.web.base_client")

_STANDARD = set(logging.LogRecord("x", 0, "x", 0, "x", None, None).__dict__) | {"message", "asctime"}


class JsonFormatter(logging.Formatter):
    """Formats a record and its `extra=` fields as JSON."""

    def format(self, record: logging.LogRecord) -> str:
        data: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        for key, value in record.__dict__.items():
            if key not in _STANDARD and not key.startswith("_"):
                data[key] = value
        if record.exc_info and record.exc_info[0] is not None:
            data["exc_type"] = record.exc_info[0].__name__
        return json.dumps(data, ensure_ascii=False, default=str)


def setup_logging(level: str = "INFO") -> None:
    """Send JSON logs to stderr (stdout stays for the console conversation); APScheduler's per-run lines
    only at DEBUG, and fpdf2's and fontTools' messages (pieces of a journal's text) only as errors."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    verbose = root.isEnabledFor(logging.DEBUG)
    for name in QUIET_AT_INFO:
        logging.getLogger(name).setLevel(logging.NOTSET if verbose else logging.WARNING)
    for name in NEVER_DEBUG:
        logging.getLogger(name).setLevel(logging.INFO if verbose else logging.NOTSET)
    for name in TEXT_IN_MESSAGES:
        logging.getLogger(name).setLevel(logging.ERROR)
    for name in SLACK_CLIENT_LOGGERS:
        logging.getLogger(name).setLevel(max(root.level, logging.INFO))


def log_to_file(path: Path) -> None:
    """Send the JSON log lines to `path` instead of stderr: for a console typed at a terminal, whose stderr is the
    same screen as the conversation (log lines never appear inside it). Level and format stay as set up."""
    handler = logging.FileHandler(path, encoding="utf-8")
    handler.setFormatter(JsonFormatter())
    logging.getLogger().handlers[:] = [handler]

"""Inbound JSON, bounded before it is parsed: every HTTP endpoint (`/slack/events`, `/api/messages`, `/a/*`).

Python's `json` parser recurses once per nesting level: `[[[[…]]]]` a few thousand levels deep raises
`RecursionError` (not a `ValueError`), which nothing expects and aiohttp answers with 500, and the SDKs behind
the endpoints parse the body again. So each endpoint checks, on the raw text and before any parser sees it:

* the size: at most `MAX_BODY_BYTES` (aiohttp's `client_max_size`, 1 MiB, is the hard stop while reading; a
  declared `Content-Length` above it is refused before reading, with 413);
* the nesting depth: at most `MAX_DEPTH` levels of arrays and objects (brackets inside JSON strings do not
  count). The deepest payload Slack or Teams sends is a modal's view state or an Adaptive Card action, about
  ten levels; 64 leaves room and stays far below the recursion limit.

`loads` does both and raises `MalformedPayload` (the endpoint answers 400) for anything that is not JSON.
"""

from __future__ import annotations

import json
import re
from typing import Any

__all__ = ["MAX_BODY_BYTES", "MAX_DEPTH", "MalformedPayload", "depth_exceeds", "loads"]

MAX_BODY_BYTES = 1024 * 1024
MAX_DEPTH = 64

# A JSON string (skipped whole, escapes included), or one bracket.
_TOKENS = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"?|[\[\]{}]', re.DOTALL)


class MalformedPayload(ValueError):
    """The body is not JSON the bot reads: too deep, too large, or not JSON at all (answered with 400)."""

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(reason)


def depth_exceeds(text: str, max_depth: int = MAX_DEPTH) -> bool:
    """True when arrays/objects in `text` nest deeper than `max_depth` (scanned without parsing)."""
    if text.count("[") + text.count("{") <= max_depth:
        return False
    depth = 0
    for m in _TOKENS.finditer(text):
        c = m.group()[0]
        if c in "[{":
            depth += 1
            if depth > max_depth:
                return True
        elif c in "]}":
            depth = max(depth - 1, 0)
    return False


def loads(data: str | bytes, *, max_depth: int = MAX_DEPTH, max_bytes: int = MAX_BODY_BYTES) -> Any:
    """Parse JSON that is at most `max_bytes` long and `max_depth` deep; MalformedPayload otherwise."""
    if len(data) > max_bytes:
        raise MalformedPayload("too_large")
    try:
        text = data.decode("utf-8") if isinstance(data, bytes) else data
    except UnicodeDecodeError:
        raise MalformedPayload("not_utf8") from None
    if depth_exceeds(text, max_depth):
        raise MalformedPayload("too_deep")
    try:
        return json.loads(text)
    except (ValueError, RecursionError):
        raise MalformedPayload("not_json") from None

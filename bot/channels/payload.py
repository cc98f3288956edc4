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
`form_fields` reads a form body (Slack's slash commands, and the `payload=` field every interaction comes in).
"""

from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import unquote_plus

__all__ = ["MAX_BODY_BYTES", "MAX_DEPTH", "MalformedPayload", "depth_exceeds", "form_fields", "loads", "unquote_form"]

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


def unquote_form(text: str) -> str:
    """`urllib.parse.unquote_plus(text)`, the same text, at the speed of C for what a form body is: ASCII.

    urllib decodes each `%XX` in a Python loop: 140 µs for one Slack interaction (4 KB, 700 escapes of its
    JSON), on the event loop, per request. For ASCII text without a backslash, each `%XX` written `\\xXX` is
    what Python's `unicode_escape` codec decodes (to the code point of that byte, made the byte again by
    latin-1), and the bytes are read as UTF-8 (invalid sequences replaced, as urllib does). Anything else (a
    `%` without two hex digits after it, a backslash, a non-ASCII character) goes to urllib itself."""
    if "%" not in text:
        return text.replace("+", " ")
    if text.isascii() and "\\" not in text:
        try:
            raw = text.replace("+", " ").replace("%", "\\x").encode("ascii").decode("unicode_escape")
        except UnicodeDecodeError:  # a "%" that is not an escape: urllib keeps it as it is
            return unquote_plus(text)
        return raw.encode("latin-1").decode("utf-8", "replace")
    return unquote_plus(text)


def form_fields(text: str) -> dict[str, str]:
    """`dict(urllib.parse.parse_qsl(text, keep_blank_values=True))` (the last of a repeated name wins), decoded by
    `unquote_form`."""
    out: dict[str, str] = {}
    for pair in text.split("&"):
        if pair:
            name, _, value = pair.partition("=")
            out[unquote_form(name)] = unquote_form(value)
    return out

"""Cutting free text to a length with a note saying so: pure, no channel in it (Slack's limits use it too)."""

from __future__ import annotations

SHORT = "…"  # the note of fields too short for a sentence (buttons, options, headers)


def cut(text: str, limit: int, note: str = SHORT) -> str:
    """`text` if it fits in `limit` characters, else its start and `note` (together at most `limit`).
    Never splits an HTML/Slack escape (`&amp;`) and prefers to cut between words."""
    if len(text) <= limit:
        return text
    if len(note) >= limit // 2:
        note = SHORT
    keep = limit - len(note)
    head = text[:keep]
    amp = head.rfind("&", max(0, keep - 5))
    if amp != -1 and ";" not in head[amp:]:
        head = head[:amp]
    space = head.rfind(" ", max(0, len(head) - 20))
    if space > 0:
        head = head[:space]
    return head.rstrip() + note

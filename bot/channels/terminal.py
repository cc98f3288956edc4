"""Neutralising text for a terminal: free text printed by the console can never repaint or reorder it."""

from __future__ import annotations

import re

# Escape sequences: CSI (ESC [ … or the 8-bit CSI), OSC/DCS/SOS/PM/APC strings up to their terminator, and
# two-character ESC sequences. Removed whole, so nothing of them reaches the terminal.
_SEQUENCES = re.compile(
    r"\x1b\[[0-?]*[ -/]*[@-~]?"
    r"|\x9b[0-?]*[ -/]*[@-~]?"
    r"|[\x1b][\]PX^_][^\x07\x1b\x9c]*(?:\x07|\x1b\\|\x9c)?"
    r"|[\x90\x9d\x98\x9e\x9f][^\x07\x1b\x9c]*(?:\x07|\x1b\\|\x9c)?"
    r"|\x1b[ -~]?"
)
# Bidirectional formatting characters (as in "Trojan Source"): dropped, the text shows in its stored order.
_BIDI = dict.fromkeys([0x061C, 0x200E, 0x200F, *range(0x202A, 0x202F), *range(0x2066, 0x206A)])
# Any other C0/C1 control character except newline and tab: shown as U+FFFD so that tampering is visible.
_CONTROLS = {c: "\ufffd" for c in [*range(0x00, 0x20), 0x7F, *range(0x80, 0xA0)] if c not in (0x09, 0x0A)}
_TABLE: dict[int, str | None] = {**_CONTROLS, **_BIDI}


def neutralise(text: str) -> str:
    """`text` safe to print: escape sequences and bidi overrides removed, other control characters replaced
    by U+FFFD; line breaks (also a lone carriage return) become newlines."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    return _SEQUENCES.sub("", text).translate(_TABLE)

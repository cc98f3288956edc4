"""What every message kind is described as, for a fixed set of cases and recipients, as a compact snapshot: a hash of
the stored messages per (kind, case shape), and per kind the labels of the lines marked free text. The snapshot in
`tests/unit/message_records.json` was made from the templates before they wrote their records with filter blocks
(4ab8134^, `{% call m.… %}`), so a mistake in that rewrite, or any later change of what a message says, shows:
`test_message_records.py` compares. Made again, when a message is meant to change, with

    .venv/bin/python -m tests.unit.records_snapshot > tests/unit/message_records.json
"""

from __future__ import annotations

import hashlib
import json
import sys
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

from bot.cases.models import ChildrenAffected, MeetingParticipant
from bot.config import DEFAULT_DIRECTORY
from bot.directory import load_directory
from bot.outbox import encode
from bot.rendering import Renderer
from tests.unit import test_messages as tm

ODD = ["", "  kant  ", "\nny\nrad\n", 'citat "x" \\ y', "åäö ☃ \u2028\u00a0", "{{ x }}", "<b>&amp;</b>"]
RECIPIENTS = ("maria.sand", "linnea.fors", "fatima.ali", "helena.ros")


def shapes() -> list[dict[str, Any]]:
    """Case changes: urgent, children, and odd free text in every free field a message may show."""
    out: list[dict[str, Any]] = [{}, {"urgent": True, "children": ChildrenAffected.UNKNOWN},
                                 {"children": ChildrenAffected.YES}]
    for w in ODD:
        out += [{"contact": w, "brief": w, "meeting_place": w, "waiting_reason": w or None},
                {"consent_note": w, "consent_covers": ["annat"], "consent_form": "muntligt"},
                {"attendees": [MeetingParticipant("beroende", "linnea.fors"),
                               MeetingParticipant(None, role="narstaende", first_name=w)]}]
    return out


def described(renderer: Renderer, kind: str) -> Iterator[tuple[int, list[Any]]]:
    """(shape number, the messages of that shape to every recipient) for one kind."""
    real_case, real_kind = tm.case, tm.KINDS[kind]
    try:
        for n, changes in enumerate(shapes()):
            tm.case = lambda state, _c=changes, **kw: replace(real_case(state, **kw), **_c)  # type: ignore[misc]
            messages = []
            for recipient in RECIPIENTS:
                tm.KINDS[kind] = (real_kind[0], recipient)
                messages.append(tm.message(renderer, kind))
            yield n, messages
    finally:
        tm.case, tm.KINDS[kind] = real_case, real_kind  # type: ignore[misc]


def snapshot(renderer: Renderer) -> dict[str, Any]:
    hashes: dict[str, str] = {}
    free: dict[str, list[str]] = {}
    for kind in sorted(tm.KINDS):
        labels: set[str] = set()
        for n, messages in described(renderer, kind):
            text = "\n".join(encode(m) for m in messages)
            hashes[f"{kind} {n}"] = hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:16]
            labels |= {line.label or "(utan etikett)" for m in messages for line in m.lines if line.free}
        free[kind] = sorted(labels)
    return {"free": free, "hashes": hashes}


if __name__ == "__main__":
    json.dump(snapshot(Renderer(load_directory(DEFAULT_DIRECTORY))), sys.stdout, ensure_ascii=False, indent=0,
              sort_keys=True)
    sys.stdout.write("\n")

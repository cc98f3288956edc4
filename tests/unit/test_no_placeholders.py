"""No internal placeholder reaches a user (issue #18 item 18): the ladder's own rungs (`@coordinators`,
`@assignees`, `@distributor`, `@owner`) are codes, shown by their Swedish labels. Every message kind is rendered
for every kind of recipient, with each placeholder as the rung, on every channel's text."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from bot.channels.slack import render as slack_render
from bot.channels.teams import cards
from bot.ladder.disputes import RUNG_COORDINATORS
from bot.ladder.service import RUNG_ASSIGNEES, RUNG_DISTRIBUTOR, RUNG_OWNER
from bot.messages.text import plain_text
from bot.rendering import Renderer
from tests.e2e.test_console import console
from tests.unit import test_messages as tm
from tests.unit.test_messages import KINDS, renderer  # noqa: F401 - the renderer fixture

PLACEHOLDERS = (RUNG_COORDINATORS, RUNG_ASSIGNEES, RUNG_DISTRIBUTOR, RUNG_OWNER)
LEAK = re.compile(r"@(" + "|".join(p.removeprefix("@") for p in PLACEHOLDERS) + r"|coordinator|assignee|"
                  r"staff|section_head|operations_head|admin)\b")
# one person of every kind of recipient: staff of each principal, distributors, ladder rungs, coordinators
RECIPIENTS = ("maria.sand", "linnea.fors", "fatima.ali", "anna.lind", "helena.ros", "carina.berg", "jonas.sjo",
              "sara.holm")


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_no_message_kind_shows_a_placeholder_to_anyone(renderer: Renderer, kind: str,  # noqa: F811
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    for recipient in RECIPIENTS:
        for rung in PLACEHOLDERS:
            monkeypatch.setitem(KINDS, kind, (KINDS[kind][0], recipient))
            monkeypatch.setattr(tm, "COMMON", {**tm.COMMON, "rung_title": rung, "skipped": [rung]})
            msg = tm.message(renderer, kind)
            shown = [plain_text(msg), json.dumps(slack_render.payload(msg), ensure_ascii=False),
                     json.dumps(cards.message_card(renderer, msg, "n"), ensure_ascii=False)]
            for text in shown:
                assert not LEAK.search(text), (kind, recipient, rung, LEAK.search(text))


def test_the_label_of_every_placeholder_exists(renderer: Renderer) -> None:  # noqa: F811
    for rung in PLACEHOLDERS:
        assert not LEAK.search(renderer.label("RUNGS", rung)), rung


def test_escalations_listed_in_the_console_name_the_rung_in_swedish(tmp_path: Path) -> None:
    """A dispute nobody settled climbs to the coordinators (`@coordinators`): `/eskaleringar` says who."""
    script = """\
/gfi enhet=psykiatri typ=ny-en kort="man, 40 år" samtycke=ja
/som ingrid.vik
/fördela GFI-2026-0001 yusuf.kaya
/som yusuf.kaya
/kvittera GFI-2026-0001
/inte-vårt GFI-2026-0001 "Missbruket är det primära"
/tid 2026-11-25T11:00
/som jonas.sjo
/eskaleringar
/som sara.holm
/eskaleringar
"""
    out = console(tmp_path / "gfi.sqlite3", script, now="2026-11-23T10:00")
    assert "nu hos samordnare på samverkansnivå" in out
    assert not LEAK.search(out.replace("→ @", "→ ").replace("\n@", "\n")), LEAK.search(out)

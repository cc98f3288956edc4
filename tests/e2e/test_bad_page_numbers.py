"""`sida=` that is not a page number (review of reads-e, items 1 and 2): the console and Teams answer with the
Swedish `bad_page` text and go on, whatever was typed or sent back by a LIST_MORE button: `²` (which
str.isdigit accepts and int() refuses), more digits than any store's integer holds, 0, a negative, letters."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.core import Core
from handlers.teams import oversight
from tests.e2e.test_console import console
from tests.fakes import card_schema
from tests.fakes.teams import card_text
from tests.unit.test_teams_handlers import context_of

BAD = ["²", "999999999999999999999", "0", "-1", "abc", "1234567", ""]

SCRIPT = "".join(f"/{word} sida={bad}\n" for word in ("brister", "utkast", "samverkansfrågor", "frånvaro", "kö",
                                                       "läsloggar GFI-2026-0001") for bad in BAD) + "/brister\n"


def test_the_console_refuses_a_bad_page_and_goes_on(tmp_path: Path) -> None:
    out = console(tmp_path / "gfi.sqlite3", SCRIPT, person="sara.holm")
    for bad in BAD:
        if bad:
            assert f'"{bad}" är inget sidnummer. Skriv sida=2 för nästa sida.' in out, bad
    assert out.count("är inget sidnummer") == 6 * len(BAD), out
    assert out.rstrip().endswith("Inga rapporter om brister i samverkan."), out[-500:]


@pytest.mark.parametrize("bad", BAD)
async def test_teams_refuses_a_bad_page_on_a_card(core: Core, bad: str) -> None:
    ctx = context_of(core, "sara.holm")
    for word, args in [("brister", []), ("utkast", []), ("läsloggar", ["GFI-2026-0001"]),
                       ("läsloggar", ["person=maria.sand", "från=2026-11-01", "till=2026-11-30"])]:
        card = await oversight.view(ctx, "sara.holm", word, [*args, f"sida={bad}"])  # typed, or a button's args
        card_schema.check(card)
        assert f"är inget sidnummer. Skriv {word} sida=2 för nästa sida." in card_text(card), (word, card)
    assert "BRIST" not in card_text(await oversight.view(ctx, "sara.holm", "brister", ["sida=1"]))

"""The journal PDF as a document to keep (issue #18 item 15): headings, page "N av M", ragged right, language."""

from __future__ import annotations

import re
import zlib

from bot.pdf import is_heading, page_footer, text_pdf

TEXT = """GFI – journalunderlag för GFI-2026-0001
Omfattas av sekretess enligt OSL (offentlighets- och sekretesslagen).

Samtycke
- Omfattar: Socialtjänst Norr, vuxen/missbruk; Beroendemottagningen Åstad.

Utfall: gemensam kartläggning/utredning.

Förlopp
- mån 23 nov 2026 kl. 10:00  Förfrågan registrerad (Maria Sand)
- Uppgifterna i ärendet raderades när samtycket återkallades, och det som då var bokat ställdes in, så att ingen
  av de verksamheter som deltog behöver göra något mer i ärendet; den här raden är lång nog att brytas om.
"""


def test_section_headings_are_found_and_nothing_else() -> None:
    lines = TEXT.splitlines()
    headings = [line for prev, line in zip(["x", *lines], lines, strict=False) if is_heading(line, prev)]
    assert headings == ["Samtycke", "Förlopp"]


def test_the_footer_says_page_n_of_m() -> None:
    assert page_footer("GFI – journalunderlag GFI-2026-0001", "sida {sida} av {sidor}", 2, "{nb}") == \
        "GFI – journalunderlag GFI-2026-0001 – sida 2 av {nb}"
    assert page_footer("T", "sida", 3, "{nb}") == "T – sida 3"


def test_the_pdf_has_its_language_and_the_total_page_count_filled_in() -> None:
    data = text_pdf(TEXT * 30, title="GFI – journalunderlag GFI-2026-0001", page_label="sida {sida} av {sidor}")
    assert b"/Lang (sv)" in data
    streams = b"".join(zlib.decompress(m.group(1)) for m in re.finditer(rb"stream\r?\n(.*?)\r?\nendstream", data, re.S)
                       if m.group(1)[:1] == b"x")
    assert b"{nb}" not in streams  # the alias is replaced by the page count
    # ragged right: fpdf2 justifies a TrueType line with a TJ array of spacing offsets; none here
    assert b"] TJ" not in streams

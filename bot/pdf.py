"""Plain text to a PDF: A4, one Unicode font, lines wrapped, pages numbered (the journal record's PDF).

fpdf2 writes the PDF; the font is DejaVu Sans, which matplotlib (already a dependency, for the charts) ships,
so every character staff may type (å, ä, ö, dashes, other scripts in names) prints without a system font.

A document to keep (issue #18 item 15): the first line and the section headings in bold, text set ragged right
(never stretched to the margin), the document language set, and a footer "<title> – sida N av M" on each page.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib
from fpdf import FPDF

FONT = Path(matplotlib.get_data_path()) / "fonts" / "ttf" / "DejaVuSans.ttf"
FONT_BOLD = Path(matplotlib.get_data_path()) / "fonts" / "ttf" / "DejaVuSans-Bold.ttf"
HEADING_MAX = 40  # a section heading is a short line of its own after a blank line, with no ":" and no "- "


def is_heading(line: str, previous: str) -> bool:
    """Whether `line` is a section heading of the text ("Samtycke", "Deltagare", "Förlopp", …)."""
    text = line.strip()
    return (not previous.strip() and 0 < len(text) <= HEADING_MAX and ":" not in text
            and not text.startswith(("-", "–")) and not text.endswith("."))


def page_footer(title: str, page_label: str, page: int, pages: str) -> str:
    """The footer: `page_label` is a pattern with {sida} and {sidor} ("sida {sida} av {sidor}"), or a word put
    before the page number."""
    if "{sida}" in page_label:
        return f"{title} – {page_label.format(sida=page, sidor=pages)}"
    return f"{title} – {page_label} {page}"


def text_pdf(text: str, *, title: str, page_label: str, lang: str = "sv") -> bytes:
    """The text as a PDF: the first line and the section headings in bold, the rest as paragraphs set ragged
    right; `title` is the document's title (metadata), `page_label` the footer's page pattern (`page_footer`)."""

    class _Doc(FPDF):
        def footer(self) -> None:
            self.set_y(-12)
            self.set_font("dejavu", size=8)
            self.cell(0, 8, page_footer(title, page_label, self.page_no(), self.str_alias_nb_pages), align="C")

    pdf = _Doc(format="A4")
    pdf.set_title(title)
    pdf.set_lang(lang)
    pdf.set_creator("GFI-boten")
    pdf.add_font("dejavu", "", str(FONT))
    pdf.add_font("dejavu", "B", str(FONT_BOLD))
    pdf.set_auto_page_break(auto=True, margin=18)
    pdf.add_page()
    lines = text.splitlines() or [""]
    pdf.set_font("dejavu", "B", 13)
    pdf.multi_cell(0, 7, lines[0], align="L", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(2)
    previous = lines[0]
    for line in lines[1:]:
        if not line.strip():
            pdf.ln(3)
        elif is_heading(line, previous):
            pdf.set_font("dejavu", "B", 11)
            pdf.multi_cell(0, 6, line.strip(), align="L", new_x="LMARGIN", new_y="NEXT")
        else:
            pdf.set_font("dejavu", size=10)
            pdf.multi_cell(0, 5, line, align="L", new_x="LMARGIN", new_y="NEXT")
        previous = line
    return bytes(pdf.output())


def write_text_pdf(path: Path, text: str, *, title: str, page_label: str) -> Path:
    """Write `text_pdf` to `path` (created or replaced) and return it."""
    path.write_bytes(text_pdf(text, title=title, page_label=page_label))
    return path

"""Plain text to a PDF: A4, one Unicode font, lines wrapped, pages numbered (the journal record's PDF).

fpdf2 writes the PDF; the font is DejaVu Sans, which matplotlib (already a dependency, for the charts) ships,
so every character staff may type (å, ä, ö, dashes, other scripts in names) prints without a system font.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib
from fpdf import FPDF

FONT = Path(matplotlib.get_data_path()) / "fonts" / "ttf" / "DejaVuSans.ttf"
FONT_BOLD = Path(matplotlib.get_data_path()) / "fonts" / "ttf" / "DejaVuSans-Bold.ttf"


def text_pdf(text: str, *, title: str, page_label: str) -> bytes:
    """The text as a PDF: the first line as a bold heading, the rest as paragraphs; `title` is the
    document's title (metadata), `page_label` the word before the page number in the footer."""

    class _Doc(FPDF):
        def footer(self) -> None:
            self.set_y(-12)
            self.set_font("dejavu", size=8)
            self.cell(0, 8, f"{title} – {page_label} {self.page_no()}", align="C")

    pdf = _Doc(format="A4")
    pdf.set_title(title)
    pdf.set_creator("GFI-boten")
    pdf.add_font("dejavu", "", str(FONT))
    pdf.add_font("dejavu", "B", str(FONT_BOLD))
    pdf.set_auto_page_break(auto=True, margin=18)
    pdf.add_page()
    lines = text.splitlines() or [""]
    pdf.set_font("dejavu", "B", 13)
    pdf.multi_cell(0, 7, lines[0], new_x="LMARGIN", new_y="NEXT")
    pdf.ln(2)
    pdf.set_font("dejavu", size=10)
    for line in lines[1:]:
        if not line.strip():
            pdf.ln(3)
            continue
        pdf.multi_cell(0, 5, line, new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())


def write_text_pdf(path: Path, text: str, *, title: str, page_label: str) -> Path:
    """Write `text_pdf` to `path` (created or replaced) and return it."""
    path.write_bytes(text_pdf(text, title=title, page_label=page_label))
    return path

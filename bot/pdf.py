"""Plain text to a PDF to keep: A4, one Unicode font, lines wrapped, pages numbered, tagged (the journal's PDF).

fpdf2 lays the text out; the font is DejaVu Sans, which matplotlib (already a dependency, for the charts) ships,
so every character staff may type (å, ä, ö, dashes, other scripts in names) prints without a system font.
`bot/pdf_tags.py` then tags what fpdf2 drew with pikepdf (fpdf2 tags only through private names).

A document to keep (issue #18 item 15): the first line (H1) and the section headings (H2) in bold, the rest as
paragraphs (P) set ragged right (never stretched to the margin); a wrapped paragraph copies as one line; the
language is set (sv-SE); each page's footer (an artifact) carries the confidentiality line and "<title> – sida
N av M". Rendering takes tens of milliseconds: callers on the event loop run it in a thread.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib
from fpdf import FPDF

from bot.pdf_tags import Block, tag

FONT = Path(matplotlib.get_data_path()) / "fonts" / "ttf" / "DejaVuSans.ttf"
FONT_BOLD = Path(matplotlib.get_data_path()) / "fonts" / "ttf" / "DejaVuSans-Bold.ttf"
HEADING_MAX = 40  # a section heading is a short line of its own after a blank line, with no ":" and no "- "
LANG = "sv-SE"
STYLE = {"H1": ("B", 13, 7.0), "H2": ("B", 11, 6.0), "P": ("", 10, 5.0)}  # font style, size (pt), line height (mm)


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


def blocks_of(text: str) -> list[Block | None]:
    """The text's blocks in order (the first line H1, section headings H2, every other line a P); None for a
    blank line (vertical space)."""
    lines = text.splitlines() or [""]
    out: list[Block | None] = [Block("H1", lines[0].strip())]
    previous = lines[0]
    for line in lines[1:]:
        if not line.strip():
            out.append(None)
        else:
            out.append(Block("H2" if is_heading(line, previous) else "P", line.strip()))
        previous = line
    return out


def text_pdf(text: str, *, title: str, page_label: str, notice: str = "", lang: str = LANG) -> bytes:
    """The text as a tagged PDF: `title` is the document's title (metadata, footer), `page_label` the footer's
    page pattern (`page_footer`), `notice` a line on every page's footer (the confidentiality line)."""

    class _Doc(FPDF):
        def footer(self) -> None:
            self.set_y(-12)
            self.set_font("dejavu", size=8)
            if notice:
                self.cell(0, 8, notice, align="L")
                self.set_x(self.l_margin)
            self.cell(0, 8, page_footer(title, page_label, self.page_no(), self.str_alias_nb_pages),
                      align="R" if notice else "C")

    pdf = _Doc(format="A4")
    pdf.set_title(title)
    pdf.set_lang(lang)
    pdf.set_creator("GFI-boten")
    pdf.add_font("dejavu", "", str(FONT))
    pdf.add_font("dejavu", "B", str(FONT_BOLD))
    pdf.set_auto_page_break(auto=True, margin=18)
    pdf.add_page()
    drawn: list[Block] = []
    for block in blocks_of(text):
        if block is None:
            pdf.ln(3)
            continue
        style, size, height = STYLE[block.role]
        pdf.set_font("dejavu", style, size)
        # one cell per line, so that each line is one text object whose page is known (bot/pdf_tags.py)
        lines = pdf.multi_cell(0, height, block.text, align="L", dry_run=True, output="LINES")
        assert isinstance(lines, list)
        for line in lines:
            if isinstance(line, str) and line.strip():
                pdf.cell(0, height, line, align="L", new_x="LMARGIN", new_y="NEXT")
                block.lines.append((pdf.page_no() - 1, line))
        if block.lines:
            drawn.append(block)
        if block.role == "H1":
            pdf.ln(2)
    return tag(bytes(pdf.output()), drawn, lang=lang, title=title)


def write_text_pdf(path: Path, text: str, *, title: str, page_label: str, notice: str = "") -> Path:
    """Write `text_pdf` to `path` (created or replaced) and return it."""
    path.write_bytes(text_pdf(text, title=title, page_label=page_label, notice=notice))
    return path

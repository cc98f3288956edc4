"""The journal PDF as a document to keep (issue #18 item 15): bold headings, ragged right, page "N av M", the
confidentiality line, the language, tagged (structure tree, marked content, footer as an artifact), and a wrapped
paragraph that copies as one line (read back with pypdfium2, the PDF engine of Chromium)."""

from __future__ import annotations

import io

import pikepdf
import pypdfium2 as pdfium
import pytest

from bot import pdf_tags
from bot.pdf import blocks_of, is_heading, page_footer, text_pdf

LONG = ("- Uppgifterna i ärendet raderades när samtycket återkallades, och det som då var bokat ställdes in, så att "
        "ingen av de verksamheter som deltog behöver göra något mer i ärendet; den här raden är lång nog att brytas "
        "om på två rader, kanske tre.")
TEXT = f"""GFI – journalunderlag för GFI-2026-0001
Omfattas av sekretess enligt OSL (offentlighets- och sekretesslagen).

Samtycke
- Omfattar: Socialtjänst Norr, vuxen/missbruk; Beroendemottagningen Åstad.

Utfall: gemensam kartläggning/utredning.

Förlopp
- mån 23 nov 2026 kl. 10:00  Förfrågan registrerad (Maria Sand)
{LONG}
"""
TITLE = "GFI – journalunderlag GFI-2026-0001"
NOTICE = "Omfattas av sekretess enligt OSL"


def render(text: str = TEXT) -> bytes:
    return text_pdf(text, title=TITLE, page_label="sida {sida} av {sidor}", notice=NOTICE)


def page_texts(data: bytes) -> list[str]:
    doc = pdfium.PdfDocument(data)
    try:
        return [page.get_textpage().get_text_range().replace("\r\n", "\n") for page in doc]
    finally:
        doc.close()


def test_section_headings_are_found_and_nothing_else() -> None:
    lines = TEXT.splitlines()
    headings = [line for prev, line in zip(["x", *lines], lines, strict=False) if is_heading(line, prev)]
    assert headings == ["Samtycke", "Förlopp"]
    roles = [b.role for b in blocks_of(TEXT) if b is not None]
    assert roles == ["H1", "P", "H2", "P", "P", "H2", "P", "P"]


def test_the_footer_says_page_n_of_m() -> None:
    assert page_footer(TITLE, "sida {sida} av {sidor}", 2, "{nb}") == \
        "GFI – journalunderlag GFI-2026-0001 – sida 2 av {nb}"
    assert page_footer("T", "sida", 3, "{nb}") == "T – sida 3"


def test_a_wrapped_paragraph_copies_as_one_line() -> None:
    (text,) = page_texts(render())
    lines = text.split("\n")
    assert LONG in lines  # one line, as typed: no hard break where the line wrapped on the page
    assert "Samtycke" in lines and "Beroendemottagningen Åstad." in text
    # and it did wrap on the page: pdfium without the ActualText would see it as several lines
    doc = pikepdf.open(io.BytesIO(render()))
    shown = [i for i in pikepdf.parse_content_stream(doc.pages[0]) if str(i.operator) == "Tj"]
    assert len(shown) > len(TEXT.strip().splitlines()) - 3  # more lines drawn than the text has (less blanks)


def test_every_page_says_n_of_m_and_the_confidentiality_line() -> None:
    texts = page_texts(render(TEXT * 12))
    assert len(texts) >= 2
    for n, text in enumerate(texts, start=1):
        last = text.rstrip().split("\n")[-1]
        assert last.startswith(NOTICE), last
        assert last.endswith(f"{TITLE} – sida {n} av {len(texts)}"), last
    joined = "\n".join(texts)
    assert joined.count(LONG) == 12  # a paragraph broken over a page keeps its text (in two parts)
    assert "{nb}" not in joined


def _structure(doc: pikepdf.Pdf) -> list[tuple[str, str]]:
    """(role, ActualText of its marked content) of each element under Document, in order."""
    by_mcid: dict[tuple[int, int], str] = {}
    for p, page in enumerate(doc.pages):
        for ins in pikepdf.parse_content_stream(page):
            if str(ins.operator) == "BDC" and isinstance(ins.operands[1], pikepdf.Dictionary) \
                    and "/MCID" in ins.operands[1]:
                by_mcid[(p, int(ins.operands[1].MCID))] = str(ins.operands[1].ActualText)
    pages = {page.obj.objgen: p for p, page in enumerate(doc.pages)}
    out = []
    (document,) = doc.Root.StructTreeRoot.K
    assert document.S == "/Document"
    for element in document.K:
        texts = [by_mcid[(pages[mcr.Pg.objgen], int(mcr.MCID))] for mcr in element.K]
        out.append((str(element.S)[1:], " ".join(texts)))
    return out


def test_the_document_is_tagged_with_its_language() -> None:
    doc = pikepdf.open(io.BytesIO(render()))
    assert str(doc.Root.Lang) == "sv-SE"
    assert bool(doc.Root.MarkInfo.Marked) is True
    assert bool(doc.Root.ViewerPreferences.DisplayDocTitle) is True
    assert str(doc.open_metadata()["dc:title"]) == TITLE
    structure = _structure(doc)
    assert structure[0] == ("H1", "GFI – journalunderlag för GFI-2026-0001")
    assert ("H2", "Samtycke") in structure and ("H2", "Förlopp") in structure
    assert ("P", LONG) in structure
    assert [role for role, _ in structure] == ["H1", "P", "H2", "P", "P", "H2", "P", "P"]
    # the parent tree leads from each page's marked content back to its element
    nums = list(doc.Root.StructTreeRoot.ParentTree.Nums)
    assert nums[0] == 0 and len(nums[1]) == len(structure)
    assert int(doc.pages[0].obj.StructParents) == 0
    # the footer is page furniture, an artifact, and nothing else is
    artifacts = [i for i in pikepdf.parse_content_stream(doc.pages[0])
                 if str(i.operator) == "BDC" and i.operands[0] == pikepdf.Name.Artifact]
    assert len(artifacts) == 1
    assert doc.check_pdf_syntax() == []  # qpdf finds nothing wrong in the rewritten file


def test_headings_are_bold_and_paragraphs_ragged_right() -> None:
    doc = pikepdf.open(io.BytesIO(render()))
    page = doc.pages[0]
    bold = {name for name, font in page.Resources.Font.items() if "Bold" in str(font.BaseFont)}
    assert bold
    role, font, fonts_by_role = "", "", {}
    for ins in pikepdf.parse_content_stream(page):
        op = str(ins.operator)
        if op == "BDC":
            role = str(ins.operands[0])[1:]
        elif op == "EMC":
            role = ""
        elif op == "Tf":
            font = str(ins.operands[0])
        elif op == "Tj" and role:
            fonts_by_role.setdefault(role, set()).add(font in bold)
    assert fonts_by_role == {"H1": {True}, "H2": {True}, "P": {False}, "Artifact": {False}}
    streams = b"".join(p.obj.Contents.read_bytes() for p in doc.pages)
    # ragged right: fpdf2 justifies a TrueType line with a TJ array of spacing offsets, or sets word spacing
    assert b"] TJ" not in streams and b" Tw" not in streams


def test_a_layout_that_does_not_match_the_page_is_an_error() -> None:
    data = render("Titel\nEn rad.\n")
    blocks = [pdf_tags.Block("H1", "Titel", [(0, "Titel")]), pdf_tags.Block("P", "En rad.", [(0, "En rad."),
                                                                                          (0, "En rad.")]),
              pdf_tags.Block("P", "x", [(0, "x"), (0, "y")])]
    with pytest.raises(pdf_tags.LayoutMismatch):
        pdf_tags.tag(data, blocks, lang="sv-SE", title="T")


def test_odd_text_still_renders_tagged() -> None:
    odd = "Titel\n\n\n   \n" + "x" * 400 + "\n- " + "ord " * 200 + "\n\t\nÅäö – “citat” 中文\n"
    texts = page_texts(render(odd))
    assert "x" * 400 in texts[0].replace("\n", "")

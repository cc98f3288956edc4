"""Tagging a PDF that fpdf2 wrote (issue #18 item 15): a structure tree, marked content, language, ActualText.

fpdf2 (2.8) tags content only through private names, so `bot/pdf.py` lays the text out with fpdf2's public
API, one text object per line, and records what it drew: per block (H1, H2, P) its lines and the page of each,
and that every page ends with its footer. This module then rewrites each page's content stream with pikepdf's
public API:
- the lines of a block on a page become one marked-content sequence (`/P <</MCID n /ActualText (…)>> BDC …
  EMC`), whose ActualText is the block's own text on that page, so a wrapped paragraph copies as one line and
  not with a hard break at every wrapped line;
- the footer (page number, confidentiality line) becomes an artifact (`/Artifact <</Type /Pagination>> BDC`),
  page furniture a screen reader skips;
- the catalog gets /StructTreeRoot (Document > H1, H2, P, each pointing at its marked content, with the parent
  tree), /MarkInfo <</Marked true>>, /Lang and /ViewerPreferences <</DisplayDocTitle true>>.

A layout that does not match what the page holds (a text object more or less than recorded) raises: a document
tagged wrong is worse than a clear error, and the tests cover the shapes the journal takes.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass, field

import pikepdf
from pikepdf import Array, Dictionary, Name, Operator, String

PAINT = {"Tj", "TJ", "'", '"'}


@dataclass
class Block:
    """One heading or paragraph as laid out: its role, its source text, and each drawn line with its page
    (0-based)."""

    role: str  # "H1", "H2" or "P"
    text: str
    lines: list[tuple[int, str]] = field(default_factory=list)


class LayoutMismatch(RuntimeError):
    """The content stream does not hold the text objects the layout recorded."""


Instruction = pikepdf.ContentStreamInstruction | pikepdf.ContentStreamInlineImage


def _text_objects(instructions: Sequence[Instruction]) -> list[tuple[int, int]]:
    """(BT index, ET index) of every text object that paints text, in stream order."""
    found: list[tuple[int, int]] = []
    start = -1
    paints = False
    for i, ins in enumerate(instructions):
        op = str(ins.operator)
        if op == "BT":
            start, paints = i, False
        elif op in PAINT:
            paints = True
        elif op == "ET":
            if paints and start >= 0:
                found.append((start, i))
            start = -1
    return found


def spanned(text: str, lines: Sequence[str], start: int = 0) -> tuple[str, int]:
    """The part of `text` from the first to the last of `lines` (found in order from `start`), with the spaces
    the wrapping took out put back as they were; and where the search stopped."""
    first = last = -1
    pos = start
    for line in lines:
        at = text.find(line.strip(), pos)
        if at < 0:
            break
        if first < 0:
            first = at
        pos = last = at + len(line.strip())
    if first < 0:
        return " ".join(line.strip() for line in lines), start
    return text[first:last], pos


@dataclass
class _Segment:
    block: int
    text_objects: list[tuple[int, int]]
    actual: str


def _segments(blocks: Sequence[Block], pages: int) -> list[list[tuple[int, list[str]]]]:
    """Per page, the runs of consecutive lines of one block: (block index, lines)."""
    runs: list[list[tuple[int, list[str]]]] = [[] for _ in range(pages)]
    for b, block in enumerate(blocks):
        for page, line in block.lines:
            if page >= pages:
                raise LayoutMismatch(f"line on page {page + 1} of {pages}")
            if runs[page] and runs[page][-1][0] == b:
                runs[page][-1][1].append(line)
            else:
                runs[page].append((b, [line]))
    return runs


def tag(data: bytes, blocks: Sequence[Block], *, lang: str, title: str) -> bytes:
    """`data` (fpdf2's PDF of `blocks`, one text object per line, the footer last on each page) tagged."""
    pdf = pikepdf.open(io.BytesIO(data))
    root = pdf.make_indirect(Dictionary(Type=Name.StructTreeRoot))
    document = pdf.make_indirect(Dictionary(Type=Name.StructElem, S=Name.Document, P=root, K=Array()))
    root.K = Array([document])
    elements = [pdf.make_indirect(Dictionary(Type=Name.StructElem, S=Name("/" + block.role), P=document,
                                             K=Array())) for block in blocks]
    for element in elements:
        document.K.append(element)
    runs = _segments(blocks, len(pdf.pages))
    searched = [0] * len(blocks)
    parent_nums = Array()
    for p, page in enumerate(pdf.pages):
        instructions = list(pikepdf.parse_content_stream(page))
        objects = _text_objects(instructions)
        needed = sum(len(lines) for _, lines in runs[p])
        if len(objects) < needed:
            raise LayoutMismatch(f"page {p + 1}: {len(objects)} text objects for {needed} lines")
        segments: list[_Segment] = []
        used = 0
        for b, lines in runs[p]:
            actual, searched[b] = spanned(blocks[b].text, lines, searched[b])
            segments.append(_Segment(b, objects[used:used + len(lines)], actual))
            used += len(lines)
        footer = objects[used:]
        opens: dict[int, list[pikepdf.ContentStreamInstruction]] = {}
        closes: dict[int, int] = {}
        mcid_parents = Array()
        for mcid, seg in enumerate(segments):
            props = Dictionary(MCID=mcid, ActualText=String(seg.actual))
            opens.setdefault(seg.text_objects[0][0], []).append(
                pikepdf.ContentStreamInstruction([Name("/" + blocks[seg.block].role), props], Operator("BDC")))
            closes[seg.text_objects[-1][1]] = closes.get(seg.text_objects[-1][1], 0) + 1
            elements[seg.block].K.append(Dictionary(Type=Name.MCR, Pg=page.obj, MCID=mcid))
            mcid_parents.append(elements[seg.block])
        if footer:
            artifact = Dictionary(Type=Name.Pagination, Subtype=Name.Footer)
            opens.setdefault(footer[0][0], []).append(
                pikepdf.ContentStreamInstruction([Name.Artifact, artifact], Operator("BDC")))
            closes[footer[-1][1]] = closes.get(footer[-1][1], 0) + 1
        out: list[Instruction] = []
        for i, ins in enumerate(instructions):
            out.extend(opens.get(i, []))
            out.append(ins)
            out.extend(pikepdf.ContentStreamInstruction([], Operator("EMC")) for _ in range(closes.get(i, 0)))
        page.obj.Contents = pdf.make_stream(pikepdf.unparse_content_stream(out))
        page.obj.StructParents = p
        page.obj.Tabs = Name.S
        parent_nums.append(p)
        parent_nums.append(pdf.make_indirect(mcid_parents))
    root.ParentTree = pdf.make_indirect(Dictionary(Nums=parent_nums))
    root.ParentTreeNextKey = len(pdf.pages)
    pdf.Root.StructTreeRoot = root
    pdf.Root.MarkInfo = Dictionary(Marked=True)
    pdf.Root.Lang = String(lang)
    pdf.Root.ViewerPreferences = Dictionary(DisplayDocTitle=True)
    with pdf.open_metadata(set_pikepdf_as_editor=False) as meta:
        meta["dc:title"] = title
        meta["dc:language"] = [lang]
    out_buf = io.BytesIO()
    pdf.save(out_buf, deterministic_id=True)
    return out_buf.getvalue()

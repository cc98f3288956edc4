"""Every user-visible Swedish sentence lives in `templates/messages/`, never in the Python code of bot/ or handlers/.

A Swedish sentence here is a string literal (f-string parts included) with å, ä or ö and a space. Left out:
docstrings, comments, argparse texts (help, description, epilog, metavar), logging calls (their text is
English and structured), and console command syntax (a literal starting with "/", e.g. "/boka {ref} …").
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SWEDISH = frozenset("åäöÅÄÖ")
ARGPARSE_TEXTS = frozenset({"help", "description", "epilog", "metavar", "usage"})
LOG_CALLS = frozenset({"debug", "info", "warning", "error", "exception", "critical", "log"})


def swedish_literals(source: str) -> list[tuple[int, str]]:
    """(line, text) of each Swedish sentence literal in `source` outside the exempt places."""
    tree = ast.parse(source)
    exempt: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef) and node.body:
            first = node.body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
                exempt.add(id(first.value))
        if isinstance(node, ast.Call):
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            parts: list[ast.AST] = [kw.value for kw in node.keywords if kw.arg in ARGPARSE_TEXTS]
            if name in LOG_CALLS and isinstance(func, ast.Attribute):
                parts += [*node.args, *(kw.value for kw in node.keywords)]
            exempt.update(id(n) for part in parts for n in ast.walk(part))
    return sorted(
        (node.lineno, node.value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in exempt
        and SWEDISH & set(node.value) and " " in node.value.strip() and not node.value.startswith("/")
    )


def test_no_swedish_sentence_in_python_code() -> None:
    found = [
        f"{path.relative_to(ROOT)}:{line}: {text!r}"
        for pkg in ("bot", "handlers")
        for path in sorted((ROOT / pkg).rglob("*.py"))
        for line, text in swedish_literals(path.read_text(encoding="utf-8"))
    ]
    assert not found, "Swedish sentences belong in templates/messages/:\n" + "\n".join(found)


def test_the_finder_finds_a_sentence_and_leaves_the_exempt_ones() -> None:
    source = '''
"""Modul för något."""
import logging
log = logging.getLogger(__name__)
def f(parser, name):
    """Gör något åt det."""
    parser.add_argument("--x", help="hjälptext på svenska")
    log.warning("fel på gång", extra={"event": "här är det"})
    usage = "/boka {ref} <ÅÅÅÅ-MM-DD>"
    print(f"Okänd person {name}. Välj en annan.")  # en kommentar på svenska
    return "Ärendet är stängt."
'''
    assert swedish_literals(source) == [(10, ". Välj en annan."), (10, "Okänd person "), (11, "Ärendet är stängt.")]

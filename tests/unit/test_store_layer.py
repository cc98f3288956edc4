"""The store is one layer: all SQL lives under `bot/store/`, behind repository functions per domain.

Services, handlers and templates call repository functions, so a PostgreSQL store can be added beside
SQLite without touching them. The check reads every module of `bot` and `handlers` with `ast` and looks
at string constants (f-string parts included, docstrings and comments not), and at statements run on a
transaction outside the store.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("bot", "handlers")
STORE = Path("bot/store")

# Modules outside bot/store allowed to hold SQL while it moves there (none left: the outbox and dispatcher SQL
# is in bot/store/outbox.py). Remove an entry once its module holds no SQL (test_allow_list_is_current says when).
ALLOWED: frozenset[Path] = frozenset()

SQL = re.compile(
    r"\bSELECT\b[\s\S]+?\bFROM\s+\w+"
    r"|\bINSERT\s+(?:OR\s+\w+\s+)?INTO\s+\w+"
    r"|\bUPDATE\s+\{?\w+\}?\s+SET\b"
    r"|\bDELETE\s+FROM\s+\w+"
    r"|\b(?:CREATE|DROP|ALTER)\s+(?:TEMP\w*\s+)?(?:TABLE|INDEX|VIEW|TRIGGER)\b"
    r"|\bPRAGMA\s+\w+"
    r"|\bON\s+CONFLICT\b",
    re.IGNORECASE,
)
# What the store itself may import from the bot: itself, the clock's time format, the start-up error, the rule
# for a number a client sends (`bot.numerals`). Each of these imports nothing more of the bot (see below).
STORE_MAY_IMPORT = ("bot.store", "bot.clock", "bot.startup", "bot.numerals")
# Low-level modules those may import in turn (the template folder's path).
LEAVES = ("bot.clock", "bot.startup", "bot.numerals", "bot.paths")
# Methods of `bot.store.Tx` that run a statement; called on a `tx` outside the store they mean SQL is there.
TX_METHODS = frozenset({"execute", "executemany", "executescript", "fetchone", "fetchall", "scalar", "insert"})


def _docstrings(tree: ast.AST) -> set[int]:
    found: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef) and node.body:
            first = node.body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
                found.add(id(first.value))
    return found


def sql_in(source: str) -> list[tuple[int, str]]:
    """(line, excerpt) for every SQL string constant and every statement run on a `tx` in `source`."""
    tree = ast.parse(source)
    skip = _docstrings(tree)
    out: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        text = None
        if isinstance(node, ast.JoinedStr):  # an f-string: its parts, with "{x}" for each placeholder
            skip.update(id(v) for v in node.values)
            text = "".join(v.value if isinstance(v, ast.Constant) else "{x}" for v in node.values)
        elif isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in skip:
            text = node.value
        if text is not None:
            match = SQL.search(text)
            if match:
                out.append((node.lineno, match.group(0)[:60]))
        elif (
            isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in TX_METHODS
            and isinstance(node.func.value, ast.Name) and node.func.value.id == "tx"
        ):
            out.append((node.lineno, f"tx.{node.func.attr}(...)"))
    return sorted(out)


def modules() -> list[Path]:
    return sorted(p.relative_to(ROOT) for pkg in PACKAGES for p in (ROOT / pkg).rglob("*.py"))


def test_the_scanner_finds_sql_in_code_and_not_in_prose() -> None:
    source = '''
"""Module docs may say: SELECT * FROM cases is what the store runs."""
# a comment: DELETE FROM cases
async def f(tx, table, ref):
    """Function docs too: UPDATE cases SET state = 'closed'."""
    label = "Välj en verksamhet från listan"
    await tx.fetchall("select * from cases where ref = ?", (ref,))
    await tx.execute(f"UPDATE {table} SET due_at = ? WHERE id = ?", (1, 2))
    q = ("INSERT INTO audit (at) "
         "VALUES (?) ON CONFLICT DO NOTHING")
    await tx.scalar(q)
'''
    found = sql_in(source)
    assert [line for line, _ in found] == [7, 7, 8, 8, 9, 11]
    assert ("select * from cases" in found[0][1]) and found[1][1] == "tx.fetchall(...)"
    assert "UPDATE {x} SET" in found[2][1] and "INSERT INTO audit" in found[4][1]


def test_no_sql_outside_the_store() -> None:
    offenders = [
        f"{path}:{line}: {excerpt}"
        for path in modules()
        if STORE not in path.parents and path not in ALLOWED
        for line, excerpt in sql_in((ROOT / path).read_text(encoding="utf-8"))
    ]
    assert not offenders, "SQL outside bot/store/ (add a repository function there):\n" + "\n".join(offenders)


def test_allow_list_is_current() -> None:
    """An allowed module that no longer holds SQL must leave the allow-list, so SQL cannot creep back."""
    stale = [path for path in sorted(ALLOWED)
             if not ((ROOT / path).exists() and sql_in((ROOT / path).read_text(encoding="utf-8")))]
    assert not stale, f"remove {stale} from ALLOWED"


def test_listeners_do_no_database_work_of_their_own() -> None:
    """Handlers call services in bot/; they open no transaction and run no statement themselves."""
    offenders = [
        f"{path}:{node.lineno}"
        for path in modules() if path.parts[0] == "handlers"
        for node in ast.walk(ast.parse((ROOT / path).read_text(encoding="utf-8")))
        if isinstance(node, ast.Attribute) and node.attr in ("transaction", "execute", "fetchone", "fetchall")
    ]
    assert not offenders, offenders


def test_the_store_does_not_import_the_domain() -> None:
    """Repositories return rows and values; domain objects are built in bot.cases, bot.ladder, ... (no cycle)."""
    offenders = []
    for path in modules():
        if STORE not in path.parents:
            continue
        for node in ast.walk(ast.parse((ROOT / path).read_text(encoding="utf-8"))):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else (
                [node.module or ""] if isinstance(node, ast.ImportFrom) and node.level == 0 else [])
            offenders += [f"{path}: {n}" for n in names
                          if n.split(".")[0] in PACKAGES and not n.startswith(STORE_MAY_IMPORT)]
    assert not offenders, "\n".join(offenders)


def _bot_imports(path: Path) -> list[str]:
    """The absolute imports of `bot` or `handlers` modules in one file (function-level ones included)."""
    names: list[str] = []
    for node in ast.walk(ast.parse((ROOT / path).read_text(encoding="utf-8"))):
        names += [a.name for a in node.names] if isinstance(node, ast.Import) else (
            [node.module or ""] if isinstance(node, ast.ImportFrom) and node.level == 0 else [])
    return [n for n in names if n.split(".")[0] in PACKAGES]


def test_what_the_store_may_import_imports_no_domain() -> None:
    """The modules outside bot/store/ the store may use are leaves: they import only each other, so no domain
    module reaches the store through them."""
    offenders = [f"{leaf}: {name}" for leaf in STORE_MAY_IMPORT if leaf != "bot.store"
                 for name in _bot_imports(Path(*leaf.split(".")).with_suffix(".py")) if name not in LEAVES]
    assert not offenders, "\n".join(offenders)

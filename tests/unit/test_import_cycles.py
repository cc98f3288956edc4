"""No import cycles between packages of `bot` and `handlers`, nor between their modules.

The graph is built with `ast` from every import a module runs (top level or inside a function); imports
under `if TYPE_CHECKING:` only name types and are left out. A node is a package (`bot.cases`,
`bot.channels.slack`, `handlers`, ...), except that each module directly in `bot/` (the core's one-module
components: `bot.outbox`, `bot.rendering`, ...) is a node of its own.

There are none between packages: the Slack app builder is handed the listeners' `register` (the CLI wires
it), the core's renderer leaves Slack's layouts to `bot.channels.slack.views`, and the outbox is handed the
free-text withholding rule instead of importing `bot.cases`. Nor between modules within a package
(`module_graph`): the console's `/hjälp` reads the command table from its session rather than importing the
registry that imports it, and the leader lock's thread comes from `bot.store.tx`, not from `bot.store.db`,
which opens the store that takes the lock. Imports under TYPE_CHECKING still close circles (a service's
parts typing their `self` as the service: `bot.ladder`, `bot.reminders`, the console's commands and session,
`bot.store.unit` and its helpers); they cost nothing at run time.
"""

from __future__ import annotations

import ast
from collections import deque
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("bot", "handlers")

Graph = dict[str, set[str]]


def _modules() -> dict[str, tuple[Path, bool]]:
    """{dotted module name: (file, is a package)}."""
    out: dict[str, tuple[Path, bool]] = {}
    for pkg in PACKAGES:
        for path in (ROOT / pkg).rglob("*.py"):
            parts = list(path.relative_to(ROOT).with_suffix("").parts)
            is_package = parts[-1] == "__init__"
            out[".".join(parts[:-1] if is_package else parts)] = (path, is_package)
    return out


MODULES = _modules()


def node_of(module: str) -> str:
    """The graph node a module belongs to."""
    _, is_package = MODULES[module]
    parts = module.split(".")
    if is_package or (parts[:1] == ["bot"] and len(parts) == 2):
        return module
    return ".".join(parts[:-1])


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def _imported(module: str) -> Iterator[str]:
    """The project modules `module` imports at run time."""
    path, is_package = MODULES[module]
    package = module if is_package else module.rpartition(".")[0]

    def walk(node: ast.AST) -> Iterator[str]:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and _is_type_checking(child.test):
                for stmt in child.orelse:
                    yield from walk_stmt(stmt)
                continue
            yield from walk_stmt(child)

    def walk_stmt(stmt: ast.AST) -> Iterator[str]:
        if isinstance(stmt, ast.Import):
            yield from (a.name for a in stmt.names)
        elif isinstance(stmt, ast.ImportFrom):
            base = stmt.module or ""
            if stmt.level:
                up = package.split(".")[: len(package.split(".")) - (stmt.level - 1)]
                base = ".".join([*up, *([stmt.module] if stmt.module else [])])
            for alias in stmt.names:
                full = f"{base}.{alias.name}"
                yield full if full in MODULES else base
        yield from walk(stmt)

    for name in walk(ast.parse(path.read_text(encoding="utf-8"))):
        while name and name not in MODULES:
            name = name.rpartition(".")[0]
        if name:
            yield name


def import_graph() -> Graph:
    graph: Graph = {}
    for module in MODULES:
        for target in _imported(module):
            a, b = node_of(module), node_of(target)
            if a != b:
                graph.setdefault(a, set()).add(b)
    return graph


def module_graph() -> Graph:
    """The same imports, module to module (a package's `__init__` is the package's node)."""
    graph: Graph = {}
    for module in MODULES:
        graph.setdefault(module, set()).update(t for t in _imported(module) if t != module)
    return graph


def _path(graph: Graph, start: str, goal: str) -> list[str] | None:
    """A shortest path start → goal, or None."""
    before: dict[str, str | None] = {start: None}
    queue = deque([start])
    while queue:
        at = queue.popleft()
        if at == goal:
            path: list[str] = []
            step: str | None = at
            while step is not None:
                path.append(step)
                step = before[step]
            return path[::-1]
        for nxt in sorted(graph.get(at, ())):
            if nxt not in before:
                before[nxt] = at
                queue.append(nxt)
    return None


def cycles(graph: Graph) -> list[list[str]]:
    """One shortest cycle through every import that closes one, each cycle once."""
    seen: set[tuple[str, ...]] = set()
    out: list[list[str]] = []
    for a in sorted(graph):
        for b in sorted(graph[a]):
            back = _path(graph, b, a)
            if back is None:
                continue
            cycle = [a, *back[:-1]]
            first = cycle.index(min(cycle))
            key = tuple(cycle[first:] + cycle[:first])
            if key not in seen:
                seen.add(key)
                out.append(list(key))
    return out


def _show(cycle: list[str]) -> str:
    return " -> ".join([*cycle, cycle[0]])


def _edge_matches(edge: tuple[str, str], a: str, b: str) -> bool:
    """`a` → `b` is the known import, or an import from inside it to inside it (a package may be split up)."""
    return (a == edge[0] or a.startswith(edge[0] + ".")) and (b == edge[1] or b.startswith(edge[1] + "."))


def _without(graph: Graph, edges: list[tuple[str, str]]) -> Graph:
    return {a: {b for b in targets if not any(_edge_matches(e, a, b) for e in edges)} for a, targets in graph.items()}


def test_no_package_cycles() -> None:
    found = cycles(import_graph())
    assert not found, "import cycles between packages:\n" + "\n".join(_show(c) for c in found)


def test_no_module_cycles() -> None:
    """Not even an import inside a function closes a circle: a module is loaded after what it needs."""
    found = cycles(module_graph())
    assert not found, "import cycles between modules:\n" + "\n".join(_show(c) for c in found)


def test_the_core_renderer_and_outbox_import_no_channel() -> None:
    """Rendering and queueing are channel-neutral: Slack's layouts and limits live in bot.channels.slack."""
    graph = import_graph()
    for node in ("bot.rendering", "bot.outbox", "bot.messages"):
        assert not {b for b in graph.get(node, ()) if b.startswith(("bot.channels", "handlers"))}, node


def test_reminders_do_not_import_the_ladder() -> None:
    """The ladder's sweep drives the reminders; the reminders use neutral helpers (bot.clock, bot.calendar)."""
    assert "bot.ladder" not in import_graph()["bot.reminders"]


def test_the_cycle_finder_finds_a_cycle() -> None:
    graph: Graph = {"a": {"b"}, "b": {"c"}, "c": {"a", "d"}, "d": set()}
    assert cycles(graph) == [["a", "b", "c"]]
    assert cycles(_without(graph, [("c", "a")])) == []

"""One row format for every benchmark, so `bench/run.py` can print them as one table.

Each `bench/bench_*.py` that takes part exposes `async def rows(quick: bool) -> list[Row]`: `quick` is the
small, fast variant (seconds), the full one is what the README's figures come from. A row is one measured
figure; `target` is the bound it is held to (empty when there is none), `floor` the same figure for a bare
reference (a bare slack-bolt app), so the ratio can be shown.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Row:
    """One measured figure."""

    section: str  # "acks", "sweeps", "outbox", "storage", ...
    metric: str  # what was measured, with its scale: "/gfi ack median, concurrency 16"
    value: float
    unit: str  # "ms", "s", "KB", "MiB", "/s"
    floor: float | None = None  # the bare reference's figure, when there is one
    target: str = ""  # the bound, as text: "≤ 1.5× floor", "< 100 ms"
    met: bool | None = None  # whether the target was met (None: no target)
    # measured in rounds: the lowest and highest of the rounds' ratios to the floor (the value is their median)
    spread: tuple[float, float] | None = None
    # the machine's 1-minute load average when the figure was measured (the machine is shared)
    load: float = field(default_factory=lambda: os.getloadavg()[0])


def fmt(value: float) -> str:
    """A figure with sensible precision."""
    if value >= 100:
        return f"{value:,.0f}".replace(",", " ")
    if value >= 10:
        return f"{value:.1f}"
    return f"{value:.2f}"


def print_table(rows: Iterable[Row]) -> None:
    """Print rows as one aligned table, grouped by section in the order they come."""
    rows = list(rows)
    head = ("section", "metric", "value", "floor", "ratio", "target", "met", "load")
    lines: list[tuple[str, ...]] = [head]
    for r in rows:
        ratio = f"{r.value / r.floor:.2f}×" if r.floor else ""
        if ratio and r.spread:
            ratio += f" ({r.spread[0]:.2f}–{r.spread[1]:.2f})"
        floor = f"{fmt(r.floor)} {r.unit}" if r.floor is not None else ""
        met = "" if r.met is None else ("yes" if r.met else "NO")
        lines.append((r.section, r.metric, f"{fmt(r.value)} {r.unit}", floor, ratio, r.target, met, f"{r.load:.1f}"))
    widths = [max(len(line[i]) for line in lines) for i in range(len(head))]
    for n, line in enumerate(lines):
        print("  ".join(cell.ljust(w) for cell, w in zip(line, widths, strict=True)).rstrip())
        if n == 0:
            print("  ".join("-" * w for w in widths))

"""The yearly report *Brister i samverkan ÅÅÅÅ* (seed 004's shape): pure figures, and writers for the HTML
report, the bar chart of the cause shares (PNG, matplotlib's Agg backend) and the anonymous CSV.

Each cause's share is of the reports (how many of the year's reports name it, rounded half up to a whole
percent): a report may name several causes, so the shares add up to more than 100 %, and the total is the number
of reports, never the number of cause mentions (issue #18 item 14).
"""

from __future__ import annotations

import csv
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from jinja2 import Environment, StrictUndefined

from bot.brister.models import CAUSES, BristReport, BristState, Cause
from bot.rendering import Renderer

CHART_SIZE_INCHES = (8.0, 4.5)
CHART_DPI = 150
CHART_PIXELS = (int(CHART_SIZE_INCHES[0] * CHART_DPI), int(CHART_SIZE_INCHES[1] * CHART_DPI))  # 1200 × 675


# --- figures (pure) -----------------------------------------------------------------------------
@dataclass(frozen=True)
class CauseShare:
    """How many reports name a cause, and its share of the reports (whole percent)."""

    cause: Cause
    reports: int
    percent: int


@dataclass(frozen=True)
class PrincipalUnits:
    """The units of one principal that the year's reports name (ids, in first-named order)."""

    principal: str
    units: list[str]


@dataclass(frozen=True)
class Measure:
    ref: str
    units: list[str]
    text: str


@dataclass(frozen=True)
class YearFigures:
    year: int
    count: int
    mentions: int
    causes: list[CauseShare]  # all nine, in the report's order
    actors: list[PrincipalUnits]
    measures: list[Measure]
    dialogues: int  # reports where the outcome of the dialogue was recorded
    open_refs: list[str]  # reports not yet closed
    without_measures: list[str]  # reports without recorded measures

    @property
    def ranked(self) -> list[CauseShare]:
        """The causes named at least once, most named first (ties in the report's order)."""
        named = [c for c in self.causes if c.reports]
        return sorted(named, key=lambda c: (-c.reports, CAUSES.index(c.cause)))


def share_of(part: int, whole: int) -> int:
    """`part` of `whole` in whole percent, rounded half up (integers only: 1 of 8 is 13 %, 1 of 3 is 33 %)."""
    return 0 if whole == 0 else (200 * part + whole) // (2 * whole)


def figures(year: int, reports: Sequence[BristReport], unit_principal: Mapping[str, str]) -> YearFigures:
    """The year's figures from its reports. `unit_principal` maps unit id → principal id (unknown units are
    grouped under the principal stored with the report, or "")."""
    counts = [sum(1 for r in reports if cause in r.causes) for cause in CAUSES]
    shares = [share_of(n, len(reports)) for n in counts]
    groups: dict[str, list[str]] = {}
    for r in reports:
        for u in r.units:
            principal = unit_principal.get(u) or (r.principals[0] if len(r.principals) == 1 else "")
            units = groups.setdefault(principal, [])
            if u not in units:
                units.append(u)
    return YearFigures(
        year=year,
        count=len(reports),
        mentions=sum(counts),
        causes=[CauseShare(c, n, p) for c, n, p in zip(CAUSES, counts, shares, strict=True)],
        actors=[PrincipalUnits(p, units) for p, units in groups.items()],
        measures=[Measure(r.ref, r.units, r.measures) for r in reports if r.measures],
        dialogues=sum(1 for r in reports if r.dialogue),
        open_refs=[r.ref for r in reports if r.state is not BristState.CLOSED],
        without_measures=[r.ref for r in reports if not r.measures],
    )


# --- writers ------------------------------------------------------------------------------------
def _texts(renderer: Renderer) -> Any:
    """The report's short texts (chart title, CSV columns, …) from `brister_report.j2`."""
    return renderer.env.get_template("brister_report.j2").make_module(vars={"L": renderer.labels})


def html_environment(renderer: Renderer) -> Environment:
    """The renderer's templates, filters and labels, with HTML autoescaping (report texts are user input)."""
    env = Environment(loader=renderer.env.loader, undefined=StrictUndefined, autoescape=True,
                      trim_blocks=True, lstrip_blocks=True)
    env.filters.update(renderer.env.filters)
    env.globals.update(L=renderer.labels)
    return env


def write_html(path: Path, figs: YearFigures, renderer: Renderer, *, chart: str, made: date) -> None:
    """The report as one HTML file (Swedish), with the chart `chart` (a file name next to it)."""
    html = html_environment(renderer).get_template("brister_report.html.j2").render(
        f=figs, chart=chart, made=made, principals={p.id: p.name for p in renderer.directory.principals.values()},
    )
    path.write_text(html, encoding="utf-8")


def cause_label(renderer: Renderer, cause: Cause) -> str:
    """A cause's label for a chart or a column: its Swedish name with a capital first letter."""
    label = renderer.label("CAUSES", cause.value)
    return label[:1].upper() + label[1:]


def write_png(path: Path, figs: YearFigures, renderer: Renderer) -> None:
    """A horizontal bar chart of the cause shares, readable in print: dark bars, the percent at each bar,
    12-point labels, 1200 × 675 pixels. Drawn with the non-interactive Agg backend (no display needed)."""
    import matplotlib

    matplotlib.use("Agg", force=True)
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    texts = _texts(renderer)
    rows = sorted(figs.causes, key=lambda c: (-c.percent, CAUSES.index(c.cause)))
    labels = [cause_label(renderer, c.cause) for c in rows]
    values = [c.percent for c in rows]
    fig = Figure(figsize=CHART_SIZE_INCHES, dpi=CHART_DPI)
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    bars = ax.barh(range(len(rows)), values, color="#1f3d5c", height=0.65)
    ax.set_yticks(range(len(rows)), labels, fontsize=11)
    ax.invert_yaxis()  # the largest share on top
    ax.set_xlim(0, max([*values, 10]) * 1.2)
    ax.set_xlabel(str(texts.chart_axis()).strip(), fontsize=11)
    ax.set_title(str(texts.chart_title(year=figs.year, count=figs.count)).strip(), fontsize=13, loc="left")
    for bar, row in zip(bars, rows, strict=True):  # the count beside every percentage
        label = str(texts.percent_count(value=row.percent, count=row.reports)).strip()
        ax.text(bar.get_width() + 0.6, bar.get_y() + bar.get_height() / 2, label, va="center", fontsize=10)
    ax.spines[["top", "right"]].set_visible(False)
    ax.tick_params(axis="x", labelsize=10)
    fig.tight_layout()
    fig.savefig(path, format="png", dpi=CHART_DPI, facecolor="white")


def csv_rows(figs_reports: Sequence[BristReport], renderer: Renderer,
             unit_principal: Mapping[str, str]) -> list[list[str]]:
    """One anonymous row per report (no free text, no names, no case reference), with a header row:
    reference, dates, state, units, principals, causes, one 1/0 column per cause, measures and dialogue."""
    texts = _texts(renderer)
    yes, no = str(texts.yes()).strip(), str(texts.no()).strip()
    header = [str(h) for h in texts.CSV_COLUMNS] + [cause_label(renderer, c) for c in CAUSES] + [
        str(h) for h in texts.CSV_TAIL]
    rows = [header]
    for r in figs_reports:
        principals = list(dict.fromkeys(unit_principal.get(u, "") for u in r.units if unit_principal.get(u)))
        rows.append([
            r.ref,
            renderer.local(r.submitted_at).date().isoformat(),
            r.incident_date.isoformat(),
            renderer.label("BRIST_STATES", r.state.value),
            "; ".join(renderer.directory.unit_name(u) for u in r.units),
            "; ".join(renderer.directory.principals[p].name if p in renderer.directory.principals else p
                      for p in (principals or r.principals)),
            ", ".join(renderer.label("CAUSES", c.value) for c in r.causes),
            *("1" if c in r.causes else "0" for c in CAUSES),
            yes if r.measures else no,
            yes if r.dialogue else no,
        ])
    return rows


def write_csv(path: Path, rows: list[list[str]]) -> None:
    """For Swedish Excel: UTF-8 with a byte-order mark, `;` between fields, CRLF line ends."""
    with path.open("w", encoding="utf-8-sig", newline="") as fh:
        csv.writer(fh, delimiter=";", lineterminator="\r\n").writerows(rows)


def unit_principals(renderer: Renderer) -> dict[str, str]:
    return {u.id: u.principal for u in renderer.directory.units.values()}


def principal_reports(reports: Sequence[BristReport], principal: str,
                      unit_principal: Mapping[str, str]) -> list[BristReport]:
    """The reports that name a unit of `principal` (each principal's own avvikelsesystem gets those)."""
    return [r for r in reports if any(unit_principal.get(u) == principal for u in r.units)
            or (not any(u in unit_principal for u in r.units) and principal in r.principals)]


def write_year(out_dir: Path, year: int, reports: Sequence[BristReport], renderer: Renderer, *,
               made: date) -> list[Path]:
    """Write `brister-ÅÅÅÅ.html`, `.png` and `.csv` into `out_dir` (created if missing), and one CSV per principal
    whose units the reports name (`brister-ÅÅÅÅ-<huvudman>.csv`, for its own avvikelsesystem); returns the
    paths."""
    out_dir.mkdir(parents=True, exist_ok=True)
    mapping = unit_principals(renderer)
    figs = figures(year, reports, mapping)
    png = out_dir / f"brister-{year}.png"
    html = out_dir / f"brister-{year}.html"
    csv_path = out_dir / f"brister-{year}.csv"
    write_png(png, figs, renderer)
    write_html(html, figs, renderer, chart=png.name, made=made)
    write_csv(csv_path, csv_rows(reports, renderer, mapping))
    per_principal = []
    for principal in renderer.directory.principals:
        own = principal_reports(reports, principal, mapping)
        if own:
            path = out_dir / f"brister-{year}-{principal}.csv"
            write_csv(path, csv_rows(own, renderer, mapping))
            per_principal.append(path)
    return [html, png, csv_path, *per_principal]

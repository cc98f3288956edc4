"""The statistics as text (the CLI and the console) and as CSV that opens in Swedish Excel: UTF-8 with a
byte order mark, `;` between fields, decimal comma. Column names come from templates/messages/stats.j2."""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

from bot.rendering import Renderer
from bot.stats.models import OUTCOMES, StatsReport, UnitStats


def text(renderer: Renderer, report: StatsReport) -> str:
    """The Swedish table of a report (the unit column as wide as the longest name, at most NAME_WIDTH)."""
    names = [renderer.directory.unit_name(u.unit_id) for u in report.units if u.unit_id is not None]
    width = min(NAME_WIDTH, max([len(n) for n in names] + [len(str(_module(renderer).ALL_UNITS))]))
    return renderer.macro("stats", "table", report=report, w=width)


NAME_WIDTH = 48


def _module(renderer: Renderer) -> Any:
    return renderer.env.get_template("stats.j2").make_module(vars={"L": renderer.labels})


def _hours(value: float | None) -> str:
    return "" if value is None else f"{value:.1f}".replace(".", ",")


def csv_rows(renderer: Renderer, report: StatsReport) -> list[list[str]]:
    """Header and one row per unit (and all units together, when there are several)."""
    module = _module(renderer)
    columns: dict[str, str] = module.CSV_COLUMNS
    rung_names = [str(module.csv_rung(renderer.label("RUNGS", t))) for t in report.rungs]

    def row(u: UnitStats) -> list[str]:
        values: dict[str, Any] = {
            "unit_id": u.unit_id or "",
            "unit": module.ALL_UNITS if u.unit_id is None else renderer.directory.unit_name(u.unit_id),
            "requests": u.requests,
            "urgent": u.urgent,
            "distribution_median": _hours(u.to_distribution.median),
            "distribution_p90": _hours(u.to_distribution.p90),
            "acknowledgement_median": _hours(u.to_acknowledgement.median),
            "acknowledgement_p90": _hours(u.to_acknowledgement.p90),
            "meeting_median": _hours(u.to_meeting.median),
            "meeting_p90": _hours(u.to_meeting.p90),
            "no_shows": u.no_shows,
            "meetings_held": u.meetings_held,
            **{o: u.outcomes[o] for o in OUTCOMES},
            "evaluations_done": u.evaluations_done,
            "escalations": u.escalations_total,
        }
        return [str(values[k]) for k in columns] + [str(u.escalations.get(t, 0)) for t in report.rungs]

    rows = [[*columns.values(), *rung_names]]
    rows.extend(row(u) for u in [*report.units, *([report.total] if report.total else [])])
    return rows


def write_csv(path: Path, renderer: Renderer, report: StatsReport) -> int:
    """Write the report as CSV to `path`; returns the number of data rows."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n")
    rows = csv_rows(renderer, report)
    writer.writerows(rows)
    path.write_text(buffer.getvalue(), encoding="utf-8-sig", newline="")
    return len(rows) - 1

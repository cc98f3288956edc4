"""Counting the statements the store runs and the rows they fetch, on either engine (tests of bounded reads:
they assert how much a view reads, never how long it takes)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import pytest

from bot.store import unit as store_unit


@dataclass
class Reads:
    statements: int = 0
    rows: int = 0
    sql: list[str] = field(default_factory=list)

    def reset(self) -> None:
        self.statements = self.rows = 0
        self.sql.clear()


def count_statements(monkeypatch: pytest.MonkeyPatch) -> Reads:
    """Count every statement from now on (on any connection, SQLite's or PostgreSQL's) and the rows fetched."""
    seen = Reads()
    classes: list[type[store_unit.Tx]] = [store_unit.Tx]
    try:
        from bot.store.postgres import PgTx
        classes.append(PgTx)
    except ImportError:  # pragma: no cover - psycopg is a dependency
        pass
    for cls in classes:
        run, many = cls.__dict__.get("_run", store_unit.Tx._run), cls.__dict__.get("_many", store_unit.Tx._many)

        def counting(self: store_unit.Tx, sql: str, params: Any, want: str, run: Any = run) -> Any:
            result = run(self, sql, params, want)
            seen.statements += 1
            seen.sql.append(sql)
            seen.rows += len(result) if want == "rows" else int(want == "row" and result is not None)
            return result

        def counting_many(self: store_unit.Tx, sql: str, rows: list[Sequence[Any]], many: Any = many) -> None:
            seen.statements += 1
            seen.sql.append(sql)
            many(self, sql, rows)

        monkeypatch.setattr(cls, "_run", counting)
        monkeypatch.setattr(cls, "_many", counting_many)
    return seen

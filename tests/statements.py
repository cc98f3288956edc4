"""Counting the statements the store runs and the rows they fetch, on either engine (tests of bounded reads:
they assert how much a view reads, never how long it takes)."""

from __future__ import annotations

import sqlite3
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
    # SQLite only: thousands of virtual-machine steps the statements other than counts took (rows scanned or
    # sorted, not only fetched: a bounded page read along an index takes as many at 10⁵ as at 10³)
    work: int = 0
    steps: list[tuple[int, str]] = field(default_factory=list)  # SQLite: each measured statement's work, its SQL

    def reset(self) -> None:
        self.statements = self.rows = self.work = 0
        self.sql.clear()
        self.steps.clear()

    def heaviest(self) -> tuple[int, str] | None:
        """The statement that did the most work (SQLite), to name in a failure."""
        return max(self.steps, default=None)


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
            conn = getattr(self, "_conn", None)
            steps = [0]
            measured = isinstance(conn, sqlite3.Connection) and not sql.lstrip().upper().startswith("SELECT COUNT")
            if measured:
                conn.set_progress_handler(lambda: steps.__setitem__(0, steps[0] + 1), 1000)  # type: ignore[union-attr]
            try:
                result = run(self, sql, params, want)
            finally:
                if measured:
                    conn.set_progress_handler(None, 1000)  # type: ignore[union-attr]
            seen.work += steps[0]
            if measured:
                seen.steps.append((steps[0], sql))
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
    from bot.store.pgunit import AsyncPgTx  # PostgreSQL's write units, on the event loop

    run_a, many_a = AsyncPgTx._run, AsyncPgTx._many

    async def counting_a(self: AsyncPgTx, sql: str, params: Any, want: str) -> Any:
        result = await run_a(self, sql, params, want)
        seen.statements += 1
        seen.sql.append(sql)
        seen.rows += len(result) if want == "rows" else int(want == "row" and result is not None)
        return result

    async def counting_many_a(self: AsyncPgTx, sql: str, rows: list[Sequence[Any]]) -> None:
        seen.statements += 1
        seen.sql.append(sql)
        await many_a(self, sql, rows)

    monkeypatch.setattr(AsyncPgTx, "_run", counting_a)
    monkeypatch.setattr(AsyncPgTx, "_many", counting_many_a)
    return seen

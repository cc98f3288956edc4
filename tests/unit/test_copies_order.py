"""`record_copies` locks the rows of late sends in id order, as a withdrawal does (review of 4de6152, item 3):
in the order of the batch two units could each hold a row the other waits for."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from bot.store import copies, dialects

AT = datetime(2026, 12, 7, 12, 0)


class SpyTx:
    """Answers nothing (no row failed, none sent): records the ids each statement was asked about, in order."""

    engine = "postgresql"

    def __init__(self) -> None:
        self.locked: list[int] = []

    async def fetchone(self, sql: str, params: tuple[Any, ...]) -> None:
        if dialects.of(self.engine).lock_rows().strip() in sql:
            self.locked.append(int(params[0]))


async def test_late_sends_are_locked_in_id_order() -> None:
    tx = SpyTx()
    late = [(9, "ts-9", AT), (3, "ts-3", AT), (5, None, AT)]
    assert await copies.record_copies(tx, late) == set()  # type: ignore[arg-type]
    assert tx.locked == [3, 5, 9]

"""Every list a person can open reads one bounded page and a count (issue #21 item 4): with 10⁵ open cases in
the store, built by bulk insert, the distributor's queue (`cases.queue`), console /kö (and a later page),
Teams `kö`, the requester's /mina and Teams `mina`, and the Slack Home issue a fixed number of statements and
fetch a bounded number of rows. The test counts statements and rows, never time: the figures are the same at
10² and at 10⁵."""

from __future__ import annotations

import io
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest

from bot.cases.distribution import QUEUE_PAGE
from bot.cases.views import MINE_PAGE
from bot.channels.console import ConsoleClock, ConsoleSession
from bot.channels.slack.home import load_home
from bot.clock import FrozenClock
from bot.core import Core
from bot.store import Tx
from bot.store import unit as store_unit
from handlers.teams import commands
from tests.conftest import CoreFactory
from tests.unit.test_teams_handlers import context_of

OPEN = 100_000
QUEUED = 60_000  # of them undistributed requests to beroende (fatima.ali distributes it), the rest elsewhere


@dataclass
class Reads:
    statements: int = 0
    rows: int = 0


@pytest.fixture
def counted(monkeypatch: pytest.MonkeyPatch) -> Iterator[Reads]:
    """Counts every statement the store runs (on any connection) and the rows it fetches."""
    seen = Reads()
    run = store_unit._run

    def counting(conn: Any, sql: str, params: Any, want: str) -> Any:
        result = run(conn, sql, params, want)
        seen.statements += 1
        seen.rows += len(result) if want == "rows" else int(want == "row" and result is not None)
        return result

    monkeypatch.setattr(store_unit, "_run", counting)
    yield seen


async def bulk_cases(core: Core, clock: FrozenClock, count: int, queued: int) -> None:
    """`count` open cases: `queued` undistributed requests to beroende, the rest assigned elsewhere."""
    now = clock.now()
    units = ["soc-norr", "psykiatri", "vc-centrum"]

    def row(n: int) -> tuple[Any, ...]:
        at = (now - timedelta(minutes=count - n)).isoformat()
        state, unit = ("requested", "beroende") if n < queued else ("assigned", units[n % 3])
        return (f"GFI-2025-{n + 1:06d}", state, "ny-en", unit, "maria.sand", "soc-soder", None,
                f"Ärende {n}, vuxen, behöver samordning.", '["soc-soder", "beroende"]', "2027-06-01",
                int(n % 97 == 0), at, at)

    async def insert(tx: Tx) -> None:
        await tx.executemany(
            "INSERT INTO cases (ref, state, case_type, target_unit, requester_id, requester_unit, contact, brief, "
            "consent_scope, consent_valid_until, urgent, created_at, updated_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (row(n) for n in range(count)),
        )

    await core.db.run(insert)


async def measure(core: Core, counted: Reads) -> dict[str, tuple[int, int]]:
    """(statements, rows) of each view, for the distributor fatima.ali."""
    out: dict[str, tuple[int, int]] = {}

    async def view(name: str, work: Any) -> Any:
        counted.statements = counted.rows = 0
        result = await work
        out[name] = (counted.statements, counted.rows)
        return result

    [(unit, cases)] = await view("cases.queue", core.cases.queue("fatima.ali"))
    assert unit == "beroende" and len(cases) == QUEUE_PAGE
    text = io.StringIO()
    session = ConsoleSession(core, "fatima.ali", ConsoleClock(core.clock.now()), text)
    await view("console /kö", session.handle("/kö"))
    await view("console /kö sida=3", session.handle("/kö sida=3"))
    out["console text"] = (len(text.getvalue()), 0)
    await view("teams kö", commands.queue_card(context_of(core, "fatima.ali"), "fatima.ali"))
    await view("teams kö, next page", commands.queue_card(context_of(core, "fatima.ali"), "fatima.ali",
                                                          unit="beroende", skip=10))
    await view("slack home", load_home(core, "fatima.ali"))
    requester = ConsoleSession(core, "maria.sand", ConsoleClock(core.clock.now()), text)  # filed them all
    await view("console /mina", requester.handle("/mina"))
    await view("teams mina", commands.mine_card(context_of(core, "maria.sand"), "maria.sand"))
    await view("slack home, requester", load_home(core, "maria.sand"))
    return out


async def test_each_list_reads_a_bounded_page_at_a_hundred_thousand_open_cases(
    make_core: CoreFactory, clock: FrozenClock, counted: Reads
) -> None:
    small = await make_core(db_name="small.sqlite3")
    await bulk_cases(small, clock, 200, 120)
    few = await measure(small, counted)

    large = await make_core(db_name="large.sqlite3")
    await bulk_cases(large, clock, OPEN, QUEUED)
    many = await measure(large, counted)

    for name in few:
        if name == "console text":
            continue
        statements, rows = many[name]
        assert statements == few[name][0], (name, few[name], many[name])  # not one more at 10⁵
        assert rows <= 3 * max(QUEUE_PAGE, MINE_PAGE) + 20, (name, many[name])
        assert statements <= 40, (name, many[name])
    # the page says how long the queue is, and how to see the next page
    async with large.db.read() as tx:
        assert await tx.scalar("SELECT COUNT(*) FROM cases WHERE state != 'closed'") == OPEN


async def test_console_pages_through_the_queue(core: Core, clock: FrozenClock) -> None:
    await bulk_cases(core, clock, 45, 45)
    out = io.StringIO()
    session = ConsoleSession(core, "fatima.ali", ConsoleClock(core.clock.now()), out)
    await session.handle("/kö")
    first = out.getvalue()
    assert "GFI-kö för Beroendemottagningen Åstad: 45 ärenden att fördela" in first
    assert "… och 25 till." in first and "Nästa sida: /kö sida=2" in first
    assert "GFI-2025-000021" not in first
    out.seek(0), out.truncate()
    await session.handle("/kö sida=3")
    last = out.getvalue()
    assert "41. GFI-2025-000041" in last and "GFI-2025-000045" in last and "GFI-2025-000040" not in last
    assert "Nästa sida" not in last
    out.seek(0), out.truncate()
    await session.handle("/kö sida=x")
    assert "\"x\" är inget sidnummer" in out.getvalue()

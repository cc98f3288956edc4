"""Every list a person can open reads one bounded page and a count (issue #21 item 4): with 10⁵ open cases in
the store, built by bulk insert, the distributor's queue (`cases.queue`), console /kö (and a later page),
Teams `kö`, the requester's /mina (with the follow-ups proposed to them) and Teams `mina`, the open escalations
(console, Teams, Home) and the Slack Home issue a fixed number of statements (the same at 2·10³ as at 10⁵) and
fetch a bounded number of rows. A coordinator's Home and the statistics (console /statistik, Teams
`statistik`), over a year of 10⁵ facts, read aggregates: the same statements and rows at both scales. The
test counts statements and rows, never time."""

from __future__ import annotations

import io
from collections.abc import Iterator
from datetime import UTC, timedelta
from typing import Any

import pytest

from bot.cases.distribution import QUEUE_PAGE
from bot.cases.views import MINE_PAGE
from bot.channels.console import ConsoleClock, ConsoleSession
from bot.channels.slack.home import load_home
from bot.clock import FrozenClock
from bot.core import Core
from bot.store import Tx, rollups
from handlers.teams import commands, oversight
from tests.conftest import CoreFactory
from tests.statements import Reads, count_statements
from tests.unit.test_teams_handlers import context_of

OPEN = 100_000
QUEUED = 60_000  # of them undistributed requests to beroende (fatima.ali distributes it), the rest elsewhere


STATS_VIEWS = ("slack home, coordinator", "console /statistik", "console /statistik enhet", "teams statistik")


@pytest.fixture
def counted(monkeypatch: pytest.MonkeyPatch) -> Iterator[Reads]:
    """Counts every statement the store runs (on any connection) and the rows it fetches."""
    yield count_statements(monkeypatch)


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
    await bulk_facts(core, clock, count)
    await bulk_escalations(core, clock, count)


LADDER = ('{"office": ["08:00", "17:00"], "rungs": [{"title": "@distributor", "people": ["anna.lind"]}, '
          '{"title": "verksamhetschef", "people": ["helena.ros"]}]}')


async def bulk_escalations(core: Core, clock: FrozenClock, count: int) -> None:
    """An open acknowledgement per five cases that has climbed to helena.ros (rung 1), oldest first, and a
    proposed follow-up per seven."""
    async def insert(tx: Tx) -> None:
        await tx.execute(
            "INSERT INTO awaiting (case_id, case_ref, kind, subject, arm, unit_id, answerers, since, due_at, ladder, "
            "rung, alerted, created_at) SELECT id, ref, 'acknowledgement', '', 1, target_unit, '[\"anna.lind\"]', "
            "created_at, NULL, ?, 1, '[\"helena.ros\"]', created_at FROM cases WHERE id % 5 = 0",
            (LADDER,),
        )

        # a follow-up proposed to maria.sand per seven cases, and to linnea.fors (fatima.ali distributes her unit);
        # those of assigned cases are at the follow-up stage (where a proposal can be answered)
        await tx.execute("UPDATE cases SET state = 'follow_up' WHERE id % 7 = 0 AND state = 'assigned'")
        await tx.execute(
            "INSERT INTO follow_ups (case_id, owner_id, due_date, what, created_by, created_at, status) "
            "SELECT id, CASE WHEN id % 2 = 0 THEN 'maria.sand' ELSE 'linnea.fors' END, '2027-01-15', "
            "'Uppföljning', 'omar.haddad', created_at, 'proposed' FROM cases WHERE id % 7 = 0")

    await core.db.run(insert)
    async with core.db.read() as tx:
        assert await tx.scalar("SELECT COUNT(*) FROM awaiting") == count // 5


async def bulk_facts(core: Core, clock: FrozenClock, count: int) -> None:
    """The statistics' facts of those cases (waits of 50 kinds) and an escalation per ten, then the rollups
    rebuilt from them, as after a bulk load."""
    now = clock.now()
    units = ["soc-norr", "psykiatri", "vc-centrum"]

    def fact(n: int) -> tuple[Any, ...]:
        at = (now - timedelta(minutes=count - n)).astimezone(UTC).isoformat()
        unit = ["beroende", *units][n % 4]
        wait = (n // 4 % 50) * 25  # every unit has every wait from 200 facts on
        return (f"GFI-2025-{n + 1:06d}", unit, "soc-soder", "ny-en", int(n % 97 == 0), at, at, wait, wait * 2,
                ["lotsning", "sip", None][n % 3], n % 2)

    async def insert(tx: Tx) -> None:
        await tx.executemany(
            "INSERT INTO case_facts (case_ref, target_unit, requester_unit, case_type, urgent, created_at, "
            "distributed_at, wait_distribution, wait_acknowledgement, outcome, evaluation_done) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (fact(n) for n in range(count)),
        )
        await tx.executemany(
            "INSERT INTO escalation_facts (unit_id, kind, rung, rung_title, at) VALUES (?, ?, ?, ?, ?)",
            ((units[n % 3], "acknowledgement", n % 3, ["@distributor", "verksamhetschef", "chef"][n % 3],
              (now - timedelta(minutes=n)).astimezone(UTC).isoformat()) for n in range(0, count, 10)),
        )
        await rollups.rebuild(tx, now.isoformat())

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
    text.seek(0), text.truncate()
    await view("console /mina", requester.handle("/mina"))
    assert "Förslag till uppföljning" in text.getvalue() and "… och" in text.getvalue()
    await view("console /mina, distributor", session.handle("/mina"))
    await view("teams mina", commands.mine_card(context_of(core, "maria.sand"), "maria.sand"))
    await view("slack home, requester", load_home(core, "maria.sand"))

    coordinator = ConsoleSession(core, "sara.holm", ConsoleClock(core.clock.now()), text)
    home = await view("slack home, coordinator", load_home(core, "sara.holm"))
    assert home.stats and sum(u.requests for u in home.stats) > 0
    text.seek(0), text.truncate()
    await view("console /statistik", coordinator.handle("/statistik"))
    assert "Beroendemottagningen" in text.getvalue()
    await view("console /statistik enhet", coordinator.handle("/statistik enhet=beroende"))
    await view("teams statistik", oversight.view(context_of(core, "sara.holm"), "sara.holm", "statistik", []))
    text.seek(0), text.truncate()
    await view("console /eskaleringar, coordinator", coordinator.handle("/eskaleringar"))
    await view("teams eskaleringar", oversight.view(context_of(core, "sara.holm"), "sara.holm", "eskaleringar", []))
    alerted = ConsoleSession(core, "helena.ros", ConsoleClock(core.clock.now()), text)
    text.seek(0), text.truncate()
    await view("console /eskaleringar, alerted", alerted.handle("/eskaleringar"))
    listed = text.getvalue()
    assert "bevakning" in listed and "… och" in listed and " till (äldst visas först)" in listed
    await view("slack home, alerted", load_home(core, "helena.ros"))
    await view("console /leveranser", coordinator.handle("/leveranser"))
    return out


async def test_each_list_reads_a_bounded_page_at_a_hundred_thousand_open_cases(
    make_core: CoreFactory, clock: FrozenClock, counted: Reads
) -> None:
    small = await make_core(db_name="small.sqlite3")
    await bulk_cases(small, clock, 2000, 1200)  # enough for every page to be full
    few = await measure(small, counted)

    large = await make_core(db_name="large.sqlite3")
    await bulk_cases(large, clock, OPEN, QUEUED)
    many = await measure(large, counted)

    for name in few:
        if name == "console text":
            continue
        statements, rows = many[name]
        if name in STATS_VIEWS:  # aggregates: as many rows as units and wait buckets, whatever the facts
            assert many[name] == few[name], (name, few[name], many[name])
            assert rows <= 4 * 3 * 50 + 40, (name, many[name])
            continue
        assert statements == few[name][0], (name, few[name], many[name])  # not one more at 10⁵
        assert rows <= 5 * max(QUEUE_PAGE, MINE_PAGE) + 20, (name, many[name])  # /mina: three lists of a page
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

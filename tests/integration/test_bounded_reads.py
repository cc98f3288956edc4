"""Every list a person can open reads one bounded page and a count (issue #21 item 4): with 10⁵ open cases in
the store, built by bulk insert, the distributor's queue (`cases.queue`), console /kö (and a later page),
Teams `kö`, the requester's /mina (with the follow-ups proposed to them) and Teams `mina`, the open escalations
(console, Teams, Home) and the Slack Home issue a fixed number of statements (the same at 2·10³ as at 10⁵) and
fetch a bounded number of rows. So do the lists of the rest (a twentieth to a tenth as many as the cases, so
thousands at 10⁵): the reports of brister i samverkan (console /brister and a later page, a distributor's, Teams
`brister`, the Homes), the ladder's drafts (/utkast, Teams `utkast`), the samverkansnivå's matters
(/samverkansfrågor), the read logs of a case and of a person (/läsloggar, Teams `läsloggar`), and the
absences (/frånvaro, read from the book in memory: no statement). A coordinator's Home and the statistics
(console /statistik, Teams `statistik`), over a year of 10⁵ facts, read aggregates: the same statements and
rows at both scales. The test counts statements and rows, never time; it runs on SQLite and on PostgreSQL."""

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
from bot.store import ladder as ladder_store
from handlers.teams import absence, commands, oversight
from tests.conftest import CoreFactory
from tests.fakes import card_schema
from tests.fakes.teams import actions_of, card_text
from tests.statements import Reads, count_statements
from tests.unit.test_teams_handlers import context_of

OPEN = 100_000
QUEUED = 60_000  # of them undistributed requests to beroende (fatima.ali distributes it), the rest elsewhere


# Views that still do work growing with the store in SQL (though they fetch a page): none since schema 35. The
# console's tick (the nightly purge, along `cases_closed`), the open escalations of someone alerted on none of
# them (along their own rows of `escalation_alerts`), the follow-ups proposed to a person (along each owner's
# own, `follow_ups_owner_proposed`) and a case's read log (the counts per reader kept in `case_read_counts`)
# grew before it.
GROWS: set[str] = set()
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
    await bulk_lists(core, clock, count)


async def bulk_lists(core: Core, clock: FrozenClock, count: int) -> None:
    """The other lists: a tenth of `count` reports, matters, reads of one case and reads by one person, a
    twentieth drafts, and a hundredth (and 60) absences of beroende's staff."""
    now = clock.now()

    def report(n: int) -> tuple[Any, ...]:
        at = (now - timedelta(minutes=count - n)).isoformat()
        units = '["beroende", "soc-norr"]' if n % 2 else '["psykiatri"]'
        return (f"BRIST-2026-{n + 1:05d}", 2026, ["submitted", "dialogue_held", "closed"][n % 3], "2026-11-01",
                units, '["astad", "region-sydvast"]', '["kommunikation"]', "Ingen svarade på förfrågan.",
                "GFI-2025-000001" if n % 3 == 0 else None, "maria.sand", at, at)

    def read(n: int) -> tuple[Any, ...]:
        at = (now - timedelta(minutes=count - n)).isoformat()
        if n % 2:  # of one case, by its requester's principal (listed) and the target's (counted)
            return (at, ["maria.sand", "fatima.ali", "omar.haddad"][n % 3], "GFI-2025-000001", "case", "console", "x")
        return (at, "fatima.ali", f"GFI-2025-{n + 1:06d}", "queue", "slack", "x")

    def absence(n: int) -> tuple[Any, ...]:
        day = (now + timedelta(days=n % 300)).date().isoformat()
        return (["linnea.fors", "sofia.grahn", "gustav.lund"][n % 3], day, day, None, "fatima.ali", now.isoformat())

    async def insert(tx: Tx) -> None:
        await tx.executemany(
            "INSERT INTO brister (ref, year, state, incident_date, units, principals, causes, what, case_ref, "
            "filed_by, submitted_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (report(n) for n in range(count // 10)))
        await tx.executemany(
            "INSERT INTO case_reads (at, person_id, case_ref, view, channel, hash) VALUES (?, ?, ?, ?, ?, ?)",
            (read(n) for n in range(count // 5)))
        await tx.execute(  # the counts kept beside the log, as the store's appends keep them
            "INSERT INTO case_read_counts (case_ref, person_id, reads) "
            "SELECT case_ref, person_id, COUNT(*) FROM case_reads GROUP BY case_ref, person_id")
        await tx.executemany(
            "INSERT INTO absences (person_id, start_date, end_date, stand_in, created_by, created_at) "
            "VALUES (?, ?, ?, ?, ?, ?)", (absence(n) for n in range(count // 100 + 60)))
        # a draft for sara.holm per four open escalations (one per twenty cases), a matter per twenty cases
        await tx.execute(
            "INSERT INTO brist_drafts (awaiting_id, case_id, case_ref, coordinators, units, principals, "
            "what_happened, causes, status, created_at) SELECT id, case_id, case_ref, '[\"sara.holm\"]', "
            "'[\"beroende\"]', '[\"region-sydvast\"]', 'Ingen svarade.', '[\"kommunikation\"]', 'draft', "
            "created_at FROM awaiting WHERE case_id % 20 = 0")
        await tx.execute(
            "INSERT INTO samverkan_matters (case_id, case_ref, group_id, opened_by, opened_at, handled_by, "
            "handled_at) SELECT id, ref, 'samverkan-astad', 'sara.holm', created_at, "
            "CASE WHEN id % 30 = 0 THEN NULL ELSE 'sara.holm' END, CASE WHEN id % 30 = 0 THEN NULL ELSE "
            "created_at END FROM cases WHERE id % 10 = 0")

    await core.db.run(insert)
    await core.absences.load()


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
        await ladder_store.track_alerts(tx, [int(r["id"]) for r in await tx.fetchall("SELECT id FROM awaiting")])

        # a follow-up proposed to maria.sand per seven assigned cases, and to linnea.fors (fatima.ali distributes
        # her unit): a proposal is made at the follow-up stage (where it can be answered); one case in seven of
        # them is vilande now (a proposal that cannot be answered while it rests: not listed, not counted)
        await tx.execute("UPDATE cases SET state = 'follow_up' WHERE id % 7 = 0 AND state = 'assigned'")
        await tx.execute(
            "INSERT INTO follow_ups (case_id, owner_id, due_date, what, created_by, created_at, status) "
            "SELECT id, CASE WHEN id % 2 = 0 THEN 'maria.sand' ELSE 'linnea.fors' END, '2027-01-15', "
            "'Uppföljning', 'omar.haddad', created_at, 'proposed' FROM cases WHERE state = 'follow_up'")
        await tx.execute("UPDATE cases SET state = 'waiting' WHERE id % 49 = 0 AND state = 'follow_up'")

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


WORK: dict[str, int] = {}  # each view's thousands of SQLite steps (not counting the counts), by store size
HEAVIEST: dict[str, tuple[int, str] | None] = {}  # each view's statement that did the most work, by store size


async def measure(core: Core, counted: Reads) -> dict[str, tuple[int, int]]:
    """(statements, rows) of each view, for the distributor fatima.ali."""
    out: dict[str, tuple[int, int]] = {}

    async def view(name: str, work: Any) -> Any:
        counted.reset()
        result = await work
        out[name] = (counted.statements, counted.rows)
        WORK[f"{name} {id(core)}"] = counted.work
        HEAVIEST[f"{name} {id(core)}"] = counted.heaviest()
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
    await view("console /mina, none proposed to them", ConsoleSession(  # not a walk over every proposal
        core, "omar.haddad", ConsoleClock(core.clock.now()), text).handle("/mina"))
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
    await measure_lists(core, counted, out, view)
    return out


async def measure_lists(core: Core, counted: Reads, out: dict[str, tuple[int, int]], view: Any) -> None:
    """The reports, drafts, matters, read logs and absences: each a page and a count."""
    text = io.StringIO()
    coordinator = ConsoleSession(core, "sara.holm", ConsoleClock(core.clock.now()), text)
    await view("console /brister", coordinator.handle("/brister"))
    listed = text.getvalue()
    assert "Visar 1–50 av" in listed and "Nästa sida: /brister sida=2" in listed, listed[-300:]
    await view("console /brister sida=3", coordinator.handle("/brister sida=3"))
    await view("console /brister 2026 psykiatri", coordinator.handle("/brister 2026 psykiatri"))
    distributor = ConsoleSession(core, "fatima.ali", ConsoleClock(core.clock.now()), text)
    await view("console /brister, distributor", distributor.handle("/brister"))
    await view("teams brister", oversight.view(context_of(core, "sara.holm"), "sara.holm", "brister", []))
    await view("teams brister sida=2", oversight.view(context_of(core, "sara.holm"), "sara.holm", "brister",
                                                       ["sida=2"]))
    text.seek(0), text.truncate()
    await view("console /utkast", coordinator.handle("/utkast"))
    assert "Nästa sida: /utkast sida=2" in text.getvalue()
    await view("teams utkast", oversight.view(context_of(core, "sara.holm"), "sara.holm", "utkast", []))
    text.seek(0), text.truncate()
    await view("console /samverkansfrågor", coordinator.handle("/samverkansfrågor"))
    await view("console /samverkansfrågor sida=2", coordinator.handle("/samverkansfrågor sida=2"))
    assert "Nästa sida: /samverkansfrågor sida=3" in text.getvalue()
    text.seek(0), text.truncate()
    await view("console /läsloggar <ref>", coordinator.handle("/läsloggar GFI-2025-000001"))
    logged = text.getvalue()
    assert "personal hos din huvudman" in logged and "läsningar av personal hos en annan huvudman" in logged
    assert "Nästa sida: /läsloggar GFI-2025-000001 sida=2" in logged
    await view("teams läsloggar <ref>", oversight.view(context_of(core, "sara.holm"), "sara.holm", "läsloggar",
                                                       ["GFI-2025-000001", "sida=2"]))
    admin = ConsoleSession(core, "it.admin", ConsoleClock(core.clock.now()), text)
    text.seek(0), text.truncate()
    period = "person=fatima.ali från=2020-01-01 till=2027-12-31"
    await view("console /läsloggar person", admin.handle(f"/läsloggar {period}"))
    assert f"Nästa sida: /läsloggar {period} sida=2" in text.getvalue()
    await view("teams läsloggar person", oversight.view(context_of(core, "it.admin"), "it.admin", "läsloggar",
                                                        ["person=fatima.ali", "från=2020-01-01", "till=2027-12-31"]))
    text.seek(0), text.truncate()
    await view("console /frånvaro", distributor.handle("/frånvaro"))
    assert "Nästa sida: /frånvaro sida=2" in text.getvalue()
    await view("console /frånvaro sida=2", distributor.handle("/frånvaro sida=2"))


async def test_each_list_reads_a_bounded_page_at_a_hundred_thousand_open_cases(
    make_core: CoreFactory, clock: FrozenClock, counted: Reads, engine: str
) -> None:
    small = await make_core(db_name="small.sqlite3")
    await bulk_cases(small, clock, 2000, 1200)  # enough for every page to be full
    few = await measure(small, counted)

    large = await make_core(db_name="large.sqlite3")
    await bulk_cases(large, clock, OPEN, QUEUED)
    many = await measure(large, counted)

    for name in few:
        work = (WORK[f"{name} {id(small)}"], WORK[f"{name} {id(large)}"]) if name != "console text" else (0, 0)
        if engine == "sqlite" and name not in STATS_VIEWS and name not in GROWS:  # read along an index, stopped
            assert work[1] <= 3 * work[0] + 12, (name, work, HEAVIEST[f"{name} {id(large)}"])  # at the page: not
            # more work at 10⁵ than at 2·10³
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


async def said(session: ConsoleSession, out: io.StringIO, line: str) -> str:
    """What the console says to `line` (and only that: what it said before is cleared)."""
    out.seek(0), out.truncate()
    await session.handle(line)
    return out.getvalue()


async def test_console_pages_through_the_queue(core: Core, clock: FrozenClock) -> None:
    await bulk_cases(core, clock, 45, 45)
    out = io.StringIO()
    session = ConsoleSession(core, "fatima.ali", ConsoleClock(core.clock.now()), out)
    first = await said(session, out, "/kö")
    assert "GFI-kö för Beroendemottagningen Åstad: 45 ärenden att fördela" in first
    assert "… och 25 till." in first and "Nästa sida: /kö sida=2" in first
    assert "GFI-2025-000021" not in first
    last = await said(session, out, "/kö sida=3")
    assert "41. GFI-2025-000041" in last and "GFI-2025-000045" in last and "GFI-2025-000040" not in last
    assert "Nästa sida" not in last
    assert "\"x\" är inget sidnummer" in await said(session, out, "/kö sida=x")


async def test_console_pages_through_the_other_lists(core: Core, clock: FrozenClock) -> None:
    await bulk_cases(core, clock, 600, 100)  # 60 reports, 30 drafts, 60 matters, 66 absences at beroende
    out = io.StringIO()
    coordinator = ConsoleSession(core, "sara.holm", ConsoleClock(core.clock.now()), out)
    first = await said(coordinator, out, "/brister")
    assert "Rapporter om brister i samverkan (60, nyaste först):" in first
    assert "BRIST-2026-00060" in first and "BRIST-2026-00010" not in first
    assert "Visar 1–50 av 60. Nästa sida: /brister sida=2" in first
    last = await said(coordinator, out, "/brister sida=2")
    assert "BRIST-2026-00010" in last and "BRIST-2026-00011" not in last and "Visar 51–60 av 60." in last
    assert "Nästa sida" not in last
    assert "Sidan 4 är tom: listan har 60. Första sidan: /brister" in await said(coordinator, out, "/brister sida=4")
    assert "Visar 51–60 av 60." in await said(coordinator, out, "/samverkansfrågor sida=2")
    distributor = ConsoleSession(core, "fatima.ali", ConsoleClock(core.clock.now()), out)
    assert "Visar 51–66 av 66." in await said(distributor, out, "/frånvaro sida=2")
    assert "\"x\" är inget sidnummer" in await said(distributor, out, "/frånvaro sida=x")
    absences = await said(distributor, out, "/frånvaro")
    assert "… och 16 till." in absences and "Nästa sida: /frånvaro sida=2" in absences


async def test_teams_pages_through_the_reports_with_a_button(core: Core, clock: FrozenClock) -> None:
    await bulk_cases(core, clock, 300, 100)  # 30 reports: three cards of ten
    ctx = context_of(core, "sara.holm")
    card = await oversight.view(ctx, "sara.holm", "brister", [])
    card_schema.check(card)
    assert "BRIST-2026-00030" in card_text(card) and "BRIST-2026-00020" not in card_text(card)
    assert "Visar 1–10 av 30. Nästa sida: brister sida=2" in card_text(card)
    [more] = [a for a in actions_of(card) if a["verb"] == oversight.LIST_MORE]
    assert more["data"] == {"word": "brister", "args": ["sida=2"]}
    second = await oversight.view(ctx, "sara.holm", more["data"]["word"], more["data"]["args"])
    assert "BRIST-2026-00020" in card_text(second) and "BRIST-2026-00021" not in card_text(second)
    [more] = [a for a in actions_of(second) if a["verb"] == oversight.LIST_MORE]
    third = await oversight.view(ctx, "sara.holm", "brister", more["data"]["args"])
    assert "Visar 21–30 av 30." in card_text(third)
    assert not [a for a in actions_of(third) if a["verb"] == oversight.LIST_MORE]
    assert "finns inte längre" in card_text(await oversight.view(ctx, "sara.holm", "okänt", []))


async def test_teams_pages_through_the_absences_with_a_button(core: Core, clock: FrozenClock) -> None:
    # review of reads-e, item 5: past the 50th an absence could not be seen, nor removed, on Teams
    await bulk_cases(core, clock, 600, 100)  # 66 absences at beroende, which fatima.ali distributes
    ctx = context_of(core, "fatima.ali")
    card = await oversight.view(ctx, "fatima.ali", "frånvaro", [])
    card_schema.check(card)
    assert "Visar 1–50 av 66. Nästa sida: frånvaro sida=2" in card_text(card)
    assert len([a for a in actions_of(card) if a["verb"] == absence.CANCEL]) == 50
    [more] = [a for a in actions_of(card) if a["verb"] == oversight.LIST_MORE]
    assert more["data"] == {"word": "frånvaro", "args": ["sida=2"]}
    second = await oversight.view(ctx, "fatima.ali", more["data"]["word"], more["data"]["args"])
    card_schema.check(second)
    assert "Visar 51–66 av 66." in card_text(second)
    assert len([a for a in actions_of(second) if a["verb"] == absence.CANCEL]) == 16
    assert not [a for a in actions_of(second) if a["verb"] == oversight.LIST_MORE]
    assert "är inget sidnummer" in card_text(await oversight.view(ctx, "fatima.ali", "franvaro", ["sida=²"]))

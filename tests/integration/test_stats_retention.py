"""Statistics from the anonymous facts over a fixture with known timings, and the retention purge:
statistics stay identical and none of the purged cases' free text is left in the database files."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from bot.cases.models import Case
from bot.clock import FrozenClock
from bot.core import Core
from bot.errors import NotFound
from bot.stats import export
from bot.stats.facts import prepare_rollups
from bot.stats.report import build_report
from bot.stats.retention import purge
from bot.stats.rollup import percentile_counted
from bot.stats.scheduled import daily_purge
from bot.stats.service import last_twelve_months, percentile
from bot.store import Tx
from tests.conftest import CoreFactory, local
from tests.statements import count_statements
from tests.timekit import form

# About the SQLite file itself (its pages, -wal and -shm, its migrations, a command given its path).
SQLITE_ONLY = pytest.mark.parametrize("engine", ["sqlite"])

START, END = date(2026, 11, 1), date(2026, 12, 31)


@dataclass
class Fixture:
    a: Case  # held meeting, closed with a free-text reason
    b: Case  # urgent, over Christmas and New Year, one no-show
    c: Case  # distributed, never acknowledged: climbs the ladder


async def known_timings(core: Core, clock: FrozenClock) -> Fixture:
    """Three requests to beroende (office 08-17) with business times worked out by hand:

    distribution  C 8 h (Mon 10:00 → Tue 09:00), A 3 h (Fri 16:00 → Mon 10:00), B 3 h (Wed 23 Dec 15:00 →
                  Mon 28 Dec 09:00 over julafton, juldagen, annandagen and a weekend)
    acknowledged  A 5 h (→ Mon 12:00), B 13 h (→ Tue 29 Dec 10:00)
    meeting held  A 33 h (→ Thu 3 Dec 13:00), B 49 h (→ Thu 7 Jan 10:00 over nyårsafton, nyårsdagen and
                  trettondedagen; a no-show on 5 Jan before it)
    """
    cases = core.cases
    clock.set(local("2026-11-23T10:00"))
    c = await cases.request("maria.sand", form(brief="brief-C-xq7 kvinna 30 år"))
    clock.set(local("2026-11-24T09:00"))
    await cases.assign("fatima.ali", c.ref, ["linnea.fors"])

    clock.set(local("2026-11-27T16:00"))
    a = await cases.request("maria.sand", form(brief="brief-A-xq7 man 45 år", contact="contact-A-xq7 070-1"))
    clock.set(local("2026-11-30T10:00"))
    await cases.assign("fatima.ali", a.ref, ["linnea.fors"], other="other-A-xq7")
    clock.set(local("2026-11-30T12:00"))
    await cases.acknowledge("linnea.fors", a.ref)
    await cases.book("linnea.fors", a.ref, local("2026-12-03T13:00"), "place-A-xq7", ["soc-norr", "beroende"])
    clock.set(local("2026-12-03T13:30"))
    await core.tick()  # C's acknowledgement has climbed the ladder to the top
    clock.set(local("2026-12-03T14:00"))
    await cases.record_outcome("linnea.fors", a.ref, "kartlaggning", evaluation_done=True)
    await cases.add_follow_up("linnea.fors", a.ref, "maria.sand", date(2026, 12, 14), "followup-A-xq7")
    await cases.close("linnea.fors", a.ref, "note-A-xq7 flyttade", follow_ups="avbryt")

    clock.set(local("2026-12-23T15:00"))
    b = await cases.request("maria.sand", form(brief="brief-B-xq7 man 60 år", urgent=True))
    clock.set(local("2026-12-28T09:00"))  # the slot of Thursday 24 Dec (julafton) moved to Monday
    await core.tick()  # the queue message (no case of its own) shows B's brief
    await cases.assign("fatima.ali", b.ref, ["sofia.grahn"])
    clock.set(local("2026-12-29T10:00"))
    await cases.acknowledge("sofia.grahn", b.ref)
    await cases.book("sofia.grahn", b.ref, local("2027-01-05T10:00"), "place-B1-xq7", ["soc-norr", "beroende"])
    clock.set(local("2027-01-05T11:00"))
    await cases.no_show("sofia.grahn", b.ref)
    await cases.book("sofia.grahn", b.ref, local("2027-01-07T10:00"), "place-B2-xq7", ["soc-norr", "beroende"])
    clock.set(local("2027-01-07T12:00"))
    await cases.record_outcome("sofia.grahn", b.ref, "lotsning", evaluation_done=False)
    await cases.close("sofia.grahn", b.ref, "genomford", new_contact=True)
    return Fixture(a, b, c)


async def report(core: Core, start: date = START, end: date = END, unit: str | None = None):  # type: ignore[no-untyped-def]
    return await build_report(core.db, core.directory, core.calendar, core.settings.timezone, start, end, unit)


async def test_statistics_over_known_timings(core: Core, clock: FrozenClock) -> None:
    await known_timings(core, clock)
    r = await report(core)
    [beroende] = [u for u in r.units if u.unit_id == "beroende"]
    assert (beroende.requests, beroende.urgent, beroende.no_shows) == (3, 1, 1)
    assert beroende.to_distribution.count == 3
    assert (beroende.to_distribution.median, beroende.to_distribution.p90) == (3.0, pytest.approx(7.0))
    assert (beroende.to_acknowledgement.median, beroende.to_acknowledgement.p90) == (9.0, pytest.approx(12.2))
    assert (beroende.to_meeting.median, beroende.to_meeting.p90) == (41.0, pytest.approx(47.4))
    assert beroende.outcomes == {"lotsning": 1, "kartlaggning": 1, "sip": 0, "aktualiseras": 0, "ingen": 0}
    assert beroende.evaluations_done == 1
    # C's acknowledgement: the distributor, then the unit's ladder up to the coordinator
    assert beroende.escalations == {"@distributor": 1, "verksamhetschef": 1, "psykiatrisamordnare": 1}
    assert r.rungs == ["@distributor", "verksamhetschef", "psykiatrisamordnare"]
    assert all(not u.active for u in r.units if u.unit_id != "beroende")
    assert r.total is not None and r.total.requests == 3

    text = export.text(core.renderer, r)
    assert "Tider i timmar kontorstid" in text and "median / 90:e percentil" in text
    row = next(line for line in text.splitlines() if line.startswith("Beroendemottagningen Åstad"))
    assert row.split() == ["Beroendemottagningen", "Åstad", "3", "1", "3,0", "/", "7,0", "9,0", "/", "12,2",
                           "41,0", "/", "47,4", "1"]
    assert "fördelare" in text and "psykiatrisamordnare" in text

    only = await report(core, unit="psykiatri")
    assert [u.unit_id for u in only.units] == ["psykiatri"] and only.total is None
    assert only.units[0].requests == 0 and only.rungs == []
    # the period is the request's filing date: nothing was filed in January
    assert (await report(core, date(2027, 1, 1), date(2027, 1, 31))).total.requests == 0  # type: ignore[union-attr]


async def test_statistics_are_read_as_aggregates_on_a_read_connection(
    core: Core, clock: FrozenClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The report reads the rollups summed per unit in SQL, three statements on a read connection, never
    holding the write connection and never reading fact by fact (issue #21 items 4 and 5)."""
    await known_timings(core, clock)
    seen = count_statements(monkeypatch)
    def no_write(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("the statistics held the write connection")

    monkeypatch.setattr(core.db, "transaction", no_write)
    monkeypatch.setattr(core.db, "run", no_write)
    r = await report(core)
    assert r.total is not None and r.total.requests == 3
    assert seen.statements == 3 and not any("case_facts" in s or "escalation_facts" in s for s in seen.sql)
    assert seen.rows <= 3 * len(r.units) * 3, seen.rows  # a few per unit, not one per fact


async def rollup_tables(core: Core) -> dict[str, list[tuple[Any, ...]]]:
    async with core.db.read() as tx:
        return {t: [tuple(r.values()) for r in await tx.fetchall(f"SELECT * FROM {t} WHERE {w} ORDER BY 1, 2, 3, 4")]
                for t, w in (("stats_hours", "requests != 0"), ("stats_waits", "n != 0"),
                             ("stats_escalations", "n != 0"))}


async def test_rollups_kept_in_step_equal_a_rebuild_from_the_facts(core: Core, clock: FrozenClock) -> None:
    """Every case action adds its difference to the rollups; the sums equal those rebuilt from the facts."""
    await known_timings(core, clock)
    case = await core.cases.request("maria.sand", form(urgent=True))
    await core.cases.assign("fatima.ali", case.ref, ["linnea.fors"])
    await core.cases.acknowledge("linnea.fors", case.ref)
    await core.cases.assign("fatima.ali", case.ref, ["sofia.grahn"], reassign=True)
    await core.cases.close("sofia.grahn", case.ref, "ej-aktuellt")
    await core.cases.reopen("maria.sand", case.ref)
    kept = await rollup_tables(core)
    assert kept["stats_hours"] and kept["stats_waits"] and kept["stats_escalations"]

    async def clear(tx: Tx) -> None:
        await tx.execute("DELETE FROM stats_rollup_state")
        await tx.execute("UPDATE case_facts SET wait_distribution = NULL, wait_acknowledgement = NULL, "
                         "wait_meeting = NULL")
        await tx.execute("DELETE FROM stats_hours")

    await core.db.run(clear)
    assert await prepare_rollups(core.db, core.directory, core.calendar, clock.now())
    assert await rollup_tables(core) == kept
    assert not await prepare_rollups(core.db, core.directory, core.calendar, clock.now())  # built once


def test_percentile_over_counted_values_is_the_percentile_of_the_values() -> None:
    values = [0.5, 0.5, 1.25, 3.0, 3.0, 3.0, 8.75, 40.0]
    counted = [(v, values.count(v)) for v in sorted(set(values))]
    for p in (0.0, 0.1, 0.5, 0.9, 1.0):
        assert percentile_counted(counted, p) == pytest.approx(percentile(values, p))
    assert percentile_counted([], 0.5) is None


async def test_reassignment_and_reopening_keep_the_first_times(core: Core, clock: FrozenClock) -> None:
    case = await core.cases.request("maria.sand", form())
    clock.set(local("2026-11-23T11:00"))
    await core.cases.assign("fatima.ali", case.ref, ["linnea.fors"])
    clock.set(local("2026-11-23T12:00"))
    await core.cases.acknowledge("linnea.fors", case.ref)
    clock.set(local("2026-11-24T12:00"))
    await core.cases.assign("fatima.ali", case.ref, ["sofia.grahn"], reassign=True)
    await core.cases.acknowledge("sofia.grahn", case.ref)
    await core.cases.close("sofia.grahn", case.ref, "ej-aktuellt")
    await core.cases.reopen("maria.sand", case.ref)
    [u] = (await report(core, unit="beroende")).units
    assert (u.to_distribution.median, u.to_acknowledgement.median) == (1.0, 2.0)


@SQLITE_ONLY
async def test_migration_backfills_existing_cases(make_core: CoreFactory, clock: FrozenClock) -> None:
    core = await make_core()
    await known_timings(core, clock)
    before = await report(core)
    async with core.db.transaction() as tx:  # a store from before migration 8
        for table in ("case_facts", "escalation_facts", "purge_runs"):
            await tx.execute(f"DROP TABLE {table}")
        await tx.execute("DELETE FROM schema_migrations WHERE version = 8")
    await core.close()
    again = await make_core()
    assert await report(again) == before
    async with again.db.transaction() as tx:
        assert await tx.scalar("SELECT COUNT(*) FROM case_facts WHERE target_principal IS NULL") == 0


FREE_TEXT = ["brief-A-xq7", "contact-A-xq7", "other-A-xq7", "place-A-xq7", "followup-A-xq7", "note-A-xq7",
             "brief-B-xq7", "place-B1-xq7", "place-B2-xq7"]


def stored_bytes(db: Path) -> bytes:
    """The raw bytes of the database file and its -wal and -shm files."""
    return b"".join(p.read_bytes() for p in (db, Path(f"{db}-wal"), Path(f"{db}-shm")) if p.exists())


@SQLITE_ONLY
async def test_purge_keeps_statistics_and_leaves_no_free_text(core: Core, clock: FrozenClock, tmp_path: Path) -> None:
    f = await known_timings(core, clock)
    clock.set(local("2027-06-01T10:00"))
    kept = await core.cases.request("maria.sand", form(brief="brief-D-xq7 kvinna 50 år"))
    await core.cases.close("maria.sand", kept.ref, "ej-aktuellt")  # closed, but not long enough ago
    await core.tick()  # messages delivered (their texts stay in the outbox rows)
    db = tmp_path / "gfi.sqlite3"
    data = stored_bytes(db)
    assert all(marker.encode() in data for marker in [*FREE_TEXT, "brief-C-xq7", "brief-D-xq7"])  # the grep works
    queue_showing_b = "SELECT COUNT(*) FROM outbox WHERE template = 'queue' AND reads LIKE ?"
    async with core.db.transaction() as tx:
        assert await tx.scalar(queue_showing_b, (f'%"{f.b.ref}"%',)) == 1  # the active distributor got the queue
    whole = (date(2026, 11, 1), date(2027, 12, 31))
    before = await report(core, *whole)

    clock.set(local("2028-01-10T10:00"))  # A and B closed more than 12 months ago, D not
    dry = await purge(core.db, clock.now(), 12, "Europe/Stockholm", dry_run=True)
    assert dry is not None and [i.ref for i in dry.items] == [f.a.ref, f.b.ref]
    assert dry.items[0].follow_ups == 1 and dry.items[0].outbox > 0
    assert (await core.cases.get(f.a.ref)).brief  # a dry run deletes nothing
    assert "skulle raderas" in core.renderer.macro("stats", "purge", result=dry)

    done = await purge(core.db, clock.now(), 12, "Europe/Stockholm")
    assert done is not None and [i.ref for i in done.items] == [f.a.ref, f.b.ref] and done.scrubbed
    for ref in (f.a.ref, f.b.ref):
        with pytest.raises(NotFound):
            await core.cases.get(ref)
    assert (await core.cases.get(kept.ref)).brief and (await core.cases.get(f.c.ref)).brief
    assert await report(core, *whole) == before  # statistics over the period are identical

    data = stored_bytes(db)
    leaked = [m for m in FREE_TEXT if m.encode() in data]
    assert leaked == []
    assert b"brief-C-xq7" in data and b"brief-D-xq7" in data  # open and recent cases keep their text
    async with core.db.transaction() as tx:
        for table in ("outbox", "awaiting", "timers", "follow_ups", "case_assignees", "inbound_requests"):
            col = "case_ref" if table in ("outbox", "awaiting", "timers") else None
            if col:
                assert await tx.scalar(f"SELECT COUNT(*) FROM {table} WHERE {col} IN (?, ?)", (f.a.ref, f.b.ref)) == 0
        assert await tx.scalar(queue_showing_b, (f'%"{f.b.ref}"%',)) == 0
        # the audit trail stays, without content, and says the case was purged
        actions = [r["action"] for r in await tx.fetchall("SELECT action FROM audit WHERE case_ref = ?", (f.a.ref,))]
        assert actions[0] == "request" and actions[-1] == "purge"
        assert await tx.scalar("SELECT COUNT(*) FROM case_facts WHERE case_ref IS NULL") == 2
    again = await purge(core.db, clock.now(), 12, "Europe/Stockholm")
    assert again is not None and again.items == [] and again.scrubbed is None


async def test_daily_purge_runs_once_a_day_after_half_past_three(core: Core, clock: FrozenClock) -> None:
    case = await core.cases.request("maria.sand", form())
    await core.cases.close("maria.sand", case.ref, "ej-aktuellt")
    clock.set(local("2027-11-24T03:00"))  # retention passed, but before the job's time
    assert await daily_purge(core) is None
    assert (await core.cases.get(case.ref)).ref == case.ref
    clock.set(local("2027-11-24T03:30"))
    await core.tick()  # the sweep is the catch-up: it runs the day's purge
    with pytest.raises(NotFound):
        await core.cases.get(case.ref)
    clock.set(local("2027-11-24T18:00"))
    assert await daily_purge(core) is None  # once a day
    clock.set(local("2027-11-25T03:30"))
    result = await daily_purge(core)
    assert result is not None and result.items == []


async def test_purge_honours_the_retention_setting(make_core: CoreFactory, clock: FrozenClock) -> None:
    core = await make_core()
    case = await core.cases.request("maria.sand", form())
    await core.cases.close("maria.sand", case.ref, "ej-aktuellt")
    clock.set(local("2027-02-24T10:00"))
    core.settings.retention_months = 3
    result = await daily_purge(core)
    assert result is not None and [i.ref for i in result.items] == [case.ref]


async def test_coordinator_home_and_console_show_twelve_months(core: Core, clock: FrozenClock) -> None:
    from bot.channels.console import ConsoleClock, ConsoleSession
    from bot.channels.slack.home import home_view, load_home

    await known_timings(core, clock)
    home = await load_home(core, "jonas.sjo")
    assert home.stats is not None and [u.unit_id for u in home.stats] == ["beroende"]
    text = str(home_view(core.renderer, home))
    assert "Statistik, senaste 12 månaderna" in text
    assert "Beroendemottagningen Åstad: 3 förfrågningar (1 brådskande). Median till fördelning 3,0 h" in text
    assert (await load_home(core, "maria.sand")).stats is None
    assert "Statistik" not in str(home_view(core.renderer, await load_home(core, "fatima.ali")))

    import io

    out = io.StringIO()
    session = ConsoleSession(core, "maria.sand", ConsoleClock(clock.now()), out)
    await session.handle("/statistik")
    assert "Statistiken visas för samordnare." in out.getvalue() and "Förfrågn." not in out.getvalue()
    await session.handle("/som jonas.sjo")
    await session.handle("/statistik enhet=beroende")
    start, end = last_twelve_months(date(2027, 1, 7))
    assert f"Statistik {core.renderer.format_date(start)} – {core.renderer.format_date(end)}" in out.getvalue()
    assert "3,0 / 7,0" in out.getvalue()
    await session.handle("/statistik enhet=finns-inte")
    assert 'Okänd verksamhet "finns-inte"' in out.getvalue()

"""The audit log and the read log prove they are whole (issue #23 item 2): both are hash-chained, REPLACE,
UPDATE and DELETE are refused, and when someone with the file in hand drops the triggers first, `verify-logs`
names the first row that was replaced, changed, removed, or (against a head kept elsewhere) truncated."""

from __future__ import annotations

import logging
import sqlite3
import subprocess
import sys
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot import audit, logchain, readlog
from bot.clock import FrozenClock
from bot.config import DEFAULT_DIRECTORY
from bot.store import Database, chain
from bot.store import sqlite as store_sqlite

AT = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
TRIGGERS = {"audit": ("audit_no_update", "audit_no_delete", "audit_no_replace"),
            "case_reads": ("case_reads_no_update", "case_reads_no_delete", "case_reads_no_replace")}


async def fill(db: Database, n: int = 5) -> None:
    for i in range(n):
        async with db.transaction() as tx:
            await audit.record(tx, at=AT + timedelta(minutes=i), actor_id="fatima.ali", action="assign",
                               case_ref=f"GFI-2026-{i + 1:04d}", to=["linnea.fors"])
            await readlog.record(tx, at=AT + timedelta(minutes=i), person_id="linnea.fors",
                                 refs=[f"GFI-2026-{i + 1:04d}"], view="case_card", channel="slack")


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[Database]:
    database = Database(tmp_path / "gfi.sqlite3")
    await database.open()
    await fill(database)
    yield database
    await database.close()


def raw(db: Database) -> sqlite3.Connection:
    """The file opened behind the bot's back, as an attacker with the file in hand would."""
    return sqlite3.connect(db.path, isolation_level=None)


def broken(states: list[logchain.LogState]) -> dict[str, logchain.Break | None]:
    return {s.log: s.broken for s in states}


async def test_both_logs_are_whole_and_chained(db: Database) -> None:
    states = await logchain.verify(db)
    assert [(s.log, s.rows, s.head.id, s.broken) for s in states] == [("audit", 5, 5, None),
                                                                       ("case_reads", 5, 5, None)]
    async with db.read() as tx:
        rows = await chain.page(tx, "audit", 0)
    assert rows[1]["hash"] == chain.row_hash("audit", rows[0]["hash"], rows[1])


@pytest.mark.parametrize("log", ["audit", "case_reads"])
@pytest.mark.parametrize("statement", [
    "UPDATE {log} SET at = '2020-01-01' WHERE id = 2",
    "UPDATE {log} SET hash = NULL WHERE id = 2",
    "DELETE FROM {log} WHERE id = 2",
    "DELETE FROM {log}",
    "REPLACE INTO {log} SELECT * FROM {log} WHERE id = 3",
    "INSERT OR REPLACE INTO {log} SELECT * FROM {log} WHERE id = 1",
    "INSERT INTO {log} (at) VALUES ('2026-01-01')",  # without its hash
])
async def test_rewriting_is_refused(db: Database, log: str, statement: str) -> None:
    conn = raw(db)
    with pytest.raises(sqlite3.DatabaseError):
        conn.execute(statement.format(log=log))
    conn.close()
    assert broken(await logchain.verify(db)) == {"audit": None, "case_reads": None}


def tamper(db: Database, log: str, *statements: str) -> None:
    conn = raw(db)
    for trigger in TRIGGERS[log]:
        conn.execute(f"DROP TRIGGER IF EXISTS {trigger}")
    for statement in statements:
        conn.execute(statement.format(log=log))
    conn.close()


@pytest.mark.parametrize("log", ["audit", "case_reads"])
async def test_replace_into_row_1_is_found(db: Database, log: str) -> None:
    column = "actor_id" if log == "audit" else "person_id"
    tamper(db, log, "CREATE TEMP TABLE t AS SELECT * FROM {log} WHERE id = 1",
           f"UPDATE t SET {column} = 'someone.else'", "REPLACE INTO {log} SELECT * FROM t")
    assert broken(await logchain.verify(db))[log] == logchain.Break(log, 1, "changed")


@pytest.mark.parametrize("log", ["audit", "case_reads"])
async def test_an_update_is_found(db: Database, log: str) -> None:
    tamper(db, log, "UPDATE {log} SET at = '2026-03-02T09:00:30+00:00' WHERE id = 3")
    assert broken(await logchain.verify(db))[log] == logchain.Break(log, 3, "changed")


@pytest.mark.parametrize("log", ["audit", "case_reads"])
async def test_an_update_that_rehashes_its_row_is_found_at_the_next(db: Database, log: str) -> None:
    async with db.read() as tx:
        rows = await chain.page(tx, log, 0)
    changed = {**rows[2], "case_ref": "GFI-2026-0999"}
    forged = chain.row_hash(log, rows[1]["hash"], changed)
    tamper(db, log, f"UPDATE {{log}} SET case_ref = 'GFI-2026-0999', hash = '{forged}' WHERE id = 3")
    assert broken(await logchain.verify(db))[log] == logchain.Break(log, 4, "changed")


@pytest.mark.parametrize("log", ["audit", "case_reads"])
async def test_a_delete_after_drop_trigger_is_found(db: Database, log: str) -> None:
    tamper(db, log, "DELETE FROM {log} WHERE id = 2")
    assert broken(await logchain.verify(db))[log] == logchain.Break(log, 3, "missing", missing_from=2)


@pytest.mark.parametrize("log", ["audit", "case_reads"])
async def test_truncation_is_found_against_the_nightly_head(db: Database, log: str) -> None:
    head = (await logchain.heads(db))[log]
    assert head.id == 5
    tamper(db, log, "DELETE FROM {log} WHERE id >= 4")
    assert broken(await logchain.verify(db))[log] is None  # no chain can tell by itself
    assert broken(await logchain.verify(db, {log: [head]}))[log] == logchain.Break(log, 5, "truncated")
    tamper(db, log, "DELETE FROM {log}")  # emptied
    assert broken(await logchain.verify(db, {log: [head]}))[log] == logchain.Break(log, 5, "truncated")


async def test_a_head_with_another_hash_is_found(db: Database) -> None:
    head = (await logchain.heads(db))["audit"]
    other = chain.Head(head.id, "0" * 64)
    assert broken(await logchain.verify(db, {"audit": [other]}))["audit"] == logchain.Break("audit", 5, "other_head")
    assert broken(await logchain.verify(db, {"audit": [head]}))["audit"] is None


async def test_rows_from_before_the_chain_are_sealed_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "old.sqlite3"
    every = store_sqlite.migrations
    monkeypatch.setattr(store_sqlite, "migrations", lambda engine: tuple(m for m in every(engine) if m[0] < 20))
    async with Database(path) as old:
        async with old.transaction() as tx:
            for i in range(3):
                await tx.execute("INSERT INTO audit (at, actor_id, action, result) VALUES (?, 'x', 'assign', 'ok')",
                                 (f"2025-01-0{i + 1}",))
                await tx.execute("INSERT INTO case_reads (at, person_id, case_ref, view, channel) "
                                 "VALUES (?, 'x', 'GFI-2025-0001', 'v', 'slack')", (f"2025-01-0{i + 1}",))
    monkeypatch.undo()
    async with Database(path) as upgraded:
        assert broken(await logchain.verify(upgraded))["audit"] == logchain.Break("audit", 1, "unchained")
        await logchain.seal(upgraded)
        await fill(upgraded, 2)
        states = await logchain.verify(upgraded)
        assert [(s.rows, s.broken) for s in states] == [(5, None), (5, None)]
        await logchain.seal(upgraded)  # nothing more to seal; a sealed hash cannot be set again
        conn = sqlite3.connect(path, isolation_level=None)
        with pytest.raises(sqlite3.DatabaseError):
            conn.execute("UPDATE audit SET hash = '0' WHERE id = 1")
        conn.close()


class _Core:
    def __init__(self, db: Database, clock: FrozenClock) -> None:
        from bot.calendar import BusinessCalendar

        self.db, self.clock, self.calendar = db, clock, BusinessCalendar("Europe/Stockholm")


async def test_the_heads_are_logged_once_every_night(db: Database, caplog: pytest.LogCaptureFixture) -> None:
    clock = FrozenClock(datetime(2026, 3, 3, 2, 39, tzinfo=UTC))  # 03:39 in Stockholm
    nightly = logchain.NightlyHeads(_Core(db, clock))  # type: ignore[arg-type]
    with caplog.at_level(logging.INFO, logger="gfi.logchain"):
        assert not await nightly()
        clock.advance(timedelta(minutes=1))
        assert await nightly()
        clock.advance(timedelta(hours=5))
        assert not await nightly()
        clock.advance(timedelta(days=1))
        assert await nightly()
    lines = [(r.log, r.id, r.hash) for r in caplog.records if getattr(r, "event", None) == "logs.head"]
    heads = await logchain.heads(db)
    assert lines == [(n, heads[n].id, heads[n].hash) for n in ("audit", "case_reads")] * 2


def verify_logs(db: Database, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot.cli", "verify-logs", "--db", db.path, "--directory", str(DEFAULT_DIRECTORY),
         *args], capture_output=True, text=True, check=False, timeout=60)


async def test_verify_logs_exits_non_zero_naming_the_first_broken_row(db: Database) -> None:
    head = (await logchain.heads(db))["case_reads"]
    ok = verify_logs(db, "--head", f"read={head.id}:{head.hash}")
    assert ok.returncode == 0, ok.stderr
    assert "Granskningsloggen: hel, 5 rader" in ok.stdout and "Läsloggen: hel, 5 rader" in ok.stdout
    tamper(db, "case_reads", "DELETE FROM {log} WHERE id IN (2, 3)")
    tamper(db, "audit", "UPDATE {log} SET detail = '{{}}' WHERE id = 2")
    bad = verify_logs(db, "--head", f"read={head.id}:{head.hash}")
    assert bad.returncode == 1
    assert "Granskningsloggen är bruten vid rad 2" in bad.stderr
    assert "Läsloggen är bruten vid rad 4: raderna 2–3 före den saknas." in bad.stderr
    assert "Traceback" not in bad.stderr


async def test_the_read_counts_are_recounted_from_the_read_log(db: Database) -> None:
    """The counts per case and reader kept beside the read log (`case_read_counts`, for the readers view) are
    outside the hash chain: `verify-logs` recounts them from the log and names the first that differs."""
    assert await logchain.recount(db) == logchain.Recount(0)
    ok = verify_logs(db)
    assert ok.returncode == 0, ok.stderr
    assert "Läsloggens antal läsningar per ärende och läsare: stämmer med loggen." in ok.stdout
    conn = raw(db)
    conn.execute("UPDATE case_read_counts SET reads = 7 WHERE case_ref = 'GFI-2026-0002'")
    conn.execute("DELETE FROM case_read_counts WHERE case_ref = 'GFI-2026-0004'")
    conn.close()
    assert await logchain.recount(db) == logchain.Recount(2, "GFI-2026-0002", 1, 7)
    bad = verify_logs(db)
    assert bad.returncode == 1
    assert ("Läsloggens antal läsningar per ärende och läsare stämmer inte med loggen i 2 fall (antalen ligger "
            "utanför kedjan och kan ha ändrats). Först GFI-2026-0002: 1 läsningar i loggen, 7 räknade.") in bad.stderr
    assert "Läsloggen: hel, 5 rader" in bad.stdout  # the chain itself is whole

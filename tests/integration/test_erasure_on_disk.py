"""Erased means erased on disk: after a consent withdrawal the brief is in none of the store's files.

The test reads the raw bytes of the database file, its write-ahead log (-wal) and its shared-memory index
(-shm) while the bot still has the store open, as a copy of the disk taken at that moment would.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.clock import FrozenClock
from bot.core import Core
from tests.conftest import CoreFactory, RecordingSender, local
from tests.timekit import advance, form

# About the SQLite file itself (its pages, -wal and -shm, its migrations, a command given its path).
SQLITE_ONLY = pytest.mark.parametrize("engine", ["sqlite"])

MARKER = "Kvittrande-Näktergal-4711"  # a distinctive brief that appears nowhere else


def store_files(db: Path) -> dict[str, bytes]:
    """The raw bytes of the database and its -wal and -shm files (those that exist)."""
    files = [db, db.with_name(db.name + "-wal"), db.with_name(db.name + "-shm")]
    return {p.name: p.read_bytes() for p in files if p.exists()}


def holding(files: dict[str, bytes], text: str) -> list[str]:
    needle = text.encode("utf-8")
    return [name for name, data in files.items() if needle in data]


async def file_case_and_spread_the_brief(core: Core) -> str:
    """A case whose brief is quoted in stored messages, delivered and assigned, so it sits in many pages."""
    case = await core.cases.request("maria.sand", form(brief=f"Kvinna, 38 år, {MARKER}, vill ha stöd."))
    await core.cases.assign("fatima.ali", case.ref, ["linnea.fors"])
    await core.tick()
    return case.ref


@SQLITE_ONLY
async def test_withdrawn_consent_leaves_no_trace_in_the_database_wal_or_shm(
    make_core: CoreFactory, tmp_path: Path, sender: RecordingSender
) -> None:
    core = await make_core()
    db = tmp_path / "gfi.sqlite3"
    ref = await file_case_and_spread_the_brief(core)
    assert any(MARKER in s.text for s in sender.sent)
    before = store_files(db)
    assert holding(before, MARKER), "the test must see the brief on disk before the erasure"
    assert "gfi.sqlite3-wal" in before

    await core.cases.withdraw_consent("maria.sand", ref)

    after = store_files(db)
    assert holding(after, MARKER) == []
    assert holding(after, "Kvittrande") == []  # no fragment of it either
    # the store still works and still knows the case (codes and ids are kept)
    assert (await core.cases.get(ref)).brief is None


async def test_erasure_is_final_for_a_case_among_others(make_core: CoreFactory, tmp_path: Path) -> None:
    """Other cases' text stays; only the withdrawn one is gone, in every file."""
    core = await make_core()
    db = tmp_path / "gfi.sqlite3"
    keep = await core.cases.request("omar.haddad", form(brief="Pojke, 15 år, Behåll-Rödhake-0815, skolfrånvaro."))
    ref = await file_case_and_spread_the_brief(core)
    await core.cases.withdraw_consent("maria.sand", ref)
    await core.cases.request("maria.sand", form(brief="Ny förfrågan efter återkallelsen."))
    files = store_files(db)
    assert holding(files, MARKER) == []
    assert (await core.cases.get(keep.ref)).brief is not None
    assert "Behåll-Rödhake-0815" in (await core.cases.get(keep.ref)).brief


@SQLITE_ONLY
async def test_withdrawal_erases_the_brief_from_a_delivered_distribution_queue(
    make_core: CoreFactory, tmp_path: Path, clock: FrozenClock, sender: RecordingSender
) -> None:
    """The queue message has no case of its own (its `reads` lists the cases it shows): withdrawing one of
    them erases the stored message, retracts it from the channel, and leaves the brief in no file."""
    core = await make_core()
    db = tmp_path / "gfi.sqlite3"
    await core.tick()  # the first run starts from the latest slot without sending
    other = await core.cases.request("omar.haddad", form(brief="Pojke, 15 år, Behåll-Rödhake-0815."))
    case = await core.cases.request("maria.sand", form(brief=f"Kvinna, 38 år, {MARKER}, vill ha stöd."))
    await advance(core, clock, sender, local("2026-11-24T09:00"))
    [queue] = [s for s in sender.sent if s.template == "queue"]
    assert MARKER in queue.text and case.ref in queue.text and other.ref in queue.text
    assert holding(store_files(db), MARKER), "the test must see the brief on disk before the erasure"

    await core.cases.withdraw_consent("maria.sand", case.ref)

    files = store_files(db)
    assert holding(files, MARKER) == [] and holding(files, "Kvittrande") == []
    async with core.db.transaction() as tx:
        rows = await tx.fetchall("SELECT kind, status, text, message FROM outbox WHERE template = 'queue'")
        assert [(r["text"], r["message"]) for r in rows] == [("", None)]
        retract = await tx.fetchall("SELECT recipient_id FROM outbox WHERE kind = 'retract'")
        assert "fatima.ali" in [r["recipient_id"] for r in retract]  # the distributor's copy is deleted too
    await core.tick()
    assert (await core.cases.get(other.ref)).brief == "Pojke, 15 år, Behåll-Rödhake-0815."

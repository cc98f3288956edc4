"""Filing plans before its transaction and applies inside it (issue #21): the receipt and the urgent notices
are described (rendered) before the unit of work, under a placeholder reference, so that the write lock is
held for the writes alone. What is queued must be exactly what describing inside the transaction gave."""

from __future__ import annotations

import re
from datetime import date, timedelta
from typing import Any

import pytest

from bot.cases import messaging, request
from bot.clock import FrozenClock
from bot.core import Core
from tests.conftest import CoreFactory, local
from tests.timekit import describe_threads, directory_with, form

FORMS: list[dict[str, Any]] = [
    {},
    {"urgent": True},
    {"consent_valid_until": date(2027, 3, 1), "children": "ja", "contact": "Nås på 0450-12 30 00"},
    {"target_unit": "psykiatri", "consent_covers": ["halsa-behandling", "kontaktuppgifter"],
     "consent_form": "muntligt"},
    {"urgent": True, "target_unit": "vc-centrum", "children": "vet-ej"},
]
COLUMNS = ("recipient_id", "channel", "template", "text", "message", "reads", "case_ref", "urgent", "not_before",
           "created_at")


async def file_all(core: Core, clock: FrozenClock) -> list[dict[str, Any]]:
    for n, overrides in enumerate(FORMS):
        await core.cases.request("maria.sand", form(**overrides), idempotency_key=f"k{n}")
        clock.advance(timedelta(hours=5))  # the urgent ones land in and outside office hours
    async with core.db.read() as tx:
        rows = await tx.fetchall(f"SELECT {', '.join(COLUMNS)} FROM outbox ORDER BY id")
    return [dict(r) for r in rows]


async def test_the_planned_messages_are_those_described_inside(
    make_core: CoreFactory, clock: FrozenClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    start = local("2026-11-23T10:00")

    # the plan: describing inside the transaction is never needed for these forms
    planned = await make_core(db_name="planned.sqlite3")

    async def must_not_describe_inside(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("the filing described its messages inside the transaction")

    with monkeypatch.context() as m:
        m.setattr(messaging, "case_filed", must_not_describe_inside)
        got = await file_all(planned, clock)

    # the same forms filed as before the plan: the stored case differs from the planned one, so the filing
    # falls back to describing its messages inside the transaction
    clock.set(start)
    inside = await make_core(db_name="inside.sqlite3")
    real_row = request._new_case_row
    monkeypatch.setattr(request, "_new_case_row", lambda *a: {**real_row(*a), "brief": "något annat"})
    wanted = await file_all(inside, clock)

    assert len(got) >= len(FORMS) + 2  # receipts and the urgent notices to distributors
    assert got == wanted
    assert not any("-Q" in str(row["message"]) or "-Q" in str(row["text"]) for row in got)
    assert {row["case_ref"] for row in got} == {f"GFI-2026-000{n}" for n in range(1, len(FORMS) + 1)}
    assert await provisional_refs(planned) == []
    assert await provisional_refs(inside) == []


PROVISIONAL = re.compile(r"GFI-\d{4}-Q[0-9a-f]+")


async def provisional_refs(core: Core) -> list[tuple[str, str]]:
    """Every (table, value) of the whole store that still holds a provisional reference: on PostgreSQL a filing
    stores its case under one and takes the number in its last trip (`bot.store.cases.take_ref`), correcting the
    rows it wrote it on (`REF_COPIES`); a row written with it and not corrected would be found here."""
    async with core.db.read() as tx:
        if tx.engine == "sqlite":
            tables = [r["name"] for r in await tx.fetchall("SELECT name FROM sqlite_master WHERE type = 'table'")]
        else:
            tables = [r["table_name"] for r in await tx.fetchall(
                "SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema()")]
        found = []
        for table in tables:
            for row in await tx.fetchall(f'SELECT * FROM "{table}"'):
                found += [(table, str(v)) for v in row.values() if isinstance(v, str) and PROVISIONAL.search(v)]
    return found


async def test_no_row_keeps_a_provisional_reference(core: Core, clock: FrozenClock) -> None:
    """Urgent and not, in and outside office hours, with and without an idempotency key: the references are the
    year's numbers everywhere (the case, its messages, awaited items, timers, facts, audit rows)."""
    for n, overrides in enumerate(FORMS):
        await core.cases.request("maria.sand", form(**overrides), idempotency_key=f"k{n}" if n % 2 else None)
        clock.advance(timedelta(hours=7))
    assert await provisional_refs(core) == []
    async with core.db.read() as tx:
        refs = [r["case_ref"] for r in await tx.fetchall("SELECT case_ref FROM audit ORDER BY id")]
    assert refs == [f"GFI-2026-000{n}" for n in range(1, len(FORMS) + 1)]


async def test_a_skipped_first_rung_is_audited_under_the_reference(make_core: CoreFactory) -> None:
    """Nobody present on the first rung: the filing audits the skip (a hook's audit row, before the number is
    taken on PostgreSQL: held and sent after it, the case's reference read by the server), after its own row."""
    core = await make_core(directory=directory_with(absent=("fatima.ali", "gustav.lund")))
    case = await core.cases.request("maria.sand", form())
    assert case.ref == "GFI-2026-0001"
    assert await provisional_refs(core) == []
    async with core.db.read() as tx:
        rows = await tx.fetchall("SELECT action, case_ref FROM audit ORDER BY id")
    assert rows == [{"action": "request", "case_ref": case.ref}, {"action": "ladder_skipped", "case_ref": case.ref}]


async def test_the_log_lines_of_a_filing_name_its_reference(core: Core, caplog: pytest.LogCaptureFixture) -> None:
    """The audit's and the ladder's log lines are written once committed, naming the year's number (on PostgreSQL
    the unit knew the case by its provisional reference until its last trip: `Tx.final_ref`)."""
    caplog.set_level("INFO")
    case = await core.cases.request("maria.sand", form(urgent=True))
    named = [getattr(r, "case_ref", None) for r in caplog.records if hasattr(r, "case_ref")]
    events = {getattr(r, "event", None) for r in caplog.records if getattr(r, "case_ref", None) == case.ref}
    assert case.ref == "GFI-2026-0001"
    assert {"case.request", "ladder.opened"} <= events
    assert not [ref for ref in named if ref and PROVISIONAL.search(str(ref))]


async def test_nothing_is_rendered_on_the_database_thread(core: Core, monkeypatch: pytest.MonkeyPatch) -> None:
    threads = describe_threads(monkeypatch)
    case = await core.cases.request("maria.sand", form(urgent=True))
    assert case.ref == "GFI-2026-0001"
    assert len(threads) >= 2
    assert not [t for t in threads if t.startswith("gfi-db")], threads


async def test_a_retried_filing_returns_the_first_case_and_queues_nothing_more(core: Core) -> None:
    first = await core.cases.request("maria.sand", form(), idempotency_key="view:V1:abc")
    again = await core.cases.request("maria.sand", form(), idempotency_key="view:V1:abc")
    assert again.ref == first.ref
    async with core.db.read() as tx:
        assert await tx.scalar("SELECT COUNT(*) FROM outbox WHERE template = 'case_filed'") == 1

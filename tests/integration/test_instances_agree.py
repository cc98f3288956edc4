"""Two instances on one PostgreSQL database agree (issue #22 items 5 and 6): an absence registered or cancelled
on one is honoured by the other without a restart, and a Slack retry that reaches the other instance at the
same moment files nothing new. Two cores on one database stand for two `gfi-bot run` processes."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from datetime import date
from typing import Any

import psycopg
import pytest

from bot.cases.service import GfiRequest
from bot.core import Core
from bot.store.changes import PostgresChanges
from tests.conftest import CoreFactory

pytestmark = pytest.mark.parametrize("engine", ["postgresql"])


async def until(done: Callable[[], bool], seconds: float = 5.0) -> None:
    deadline = time.monotonic() + seconds
    while not done():
        assert time.monotonic() < deadline, "timed out"
        await asyncio.sleep(0.05)


async def test_an_absence_registered_on_one_instance_is_honoured_by_the_other(
    make_core: CoreFactory, engine: str,
) -> None:
    a, b = await make_core(), await make_core()
    assert b.absences.present("helena.ros")
    absence = await a.absences.mark("helena.ros", date(2026, 11, 23), date(2026, 11, 30), stand_in_id="karl.dahl")
    await until(lambda: not b.absences.present("helena.ros"))
    assert b.absences.stand_in("helena.ros") == "karl.dahl"
    await a.absences.cancel("helena.ros", absence.id)
    await until(lambda: b.absences.present("helena.ros"))


async def test_a_rolled_back_absence_is_not_announced(make_core: CoreFactory, engine: str) -> None:
    a, b = await make_core(), await make_core()
    assert isinstance(b.changes, PostgresChanges)
    await until(lambda: not b.changes._told and not b.changes._tasks)  # the reload of all at its first LISTEN
    reloads: list[str] = []
    b.changes.on("absences", lambda: _note(reloads))
    await a.absences.mark("helena.ros", date(2026, 11, 23), date(2026, 11, 30))
    await until(lambda: len(reloads) == 1)
    with pytest.raises(Exception):  # noqa: B017 - an overlap: refused inside the transaction
        await a.absences.mark("helena.ros", date(2026, 11, 24), date(2026, 11, 25))
    await asyncio.sleep(0.5)
    assert len(reloads) == 1


async def _note(reloads: list[str]) -> None:
    reloads.append("absences")


def request() -> GfiRequest:
    return GfiRequest(target_unit="beroende", case_type="ny-en", brief="man, 45 år", consent_confirmed=True,
                      children="nej")


async def test_a_retry_reaching_another_instance_at_the_same_moment_returns_the_same_case(
    make_core: CoreFactory, engine: str,
) -> None:
    cores: list[Core] = [await make_core(), await make_core(), await make_core()]
    for n in range(8):  # each key three times at once, one per instance
        key = f"slack:view:V{n}"
        cases = await asyncio.gather(*(c.cases.request("maria.sand", request(), idempotency_key=key) for c in cores))
        assert len({c.ref for c in cases}) == 1
    async with cores[0].db.transaction() as tx:
        assert await tx.scalar("SELECT COUNT(*) FROM cases") == 8
        assert await tx.scalar("SELECT COUNT(*) FROM inbound_requests WHERE case_id IS NOT NULL") == 8


def _drop_listeners(url: str) -> int:
    """Cut every change listener's connection to the server (as a lost network would), waiting until they are
    gone: what is announced until they are back reaches nobody."""
    with psycopg.connect(url, autocommit=True) as conn:
        rows = conn.execute("SELECT pg_terminate_backend(pid, 5000) FROM pg_stat_activity "
                            "WHERE application_name = 'gfi-bot-changes'").fetchall()
    return len(rows)


async def test_an_absence_registered_while_a_listener_is_cut_off_is_caught_when_it_is_back(
    make_core: CoreFactory, engine: str, caplog: pytest.LogCaptureFixture,
) -> None:
    a, b = await make_core(), await make_core()
    assert isinstance(b.changes, PostgresChanges)
    url = b.changes._url
    assert _drop_listeners(url) == 2
    await a.absences.mark("helena.ros", date(2026, 11, 23), date(2026, 11, 30), stand_in_id="karl.dahl")
    # its announcement reached no listener; B reloads everything once its listener is back
    await until(lambda: not b.absences.present("helena.ros"))
    assert b.absences.stand_in("helena.ros") == "karl.dahl"
    assert any(getattr(r, "event", "") == "store.listener_lost" for r in caplog.records)


async def test_a_listener_that_stops_closes_its_connection(make_core: CoreFactory, engine: str) -> None:
    """`close` ends the listener and its connection (its connection closing under it as it stops is not called
    lost: tests/unit/test_changes_told.py)."""
    core = await make_core()
    changes = core.changes
    assert isinstance(changes, PostgresChanges)
    listener = changes._task
    assert listener is not None
    await changes.close()
    assert listener.done()
    assert _drop_listeners(changes._url) == 0  # no listener's connection left on the server


@pytest.mark.parametrize("first_attempt_fails", [False, True])
async def test_a_change_made_before_the_first_listen_is_read(
    make_core: CoreFactory, engine: str, monkeypatch: pytest.MonkeyPatch, first_attempt_fails: bool,
) -> None:
    """A change another instance commits after this one loaded its state at start and before its listener's first
    LISTEN (a slow connect; a first attempt that failed) is read once LISTEN is in place (review of 77c8eef: it was
    read only after a reconnect; this fails without the first `_tell(None)`)."""
    a = await make_core()
    real = psycopg.AsyncConnection.connect.__func__  # type: ignore[attr-defined]
    done = False

    async def connect(cls: Any, *args: Any, **kwargs: Any) -> Any:
        nonlocal done
        if kwargs.get("application_name") == "gfi-bot-changes" and not done:
            done = True  # B has loaded its absences; A registers one before B's listener is in place
            await a.absences.mark("helena.ros", date(2026, 11, 23), date(2026, 11, 30), stand_in_id="karl.dahl")
            if first_attempt_fails:  # e.g. too many connections for a moment: the listener tries again later
                raise psycopg.OperationalError("connection refused (test)")
        return await real(cls, *args, **kwargs)

    monkeypatch.setattr(psycopg.AsyncConnection, "connect", classmethod(connect))
    b = await make_core()
    assert isinstance(b.changes, PostgresChanges) and done
    await until(lambda: not b.absences.present("helena.ros"))

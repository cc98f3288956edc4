"""Group commit (`bot.store.group`): units queued while the write connection is busy are applied together, one
trip and one commit, each in a savepoint of its own. A unit that fails is rolled back alone and gets its own
error; the others commit and their after-commit callbacks run; if the group cannot commit, none is stored."""

from __future__ import annotations

import asyncio

import pytest

from bot.core import Core
from bot.store import Tx, group

INSERT = "INSERT INTO ref_counters (year, last) VALUES (?, ?)"


async def years(tx: Tx) -> list[int]:
    return [int(r["year"]) for r in await tx.fetchall("SELECT year FROM ref_counters WHERE year >= 4000 ORDER BY year")]


def unit(year: int, seen: list[int], *, fail: bool = False):  # type: ignore[no-untyped-def]
    async def work(tx: Tx) -> int:
        await tx.write(INSERT, (year, 1))
        if fail:  # the same key again: this unit's own statement fails
            await tx.write(INSERT, (year, 2))
            await years(tx)
        tx.after_commit(lambda: seen.append(year))
        return year

    return work


@pytest.fixture
def grouped(core: Core) -> None:
    """Group commit as the store has it: on SQLite up to `group.MAX_GROUP` units. PostgreSQL has no groups: each
    unit is a transaction of its own on the instance's pool of write connections (tests/integration/
    test_store_writers.py)."""
    if core.db.engine != "sqlite":
        pytest.skip("no groups on PostgreSQL: one unit per transaction, on the writer pool")
    assert core.db.MAX_GROUP == group.MAX_GROUP


@pytest.mark.usefixtures("grouped")
async def test_queued_units_are_applied_together_and_fail_alone(core: Core, monkeypatch: pytest.MonkeyPatch) -> None:
    sizes: list[int] = []
    apply = group.apply

    def counted(conn, tx_type, begin, queued):  # type: ignore[no-untyped-def]
        sizes.append(len(queued))
        return apply(conn, tx_type, begin, queued)

    monkeypatch.setattr(group, "apply", counted)
    seen: list[int] = []
    results = await asyncio.gather(*(core.db.run(unit(4000 + n, seen, fail=n == 7)) for n in range(20)),
                                   return_exceptions=True)
    assert len(sizes) < 20 and max(sizes) > 1  # grouped: fewer trips than units
    assert max(sizes) <= core.db.MAX_GROUP
    failed = [r for r in results if isinstance(r, BaseException)]
    assert len(failed) == 1 and "4007" not in str(seen)  # its own error, and no callback for it
    assert [r for r in results if not isinstance(r, BaseException)] == [4000 + n for n in range(20) if n != 7]
    assert sorted(seen) == [4000 + n for n in range(20) if n != 7]
    assert await core.db.run_read(years) == [4000 + n for n in range(20) if n != 7]


@pytest.mark.usefixtures("grouped")
async def test_a_unit_sees_what_the_units_before_it_in_the_group_wrote(core: Core) -> None:
    async def reads(tx: Tx) -> list[int]:
        return await years(tx)

    seen: list[int] = []
    outcome = await asyncio.gather(core.db.run(unit(4100, seen)), core.db.run(unit(4101, seen)), core.db.run(reads))
    assert outcome[2] == [4100, 4101]


async def test_a_group_that_cannot_commit_stores_none_of_its_units(core: Core, monkeypatch: pytest.MonkeyPatch
                                                                   ) -> None:
    if core.db.engine != "sqlite":
        pytest.skip("no groups on PostgreSQL (tests/integration/test_store_writers.py)")
    apply = group.apply

    def failing_commit(conn, tx_type, begin, queued):  # type: ignore[no-untyped-def]
        queued = [*queued, (broken, queued[-1][1])]
        return apply(conn, tx_type, begin, queued)

    async def broken(tx: Tx) -> None:
        raise KeyboardInterrupt  # not a unit's own failure: the whole transaction goes

    monkeypatch.setattr(group, "apply", failing_commit)
    seen: list[int] = []
    with pytest.raises(KeyboardInterrupt):
        await core.db.run(unit(4200, seen))
    monkeypatch.setattr(group, "apply", apply)
    assert seen == []
    assert await core.db.run_read(years) == []
    await core.db.run(unit(4201, seen))  # the connection is clean
    assert await core.db.run_read(years) == [4201]


async def test_a_unit_whose_caller_gave_up_before_it_began_is_not_applied(core: Core) -> None:
    seen: list[int] = []
    async with core.db.transaction():  # the write connection is busy: the unit queues behind it
        waiting = asyncio.create_task(core.db.run(unit(4300, seen)))
        await asyncio.sleep(0.05)
        waiting.cancel()
        with pytest.raises(asyncio.CancelledError):
            await waiting
    await core.db.run(unit(4301, seen))
    assert await core.db.run_read(years) == [4301] and seen == [4301]


async def test_an_after_commit_callback_that_fails_does_not_unsay_the_commit(core: Core) -> None:
    async def work(tx: Tx) -> int:
        await tx.write(INSERT, (4400, 1))
        tx.after_commit(lambda: 1 / 0)
        tx.after_commit(lambda: seen.append(4400))
        return 4400

    seen: list[int] = []
    assert await core.db.run(work) == 4400 and seen == [4400]
    assert await core.db.run_read(years) == [4400]


class _Watched:
    """A connection whose statements sent by `execute` are noted (everything else is the connection's own)."""

    def __init__(self, conn: object, seen: list[str]) -> None:
        self._conn = conn
        self._seen = seen

    def execute(self, sql: object, *args: object, **kwargs: object) -> object:
        self._seen.append(str(sql))
        return self._conn.execute(sql, *args, **kwargs)  # type: ignore[attr-defined]

    def __getattr__(self, name: str) -> object:
        return getattr(self._conn, name)


async def test_a_unit_alone_pays_no_savepoint(core: Core, monkeypatch: pytest.MonkeyPatch) -> None:
    """A group of one (the setting is 1, or nothing else was queued) is begin, the unit, commit: SAVEPOINT and
    RELEASE around it would be two statements that buy nothing. A unit that fails alone is still rolled back."""
    if core.db.engine != "sqlite":
        pytest.skip("no groups on PostgreSQL: every unit is a transaction of its own (bot.store.writers)")
    seen: list[str] = []
    apply = group.apply

    def watched(conn, tx_type, begin, queued):  # type: ignore[no-untyped-def]
        return apply(_Watched(conn, seen), tx_type, begin, queued)

    monkeypatch.setattr(group, "apply", watched)
    done: list[int] = []
    assert await core.db.run(unit(4500, done)) == 4500
    with pytest.raises(Exception, match=r"(?i)unique|duplicate"):
        await core.db.run(unit(4501, done, fail=True))
    monkeypatch.setattr(group, "apply", apply)
    assert seen and not [s for s in seen if "SAVEPOINT" in s.upper()], seen
    assert done == [4500]
    assert await core.db.run_read(years) == [4500]

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
    assert max(sizes) <= group.MAX_GROUP
    failed = [r for r in results if isinstance(r, BaseException)]
    assert len(failed) == 1 and "4007" not in str(seen)  # its own error, and no callback for it
    assert [r for r in results if not isinstance(r, BaseException)] == [4000 + n for n in range(20) if n != 7]
    assert sorted(seen) == [4000 + n for n in range(20) if n != 7]
    assert await core.db.run_read(years) == [4000 + n for n in range(20) if n != 7]


async def test_a_unit_sees_what_the_units_before_it_in_the_group_wrote(core: Core) -> None:
    async def reads(tx: Tx) -> list[int]:
        return await years(tx)

    seen: list[int] = []
    outcome = await asyncio.gather(core.db.run(unit(4100, seen)), core.db.run(unit(4101, seen)), core.db.run(reads))
    assert outcome[2] == [4100, 4101]


async def test_a_group_that_cannot_commit_stores_none_of_its_units(core: Core, monkeypatch: pytest.MonkeyPatch
                                                                   ) -> None:
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

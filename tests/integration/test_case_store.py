"""The case repository: the optimistic version check and the yearly reference counter."""

from __future__ import annotations

from bot.clock import FrozenClock
from bot.core import Core
from bot.store import cases as case_store
from tests.timekit import form


async def test_a_stale_version_changes_nothing(core: Core, clock: FrozenClock) -> None:
    case = await core.cases.request("maria.sand", form())
    async with core.db.transaction() as tx:
        assert await case_store.advance_state(tx, case.id, case.version, "assigned", clock.now())
        assert not await case_store.advance_state(tx, case.id, case.version, "closed", clock.now())
    stored = await core.cases.get(case.ref)
    assert stored.state.value == "assigned"
    assert stored.version == case.version + 1


async def test_reference_numbers_count_per_year(core: Core) -> None:
    async with core.db.transaction() as tx:
        assert [await case_store.next_ref_number(tx, 2031) for _ in range(3)] == [1, 2, 3]
        assert await case_store.next_ref_number(tx, 2032) == 1

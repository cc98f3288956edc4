"""The case repository: the optimistic version check and the yearly reference counter."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from bot.cases.codes import REF_DIGITS, format_ref, ref_prefix
from bot.clock import FrozenClock
from bot.core import Core
from bot.store import Tx
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


@pytest.mark.parametrize("last", [0, 8, 9998, 9999, 123455])
async def test_a_reference_made_by_the_insert_is_the_one_format_ref_gives(core: Core, last: int) -> None:
    """The filing takes the year's number in the case's own INSERT (`NextRef`), the reference made in SQL by
    the dialect's `zero_pad`: exactly `format_ref`'s, past four digits too."""
    year = 2040

    async def seed(tx: Tx) -> None:
        await tx.write("INSERT INTO ref_counters (year, last) VALUES (?, ?)", (year, last))

    async def file(tx: Tx) -> str:
        row = await tx.answer(await case_store.send_case(
            tx, ref=case_store.NextRef(year, ref_prefix(year), REF_DIGITS), state="requested", case_type="ny-en",
            target_unit="beroende", requester_id="maria.sand", requester_unit="soc-norr", contact=None,
            brief="Kort.", consent_scope=["kontaktuppgifter"], consent_valid_until=date(2040, 3, 1), urgent=False,
            now=datetime(2040, 1, 2, 9, tzinfo=UTC)))
        return str(row["ref"])

    if last:
        await core.db.run(seed)
    assert await core.db.run(file) == format_ref(year, last + 1)
    assert await core.db.run(file) == format_ref(year, last + 2)

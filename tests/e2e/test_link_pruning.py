"""#22 item 6: the nightly purge keeps the use of a link whose token is still valid, so the link stays
single-use over real HTTP after the purge."""

from __future__ import annotations

import aiohttp

from bot.stats.scheduled import daily_purge
from tests.conftest import local
from tests.e2e.test_graph import BRIEF, Running, running  # noqa: F401  (the fixture)
from tests.timekit import form


async def test_a_used_link_stays_used_after_the_nightly_purge(running: Running) -> None:  # noqa: F811
    r = running
    case = await r.core.cases.request("maria.sand", form(brief=BRIEF))
    await r.core.cases.assign("fatima.ali", case.ref, ["sofia.grahn"])
    ack = r.signer.url("sofia.grahn", "acknowledge", case.ref, None, r.clock.now())
    async with aiohttp.ClientSession() as http:
        async with http.post(ack) as resp:
            assert resp.status == 200
        r.clock.set(local("2026-11-30T03:30"))  # the night before the token (7 days) expires
        assert await daily_purge(r.core) is not None
        async with http.post(ack) as resp:
            assert resp.status == 410  # used, still: the purge kept the use

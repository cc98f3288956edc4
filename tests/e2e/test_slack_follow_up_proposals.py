"""Issue #10 item 6 on Slack: the requester's proposal to the region arrives with Acceptera and Avböj; Avböj asks
for confirmation, declines it, and the requester is told."""

from __future__ import annotations

from datetime import date

from tests.conftest import local
from tests.e2e.test_slack_lifecycle import action_ids, file_request
from tests.fakes.slack_bot import LINNEA, MARIA, SlackBot


async def test_a_proposal_is_declined_with_its_button(bot: SlackBot) -> None:
    ref = await file_request(bot)
    cases = bot.core.cases
    await cases.assign("fatima.ali", ref, ["linnea.fors"])
    await cases.acknowledge("linnea.fors", ref)
    await cases.book("linnea.fors", ref, local("2026-11-24T13:00"), "Rum 3", ["soc-norr", "beroende"])
    bot.clock.set(local("2026-11-24T15:00"))
    await cases.record_outcome("maria.sand", ref, "sip", evaluation_done=True)  # the requester, too
    await cases.add_follow_up("maria.sand", ref, "linnea.fors", date(2026, 12, 1), "Ordna stödsamtal")
    await bot.core.tick()
    [proposed] = await bot.dm(LINNEA, f"Maria Sand föreslår att du ansvarar för uppföljning 1 i {ref}")
    assert ("gfi_follow_up_accept", f"{ref}/1") in action_ids(proposed.params["blocks"])
    decline = next(e for b in proposed.params["blocks"] if b["type"] == "actions" for e in b["elements"]
                   if e["action_id"] == "gfi_follow_up_decline")
    assert "confirm" in decline  # asked before it happens
    await bot.click(LINNEA, "gfi_follow_up_decline", f"{ref}/1")
    await bot.settle()
    await bot.ephemeral(LINNEA, f"Förslaget till uppföljning 1 i {ref} är avböjt")
    await bot.dm(MARIA, f"Linnea Fors har avböjt förslaget till uppföljning 1 i {ref}")
    assert (await cases.get(ref)).follow_ups[0].declined

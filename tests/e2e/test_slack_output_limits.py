"""Long and hostile output delivered through the outbox to the fake Slack Web API, which refuses what Slack
refuses (slack_sdk's block validation, 50 blocks, ~12,000 characters of block text, long text)."""

from __future__ import annotations

from dataclasses import replace

from bot.channels.slack import limits
from tests.e2e.test_dispatcher_slack import LINNEA, Rig, rig, statuses  # noqa: F401 - rig is a fixture
from tests.fakes.slack_bot import FATIMA, SlackBot
from tests.fakes.slack_signing import plain_text_state
from tests.unit.test_output_escaping import HOSTILE
from tests.unit.test_slack_limits import LONG_BRIEF, UNITS, queued


async def test_a_queue_of_60_cases_with_long_briefs_is_delivered(rig: Rig) -> None:  # noqa: F811
    queues = [(u, queued(u, 60, offset=100 * k)) for k, u in enumerate(UNITS[:1])]
    assert len(queues[0][1][0].brief) == len(LONG_BRIEF) == 2000
    async with rig.core.db.transaction() as tx:
        await rig.core.outbox.enqueue(tx, "linnea.fors", "queue", urgent=True, queues=queues,
                                      ages={c.ref: "1 dag" for _, cs in queues for c in cs}, slot=None)
    await rig.core.dispatcher.run_once()
    assert [s[1] for s in await statuses(rig.core)] == ["sent"]
    [call] = rig.fake.calls("chat.postMessage")
    assert call.ok and call.params["channel"] == LINNEA
    assert limits.text_chars(call.params["blocks"]) <= limits.MESSAGE_BLOCK_CHARS
    assert "… och 50 till. Hela kön finns under Hem-fliken." in str(call.params["blocks"])


async def test_six_queues_for_a_coordinator_are_delivered(rig: Rig) -> None:  # noqa: F811
    # Six units' queues of 60 long cases in one message (units the directory no longer knows among them);
    # the coordinator filed them, so need to know lets the message through and only the limits are tested.
    queues = [(u, [replace(c, requester_id="jonas.sjo") for c in queued(u, 60, offset=100 * k)])
              for k, u in enumerate(UNITS)]
    async with rig.core.db.transaction() as tx:
        await rig.core.outbox.enqueue(tx, "jonas.sjo", "queue", urgent=True, queues=queues,
                                      ages={c.ref: "1 dag" for _, cs in queues for c in cs}, slot=None)
    await rig.core.dispatcher.run_once()
    assert [s[1] for s in await statuses(rig.core)] == ["sent"]


async def test_hostile_brief_reaches_slack_escaped(rig: Rig) -> None:  # noqa: F811
    queues = [("beroende", [replace(c, brief=HOSTILE) for c in queued("beroende", 1)])]
    async with rig.core.db.transaction() as tx:
        await rig.core.outbox.enqueue(tx, "linnea.fors", "queue", urgent=True, queues=queues,
                                      ages={c.ref: "1 dag" for _, cs in queues for c in cs}, slot=None)
    await rig.core.dispatcher.run_once()
    [call] = rig.fake.calls("chat.postMessage")
    # the notification text of a list is its title (the brief is only in the blocks)
    assert call.ok and "<!channel>" not in call.params["text"] and call.params["text"].startswith("GFI-kö för")
    assert HOSTILE in str(call.params["blocks"])  # in plain_text: shown as typed, never parsed


async def test_a_form_slack_refuses_is_explained_to_the_user(bot: SlackBot) -> None:
    from tests.e2e.test_slack_lifecycle import file_request

    ref = await file_request(bot, kort=plain_text_state(HOSTILE))
    bot.fake.fail_next("views.open", error="invalid_arguments")
    reply = await bot.click(FATIMA, "gfi_assign_open", ref)
    assert reply.status == 200
    notice = await bot.ephemeral(FATIMA, "Formuläret kunde inte öppnas")
    assert ref in notice.params["text"]

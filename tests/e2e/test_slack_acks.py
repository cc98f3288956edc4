"""Acks first and honest errors on Slack: no Slack call before an ack, a slow service answers "takes longer",
an unexpected error is shown on the form or ephemeral (never a silent close), a DM to the bot gets help."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from bot import intake
from bot.channels.slack import deadlines
from handlers.slack import common
from tests.e2e.test_slack_lifecycle import file_request, request_values
from tests.fakes.slack_bot import FATIMA, MARIA, SlackBot
from tests.fakes.slack_signing import (
    datepicker_state,
    event_body,
    multi_static_select_state,
    plain_text_state,
    static_select_state,
)

SOFIA = "U09SOFIA"  # sofia.grahn has no Slack id in the directory: found by e-mail through users.info
UNEXPECTED = "Något gick fel i GFI-boten"


def crash(*_: Any, **__: Any) -> Any:
    raise RuntimeError("boom")


# --- no Slack call before the ack ---------------------------------------------------------------------------

async def test_slow_users_info_does_not_delay_the_command_ack(bot: SlackBot) -> None:
    bot.fake.add_user(SOFIA, "sofia.grahn@rsv.example.se", "Sofia Grahn")
    bot.fake.hold("users.info")
    reply = await asyncio.wait_for(bot.command(SOFIA, "/gfi", trigger_id="t-slow"), 10)
    assert (reply.status, reply.text) == (200, "")  # acked while users.info is unanswered
    await bot.fake.until_held("users.info")
    assert bot.fake.calls("views.open") == []
    bot.fake.release("users.info")
    form = await bot.opened_view("gfi_request")
    assert "Sofia Grahn" in str(form)


async def test_slow_users_info_does_not_delay_the_click_ack(bot: SlackBot) -> None:
    bot.fake.add_user(SOFIA, "sofia.grahn@rsv.example.se", "Sofia Grahn")
    bot.fake.hold("users.info")
    reply = await asyncio.wait_for(bot.click(SOFIA, "gfi_open_request", "", home=True, trigger_id="t-h"), 10)
    assert (reply.status, reply.text) == (200, "")
    await bot.fake.until_held("users.info")
    bot.fake.release("users.info")
    await bot.opened_view("gfi_request")


async def test_submission_by_someone_not_yet_matched_asks_slack_after_the_ack(bot: SlackBot) -> None:
    bot.fake.add_user(SOFIA, "sofia.grahn@rsv.example.se", "Sofia Grahn")
    bot.fake.hold("users.info")
    values = request_values(enhet=static_select_state("soc-norr"), inhamtat=static_select_state("sofia.grahn"))
    first = await asyncio.wait_for(bot.submit(SOFIA, "gfi_request", values), 10)
    answer = first.json()
    assert answer["response_action"] == "errors"
    assert "kontrollerar vem du är" in answer["errors"]["enhet"]
    bot.fake.release("users.info")
    await bot.settle()
    again = await bot.submit(SOFIA, "gfi_request", values)
    assert again.json()["response_action"] == "update", again.text
    assert await bot.count("SELECT COUNT(*) FROM cases WHERE requester_id = 'sofia.grahn'") == 1


# --- a slow service -------------------------------------------------------------------------------------------

def held(bot: SlackBot, monkeypatch: pytest.MonkeyPatch) -> asyncio.Event:
    """Filing a request waits until the returned event is set: the service cannot answer in time."""
    gate = asyncio.Event()
    original = bot.core.cases.request

    async def slow_request(*args: Any, **kwargs: Any) -> Any:
        await gate.wait()
        return await original(*args, **kwargs)

    monkeypatch.setattr(bot.core.cases, "request", slow_request)
    return gate


async def test_slow_request_acks_in_time_and_reports_the_outcome_later(
    bot: SlackBot, monkeypatch: pytest.MonkeyPatch
) -> None:
    gate = held(bot, monkeypatch)

    monkeypatch.setattr(bot.ctx, "ack_budget", 0.0)  # the service cannot answer in time
    reply = await asyncio.wait_for(bot.submit(MARIA, "gfi_request", request_values()), 10)
    answer = reply.json()
    assert answer["response_action"] == "update"
    assert "Det tar längre tid än vanligt" in str(answer["view"])
    assert "skicka förfrågan igen" not in str(answer["view"])  # kept: nothing to send again
    assert await bot.count("SELECT COUNT(*) FROM cases") == 0
    # answered "registreras" only once the form is stored (bot/intake.py): a crash now would lose nothing
    assert await bot.count("SELECT COUNT(*) FROM intake") == 1
    gate.set()
    [update] = await bot.fake.wait_for("views.update")
    assert "Din GFI-förfrågan är registrerad: GFI-2026-0001" in str(update.params["view"])
    await bot.dm(MARIA, "Din GFI-förfrågan är registrerad")
    assert await bot.count("SELECT COUNT(*) FROM cases") == 1
    await bot.settle()
    assert await bot.count("SELECT COUNT(*) FROM intake") == 0  # let go of once filed


async def test_a_late_request_whose_form_cannot_be_kept_says_to_send_it_again(
    bot: SlackBot, monkeypatch: pytest.MonkeyPatch
) -> None:
    gate = held(bot, monkeypatch)

    async def broken_keep(*args: Any, **kwargs: Any) -> None:
        raise OSError("the store cannot be written")

    monkeypatch.setattr(intake, "keep", broken_keep)
    monkeypatch.setattr(bot.ctx, "ack_budget", 0.0)
    try:
        reply = await asyncio.wait_for(bot.submit(MARIA, "gfi_request", request_values()), 10)
    finally:
        gate.set()
    view = str(reply.json()["view"])
    assert "Din GFI-förfrågan registreras" in view and "skicka förfrågan igen" in view
    [update] = await bot.fake.wait_for("views.update")  # and if the bot goes on, the reference all the same
    assert "Din GFI-förfrågan är registrerad: GFI-2026-0001" in str(update.params["view"])


async def test_the_ack_budget_counts_from_the_requests_arrival(
    bot: SlackBot, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A submission that waited for its turn (a busy event loop) has less of Slack's three seconds left: Bolt
    answers 404 three seconds after the arrival, whatever the listener still waits for. Here it arrived long
    ago: it is answered at once that the request is being registered, and the case follows."""
    gate = held(bot, monkeypatch)
    stamped: list[float | None] = []

    def long_ago() -> float:
        stamped.append(deadlines._ARRIVED.get(None))  # what the HTTP middleware stamped, seen by the listener
        return asyncio.get_running_loop().time() - 100.0

    monkeypatch.setattr(bot.ctx, "ack_budget", 60.0)  # counted from the arrival, 100 s ago: nothing left
    monkeypatch.setattr(common, "arrived_at", long_ago)
    try:
        reply = await asyncio.wait_for(bot.submit(MARIA, "gfi_request", request_values()), 20)
    finally:
        gate.set()  # a failing run must not leave the filing waiting
    assert reply.status == 200
    view = str(reply.json()["view"])
    assert "Din GFI-förfrågan registreras" in view and "tar längre tid än vanligt" in view
    assert stamped and stamped[0] is not None
    [update] = await bot.fake.wait_for("views.update")
    assert "Din GFI-förfrågan är registrerad: GFI-2026-0001" in str(update.params["view"])
    assert await bot.count("SELECT COUNT(*) FROM cases") == 1


async def test_request_with_a_field_the_service_rejects_gets_errors_on_the_form(bot: SlackBot) -> None:
    """The service's own checks (here: a request to one's own unit) run before the ack, on the form."""
    reply = await bot.submit(MARIA, "gfi_request", request_values(enhet=static_select_state("soc-norr")))
    answer = reply.json()
    assert answer["response_action"] == "errors"
    assert "enhet" in answer["errors"]
    await bot.settle()
    assert await bot.count("SELECT COUNT(*) FROM cases") == 0
    assert bot.fake.calls("chat.postMessage") == []


async def test_slow_case_form_that_is_refused_says_so_later(bot: SlackBot, monkeypatch: pytest.MonkeyPatch) -> None:
    ref = await file_request(bot)
    monkeypatch.setattr(bot.ctx, "ack_budget", 0.0)
    reply = await bot.submit(FATIMA, "gfi_assign", {"personer": multi_static_select_state([])}, ref=ref)
    assert "Det tar längre tid än vanligt" in str(reply.json()["view"])
    [update] = await bot.fake.wait_for("views.update")
    text = str(update.params["view"])
    assert f"Det du skickade om {ref} sparades inte" in text
    assert await bot.case_state(ref) == "requested"


# --- honest errors --------------------------------------------------------------------------------------------

async def test_request_that_crashes_shows_an_error_on_the_form(bot: SlackBot, monkeypatch: pytest.MonkeyPatch,
                                                               caplog: pytest.LogCaptureFixture) -> None:
    monkeypatch.setattr(bot.core.cases, "request", crash)
    reply = await bot.submit(MARIA, "gfi_request", request_values())
    answer = reply.json()
    assert answer["response_action"] == "errors", reply.text  # the modal stays open
    assert UNEXPECTED in answer["errors"]["enhet"]
    [record] = [r for r in caplog.records if getattr(r, "event", None) == "slack.listener_failed"]
    assert record.listener == "view.gfi_request"
    assert await bot.count("SELECT COUNT(*) FROM cases") == 0


async def test_case_form_that_crashes_shows_the_error_and_can_be_sent_again(
    bot: SlackBot, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    ref = await file_request(bot)
    original = bot.core.cases.assign
    monkeypatch.setattr(bot.core.cases, "assign", crash)
    state = {"personer": {"v": multi_static_select_state(["linnea.fors"])}}
    from tests.fakes.slack_signing import interaction_body, view_submission_payload

    body = interaction_body(view_submission_payload(FATIMA, "gfi_assign", state, private_metadata=ref))
    answer = (await bot.post(body)).json()
    assert answer["response_action"] == "errors"
    assert UNEXPECTED in answer["errors"]["personer"] and ref in answer["errors"]["personer"]
    [record] = [r for r in caplog.records if getattr(r, "event", None) == "slack.listener_failed"]
    assert record.case_ref == ref
    monkeypatch.setattr(bot.core.cases, "assign", original)
    assert (await bot.post(body)).text == ""  # the same submission again is handled: closed
    await bot.settle()
    assert await bot.case_state(ref) == "assigned"


async def test_button_that_crashes_tells_the_clicker(bot: SlackBot, monkeypatch: pytest.MonkeyPatch) -> None:
    ref = await file_request(bot)
    monkeypatch.setattr(bot.core.cases, "get", crash)
    reply = await bot.click(FATIMA, "gfi_assign_open", ref)
    assert reply.status == 200
    text = (await bot.ephemeral(FATIMA, UNEXPECTED)).params["text"]
    assert ref in text


async def test_command_that_crashes_tells_the_user(bot: SlackBot, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("handlers.slack.commands.request_form", crash)
    reply = await bot.command(MARIA, "/gfi", response_url=bot.fake.response_url())
    assert (reply.status, reply.text) == (200, "")
    [answer] = await bot.fake.wait_for("response_url")
    assert UNEXPECTED in answer.params["text"]


async def test_book_form_errors_still_come_back_on_the_field(bot: SlackBot) -> None:
    ref = await file_request(bot)
    values = {"datum": datepicker_state(None), "tid": {"type": "timepicker", "selected_time": None},
              "plats": plain_text_state("Rum 3"), "enheter": multi_static_select_state(["soc-norr"])}
    answer = (await bot.submit(FATIMA, "gfi_book", values, ref=ref)).json()
    assert answer["response_action"] == "errors"


# --- the Messages tab -----------------------------------------------------------------------------------------

def dm_event(user: str, **extra: Any) -> dict[str, Any]:
    return {"type": "message", "channel_type": "im", "channel": f"D{user}", "user": user, "text": "hej",
            "ts": "1700000000.000100", "event_ts": "1700000000.000100", **extra}


async def test_a_direct_message_to_the_bot_is_answered_with_help(bot: SlackBot) -> None:
    reply = await bot.post(event_body(dm_event(MARIA), event_id="EvDM1"))
    assert reply.status == 200
    [answer] = await bot.fake.wait_for("chat.postMessage", lambda c: c.params.get("channel") == f"D{MARIA}")
    assert "/gfi" in answer.params["text"] and "Hem" in answer.params["text"]
    await bot.post(event_body(dm_event(MARIA), event_id="EvDM1"), retry_num=1)  # Slack's retry
    await bot.settle()
    assert len(bot.fake.calls("chat.postMessage")) == 1


@pytest.mark.parametrize("extra", [{"bot_id": "B0GFIBOT"}, {"subtype": "message_changed"}, {"channel_type": "channel"}],
                         ids=["own-message", "edit", "channel"])
async def test_bot_messages_edits_and_channels_are_not_answered(bot: SlackBot, extra: dict[str, Any]) -> None:
    reply = await bot.post(event_body(dm_event(MARIA, **extra)))
    assert reply.status == 200
    await bot.settle()
    assert bot.fake.calls("chat.postMessage") == []


# --- reads do not wait behind writes ---------------------------------------------------------------------------

async def test_the_queue_is_read_while_a_long_write_holds_the_database(bot: SlackBot) -> None:
    ref = await file_request(bot)
    await bot.settle()
    held, release = asyncio.Event(), asyncio.Event()

    async def long_write() -> None:
        async with bot.core.db.transaction():
            held.set()
            await release.wait()

    writer = asyncio.create_task(long_write())
    await held.wait()
    [(unit, queue)] = await asyncio.wait_for(bot.core.cases.queue("fatima.ali"), 60)
    assert (unit, [c.ref for c in queue]) == ("beroende", [ref])
    assert not writer.done()
    release.set()
    await writer


# --- Bolt answering in the listener's stead -------------------------------------------------------------------

async def test_a_submission_bolt_could_not_authorize_is_not_answered_200(bot: SlackBot) -> None:
    """The app for form submissions checks the token with Slack on its first request. When Slack refuses that
    check, Bolt answers 200 with an apology without running the listener: nothing is stored, so the answer must
    not close the form as filed (a 200 means the case is stored)."""
    bot.fake.fail_next("auth.test", error="internal_error")
    values = request_values()
    first = await asyncio.wait_for(bot.submit(MARIA, "gfi_request", values), 10)
    assert first.status == 503, first.text
    assert await bot.count("SELECT COUNT(*) FROM cases") == 0
    again = await bot.submit(MARIA, "gfi_request", values)
    assert again.json()["response_action"] == "update", again.text
    assert await bot.count("SELECT COUNT(*) FROM cases") == 1

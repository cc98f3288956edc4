"""Inbound robustness on Slack: field errors, forged/replayed/malformed requests, retries, races, refusals."""

from __future__ import annotations

import asyncio
import time

import pytest

from bot.clock import FrozenClock
from bot.store.migrations import MIGRATIONS
from tests.e2e.test_slack_lifecycle import file_request, request_values
from tests.fakes.slack_bot import FATIMA, GUSTAV, LINNEA, MARIA, SlackBot
from tests.fakes.slack_signing import (
    block_actions_payload,
    checkboxes_state,
    interaction_body,
    multi_static_select_state,
    plain_text_state,
    radio_buttons_state,
    view_submission_payload,
)

VALID_PNR = "811218-9876"  # checksum ok, nobody in particular
SAMORDNINGSNUMMER = "850761-1237"  # day + 60, checksum ok


async def assign(bot: SlackBot, user: str, ref: str, people: list[str]) -> dict:
    reply = await bot.submit(user, "gfi_assign", {"personer": multi_static_select_state(people)}, ref=ref)
    assert reply.status == 200
    return reply.json()


# --- field errors -----------------------------------------------------------------------------------

@pytest.mark.parametrize(
    ("overrides", "block", "fragment"),
    [
        ({"kort": plain_text_state(f"Man, 45 år, pnr {VALID_PNR}")}, "kort", "innehåller ett personnummer"),
        ({"kontakt": plain_text_state(f"Maria {SAMORDNINGSNUMMER}")}, "kontakt", "innehåller ett samordningsnummer"),
        ({"samtycke": checkboxes_state([])}, "samtycke", "Samtycke krävs"),
        ({"typ": radio_buttons_state("pagaende")}, "typ", "GFI ersätter inte SIP"),
        ({"typ": radio_buttons_state("svu")}, "typ", "utskrivning"),
        ({"kort": plain_text_state("   ")}, "kort", "måste fyllas i"),
        ({"enhet": {"type": "static_select", "selected_option": None}}, "enhet", "måste fyllas i"),
    ],
    ids=["personnummer", "samordningsnummer", "consent", "sip", "svu", "empty-brief", "no-unit"],
)
async def test_request_field_errors_come_back_on_the_field(
    bot: SlackBot, overrides: dict, block: str, fragment: str
) -> None:
    reply = await bot.submit(MARIA, "gfi_request", request_values(**overrides))
    assert reply.status == 200
    answer = reply.json()
    assert answer["response_action"] == "errors"
    assert fragment in answer["errors"][block], answer
    assert await bot.count("SELECT COUNT(*) FROM cases") == 0
    await bot.settle()
    assert bot.fake.calls("chat.postMessage") == []
    # Nothing of the rejected text was stored anywhere.
    assert await bot.count("SELECT COUNT(*) FROM outbox") == 0


async def test_several_field_errors_at_once(bot: SlackBot) -> None:
    reply = await bot.submit(MARIA, "gfi_request", request_values(
        kort=plain_text_state(""), samtycke=checkboxes_state([]), typ=radio_buttons_state("svu")))
    assert set(reply.json()["errors"]) == {"kort", "samtycke", "typ"}


async def test_booking_errors_on_the_fields(bot: SlackBot) -> None:
    ref = await file_request(bot)
    await assign(bot, FATIMA, ref, ["linnea.fors"])
    await bot.click(LINNEA, "gfi_ack", ref)
    await bot.ephemeral(LINNEA, "Kvitterat")
    reply = await bot.submit(LINNEA, "gfi_book", {
        "datum": {"type": "datepicker", "selected_date": "2026-11-20"},
        "tid": {"type": "timepicker", "selected_time": "13:00"},
        "plats": plain_text_state(f"Hos {VALID_PNR}"),
        "enheter": multi_static_select_state(["beroende"]),
    }, ref=ref)
    errors = reply.json()["errors"]
    assert set(errors) == {"tid", "plats", "enheter"}
    assert "minst tre aktörer" in errors["enheter"]
    assert "redan passerat" in errors["tid"]
    reply = await bot.submit(LINNEA, "gfi_book", {"plats": plain_text_state("Rum 3")}, ref=ref)
    assert set(reply.json()["errors"]) == {"datum", "tid"}
    assert await bot.case_state(ref) == "acknowledged"


# --- signatures and malformed requests ----------------------------------------------------------------

async def test_forged_and_replayed_requests_are_refused_and_store_nothing(bot: SlackBot) -> None:
    body = interaction_body(view_submission_payload(MARIA, "gfi_request",
                                                    {k: {"v": v} for k, v in request_values().items()}))
    forged = await bot.post(body, secret="not-the-secret")
    replayed = await bot.post(body, timestamp=int(time.time()) - 600)
    async with bot.http.post(bot.url, data=body, headers={"Content-Type": "application/x-www-form-urlencoded"}) as r:
        unsigned = r.status
    assert (forged.status, replayed.status, unsigned) == (401, 401, 401)
    assert "Traceback" not in forged.text
    await bot.settle()
    assert bot.fake.calls() == []
    assert await bot.count("SELECT COUNT(*) FROM cases") == 0
    assert await bot.count("SELECT COUNT(*) FROM slack_inbound") == 0
    assert await bot.count("SELECT COUNT(*) FROM inbound_requests") == 0


@pytest.mark.parametrize(
    "body",
    [b"payload=%7Bnot-json", b"[1, 2, 3]", b'{"type": ', b"payload=%5B%5D", b"payload=%7B%7D", b"", b"text=hej",
     b'{"type": "event_callback"}'],
    ids=["payload-not-json", "json-array", "truncated-json", "payload-array", "payload-no-type", "empty", "no-command",
         "event-without-event"],
)
async def test_malformed_signed_requests_get_400(bot: SlackBot, body: bytes) -> None:
    reply = await bot.post(body)
    assert reply.status == 400
    assert "Traceback" not in reply.text
    assert bot.fake.calls() == []


async def test_a_payload_missing_fields_never_gives_a_500(bot: SlackBot) -> None:
    no_value = {"type": "block_actions", "user": {"id": LINNEA}, "actions": [{"action_id": "gfi_ack"}]}
    reply = await bot.post(interaction_body(no_value))
    assert reply.status == 200  # acked, nothing done: no case reference
    no_view_type = await bot.post(interaction_body({"type": "view_submission", "user": {"id": MARIA},
                                                    "view": {"id": "V1", "callback_id": "gfi_request"}}))
    assert no_view_type.status == 400
    no_metadata = {"type": "modal", "callback_id": "gfi_book", "id": "V2", "private_metadata": "nonsense"}
    reply = await bot.post(interaction_body({"type": "view_submission", "user": {"id": LINNEA}, "view": no_metadata}))
    assert reply.status == 200 and "Traceback" not in reply.text
    await bot.settle()
    assert bot.fake.calls() == [] or all(c.method == "auth.test" for c in bot.fake.calls())


async def test_non_utf8_body_gets_400(bot: SlackBot) -> None:
    import hashlib
    import hmac

    body = b"payload=\xff\xfe"
    ts = str(int(time.time()))
    sig = "v0=" + hmac.new(b"gfi-test-signing-secret", b"v0:" + ts.encode() + b":" + body, hashlib.sha256).hexdigest()
    headers = {"X-Slack-Request-Timestamp": ts, "X-Slack-Signature": sig,
               "Content-Type": "application/x-www-form-urlencoded"}
    async with bot.http.post(bot.url, data=body, headers=headers) as resp:
        assert resp.status == 400


async def test_healthz(bot: SlackBot) -> None:
    async with bot.http.get(bot.url.replace("/slack/events", "/healthz")) as resp:
        assert resp.status == 200
        latest = max(version for version, _ in MIGRATIONS)
        assert await resp.json() == {"status": "ok", "db": True, "schema_version": latest}


# --- retries and double clicks --------------------------------------------------------------------------

async def test_retried_view_submission_files_once(bot: SlackBot) -> None:
    payload = view_submission_payload(MARIA, "gfi_request", {k: {"v": v} for k, v in request_values().items()})
    body = interaction_body(payload)
    first = await bot.post(body)
    again = await bot.post(body, retry_num=1)
    assert first.json()["response_action"] == again.json()["response_action"] == "update"
    await bot.dm(MARIA, "Din GFI-förfrågan är registrerad")
    await bot.settle()
    assert await bot.count("SELECT COUNT(*) FROM cases") == 1
    assert len(bot.fake.calls("chat.postMessage")) == 1


async def test_retried_event_is_handled_once(bot: SlackBot) -> None:
    await bot.open_home(FATIMA, event_id="Ev0042")
    await bot.open_home(FATIMA, event_id="Ev0042", retry_num=1)
    await bot.open_home(FATIMA, event_id="Ev0042", retry_num=2)
    await bot.fake.wait_for("views.publish")
    await bot.settle()
    assert len(bot.fake.calls("views.publish")) == 1


async def test_retried_click_and_double_click_act_once(bot: SlackBot) -> None:
    ref = await file_request(bot)
    await assign(bot, FATIMA, ref, ["linnea.fors"])
    await bot.dm(LINNEA, ref)
    payload = block_actions_payload(LINNEA, "gfi_ack", ref, channel_id="DU04LINNEA")
    body = interaction_body(payload)
    assert (await bot.post(body)).status == 200
    assert (await bot.post(body, retry_num=1)).status == 200  # the same click delivered again
    await bot.ephemeral(LINNEA, "Kvitterat")
    await bot.settle()
    assert len(bot.fake.calls("chat.postEphemeral")) == 1
    # A real second click (new action_ts) is refused with an explanation, not acted on.
    await bot.click(LINNEA, "gfi_ack", ref)
    await bot.ephemeral(LINNEA, f"{ref} är redan kvitterat.")
    assert await bot.count("SELECT COUNT(*) FROM audit WHERE action = 'acknowledge' AND result = 'ok'") == 1
    await bot.dm(MARIA, "har kvitterat")
    await bot.settle()
    assert len([c for c in bot.fake.calls("chat.postMessage") if "har kvitterat" in c.params["text"]]) == 1


async def test_double_submitted_booking_books_once(bot: SlackBot) -> None:
    ref = await file_request(bot)
    await assign(bot, FATIMA, ref, ["linnea.fors"])
    await bot.click(LINNEA, "gfi_ack", ref)
    await bot.ephemeral(LINNEA, "Kvitterat")
    state = {
        "datum": {"v": {"type": "datepicker", "selected_date": "2026-11-30"}},
        "tid": {"v": {"type": "timepicker", "selected_time": "13:00"}},
        "plats": {"v": plain_text_state("Rum 3")},
        "enheter": {"v": multi_static_select_state(["soc-norr", "beroende"])},
    }
    body = interaction_body(view_submission_payload(LINNEA, "gfi_book", state, private_metadata=ref))
    replies = await asyncio.gather(bot.post(body), bot.post(body, retry_num=1))
    assert [r.status for r in replies] == [200, 200]
    await bot.dm(MARIA, "GFI-möte bokat")
    await bot.settle()
    assert await bot.count("SELECT COUNT(*) FROM audit WHERE action = 'book' AND result = 'ok'") == 1


# --- concurrency ---------------------------------------------------------------------------------------------

async def test_two_distributors_assign_at_once_one_wins(bot: SlackBot) -> None:
    ref = await file_request(bot)
    fatima, gustav = await asyncio.gather(
        assign(bot, FATIMA, ref, ["linnea.fors"]),
        assign(bot, GUSTAV, ref, ["sofia.grahn"]),
    )
    answers = [a for a in (fatima, gustav) if a]
    assert len(answers) == 1, (fatima, gustav)  # exactly one was told
    [loser] = answers
    assert loser["response_action"] == "errors"
    winner_name = "Gustav Lund" if loser is fatima else "Fatima Ali"
    assert f"{ref} är redan fördelat av {winner_name}" in loser["errors"]["personer"]
    case = await bot.core.cases.get(ref)
    assert case.assignees == (["sofia.grahn"] if loser is fatima else ["linnea.fors"])
    assert await bot.count("SELECT COUNT(*) FROM audit WHERE action = 'assign' AND result = 'ok'") == 1
    assert await bot.count("SELECT COUNT(*) FROM audit WHERE action = 'assign' AND result = 'refused'") == 1


async def test_assign_button_after_someone_else_assigned_says_who(bot: SlackBot) -> None:
    ref = await file_request(bot)
    await assign(bot, FATIMA, ref, ["linnea.fors"])
    await bot.click(GUSTAV, "gfi_assign_open", ref)
    text = (await bot.ephemeral(GUSTAV, "redan fördelat")).params["text"]
    assert "Fatima Ali" in text
    assert bot.fake.calls("views.open") == []


# --- refusals and people --------------------------------------------------------------------------------------

async def test_wrong_person_gets_an_ephemeral_swedish_explanation(bot: SlackBot) -> None:
    ref = await file_request(bot)
    await bot.click(MARIA, "gfi_assign_open", ref)
    await bot.ephemeral(MARIA, "Bara fördelaren på Beroendemottagningen Åstad")
    await assign(bot, FATIMA, ref, ["linnea.fors"])
    await bot.click(MARIA, "gfi_ack", ref)
    await bot.ephemeral(MARIA, f"Bara de som {ref} är fördelat till kan kvittera")
    await bot.click(LINNEA, "gfi_book_open", ref)  # wrong state: not acknowledged yet
    await bot.ephemeral(LINNEA, "Det går inte att boka möte")
    assert await bot.case_state(ref) == "assigned"
    assert await bot.count("SELECT COUNT(*) FROM audit WHERE result = 'refused'") == 3


async def test_refusal_on_the_home_tab_opens_a_small_modal(bot: SlackBot) -> None:
    ref = await file_request(bot)
    await bot.click(MARIA, "gfi_assign_open", ref, home=True, trigger_id="trig-home")
    view = await bot.opened_view("gfi_info")
    assert "Bara fördelaren" in view["blocks"][0]["text"]["text"]


async def test_unknown_slack_user_is_told_to_contact_the_admin(bot: SlackBot) -> None:
    reply = await bot.command("U0STRANGER", "/gfi", response_url=bot.fake.response_url())
    assert (reply.status, reply.text) == (200, "")  # acked before Slack is asked who this is
    [answer] = await bot.fake.wait_for("response_url")
    assert "Kontakta systemförvaltaren" in answer.params["text"]
    assert answer.params["response_type"] == "ephemeral"
    assert bot.fake.calls("views.open") == []
    await bot.open_home("U0STRANGER")
    await bot.fake.wait_for("views.publish")
    assert "Kontakta systemförvaltaren" in str(bot.fake.home_view("U0STRANGER"))


async def test_slack_user_matched_by_email_once_and_remembered(bot: SlackBot) -> None:
    # sofia.grahn has no Slack id in the directory; Slack knows her e-mail.
    bot.fake.add_user("U09SOFIA", "Sofia.Grahn@rsv.example.se", "Sofia Grahn")
    await bot.command("U09SOFIA", "/gfi", trigger_id="t-1")
    form = await bot.opened_view("gfi_request")
    assert "Sofia Grahn" in str(form)
    await bot.command("U09SOFIA", "/gfi", trigger_id="t-2")
    await bot.opened_view("gfi_request", count=2)
    assert len(bot.fake.calls("users.info")) == 1
    assert await bot.count("SELECT COUNT(*) FROM slack_identities WHERE person_id = 'sofia.grahn'") == 1


async def test_outbound_to_a_person_without_slack_id_looks_up_the_email(bot: SlackBot) -> None:
    bot.fake.add_user("U09SOFIA", "sofia.grahn@rsv.example.se", "Sofia Grahn")
    ref = await file_request(bot)
    await assign(bot, FATIMA, ref, ["sofia.grahn"])
    [dm] = await bot.dm("U09SOFIA", f"har fördelat {ref} till dig")
    assert dm.ok
    assert len(bot.fake.calls("users.lookupByEmail")) == 1


async def test_failed_delivery_is_shown_to_the_coordinator(bot: SlackBot) -> None:
    bot.fake.fail_next("chat.postMessage", error="account_inactive")
    ref = await file_request_no_wait(bot)
    await bot.fake.wait_for("chat.postMessage")
    await bot.settle()
    assert await bot.count("SELECT COUNT(*) FROM outbox WHERE status = 'failed'") == 1
    await bot.open_home("U07JONAS")
    await bot.fake.wait_for("views.publish", lambda c: c.params["user_id"] == "U07JONAS")
    home = str(bot.fake.home_view("U07JONAS"))
    assert ref in home and "Maria Sand" in home and "account_inactive" in home


async def file_request_no_wait(bot: SlackBot) -> str:
    """File a request without waiting for its receipt (which these tests make fail): the reference from the
    store, as the ack comes before the case is filed."""
    reply = await bot.submit(MARIA, "gfi_request", request_values())
    assert reply.json()["response_action"] == "update"
    await bot.settle()
    async with bot.core.db.read() as tx:
        return str(await tx.scalar("SELECT ref FROM cases ORDER BY id DESC LIMIT 1"))


async def test_rate_limited_delivery_is_retried_later(bot: SlackBot, clock: FrozenClock) -> None:
    bot.fake.fail_next("chat.postMessage", status=429, retry_after=7)
    await file_request_no_wait(bot)
    await bot.fake.wait_for("chat.postMessage")
    await bot.settle()
    async with bot.core.db.transaction() as tx:
        row = await tx.fetchone("SELECT status, attempts, last_error, next_attempt_at FROM outbox")
    assert row is not None and row["status"] == "pending" and row["last_error"] == "slack:ratelimited"
    from datetime import datetime, timedelta
    assert datetime.fromisoformat(row["next_attempt_at"]) == clock.now() + timedelta(seconds=7)
    clock.advance(timedelta(seconds=7))
    await bot.core.tick()
    await bot.dm(MARIA, "Din GFI-förfrågan är registrerad")


async def test_home_of_a_new_assignee_shows_the_next_step_buttons(bot: SlackBot) -> None:
    ref = await file_request(bot)
    await assign(bot, FATIMA, ref, ["linnea.fors"])
    await bot.settle()
    home = bot.fake.home_view(LINNEA)
    assert home is not None and "kvittera och ta kontakt" in str(home)
    await bot.click(LINNEA, "gfi_ack", ref, home=True)
    await bot.fake.wait_for("views.publish", lambda c: c.params["user_id"] == LINNEA and "boka GFI-möte" in str(
        c.params["view"]), count=1)
    assert not bot.fake.calls("chat.postEphemeral")

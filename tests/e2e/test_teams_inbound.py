"""Teams inbound: the token gate (401 for unsigned, expired, wrong audience, wrong tenant, malformed), identity,
the request form as a card with field errors, and double submits."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.channels.teams.tokens import MAX_SKEW_SECONDS
from bot.clock import FrozenClock
from tests.fakes.teams import (
    ENTRA_ISSUER,
    ENTRA_V1_ISSUER,
    OTHER_TENANT,
    TENANT,
    KeyIssuer,
    actions_of,
    card_text,
    inputs_of,
)
from tests.fakes.teams_bot import STRANGER, TeamsBot, running_teams


@pytest.fixture
async def bot(tmp_path: Path, clock: FrozenClock) -> AsyncIterator[TeamsBot]:
    async with running_teams(tmp_path, clock) as running:
        yield running


async def nothing_stored(bot: TeamsBot) -> bool:
    return (await bot.count("SELECT COUNT(*) FROM teams_references") == 0
            and await bot.count("SELECT COUNT(*) FROM cases") == 0 and not bot.connector.posts())


def request_values(**over: str) -> dict[str, str]:
    values = {"enhet": "beroende", "typ": "ny-bada", "kort": "man, 45 år, alkohol", "kontakt": "070-123 45 67",
              "samtycke": "ja", "omfattar": "", "avser": "kontaktuppgifter,pagaende-insatser", "avser_text": "",
              "form": "skriftligt", "inhamtat": "maria.sand", "giltigt": "2027-02-01", "bradskande": "",
              "barn": "nej"}
    values.update(over)
    return values


@pytest.mark.parametrize("case", ["unsigned", "no_header", "expired", "wrong_audience", "no_kid", "garbage",
                                  "foreign_key", "token_tenant", "activity_tenant", "service_url", "basic"])
async def test_bad_requests_get_401_and_store_nothing(bot: TeamsBot, case: str) -> None:
    body = bot.activity("maria.sand", "message", text="gfi")
    url = bot.connector.url
    tokens = {
        "unsigned": bot.issuer.token(service_url=url).rsplit(".", 1)[0] + ".",
        "no_header": None,
        "expired": bot.issuer.token(service_url=url, expires_in=-3600),
        "wrong_audience": bot.issuer.token(service_url=url, aud="someone-else"),
        "no_kid": bot.issuer.token(service_url=url, kid=None),
        "garbage": "not-a-jwt",
        "foreign_key": KeyIssuer().token(service_url=url),
        "token_tenant": bot.issuer.token(service_url=url, tid=OTHER_TENANT),
        "activity_tenant": bot.issuer.token(service_url=url),
        "service_url": bot.issuer.token(service_url="https://elsewhere.example/"),
        "basic": "",
    }
    headers = {}
    if case == "activity_tenant":
        body = bot.activity("maria.sand", "message", text="gfi", tenant=OTHER_TENANT)
    if case == "basic":
        headers = {"Authorization": "Basic dXNlcjpwYXNz"}
        reply = await bot.post(body, token=None, headers=headers)
    else:
        reply = await bot.post(body, token=tokens[case])
    assert reply.status == 401
    assert await nothing_stored(bot)


def _issuer_cases(bot: TeamsBot) -> dict[str, str]:
    url = bot.connector.url
    entra = bot.entra
    assert entra is not None
    return {
        # issue #23 item 3: signature, key, audience and tenant right, the issuer wrong
        "wrong_issuer": bot.issuer.token(service_url=url, iss="https://attacker.example"),
        "no_issuer": bot.issuer.token(service_url=url, iss=""),
        "gov_bot_framework": bot.issuer.token(service_url=url, iss="https://api.botframework.us"),
        "other_tenants_entra": entra.token(service_url=url, tid=OTHER_TENANT,
                                           iss=f"https://login.microsoftonline.com/{OTHER_TENANT}/v2.0"),
        "common_entra": entra.token(service_url=url, iss="https://login.microsoftonline.com/common/v2.0"),
        # the key must come from the token's own issuer's metadata
        "entra_key_as_bot_framework": entra.token(service_url=url),
        "bot_framework_key_as_entra": bot.issuer.token(service_url=url, tid=TENANT, iss=ENTRA_ISSUER),
        # expiry: five minutes of skew at most
        "expired_beyond_skew": bot.issuer.token(service_url=url, expires_in=-(MAX_SKEW_SECONDS + 60)),
        "no_expiry": bot.issuer.token(service_url=url, exp=None),
    }


ISSUER_CASES = ["wrong_issuer", "no_issuer", "gov_bot_framework", "other_tenants_entra", "common_entra",
                "entra_key_as_bot_framework", "bot_framework_key_as_entra", "expired_beyond_skew", "no_expiry"]


@pytest.mark.parametrize("case", ISSUER_CASES)
async def test_tokens_are_checked_for_issuer_key_source_and_expiry(bot: TeamsBot, case: str) -> None:
    reply = await bot.post(bot.activity("maria.sand", "message", text="gfi"), token=_issuer_cases(bot)[case])
    assert reply.status == 401, (case, reply)
    assert await nothing_stored(bot)


async def test_the_tenants_entra_tokens_and_a_little_skew_are_accepted(bot: TeamsBot) -> None:
    entra = bot.entra
    assert entra is not None
    url = bot.connector.url
    for token in (entra.token(service_url=url, tid=TENANT, iss=ENTRA_ISSUER),
                  entra.token(service_url=url, tid=TENANT, iss=ENTRA_V1_ISSUER),
                  bot.issuer.token(service_url=url, expires_in=-(MAX_SKEW_SECONDS - 60))):
        reply = await bot.post(bot.activity("maria.sand", "message", text="gfi"), token=token)
        assert reply.status in (200, 202), reply


async def test_malformed_body_with_a_valid_token_is_refused(bot: TeamsBot) -> None:
    assert (await bot.post(b"{not json")).status == 400
    assert (await bot.post(b"[1, 2]")).status == 400
    assert (await bot.post(b"\xff\xfe")).status == 400
    assert await nothing_stored(bot)


async def test_unknown_user_is_told_whom_to_contact(bot: TeamsBot) -> None:
    reply = await bot.say(STRANGER, "gfi")
    assert reply.status in (200, 202)
    text = card_text(bot.connector.cards()[-1])
    assert "finns inte i GFI-botens katalog" in text and "IT-förvaltningen" in text
    assert await bot.count("SELECT COUNT(*) FROM teams_references") == 0


async def test_gfi_answers_with_the_request_form_and_remembers_the_chat(bot: TeamsBot) -> None:
    await bot.say("maria.sand", "gfi")
    form = bot.connector.cards(bot.chat("maria.sand"))[-1]
    inputs = {b["id"]: b for b in inputs_of(form)}
    assert {"enhet", "typ", "kort", "kontakt", "samtycke", "avser", "form", "inhamtat", "giltigt"} <= set(inputs)
    assert inputs["kontakt"]["value"]  # prefilled from the directory
    assert [a["verb"] for a in actions_of(form)] == ["request"]
    assert await bot.count("SELECT COUNT(*) FROM teams_references WHERE person_id = 'maria.sand'") == 1
    assert await bot.count("SELECT COUNT(*) FROM teams_identities WHERE person_id = 'maria.sand' "
                           "AND matched_by = 'm365_upn'") == 1


@pytest.mark.parametrize("values, field, expected", [
    ({"kort": "man född 19850101-1234"}, "kort", "personnummer"),
    ({"samtycke": ""}, "samtycke", "Samtycke krävs"),
    ({"typ": "pagaende"}, "typ", "SIP"),
    ({"enhet": "nowhere"}, "enhet", "Okänd verksamhet"),
])
async def test_field_errors_are_shown_on_the_card_and_nothing_is_stored(
        bot: TeamsBot, values: dict[str, str], field: str, expected: str) -> None:
    reply = await bot.act("maria.sand", "request", {"card": "c1", **request_values(**values)})
    assert reply.status == 200
    text = card_text(reply.card)
    assert expected in text
    assert [a["verb"] for a in actions_of(reply.card)] == ["request"]  # the form again, values kept
    kept = {i["id"]: i.get("value") for i in inputs_of(reply.card)}
    assert kept["kontakt"] == "070-123 45 67"
    assert await bot.count("SELECT COUNT(*) FROM cases") == 0


async def test_submitting_files_the_request_once_even_when_sent_twice(bot: TeamsBot) -> None:
    data = {"card": "c1", **request_values()}
    first = await bot.act("maria.sand", "request", data)
    assert "registrerad" in card_text(first.card)
    again = await bot.act("maria.sand", "request", data)  # a double click, or Teams redelivering the invoke
    assert again.status == 200
    assert await bot.count("SELECT COUNT(*) FROM cases") == 1
    assert "redan gjort" in card_text(again.card)


async def test_disguises_a_reader_sees_through_are_refused_on_the_teams_card(bot: TeamsBot) -> None:
    from tests.e2e.test_slack_free_text import READER_CASES, RLO

    for name, disguise in READER_CASES.items():
        reply = await bot.act("maria.sand", "request", {"card": "c1", **request_values(kort=f"man, nr {disguise}")})
        assert reply.status == 200
        assert "Kort kring ärendet innehåller ett personnummer" in card_text(reply.card), name
    reply = await bot.act("maria.sand", "request", {"card": "c1", **request_values(kontakt=f"Maria {RLO}")})
    assert "textriktningen" in card_text(reply.card)
    assert await bot.count("SELECT COUNT(*) FROM cases") == 0

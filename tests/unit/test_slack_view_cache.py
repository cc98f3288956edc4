"""The /gfi form rendered once per person, directory version and day (`ViewCache`), and sent as the JSON it was
encoded to once (`Encoded`, the Web API session's `json_serialize`)."""

from __future__ import annotations

import gc
import json
import weakref
from datetime import timedelta
from types import SimpleNamespace
from typing import Any, cast

import pytest
from slack_sdk.web.async_client import AsyncWebClient

from bot.channels.slack.server import web_api_session
from bot.channels.slack.views import Encoded, ViewCache, info_view, json_serialize, render_view
from bot.clock import FrozenClock
from bot.core import Core
from bot.directory import Directory
from handlers.slack import commands
from tests.fakes.slack_api import FakeSlackAPI

MARIA = "maria.sand"
FATIMA = "fatima.ali"


def context(core: Core, max_bytes: int = 1 << 20) -> Any:
    return cast(Any, SimpleNamespace(core=core, views=ViewCache(max_bytes)))


@pytest.fixture
def renders(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The people whose /gfi form was rendered."""
    seen: list[str] = []
    render = commands.request_form

    def counted(ctx: Any, person_id: str) -> dict[str, Any]:
        seen.append(person_id)
        return render(ctx, person_id)

    monkeypatch.setattr(commands, "request_form", counted)
    return seen


def unit_names(view: dict[str, Any]) -> list[str]:
    [block] = [b for b in view["blocks"] if b.get("block_id") == "enhet"]
    return [o["text"]["text"] for o in block["element"]["options"]]


async def test_the_form_is_rendered_once_per_person(core: Core, renders: list[str]) -> None:
    ctx = context(core)
    first = commands.request_view(ctx, MARIA)
    again = commands.request_view(ctx, MARIA)
    assert again == first == commands.request_form(ctx, MARIA)  # the same form as rendered each time
    assert again is not first and again.text == first.text  # read back from the text kept, for this request
    assert json.loads(first.text) == first
    assert commands.request_view(ctx, FATIMA) != first
    assert renders == [MARIA, MARIA, FATIMA]  # the second /gfi by maria.sand rendered nothing
    assert ctx.views.size == len(first.text) + len(commands.request_view(ctx, FATIMA).text)


async def test_a_new_directory_version_renders_the_form_again(core: Core, renders: list[str]) -> None:
    ctx = context(core)
    before = commands.request_view(ctx, MARIA)
    data = core.directory.data
    renamed = tuple(u.model_copy(update={"name": "Beroendemottagningen Nystad"}) if u.id == "beroende" else u
                    for u in data.units)
    core.directory.replace(Directory(data.model_copy(update={"units": renamed})))
    after = commands.request_view(ctx, MARIA)
    assert "Beroendemottagningen Nystad" in unit_names(after)
    assert "Beroendemottagningen Nystad" not in unit_names(before)
    assert renders == [MARIA, MARIA]


async def test_a_new_day_renders_the_form_again(core: Core, clock: FrozenClock, renders: list[str]) -> None:
    ctx = context(core)
    before = commands.request_view(ctx, MARIA)
    clock.advance(timedelta(days=1))
    after = commands.request_view(ctx, MARIA)
    assert after == commands.request_form(ctx, MARIA) != before  # the consent's default end moved a day
    assert renders == [MARIA, MARIA, MARIA]


async def test_the_least_recently_used_form_is_let_go_past_the_bytes(core: Core, renders: list[str]) -> None:
    sizes = [len(commands.request_view(context(core), p).text) for p in (MARIA, FATIMA)]
    renders.clear()
    ctx = context(core, max_bytes=max(sizes))  # one form at a time
    commands.request_view(ctx, MARIA)
    commands.request_view(ctx, FATIMA)
    commands.request_view(ctx, MARIA)
    assert renders == [MARIA, FATIMA, MARIA]
    assert ctx.views.size <= max(sizes)


async def test_a_form_larger_than_the_cache_is_not_kept(core: Core, renders: list[str]) -> None:
    ctx = context(core, max_bytes=100)
    assert commands.request_view(ctx, MARIA) == commands.request_view(ctx, MARIA)
    assert renders == [MARIA, MARIA]
    assert ctx.views.size == 0


async def test_the_cache_does_not_keep_an_old_directory_alive(core: Core) -> None:
    ctx = context(core)
    commands.request_view(ctx, MARIA)
    old = weakref.ref(core.directory.tables)
    replaced = core.directory.replace(Directory(core.directory.data))
    del replaced
    gc.collect()
    assert old() is None  # freed where the reload frees it, not when the next /gfi empties the cache


def test_json_serialize_is_json_dumps_with_encoded_views_spliced_in() -> None:
    view = {"type": "modal", "title": {"type": "plain_text", "text": "Ny GFI-förfrågan"}, "blocks": []}
    body = {"trigger_id": "t1", "view": Encoded(view), "n": 3}
    assert json.loads(json_serialize(body)) == {"trigger_id": "t1", "view": view, "n": 3}
    assert json_serialize(body) == json.dumps({"trigger_id": "t1", "view": view, "n": 3})
    plain = {"channel": "U1", "text": "å"}
    assert json_serialize(plain) == json.dumps(plain)


async def test_slack_receives_the_encoded_text_as_the_view() -> None:
    """The session `gfi-bot run` uses sends an Encoded view's text, not the dict (here they differ on purpose, so
    the test fails if the text is not what goes out)."""
    view = {"type": "modal", "callback_id": "gfi_request", "title": {"type": "plain_text", "text": "GFI"},
            "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": "Ärende & <ref>"}}]}
    sent = {**view, "callback_id": "from_the_text"}
    async with FakeSlackAPI(token="xoxb-test") as fake, web_api_session() as session:
        assert session.json_serialize is json_serialize
        client = AsyncWebClient(token="xoxb-test", base_url=fake.base_url, session=session)
        await client.views_open(trigger_id="t1", view=Encoded(view, json.dumps(sent)))
        [call] = fake.calls("views.open")
        assert call.params["view"] == sent
        assert call.params["trigger_id"] == "t1"


@pytest.mark.parametrize("text", [
    "Din GFI-förfrågan är registrerad: GFI-2026-0042.",
    "*fet* _kursiv_ <@U1> & <https://x|länk> `kod` ~struken~",
    "",
    "rad ett\nrad två\t\"citat\" \\ snedstreck",
    "å" * 3000,  # as long as a section's text may be
    "å" * 3001,  # longer: cut with the same note
    "\x00gfi-info-text\x00",
])
def test_the_info_view_is_the_rendered_template(core: Core, text: str) -> None:
    assert info_view(core.renderer, text) == render_view(core.renderer, "slack_info", text=text)
    assert info_view(core.renderer, text) is not info_view(core.renderer, text)  # a copy each time: fit_view's own

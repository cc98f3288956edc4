"""The Teams listeners one at a time (module-level functions taking the context), without the SDK or HTTP."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest

from bot.cases.service import GfiRequest
from bot.channels.teams.app import TeamsContext
from bot.core import Core
from bot.errors import Refusal
from bot.store.teams import TeamsStore
from handlers.teams import actions, commands
from tests.fakes.teams import actions_of, card_text


class Known:
    """Identity stand-in: every Teams caller is `person_id` (None: nobody the directory knows)."""

    def __init__(self, person_id: str | None) -> None:
        self.person_id = person_id

    async def person_for(self, context: Any) -> str | None:
        return self.person_id

    async def remember_chat(self, context: Any, person_id: str, source: str) -> None:
        return None


def context_of(core: Core, person_id: str | None) -> TeamsContext:
    return TeamsContext(core, TeamsStore(core.db, core.clock), Known(person_id))  # type: ignore[arg-type]


async def assigned(core: Core) -> str:
    case = await core.cases.request("maria.sand", GfiRequest(target_unit="beroende", case_type="ny-en",
                                                             brief="man, 45 år", consent_confirmed=True,
                                                             children="nej"))
    await core.cases.assign("fatima.ali", case.ref, ["linnea.fors"], None)
    return case.ref


async def test_acknowledge_alone(core: Core) -> None:
    ref = await assigned(core)
    ctx = context_of(core, "linnea.fors")
    content = await actions.acknowledge(ctx, "linnea.fors", {"ref": ref})
    await ctx.drain()
    assert "Kvitterat" in card_text(content) and "Linnea Fors" in card_text(content)
    assert (await core.cases.get(ref)).state.value == "acknowledged"


async def test_act_refuses_a_person_not_on_the_case(core: Core) -> None:
    ref = await assigned(core)
    with pytest.raises(Refusal):
        await actions.act(context_of(core, "maria.sand"), "maria.sand", "acknowledge", {"ref": ref}, "k1")
    assert (await core.cases.get(ref)).state.value == "assigned"


async def test_on_execute_for_an_unknown_caller_answers_the_unknown_user_card(core: Core) -> None:
    turn = SimpleNamespace(activity=SimpleNamespace(value={"action": {"verb": "acknowledge"}}))
    answer = await actions.on_execute(context_of(core, None), turn, None, {"ref": "GFI-2026-0001"})  # type: ignore[arg-type]
    assert "Du finns inte i GFI-botens katalog" in card_text(answer.value)


async def test_mine_card_alone(core: Core) -> None:
    ref = await assigned(core)
    content = await commands.mine_card(context_of(core, "linnea.fors"), "linnea.fors")
    assert ref in card_text(content) and "man, 45 år" not in card_text(content)
    assert actions_of(content)[0]["verb"] == "acknowledge"

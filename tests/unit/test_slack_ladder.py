"""The ladder on Slack without HTTP: parsing escalation clicks, escalation lines on App Home, Home refresh."""

from __future__ import annotations

from dataclasses import replace
from typing import Any, cast

import pytest
from slack_sdk.web.async_client import AsyncWebClient

from bot.calendar import OfficeHours
from bot.channels.slack.context import HomeRefresher
from bot.channels.slack.home import MAX_VIEW_BLOCKS, HomeData, escalation_line, home_view
from bot.channels.slack.identity import SlackIdentity
from bot.clock import FrozenClock
from bot.config import DEFAULT_DIRECTORY
from bot.core import Core
from bot.directory import load_directory
from bot.home import MAX_ESCALATIONS
from bot.ladder.models import AwaitingItem, AwaitingKind, FrozenLadder, FrozenRung
from bot.rendering import Renderer
from bot.store import deliveries
from handlers.slack.clicks import parse_ladder_click
from handlers.slack.forms import PayloadError
from tests.conftest import local
from tests.fakes.slack_signing import block_actions_payload
from tests.timekit import assigned_case, form
from tests.unit.test_slack_home import buttons, case

NOW = local("2026-11-25T13:30")


@pytest.fixture(scope="module")
def renderer() -> Renderer:
    return Renderer(load_directory(DEFAULT_DIRECTORY))


# --- parsing ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("action", ["ladder_take_over", "ladder_nudge", "ladder_reassign"])
def test_a_ladder_click_in_a_dm_carries_the_item_id(action: str) -> None:
    body = block_actions_payload("U07HELENA", action, "42", channel_id="DU07HELENA", trigger_id="trig-1")
    click, item = parse_ladder_click(body)
    assert item == 42
    assert (click.user_id, click.action_id, click.channel_id, click.trigger_id) == (
        "U07HELENA", action, "DU07HELENA", "trig-1")


def test_a_ladder_click_on_app_home_has_no_channel() -> None:
    body = block_actions_payload("U07JONAS", "ladder_nudge", "7", view={"type": "home", "blocks": []})
    click, item = parse_ladder_click(body)
    assert (item, click.channel_id) == (7, None)


@pytest.mark.parametrize("value", ["", " ", "7 ", "0x10", "1e3", "GFI-2026-0001", "3/1", "-3", "²", "٣", "9" * 30])
def test_a_ladder_click_without_a_plain_item_number_is_refused(value: str) -> None:
    with pytest.raises(PayloadError):
        parse_ladder_click(block_actions_payload("U07JONAS", "ladder_take_over", value))


def test_a_ladder_click_without_actions_is_refused() -> None:
    body: dict[str, Any] = block_actions_payload("U07JONAS", "ladder_take_over", "7")
    body["actions"] = []
    with pytest.raises(PayloadError):
        parse_ladder_click(body)


@pytest.mark.parametrize("value", ["GFI-2026-0042/²", "GFI-2026-0042/99999"])
def test_a_follow_up_click_with_an_odd_number_is_refused_not_crashed(value: str) -> None:
    from handlers.slack.clicks import parse_follow_up_click

    with pytest.raises(PayloadError):
        parse_follow_up_click(block_actions_payload("U01MARIA", "gfi_follow_up_done", value))


# --- escalations on App Home -----------------------------------------------------------------------------
BEROENDE_DISTRIBUTION = FrozenLadder(
    (FrozenRung("@distributor", ("fatima.ali",), "gustav.lund"), FrozenRung("verksamhetschef", ("helena.ros",)),
     FrozenRung("psykiatrisamordnare", ("jonas.sjo",))),
    OfficeHours(),
)
BEROENDE_ACK = FrozenLadder(
    (FrozenRung("@assignees", ("linnea.fors",)), FrozenRung("@distributor", ("fatima.ali",), "gustav.lund"),
     FrozenRung("verksamhetschef", ("helena.ros",)), FrozenRung("psykiatrisamordnare", ("jonas.sjo",))),
    OfficeHours(),
)


def item(n: int = 1, **kw: Any) -> AwaitingItem:
    base = AwaitingItem(
        id=n, case_id=n, case_ref=f"GFI-2026-{n:04d}", kind=AwaitingKind.DISTRIBUTION, subject="", arm=1,
        unit_id="beroende", answerers=["fatima.ali"], since=local("2026-11-23T10:00"), due_at=None,
        ladder=BEROENDE_DISTRIBUTION, rung=2, alerted=["helena.ros", "jonas.sjo"],
    )
    return replace(base, **kw)


def test_the_line_names_the_rung_and_everyone_asked_before_it(renderer: Renderer) -> None:
    line = escalation_line(renderer, item())
    assert (line.rung, line.not_answered, line.skipped) == ("psykiatrisamordnare", ["fatima.ali", "helena.ros"], [])


def test_the_bots_own_rungs_are_shown_by_their_swedish_names(renderer: Renderer) -> None:
    at_distributor = item(kind=AwaitingKind.ACKNOWLEDGEMENT, answerers=["linnea.fors"], ladder=BEROENDE_ACK,
                          rung=1, alerted=["fatima.ali"])
    line = escalation_line(renderer, at_distributor)
    assert (line.rung, line.not_answered) == ("fördelare", ["linnea.fors"])
    view = str(home_view(renderer, HomeData("fatima.ali", NOW, escalations=[at_distributor])))
    assert "Nu hos: fördelare. Väntar fortfarande på svar från: Linnea Fors (kurator)." in view and "@" not in view


def test_a_deputy_and_skipped_rungs_are_accounted_for(renderer: Renderer) -> None:
    # fatima absent: her deputy gustav was alerted; helena absent: her rung was skipped
    skipped = item(kind=AwaitingKind.ACKNOWLEDGEMENT, answerers=["linnea.fors"], ladder=BEROENDE_ACK, rung=3,
                   alerted=["gustav.lund", "jonas.sjo"], skipped=["verksamhetschef"])
    line = escalation_line(renderer, skipped)
    assert (line.not_answered, line.skipped) == (["linnea.fors", "gustav.lund"], ["verksamhetschef"])
    view = str(home_view(renderer, HomeData("jonas.sjo", NOW, coordinator=True, escalations=[skipped])))
    assert ("Väntar fortfarande på svar från: Linnea Fors (kurator), Gustav Lund (avdelningschef).\\n"
            "Steget verksamhetschef hoppades över eftersom ingen var i tjänst.") in view


def test_coordinators_who_answered_for_an_empty_top_are_the_current_rung(renderer: Renderer) -> None:
    # nobody present on the rungs left: the present coordinators (sara is on no rung) were alerted at the top
    fallback = item(alerted=["helena.ros", "sara.holm"])
    assert escalation_line(renderer, fallback).not_answered == ["fatima.ali", "helena.ros"]


def test_home_lists_escalations_with_their_three_buttons(renderer: Renderer) -> None:
    view = home_view(renderer, HomeData("helena.ros", NOW, escalations=[item(5)]))
    text = str(view)
    assert "Öppna eskaleringar" in text
    assert "GFI-2026-0005 väntar på fördelning sedan mån 23 nov 2026 kl. 10:00" in text
    assert {("ladder_take_over", "5"), ("ladder_nudge", "5"), ("ladder_reassign", "5")} <= set(buttons(view["blocks"]))
    assert "Misslyckade utskick" not in text  # helena is not a coordinator
    nothing = str(home_view(renderer, HomeData("linnea.fors", NOW)))
    assert "Öppna eskaleringar" not in nothing  # neither alerted nor coordinator: no section at all


def test_many_escalations_are_capped_and_counted(renderer: Renderer) -> None:
    view = home_view(renderer, HomeData("jonas.sjo", NOW, coordinator=True,
                                        escalations=[item(n) for n in range(1, 26)]))
    shown = {v for a, v in buttons(view["blocks"]) if a == "ladder_nudge"}
    assert len(shown) == MAX_ESCALATIONS and "1" in shown  # the oldest first
    assert f"… och {25 - MAX_ESCALATIONS} till (äldst visas först)." in str(view)


def test_a_crowded_home_shortens_other_lists_before_escalations(renderer: Renderer) -> None:
    from bot.cases.models import CaseState

    many = [case(n, CaseState.MEETING_BOOKED) for n in range(1, 60)]
    data = HomeData("fatima.ali", NOW, requests=many, cases=many,
                    queues=[(u, [case(100 * i + n, CaseState.MEETING_BOOKED) for n in range(1, 60)])  # one queue each
                            for i, u in enumerate(("beroende", "psykiatri", "soc-norr"), start=1)], coordinator=True,
                    escalations=[item(n) for n in range(1, 13)])
    view = home_view(renderer, data)
    blocks = view["blocks"]
    assert len(blocks) <= MAX_VIEW_BLOCKS
    assert "Uppdaterad" in str(blocks[-1]) and "Misslyckade utskick" in str(view)
    shown = [v for a, v in buttons(blocks) if a == "ladder_nudge"]
    assert len(shown) == MAX_ESCALATIONS and "… och 2 till (äldst visas först)." in str(view)
    # every shortened list says how many more there are
    assert str(view).count("… och ") >= 5


# --- Home refresh ----------------------------------------------------------------------------------------
def refresher(core: Core) -> HomeRefresher:
    identity = cast(SlackIdentity, None)  # neither is used to note who changed
    return HomeRefresher(core, identity, cast(AsyncWebClient, None))


async def test_the_first_look_notes_escalations_queued_since_the_start(core: Core, clock: FrozenClock) -> None:
    await core.cases.request("maria.sand", form())
    homes = refresher(core)  # the bot starts: the first sweep both climbs and looks
    clock.set(local("2026-11-24T13:30"))
    await core.tick()
    await homes.note_escalations()
    assert {"helena.ros", "jonas.sjo", "sara.holm"} <= homes.pending
    homes.pending.clear()
    await homes.note_escalations()
    assert homes.pending == set()  # each message is looked at once


async def test_the_first_look_reads_from_shortly_before_the_newest_id(
    core: Core, clock: FrozenClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An instance's first look reads the escalations queued after LOOKBACK_IDS before the newest id, not from
    id 0: at 300k rows reading the whole outbox took 250 ms at each start."""
    from bot.channels.slack import context

    await core.cases.request("maria.sand", form())
    clock.set(local("2026-11-24T13:30"))
    await core.tick()  # escalations and other messages queued
    async with core.db.read() as tx:
        newest = await deliveries.last_id(tx)
    monkeypatch.setattr(context, "LOOKBACK_IDS", 2)
    read, escalation_recipients = [], deliveries.escalation_recipients

    async def counted(tx: Any, after_id: int, since: str) -> list[dict[str, Any]]:
        read.append(after_id)
        return await escalation_recipients(tx, after_id, since)

    monkeypatch.setattr(deliveries, "escalation_recipients", counted)
    await refresher(core).note_escalations()
    assert read == [newest - 2]


async def test_the_first_look_notes_a_catch_up_sweep_of_more_than_the_lookback(
    core: Core, clock: FrozenClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The first sweep after downtime fires every overdue rung at once, before the first look: that look starts
    from the newest id read when the server started (`start`, before any tick), not from the newest id after the
    sweep, so a catch-up of more than LOOKBACK_IDS messages has its earliest escalations' people noted too."""
    from bot.channels.slack import context

    monkeypatch.setattr(context, "LOOKBACK_IDS", 1)
    await core.cases.request("maria.sand", form())
    homes = refresher(core)
    await homes.start()  # the server starts ...
    clock.set(local("2026-11-24T13:30"))
    await core.tick()  # ... its first sweep catches up: more than LOOKBACK_IDS messages queued ...
    async with core.db.read() as tx:
        assert await tx.scalar("SELECT COUNT(*) FROM outbox WHERE id > ?", (homes._start_id,)) > 1
    await homes.note_escalations()  # ... before the first look
    assert {"helena.ros", "jonas.sjo", "sara.holm"} <= homes.pending


async def test_an_escalation_committed_after_a_higher_id_was_seen_is_still_noted(core: Core,
                                                                                 clock: FrozenClock) -> None:
    """On PostgreSQL ids commit out of order (the write pool, other instances): a look that saw the newest id
    before a lower one committed must still note that escalation's people at the next look, and only once."""
    await core.cases.request("maria.sand", form())
    homes = refresher(core)
    await homes.note_escalations()  # the first look: nothing yet
    clock.set(local("2026-11-24T13:30"))
    await core.tick()  # escalations queued ...
    async with core.db.read() as tx:
        newest = await deliveries.last_id(tx)
    homes._seen_outbox_id = newest  # ... but a look saw their ids taken before they were committed
    await homes.note_escalations()
    assert {"helena.ros", "jonas.sjo", "sara.holm"} <= homes.pending
    homes.pending.clear()
    await homes.note_escalations()
    assert homes.pending == set()  # each message is looked at once


async def test_an_escalation_that_reuses_a_purged_id_is_still_noted(core: Core, clock: FrozenClock) -> None:
    """SQLite's outbox ids are its rowids (no AUTOINCREMENT): when the nightly purge deletes the newest rows, the
    next message takes an id a look has already seen. Its escalation must still be noted (the lookback), so
    even on SQLite a look cannot read only what lies after the newest id it saw."""
    await core.cases.request("maria.sand", form())
    homes = refresher(core)
    await homes.note_escalations()  # the look has seen every id so far
    async with core.db.read() as tx:
        seen = await deliveries.last_id(tx)
    async with core.db.transaction() as tx:  # as the purge does for a case closed long ago
        await tx.execute("DELETE FROM outbox WHERE id > ?", (seen - 2,))
    clock.set(local("2026-11-24T13:30"))
    await core.tick()  # escalations queued, the first of them on an id the look has seen
    async with core.db.read() as tx:
        assert await tx.scalar("SELECT MIN(id) FROM outbox WHERE template = 'escalation'") is not None
    await homes.note_escalations()
    assert {"helena.ros", "jonas.sjo", "sara.holm"} <= homes.pending


async def test_the_first_look_ignores_what_was_queued_before_the_start(core: Core, clock: FrozenClock) -> None:
    await core.cases.request("maria.sand", form())
    clock.set(local("2026-11-24T13:30"))
    await core.tick()
    clock.set(local("2026-11-24T13:45"))
    homes = refresher(core)
    await homes.note_escalations()
    assert homes.pending == set()


async def test_a_case_action_notes_everyone_alerted_about_the_case(core: Core, clock: FrozenClock) -> None:
    await assigned_case(core)
    clock.set(local("2026-11-25T10:30"))  # no acknowledgement: fatima (Tuesday), helena (Wednesday)
    await core.tick()
    homes = refresher(core)
    core.cases.hooks.append(homes)
    await core.cases.withdraw_consent("maria.sand", "GFI-2026-0001")  # resolves silently
    assert {"fatima.ali", "helena.ros", "jonas.sjo", "sara.holm", "maria.sand", "linnea.fors"} <= homes.pending

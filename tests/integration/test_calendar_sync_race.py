"""The Outlook calendar sync reads its case, calls Graph (slow), then writes the event's row (issue #22 item 3).
A sync of the same case on another instance (a lease lost mid-call) may write the row meanwhile: the write after
the call takes the case's row lock and changes the row only if it is still as read before the call
(`CalendarSender._set`). Here instance a creates the event while the consent is withdrawn and instance b's sync
forgets the unconfirmed create. Without the check a's write put the row back to "active" on a withdrawn case,
with nothing left to cancel the event; with it, a finds the row moved on and cancels the event it made."""

from __future__ import annotations

from typing import Any

import pytest

from bot.channels.graph.calendar import CalendarSender
from bot.channels.graph.client import EventSpec
from bot.channels.graph.templates import GraphTemplates
from bot.clock import FrozenClock
from bot.core import Core
from bot.dispatcher import DeliveryError
from bot.outbox import OutboxMessage
from bot.store import Tx
from tests.conftest import CoreFactory, local
from tests.races import BOTH_ENGINES, Hold, two
from tests.timekit import assigned_case

pytestmark = BOTH_ENGINES


class SlowGraph:
    """Graph's events, as a stand-in: a create is held (`creating`) until let go."""

    def __init__(self, *, go: bool = False) -> None:
        self.events: dict[str, dict[str, Any]] = {}
        self.creating = Hold(go=go)

    async def create_event(self, spec: EventSpec) -> str:
        await self.creating()
        event_id = f"ev-{spec.transaction_id}"
        self.events.setdefault(event_id, {"cancelled": False})
        return event_id

    async def update_event(self, event_id: str, spec: EventSpec) -> None:
        pass

    async def cancel_event(self, event_id: str, comment: str) -> bool:
        if event_id not in self.events:
            return False
        self.events[event_id]["cancelled"] = True
        return True


def _sender(core: Core, graph: SlowGraph) -> CalendarSender:
    return CalendarSender(graph, core.db, core.directory, GraphTemplates(core.renderer),  # type: ignore[arg-type]
                          core.clock, core.cases.load)


def _row(ref: str, reason: str) -> OutboxMessage:
    return OutboxMessage(id=0, recipient_id="calendar", channel="calendar", template="calendar_event", text="",
                         blocks=None, case_ref=ref, urgent=True, attempts=0, kind="calendar", target=reason)


async def test_an_event_created_while_another_instance_forgot_it_is_cancelled(
    make_core: CoreFactory, clock: FrozenClock,
) -> None:
    a, b = await two(make_core)
    case = await assigned_case(a)
    await a.cases.acknowledge("linnea.fors", case.ref)
    await a.cases.book("linnea.fors", case.ref, local("2026-11-30T13:00"), "Rum 3", ["soc-norr", "beroende"])
    graph = SlowGraph()

    async def withdrawn_meanwhile() -> None:  # while a's create is with Graph
        await a.cases.withdraw_consent("maria.sand", case.ref)
        assert await _sender(b, graph).send(_row(case.ref, "withdraw_consent")) is None  # b forgets the create

    event_id = await graph.creating.meanwhile(_sender(a, graph).send(_row(case.ref, "book")), withdrawn_meanwhile)
    assert event_id is not None

    async def stored(tx: Tx) -> Any:
        return await tx.fetchone("SELECT state FROM calendar_events WHERE case_id = ?", (case.id,))

    assert (await a.db.run_read(stored))["state"] == "cancelled"
    assert graph.events[event_id]["cancelled"]  # nothing left in Outlook for a withdrawn case


class PausedSender(CalendarSender):
    """A sync that stops (`read`) after it read the case and its event's row, before it begins the create."""

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self.read = Hold()

    async def _create(self, case: Any, row: dict[str, object] | None) -> str | None:
        await self.read()
        return await super()._create(case, row)


def _paused(core: Core, graph: SlowGraph) -> PausedSender:
    return PausedSender(graph, core.db, core.directory, GraphTemplates(core.renderer), core.clock, core.cases.load)


async def test_a_case_withdrawn_after_the_sync_read_it_gets_no_event(
    make_core: CoreFactory, clock: FrozenClock,
) -> None:
    """Instance a reads the booked case (no event yet); the consent is withdrawn and b's sync finds nothing to
    cancel; then a begins its create. Without the case read again under its lock, a made an "active" event for a
    withdrawn case, with place and attendees, and no sync left to cancel it."""
    a, b = await two(make_core)
    case = await assigned_case(a)
    await a.cases.acknowledge("linnea.fors", case.ref)
    await a.cases.book("linnea.fors", case.ref, local("2026-11-30T13:00"), "Rum 3", ["soc-norr", "beroende"])
    graph = SlowGraph(go=True)
    sender = _paused(a, graph)

    async def withdrawn_meanwhile() -> None:  # a read the case as booked, with no event row
        await a.cases.withdraw_consent("maria.sand", case.ref)
        assert await _sender(b, graph).send(_row(case.ref, "withdraw_consent")) is None  # nothing to cancel yet

    assert await sender.read.meanwhile(sender.send(_row(case.ref, "book")), withdrawn_meanwhile) is None
    assert graph.events == {}  # Graph never asked: nothing in Outlook for a withdrawn case

    async def stored(tx: Tx) -> Any:
        return await tx.fetchone("SELECT state FROM calendar_events WHERE case_id = ?", (case.id,))

    assert (await a.db.run_read(stored)) is None


async def test_a_create_begun_after_another_instance_made_the_event_makes_no_second(
    make_core: CoreFactory, clock: FrozenClock,
) -> None:
    """Instance a reads the booked case with no event row; b's sync makes the event meanwhile. Without the row
    written only if still as read, a overwrote b's row and made a second event, b's left in Outlook and nobody's."""
    a, b = await two(make_core)
    case = await assigned_case(a)
    await a.cases.acknowledge("linnea.fors", case.ref)
    await a.cases.book("linnea.fors", case.ref, local("2026-11-30T13:00"), "Rum 3", ["soc-norr", "beroende"])
    graph = SlowGraph(go=True)
    sender = _paused(a, graph)
    made: list[str | None] = []

    async def made_meanwhile() -> None:  # a read the case as booked, with no event row
        made.append(await _sender(b, graph).send(_row(case.ref, "book")))

    assert await sender.read.meanwhile(sender.send(_row(case.ref, "book")), made_meanwhile) is None
    assert list(graph.events) == made

    async def stored(tx: Tx) -> Any:
        return await tx.fetchone("SELECT state, event_id FROM calendar_events WHERE case_id = ?", (case.id,))

    assert dict(await a.db.run_read(stored)) == {"state": "active", "event_id": made[0]}


class FailingOnceGraph(SlowGraph):
    """Graph's first create fails (a time-out: Graph may or may not have made it), so the row stays 'creating'."""

    def __init__(self) -> None:
        super().__init__(go=True)
        self.failed = False

    async def create_event(self, spec: EventSpec) -> str:
        if not self.failed:
            self.failed = True
            raise DeliveryError("graph:timeout")
        return await super().create_event(spec)


async def test_a_retried_create_of_a_case_withdrawn_after_the_sync_read_it_makes_no_event(
    make_core: CoreFactory, clock: FrozenClock,
) -> None:
    """The first create failed (its row left 'creating'); the retry reads the booked case and the row, the consent
    is withdrawn, and the retry goes on before the withdrawal's sync. Without the case read again under its lock
    before Graph is called again, the retry made the event, with place and attendees, and stored it as 'active'
    on a withdrawn case (until that sync came to cancel it); with it, Graph is never asked."""
    a = await make_core()
    case = await assigned_case(a)
    await a.cases.acknowledge("linnea.fors", case.ref)
    await a.cases.book("linnea.fors", case.ref, local("2026-11-30T13:00"), "Rum 3", ["soc-norr", "beroende"])
    graph = FailingOnceGraph()
    with pytest.raises(DeliveryError):
        await _sender(a, graph).send(_row(case.ref, "book"))

    async def stored(tx: Tx) -> Any:
        return await tx.fetchone("SELECT state FROM calendar_events WHERE case_id = ?", (case.id,))

    assert (await a.db.run_read(stored))["state"] == "creating"
    sender = _paused(a, graph)

    async def withdrawn_meanwhile() -> None:  # the retry read the case as booked, its row 'creating'
        await a.cases.withdraw_consent("maria.sand", case.ref)

    assert await sender.read.meanwhile(sender.send(_row(case.ref, "book")), withdrawn_meanwhile) is None
    assert graph.events == {}  # Graph never asked again: nothing in Outlook for a withdrawn case
    assert (await a.db.run_read(stored))["state"] == "creating"  # left for the withdrawal's sync
    assert await _sender(a, graph).send(_row(case.ref, "withdraw_consent")) is None
    assert (await a.db.run_read(stored))["state"] == "cancelled"

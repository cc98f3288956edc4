"""Delivery rules: quiet hours, and telling coordinators about messages that could not be delivered (§5), and
about those delivered after all.

Non-urgent messages that fall outside the recipient unit's office hours, or on a non-working day,
wait for the next business morning. Urgent ones go at once.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Collection
from datetime import datetime

from bot.calendar import BusinessCalendar, OfficeHours
from bot.directory import Directory, Person
from bot.dispatcher import FailureHook, RecoveryHook, RetryWindow
from bot.outbox import DeliveryPolicy, Outbox, OutboxMessage
from bot.store import Tx, deliveries
from bot.store import cases as case_store
from bot.store import outbox as outbox_store

log = logging.getLogger(__name__)

# The error a pending failure notice is cancelled with when its message turns out delivered (`tell_recovered`).
NOTICE_OVERTAKEN = "delivered after all"


def quiet_hours(directory: Directory, calendar: BusinessCalendar) -> DeliveryPolicy:
    """A DeliveryPolicy that holds non-urgent messages until the recipient's unit is open."""

    def policy(person: Person, now: datetime, urgent: bool) -> datetime:
        if urgent:
            return now
        unit = directory.unit(person.unit)
        hours = OfficeHours(unit.office_hours.start, unit.office_hours.end) if unit else OfficeHours()
        return calendar.next_business_start(now, hours)

    return policy


def retry_window(directory: Directory, calendar: BusinessCalendar) -> RetryWindow:
    """A dispatcher retry window: a non-urgent message whose retry falls after closing waits for the morning."""
    policy = quiet_hours(directory, calendar)

    def window(message: OutboxMessage, at: datetime) -> datetime:
        person = directory.person(message.recipient_id)
        if person is None or message.urgent:
            return at
        return policy(person, at, False)

    return window


def tell_coordinators(directory: Directory, outbox: Outbox) -> FailureHook:
    """A dispatcher failure hook: a permanently failed message is stamped with when it failed (/readyz counts
    the failures of the last 24 hours by it) and reported to the coordinators.

    The coordinators on the case's unit's ladder are told (all coordinators when the message has no
    case). A failed report is not reported again, so a broken coordinator channel cannot loop.
    """

    async def hook(tx: Tx, message: OutboxMessage, reason: str) -> None:
        await outbox_store.stamp_failed(tx, message.id, outbox.clock.now())
        if message.template == "delivery_failed":
            return
        coordinators = {p.id for p in directory.coordinators()}
        unit_id = None
        if message.case_ref:
            unit_id = await case_store.target_unit_of(tx, message.case_ref)
        unit = directory.unit(unit_id) if unit_id else None
        on_ladder = [p for rung in unit.ladder for p in rung.people if p in coordinators] if unit else []
        for pid in dict.fromkeys(on_ladder or sorted(coordinators)):
            if pid == message.recipient_id:
                continue
            await outbox.enqueue(
                tx, pid, "delivery_failed", case_ref=message.case_ref, dedupe_key=f"failed:{message.id}:{pid}",
                ref=message.case_ref, person=message.recipient_id, reason=reason, outbox_id=message.id,
            )

    return hook


def tell_recovered(outbox: Outbox, in_flight: Callable[[], Collection[int]] = frozenset) -> RecoveryHook:
    """A dispatcher recovery hook: a message that failed for good was delivered after all (a send whose lease ran
    out went through after another instance gave up on the row, `bot.store.copies`). Its failure notices that have
    not gone out are cancelled (still pending, and neither claimed by an instance nor among `in_flight`, this
    process's sends): nobody is told it failed. Those whose notice is being sent or went out are told it went
    through, so that nobody contacts the person about a message they got: the reference and the recipient, as the
    failure notice, never the message's text."""

    async def hook(tx: Tx, message: OutboxMessage) -> None:
        cancelled = await deliveries.cancel_failure_notices(tx, message.id, message.case_ref, NOTICE_OVERTAKEN,
                                                             in_flight())
        if cancelled:
            log.info("failure notices cancelled", extra={"event": "outbox.failure_notices_cancelled",
                                                         "outbox_id": message.id, "count": cancelled})
        for pid in await deliveries.told_of_failed(tx, message.id, message.case_ref):
            await outbox.enqueue(
                tx, pid, "delivery_recovered", case_ref=message.case_ref,
                dedupe_key=f"recovered:{message.id}:{pid}", ref=message.case_ref, person=message.recipient_id,
                outbox_id=message.id,
            )

    return hook

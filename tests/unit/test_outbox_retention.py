"""Lean storage: a delivered message's text is dropped after GFI_OUTBOX_RETENTION_DAYS (30), its status kept."""

from __future__ import annotations

from datetime import timedelta

from bot.clock import FrozenClock
from bot.core import Core
from bot.outbox import drop_old_texts
from tests.conftest import RecordingSender, local
from tests.timekit import form


async def rows(core: Core) -> list[dict]:
    async with core.db.transaction() as tx:
        return await tx.fetchall(
            "SELECT id, status, recipient_id, case_ref, template, created_at, sent_at, external_id, text, blocks, "
            "message FROM outbox ORDER BY id"
        )


def kept(row: dict) -> tuple:
    """What stays of a row after the sweep."""
    return (row["id"], row["status"], row["recipient_id"], row["case_ref"], row["template"], row["created_at"],
            row["sent_at"], row["external_id"])


async def test_text_is_dropped_after_thirty_days_not_before_and_the_status_stays(
    core: Core, clock: FrozenClock, sender: RecordingSender
) -> None:
    case = await core.cases.request("maria.sand", form())
    await core.tick()
    before = await rows(core)
    sent = [r for r in before if r["status"] == "sent"]
    # a described message is stored as its message only: its text is rendered at delivery
    assert sent and all(r["message"] and r["text"] == "" for r in sent)
    assert any(r["case_ref"] == case.ref for r in sent)
    assert sender.to("maria.sand") and all(s.text for s in sender.sent)

    clock.set(local("2026-12-23T03:30"))  # the sweep runs, 29 days and 17.5 hours after the deliveries
    await core.tick()
    ids = {s["id"] for s in sent}
    assert [r["message"] for r in await rows(core) if r["id"] in ids] == [r["message"] for r in sent]

    clock.set(local("2026-12-24T03:30"))  # the next night: more than 30 days
    await core.tick()
    after = {r["id"]: r for r in await rows(core)}
    for row in sent:
        now = after[row["id"]]
        assert (now["text"], now["blocks"], now["message"]) == ("", None, None)
        assert kept(now) == kept(row)  # status, recipient, times, case reference and Slack id stay
    assert await drop_old_texts(core.db, clock.now(), 30) == 0  # idempotent


async def test_only_final_messages_older_than_the_period_lose_their_text(core: Core, clock: FrozenClock) -> None:
    async with core.db.transaction() as tx:
        pending = await core.outbox.enqueue(tx, "linnea.fors", "slack_brist", urgent=True, coordinators=[],
                                            not_before=clock.now() + timedelta(days=60))
    await core.tick()  # the other messages of the day (none here) go; the pending one waits
    async with core.db.transaction() as tx:
        recent = await core.outbox.enqueue(tx, "linnea.fors", "slack_brist", urgent=True, coordinators=[])
    async with core.db.transaction() as tx:  # a row from before messages were described: its text only
        old = await tx.scalar(
            "INSERT INTO outbox (created_at, recipient_id, channel, template, text, not_before, next_attempt_at) "
            "VALUES (?, 'linnea.fors', 'slack', 'slack_brist', 'Brist', ?, ?) RETURNING id",
            (clock.now().isoformat(), clock.now().isoformat(), clock.now().isoformat()))
    await core.dispatcher.run_once()
    clock.advance(timedelta(days=29, hours=23))
    assert await drop_old_texts(core.db, clock.now(), 30) == 0
    clock.advance(timedelta(hours=2))
    assert await drop_old_texts(core.db, clock.now(), 30) == 2
    texts = {r["id"]: (r["status"], bool(r["text"]), bool(r["message"])) for r in await rows(core)}
    assert texts == {pending: ("pending", False, True), recent: ("sent", False, False), old: ("sent", False, False)}


async def test_a_delivered_message_can_still_be_retracted_after_its_text_is_dropped(
    core: Core, clock: FrozenClock, sender: RecordingSender
) -> None:
    case = await core.cases.request("maria.sand", form())
    await core.tick()
    clock.advance(timedelta(days=31))
    assert await drop_old_texts(core.db, clock.now(), 30) > 0
    await core.cases.withdraw_consent("maria.sand", case.ref)
    sender.clear()
    await core.dispatcher.run_once()
    assert ("maria.sand", "retract") in sender.templates()
    async with core.db.transaction() as tx:
        retractions = await tx.fetchall("SELECT target, status FROM outbox WHERE kind = 'retract'")
    assert retractions and all(r["target"] and r["status"] == "sent" for r in retractions)

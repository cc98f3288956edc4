"""Messages of the ladder: escalations, resolutions, nudges, and the brist-i-samverkan draft."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from bot.cases import offers
from bot.cases.models import Case
from bot.cases.visibility import Level, level
from bot.directory import Directory
from bot.ladder.models import AwaitingItem, AwaitingKind
from bot.outbox import Outbox, Prepared
from bot.presence import stand_in
from bot.store import Tx
from bot.store import ladder as store

if TYPE_CHECKING:
    from bot.ladder.service import LadderService

BRIST_CAUSE = "kommunikation/information"
DISPUTE_CAUSE = "forstaelse"  # a dispute about whose a case is: förståelse för varandras uppdrag (seed 004)


def follow_up_task(item: AwaitingItem, case: Case, recipient: str, directory: Directory) -> dict[str, Any]:
    """What an escalation about a follow-up (or a proposal of one) names: its number, owner and due date, and
    what it is only for a recipient who may see the whole case (a rung sees a summary: never free text)."""
    if item.kind not in (AwaitingKind.FOLLOW_UP, AwaitingKind.FOLLOW_UP_PROPOSAL):
        return {}
    for number, f in enumerate(case.follow_ups, start=1):
        if str(f.id) == item.subject:
            full = case.erased_at is None and level(case, recipient, directory) is Level.FULL
            task = {"number": number, "owner": f.owner_id, "due": f.due_date, "proposed": f.proposed}
            # with the text, the case too: the outbox checks (and logs as read) the free text it shows
            return {"task": task, "what": f.what, "case": case} if full and f.what else {"task": task}
    return {}


def dispute_reason(item: AwaitingItem, case: Case, recipient: str, directory: Directory) -> dict[str, Any]:
    """Why the receiving unit holds the case is not theirs, for a dispute's escalation to someone who may see the
    whole case (the managers on either unit's ladder do while it is open); nothing for anyone else."""
    if item.kind is not AwaitingKind.DISPUTE or not case.dispute_reason or case.erased_at is not None:
        return {}
    if level(case, recipient, directory) is not Level.FULL:
        return {}
    return {"reason": case.dispute_reason, "case": case}


def rung_name(outbox: Outbox, title: str) -> str:
    """A rung's display name: the bot's own rungs have labels, the unit's rungs their directory titles."""
    return outbox.renderer.label("RUNGS", title)


def escalation(
    outbox: Outbox, item: AwaitingItem, case: Case, recipient: str, *, rung: int,
    not_answered: list[str], skipped: list[str], top: bool, draft_id: int | None,
) -> Prepared | None:
    """The alert to one person on `rung`, described (queued by the climb's apply); deduplicated per item, rung
    and person."""
    return outbox.prepare(
        recipient, "escalation", case_ref=item.case_ref, urgent=case.urgent,
        dedupe_key=f"ladder:{item.id}:{rung}:{recipient}",
        item_id=item.id, ref=item.case_ref, kind=item.kind.value, since=item.since,
        rung_title=rung_name(outbox, item.ladder.rungs[rung].title), not_answered=not_answered,
        skipped=[rung_name(outbox, t) for t in skipped], top=top,
        draft_id=draft_id, unit=item.unit_id,
        offers=offers.escalation_for(item.id, item.case_ref, item.kind.value, item.unit_id, recipient,
                                     outbox.directory),
        standing_in_for=[p for p in item.ladder.rungs[rung].people
                         if p != recipient and stand_in(outbox.directory, p) == recipient],
        **follow_up_task(item, case, recipient, outbox.directory),
        **dispute_reason(item, case, recipient, outbox.directory),
    )


async def resolved(
    outbox: Outbox, tx: Tx, item: AwaitingItem, recipient: str, by: str, resolution: str, now: datetime,
    *, nudged: bool = False,
) -> None:
    """Tell one alerted person that the climb stopped (`nudged`: one reminded to answer, who did not)."""
    await outbox.enqueue(
        tx, recipient, "escalation_resolved", case_id=item.case_id, case_ref=item.case_ref,
        dedupe_key=f"ladder:{item.id}:resolved:{recipient}",
        ref=item.case_ref, kind=item.kind.value, by=by, resolution=resolution, at=now, nudged=nudged,
    )


# What the requester is told about as it climbs: her request's own steps (issue #18 item 12).
REQUESTER_TOLD = frozenset({AwaitingKind.DISTRIBUTION, AwaitingKind.ACKNOWLEDGEMENT, AwaitingKind.BOOKING})


def requester_escalated(outbox: Outbox, item: AwaitingItem, case: Case, rung: int,
                        people: list[str]) -> Prepared | None:
    """The requester's notice that her request went up the ladder, and to whom (summary: no free text), described
    (queued by the climb's apply); None when she is not told."""
    if item.kind not in REQUESTER_TOLD or case.requester_id in people or not people:
        return None
    return outbox.prepare(
        case.requester_id, "request_escalated", case_ref=item.case_ref,
        dedupe_key=f"ladder:{item.id}:{rung}:requester", ref=item.case_ref, kind=item.kind.value,
        since=item.since, unit=item.unit_id, people=people,
        rung_title=rung_name(outbox, item.ladder.rungs[rung].title),
    )


async def requester_taken_over(outbox: Outbox, tx: Tx, item: AwaitingItem, case: Case, actor_id: str) -> None:
    """Tell the requester who took over her request's step on the ladder."""
    if item.kind not in REQUESTER_TOLD or actor_id == case.requester_id:
        return
    await outbox.enqueue(
        tx, case.requester_id, "request_taken_over", case_id=item.case_id, case_ref=item.case_ref,
        dedupe_key=f"ladder:{item.id}:taken:{actor_id}:requester", ref=item.case_ref, kind=item.kind.value,
        actor=actor_id, unit=item.unit_id,
    )


async def nudge(outbox: Outbox, tx: Tx, item: AwaitingItem, recipient: str, actor: str, now: datetime,
                case: Case | None = None) -> None:
    """A reminder, on someone's request, to a first answerer (with the step awaited from them)."""
    offered = offers.for_message("ladder_nudge", case, recipient, outbox.directory) if case is not None else ()
    task = follow_up_task(item, case, recipient, outbox.directory).get("task") if case is not None else None
    if item.kind.value == "dispute" and case is not None:  # a line manager is reminded to settle the dispute
        offered = offers.settle(case, recipient, outbox.directory)
    await outbox.enqueue(
        tx, recipient, "ladder_nudge", case_id=item.case_id, case_ref=item.case_ref, offers=offered,
        ref=item.case_ref, kind=item.kind.value, since=item.since, actor=actor, task=task,
    )


async def create_brist_draft(
    service: LadderService, tx: Tx, item: AwaitingItem, case: Case, coordinators: list[str], now: datetime,
    skipped: list[str],
) -> int:
    """Store a prefilled *brist i samverkan* draft for the coordinator (generated text only)."""
    existing = await store.brist_draft_id(tx, item.id)
    if existing is not None:
        return existing
    directory = service.directory
    units = list(dict.fromkeys([case.requester_unit, case.target_unit, item.unit_id]))
    principals = list(dict.fromkeys(
        p.id for p in (directory.principal_of(u) for u in units) if p is not None
    ))
    titles = [rung_name(service.outbox, r.title) for r in item.ladder.rungs[1:-1]]
    what = service.outbox.renderer.render(
        "brist_draft", ref=item.case_ref, kind=item.kind.value, since=item.since, at=now, days=(now - item.since).days,
        units=units, titles=titles, skipped=[rung_name(service.outbox, t) for t in skipped],
    )
    return await store.insert_brist_draft(
        tx, awaiting_id=item.id, case_id=item.case_id, case_ref=item.case_ref, coordinators=coordinators,
        units=units, principals=principals, what_happened=what,
        causes=[DISPUTE_CAUSE if item.kind.value == "dispute" else BRIST_CAUSE], now=now,
    )

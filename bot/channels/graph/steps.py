"""What a link's action would do (before the POST), doing it (as a button would), and what the person may do
next on the case: the rules are asked of bot.cases.offers, bot.cases.rules and the ladder, never decided here."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from bot.brister import rules as brist_rules
from bot.brister.models import parse_brist_ref
from bot.brister.rules import BristAction
from bot.cases import offers
from bot.cases.disputes import confirms, decides_alone, is_coordinator
from bot.cases.rules import Action, authorize, may
from bot.channels.graph.forms import brist_report
from bot.channels.graph.links import ACTIONS, VIEW_ACTIONS, LinkClaim
from bot.errors import Refusal
from bot.messages import actions as A
from bot.messages.model import Offer
from bot.store import disputes as dispute_store

if TYPE_CHECKING:
    from bot.cases.models import Case
    from bot.core import Core
    from bot.ladder.models import AwaitingItem


async def preview(core: Core, claim: LinkClaim) -> dict[str, Any]:
    """What the action would do now (whom a reminder goes to, what is taken over); Refusal when the same rules
    as a button would refuse it."""
    pid = claim.person_id
    if claim.action in ON_LADDER and claim.item is not None:
        item = await _answerable(core, claim, claim.item)
        if claim.action == "take_over":
            core.ladder.check_take_over(item, pid)
        if claim.action == "to_samverkan" and not is_coordinator(pid, core.directory):
            raise Refusal("samverkan_not_coordinator", ref=item.case_ref, item=claim.item)
        people = item.ladder.rungs[0].present(core.directory, core.clock.now())
        return {"people": [core.directory.name(p) for p in people], "awaited": item.kind.value}
    if claim.ref is None or claim.action in VIEW_ACTIONS:
        return {}
    if claim.action == "brist_close":
        await brist_report(core, claim, BristAction.CLOSE)
        return {}
    case = await core.cases.get(claim.ref)
    if claim.action == "confirm_agreement":
        return await _agreement(core, case, pid)
    refusal = offers.refusal_now(case, pid, core.directory, claim.action, claim.item)
    if refusal is not None:
        raise refusal
    return {}


async def _agreement(core: Core, case: Case, pid: str) -> dict[str, Any]:
    """Whom the person would agree with: the other side's pending proposal (who made it, for which unit, when;
    never its text on GET), or the refusal the dispute service would give."""
    if not case.disputed:
        raise Refusal("not_disputed", ref=case.ref)
    authorize(Action.SETTLE_DISPUTE, case, pid, core.directory)
    async with core.db.read() as tx:
        row = await dispute_store.current(tx, case.id)
    if row is None:
        raise Refusal("not_disputed", ref=case.ref)
    proposer, side = row["proposed_by"], row["proposed_side"]
    if proposer is None or not row["proposal"] or decides_alone(case, pid, core.directory):
        raise Refusal("agreement_not_proposed", ref=case.ref)
    if not confirms(case, pid, proposer, side, core.directory):
        raise Refusal("agreement_same_side", ref=case.ref, by=proposer)
    return {"people": [core.directory.name(proposer)], "awaited": core.directory.unit_name(side)}


Done = tuple[str, dict[str, Any]]  # the outcome the page names, and its detail
OneClick = Callable[["Core", str, str | None, int | None], Awaitable[Done]]  # (core, person, ref, item)


def _on_case(call: Callable[[Core, str, str], Awaitable[object]], outcome: str) -> OneClick:
    """A one-click action on a case or a brist report: the service call a button makes, then its outcome."""
    async def step(core: Core, pid: str, ref: str | None, item: int | None) -> Done:
        if not ref:
            raise Refusal("link_incomplete", ref=ref)
        await call(core, pid, ref)
        return outcome, {}
    return step


def _on_follow_up(call: Callable[[Core, str, str, int], Awaitable[object]], outcome: str) -> OneClick:
    """A one-click action on a follow-up of a case (`item`, its number)."""
    async def step(core: Core, pid: str, ref: str | None, item: int | None) -> Done:
        if not ref or item is None:
            raise Refusal("link_incomplete", ref=ref)
        await call(core, pid, ref, item)
        return outcome, {}
    return step


async def _confirm_agreement(core: Core, pid: str, ref: str | None, item: int | None) -> Done:
    if not ref:
        raise Refusal("link_incomplete", ref=ref)
    settled = await core.disputes.settle(pid, ref, None)
    return ("settle_proposed" if settled.disputed else "settled"), {}


async def _answerable(core: Core, claim: LinkClaim, item: int) -> AwaitingItem:
    """The ladder's item the link is about, when the person may still answer it (and it is the link's case)."""
    found = await core.ladder.answerable(claim.person_id, item)
    if claim.ref and found.case_ref != claim.ref:
        raise Refusal("not_on_ladder", ref=claim.ref)
    return found


async def _to_samverkan(core: Core, pid: str, ref: str | None, item: int | None) -> Done:
    assert item is not None  # `perform` checked it on the ladder
    taken = await core.disputes.take_to_samverkan(pid, item)
    return "samverkan", {"ref": taken.case_ref, "draft": taken.draft_id,
                         "forum": taken.group.name if taken.group else None}


async def _nudge(core: Core, pid: str, ref: str | None, item: int | None) -> Done:
    assert item is not None
    nudged = await core.ladder.nudge(pid, item)
    return "nudged", {"people": [core.directory.name(p) for p in nudged]}


async def _take_over(core: Core, pid: str, ref: str | None, item: int | None) -> Done:
    assert item is not None
    result = await core.ladder.take_over(pid, item)
    return f"take_over_{result.action}", {"ref": result.case_ref}


# The ladder's one clicks: item = the awaited item, answerable by the person (`_answerable`) before the call.
ON_LADDER: dict[str, OneClick] = {A.LADDER_TAKE_OVER: _take_over, A.LADDER_NUDGE: _nudge, A.TO_SAMVERKAN: _to_samverkan}

# Every one-click action of a link (`links.ONE_CLICK`): the service call, as the button makes it, and the outcome
# the page names. The service decides who may; a refusal comes back as the button's would.
ONE_CLICK: dict[str, OneClick] = {
    A.ACKNOWLEDGE: _on_case(lambda core, pid, ref: core.cases.acknowledge(pid, ref), "acknowledged"),
    A.NO_SHOW: _on_case(lambda core, pid, ref: core.cases.no_show(pid, ref), "no_show"),
    A.RESUME: _on_case(lambda core, pid, ref: core.cases.resume(pid, ref), "resumed"),
    A.REOPEN: _on_case(lambda core, pid, ref: core.cases.reopen(pid, ref), "reopened"),
    A.WITHDRAW_CONSENT: _on_case(lambda core, pid, ref: core.cases.withdraw_consent(pid, ref), "withdraw_consent"),
    A.BRIST_CLOSE: _on_case(lambda core, pid, ref: core.brister.close(pid, ref), "brist_closed"),
    A.FOLLOW_UP_DONE: _on_follow_up(
        lambda core, pid, ref, n: core.cases.complete_follow_up(pid, ref, n), "completed"),
    A.ACCEPT_FOLLOW_UP: _on_follow_up(lambda core, pid, ref, n: core.cases.accept_follow_up(pid, ref, n), "accepted"),
    A.DECLINE_FOLLOW_UP: _on_follow_up(
        lambda core, pid, ref, n: core.cases.decline_follow_up(pid, ref, n), "declined"),
    A.CONFIRM_AGREEMENT: _confirm_agreement,
    **ON_LADDER,
}


async def perform(core: Core, claim: LinkClaim) -> Done:
    """Do a one-click action as the person the link was made for: (outcome, detail for the page)."""
    step = ONE_CLICK.get(claim.action)
    if step is None:
        raise Refusal("link_incomplete", ref=claim.ref)
    if claim.action in ON_LADDER:
        if claim.item is None:
            raise Refusal("link_incomplete", ref=claim.ref)
        await _answerable(core, claim, claim.item)
    return await step(core, claim.person_id, claim.ref, claim.item)


async def next_for(core: Core, person_id: str, ref: str) -> list[Offer]:
    """What the person may do next on the case or the brist report `ref`, as links can carry it."""
    if parse_brist_ref(ref):
        async with core.db.read() as tx:
            report = await core.brister.load(tx, ref)
        found = brist_rules.offers(report, person_id, core.directory)
        return [o for o in found if o.action in ACTIONS]
    return next_offers(await core.cases.get(ref), person_id, core)


def next_offers(case: Case, person_id: str, core: Core) -> list[Offer]:
    """What the person may do next on the case, as links can carry it: their next steps, naming who attends, the
    follow-ups they may mark done or accept, renewing the consent, and saying the case is not theirs or settling
    its dispute (the same offers the chat answers and messages give)."""
    directory = core.directory
    found: list[Offer] = [*offers.after_action(case, person_id, directory), *offers.appoint(case, person_id, directory)]
    if case.is_open and may(Action.RENEW_CONSENT, case, person_id, directory):
        found += offers.renew(case, person_id, directory)
    found += [*offers.dispute(case, person_id, directory), *offers.settle(case, person_id, directory)]
    for number in range(1, len(case.follow_ups) + 1):
        found += [*offers.follow_up_done(case, person_id, number),
                  *offers.accept_follow_up(case, person_id, directory, number)]
    out: list[Offer] = []
    for offer in found:
        if offer.action in ACTIONS and offer.action != "open" and offer not in out:
            out.append(offer)
    return out

"""What a link's action would do (before the POST), doing it (as a button would), and what the person may do
next on the case: the rules are asked of bot.cases.offers, bot.cases.rules and the ladder, never decided here."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from bot.cases import offers
from bot.channels.graph.links import ACTIONS, LinkClaim
from bot.errors import Refusal
from bot.messages.model import Offer

if TYPE_CHECKING:
    from bot.cases.models import Case
    from bot.core import Core


async def preview(core: Core, claim: LinkClaim) -> dict[str, Any]:
    """What the action would do now (whom a reminder goes to, what is taken over); Refusal when the same rules
    as a button would refuse it."""
    pid = claim.person_id
    if claim.action in ("take_over", "nudge") and claim.item is not None:
        item = await core.ladder.answerable(pid, claim.item)
        if claim.ref and item.case_ref != claim.ref:
            raise Refusal("not_on_ladder", ref=claim.ref)
        if claim.action == "take_over":
            core.ladder.check_take_over(item, pid)
        people = item.ladder.rungs[0].present(core.directory, core.clock.now())
        return {"people": [core.directory.name(p) for p in people], "awaited": item.kind.value}
    if claim.ref is None or claim.action == "open":
        return {}
    case = await core.cases.get(claim.ref)
    refusal = offers.refusal_now(case, pid, core.directory, claim.action, claim.item)
    if refusal is not None:
        raise refusal
    return {}


async def perform(core: Core, claim: LinkClaim) -> tuple[str, dict[str, Any]]:
    """Do a one-click action as the person the link was made for: (outcome, detail for the page)."""
    pid = claim.person_id
    if claim.action == "acknowledge" and claim.ref:
        await core.cases.acknowledge(pid, claim.ref)
        return "acknowledged", {}
    if claim.action == "complete_follow_up" and claim.ref and claim.item is not None:
        await core.cases.complete_follow_up(pid, claim.ref, claim.item)
        return "completed", {}
    if claim.action == "accept_follow_up" and claim.ref and claim.item is not None:
        await core.cases.accept_follow_up(pid, claim.ref, claim.item)
        return "accepted", {}
    if claim.action == "decline_follow_up" and claim.ref and claim.item is not None:
        await core.cases.decline_follow_up(pid, claim.ref, claim.item)
        return "declined", {}
    if claim.action == "no_show" and claim.ref:
        await core.cases.no_show(pid, claim.ref)
        return "no_show", {}
    if claim.action == "resume" and claim.ref:
        await core.cases.resume(pid, claim.ref)
        return "resumed", {}
    if claim.action in ("take_over", "nudge") and claim.item is not None:
        item = await core.ladder.answerable(pid, claim.item)
        if claim.ref and item.case_ref != claim.ref:
            raise Refusal("not_on_ladder", ref=claim.ref)
        if claim.action == "nudge":
            nudged = await core.ladder.nudge(pid, claim.item)
            return "nudged", {"people": [core.directory.name(p) for p in nudged]}
        result = await core.ladder.take_over(pid, claim.item)
        return f"take_over_{result.action}", {"ref": result.case_ref}
    raise Refusal("link_incomplete", ref=claim.ref)


def next_offers(case: Case, person_id: str, core: Core) -> list[Offer]:
    """What the person may do next on the case, as links can carry it: their next steps, naming who attends, and
    the follow-ups they may mark done or accept (the same offers a chat answer gives)."""
    directory = core.directory
    found: list[Offer] = [*offers.after_action(case, person_id, directory), *offers.appoint(case, person_id, directory)]
    for number in range(1, len(case.follow_ups) + 1):
        found += [*offers.follow_up_done(case, person_id, number),
                  *offers.accept_follow_up(case, person_id, directory, number)]
    out: list[Offer] = []
    for offer in found:
        if offer.action in ACTIONS and offer.action != "open" and offer not in out:
            out.append(offer)
    return out

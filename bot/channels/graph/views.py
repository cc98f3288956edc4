"""What a link page shows of a case after a button (never on GET: mail scanners follow links), as far as the
need-to-know rule lets the person see it, with its free text logged in the read log (channel "email"): the case
(`open`), its journal record (`journal`), and the other side's proposal in a dispute before it is confirmed.
A case the person may not see raises the Refusal the caller shows as for a case that does not exist."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from bot import audit, readlog
from bot.cases import access
from bot.cases.visibility import has_free_text, summary
from bot.channels.console.output import readable_history
from bot.errors import Refusal
from bot.journal import journal_for

if TYPE_CHECKING:
    from bot.channels.graph.links import LinkClaim
    from bot.core import Core

CHANNEL = "email"


@dataclass(frozen=True)
class Event:
    """One line of a case's history on the page: when, who, what happened (as Slack and Teams word a case's
    events; the console's `/visa` puts the same in columns)."""

    at: datetime
    who: str
    what: str


async def case_text(core: Core, claim: LinkClaim) -> tuple[str, str, list[Event]]:
    """(the case's reference, the case as the person may see it, its history as events); Refusal (audited)
    when they may not see it."""
    pid = claim.person_id
    try:
        if claim.ref is None:
            raise Refusal("link_incomplete")
        async with core.db.read() as tx:
            seen = await access.read_case(tx, core.cases.load, core.directory, pid, claim.ref)
            history = await audit.case_history(tx, seen.case.ref) if seen.full else []
            await core.disputes.history_notes(tx, seen.case, history)
    except Refusal as refusal:
        async with core.db.transaction() as tx:
            await audit.record(tx, at=core.clock.now(), actor_id=pid, action="view_case", result="refused",
                               case_ref=claim.ref, reason=refusal.code, channel=CHANNEL)
        raise
    if not seen.full:
        return seen.case.ref, core.renderer.macro("console", "case_summary", s=summary(seen.case, seen.alerts)), []
    text = core.renderer.macro("console", "case_view", case=seen.case, history=None)
    events = [Event(h["at"], core.directory.name(h["actor_id"]), core.renderer.macro("_history", "event", h=h))
              for h in readable_history(history, [f.id for f in seen.case.follow_ups])]
    if has_free_text(seen.case):
        await readlog.record_now(core.db, at=core.clock.now(), person_id=pid, refs=[seen.case.ref], view="visa",
                                 channel=CHANNEL)
    return seen.case.ref, text, events


async def journal_text(core: Core, claim: LinkClaim) -> tuple[str, str]:
    """(the case's reference, its journal record) for someone who sees the whole case, logged as read (as on
    Slack and Teams); Refusal (audited by the journal) otherwise."""
    if claim.ref is None:
        raise Refusal("link_incomplete")
    record = await journal_for(core.db, core.cases.load, core.directory, core.renderer, person_id=claim.person_id,
                               ref=claim.ref, now=core.clock.now(), channel=CHANNEL)
    return record.ref, record.text


async def proposal_text(core: Core, claim: LinkClaim) -> str | None:
    """The other side's pending proposal in the case's dispute, for someone who may confirm it and sees the whole
    case (as the Teams form's prefill), logged as read; None when there is none to show them."""
    if claim.ref is None:
        return None
    case = await core.cases.get(claim.ref)
    proposal = (await core.disputes.form_prefill(case, claim.person_id)).get("enig")
    if proposal:
        await readlog.record_now(core.db, at=core.clock.now(), person_id=claim.person_id, refs=[case.ref],
                                 view="visa", channel=CHANNEL)
    return proposal


async def report_text(core: Core, claim: LinkClaim) -> tuple[str, str]:
    """(the report's reference, the report of a brist i samverkan as it stands) for someone who may see it (as
    Slack's Visa rapporten); Refusal (audited by the service) otherwise."""
    report = await core.brister.get(claim.person_id, claim.ref or "")
    return report.ref, core.renderer.macro("brister", "report_text", r=report)

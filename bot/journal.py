"""The journal record of a case: a plain-text summary for the people in the case to paste into their own
journal system (issue #10 item 9), and the same text as a PDF (`gfi-bot journal <ref> --pdf FILE`).

Only those who see the whole case (visibility FULL: the requester, those responsible, named participants of
units the consent covers) get it; a ladder rung or coordinator who sees the summary is refused, and someone
who may not see the case at all gets the unknown-reference answer. Every journal shown is logged as a read.

What it holds: the units, the course of the case with dates (the history's successful actions), the consent
(which units, what information, until when, written or oral, who obtained it, withdrawals), who took part,
the outcome, the follow-ups and the closing reason. Not the brief or the contact details: the journal the
text goes into already has them, and the bot never holds the individual's name or identity number.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from bot import audit, readlog
from bot.cases.access import CaseLoader, read_case
from bot.cases.models import Case, parse_ref
from bot.directory import Directory
from bot.errors import Refusal
from bot.rendering import Renderer
from bot.store import Database, Tx

# Actions of the history that belong in the journal's course of events (not views, not refusals).
COURSE = ("request", "assign", "acknowledge", "book", "hold_now", "no_show", "wait", "resume", "record_outcome",
          "add_follow_up", "accept_follow_up", "decline_follow_up", "complete_follow_up", "renew_consent",
          "withdraw_consent_unit", "withdraw_consent", "consent_expired", "close", "reopen", "ladder_take_over")


@dataclass(frozen=True)
class Journal:
    """A case's journal record as text, for one reader at one time."""

    ref: str
    text: str
    made_at: datetime


def course(history: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The history rows that tell what happened, oldest first: successful case actions, `at` as a datetime."""
    out = []
    for row in history:
        if row.get("result") == "ok" and row.get("action") in COURSE:
            out.append({**row, "at": datetime.fromisoformat(str(row["at"]))})
    return out


def context(case: Case, history: list[dict[str, Any]], reader_id: str, made_at: datetime) -> dict[str, Any]:
    """Everything journal.txt.j2 needs: the case, its course, who is asking and when."""
    return {"case": case, "course": course(history), "reader": reader_id, "made_at": made_at}


async def _load(tx: Tx, load: CaseLoader, directory: Directory, person_id: str, ref: str) -> tuple[
        Case, list[dict[str, Any]]]:
    seen = await read_case(tx, load, directory, person_id, ref)  # NotFound for those who may not see it at all
    if not seen.full:
        raise Refusal("journal_not_in_case", ref=seen.case.ref)
    return seen.case, await audit.for_case(tx, seen.case.ref)


async def journal_for(db: Database, load: CaseLoader, directory: Directory, renderer: Renderer, *,
                      person_id: str, ref: str, now: datetime, channel: str) -> Journal:
    """The journal record of `ref` for `person_id`, logged as read on `channel`; Refusal, audited here, when they
    may not have it (the caller masks it as for every other view)."""
    try:
        async with db.transaction() as tx:
            case, history = await _load(tx, load, directory, person_id, ref)
            await readlog.record(tx, at=now, person_id=person_id, refs=[case.ref], view="journal", channel=channel)
    except Refusal as exc:
        await audit.record_refusal(db, at=now, actor_id=person_id, action="journal", case_ref=parse_ref(ref),
                                   reason=exc.code)
        raise
    # a case's whole history through the template: a few ms for a long case, so on a thread, off the event loop
    text = await asyncio.to_thread(renderer.render, "journal", **context(case, history, person_id, now))
    return Journal(case.ref, text, now)

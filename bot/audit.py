"""The append-only audit log: who did what, when, to which case. Codes and ids only, never free text."""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from bot.store import Database, Tx
from bot.store import audit as store

log = logging.getLogger("gfi.audit")

# What an audit row's log line carries of its detail: codes, ids and unit names. Who acted, and every person a
# detail names (person, stand_in, owner, nudged, assignees, …), stay in the audit table: a log line names no
# person (log platforms keep lines longer, and show them to more people, than the store does).
LOGGED = frozenset({
    "reason", "kind", "item", "item_id", "link_action", "label", "draft", "from_state", "to_state", "state", "rung",
    "outcome", "number", "matter", "group", "follow_up_id", "causes", "absence_id", "window_start", "start", "what",
    "urgent", "target_unit", "units", "gfi", "retention_months", "refused", "not_audited", "limited",
})


async def record(
    tx: Tx,
    *,
    at: datetime,
    actor_id: str,
    action: str,
    result: str = "ok",
    case_id: int | None = None,
    case_ref: str | None = None,
    **detail: Any,
) -> None:
    """Append one audit row, and log it as a structured event once it is committed (a unit of work rolled back,
    e.g. on a full disk, must not leave a log line saying it happened). A row about a case a filing stores under a
    provisional reference gets the year's number (`bot.store.chain.append`), and so does its log line."""
    await store.insert(
        tx, at=at, actor_id=actor_id, action=action, result=result, case_id=case_id, case_ref=case_ref, detail=detail,
    )
    tx.audited = True  # relied on outside the database once committed: `bot.fires.apply` keeps the flush
    if not log.isEnabledFor(logging.INFO):  # the line would not be written (e.g. GFI_LOG_LEVEL=WARNING): no work
        return
    extra = {"event": f"case.{action}", "result": result, "case_ref": case_ref,
             **{key: value for key, value in detail.items() if key in LOGGED}}

    tx.after_commit(lambda: log.info("audit", extra={**extra, "case_ref": tx.final_ref(case_ref) if case_ref
                                                     else case_ref}))


async def record_refusal(db: Database, *, at: datetime, actor_id: str, action: str, case_ref: str | None,
                         reason: str) -> None:
    """A refusal found before a service was reached (e.g. opening a form), audited like the service's own."""
    async with db.transaction() as tx:
        await record(tx, at=at, actor_id=actor_id, action=action, result="refused", case_ref=case_ref, reason=reason)


async def for_case(tx: Tx, case_ref: str) -> list[dict[str, Any]]:
    """The audit trail of one case, oldest first."""
    return await store.for_case(tx, case_ref)


# Audit rows a case's history (console `/visa`, the e-mail link page) leaves out: a link's own row repeats the
# action it did, or records a refused, used or renewed link. They stay in the audit log.
NOT_IN_HISTORY = frozenset({"link"})


async def case_history(tx: Tx, case_ref: str) -> list[dict[str, Any]]:
    """The history of one case as people read it: its audit trail, oldest first, without the link rows."""
    return [h for h in await store.for_case(tx, case_ref) if h["action"] not in NOT_IN_HISTORY]

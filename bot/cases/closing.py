"""Closing and consent: close, reopen, withdraw consent (close and erase), renew consent."""

from __future__ import annotations

import json
from datetime import date, datetime
from typing import Any

from bot.cases.base import MAX_SHORT, CaseEngine
from bot.cases.models import CLOSE_REASON_ALIASES, Case, CloseReason
from bot.cases.rules import Action
from bot.errors import FieldError
from bot.store import Tx


class ClosingActions(CaseEngine):
    """Close, reopen, and the consent changes."""

    async def close(self, actor_id: str, ref: str, reason: str) -> Case:
        """Close with a reason code (genomford, sip, svu, ej-aktuellt, avbojde) or a free-text reason."""
        text = reason.strip()
        if not text:
            raise FieldError.one("skal", "required")
        code = CLOSE_REASON_ALIASES.get(text.lower())
        note: str | None = None
        if code is None:
            self._check_privacy({"skal": text})
            if len(text) > MAX_SHORT:
                raise FieldError.one("skal", "too_long", max=MAX_SHORT)
            code, note = CloseReason.OTHER, text

        async def change(tx: Tx, case: Case, now: datetime) -> dict[str, Any]:
            await tx.execute(
                "UPDATE cases SET closed_reason = ?, closed_note = ?, closed_at = ?, state_before_close = ? "
                "WHERE id = ?",
                (code.value, note, now.isoformat(), case.state.value, case.id),
            )
            return {"reason": code.value}

        return await self._act(actor_id, ref, Action.CLOSE, change)

    async def reopen(self, actor_id: str, ref: str) -> Case:
        async def change(tx: Tx, case: Case, now: datetime) -> dict[str, Any]:
            await tx.execute(
                "UPDATE cases SET closed_reason = NULL, closed_note = NULL, closed_at = NULL, "
                "state_before_close = NULL WHERE id = ?",
                (case.id,),
            )
            return {}

        return await self._act(actor_id, ref, Action.REOPEN, change)

    async def withdraw_consent(self, actor_id: str, ref: str) -> Case:
        """Consent withdrawn: close at once, cancel pending messages, erase free text."""

        async def change(tx: Tx, case: Case, now: datetime) -> dict[str, Any]:
            cancelled = await self.outbox.withdraw_case(tx, case.id)
            await tx.execute(
                "UPDATE cases SET closed_reason = ?, closed_at = ?, state_before_close = ?, brief = NULL, "
                "contact = NULL, other_assignee = CASE WHEN other_assignee IS NULL THEN NULL ELSE '–' END, "
                "meeting_place = NULL, closed_note = NULL, erased_at = ? WHERE id = ?",
                (CloseReason.CONSENT_WITHDRAWN.value, now.isoformat(), case.state.value, now.isoformat(), case.id),
            )
            await tx.execute("UPDATE follow_ups SET what = NULL WHERE case_id = ?", (case.id,))
            return {"cancelled_messages": cancelled}

        return await self._act(actor_id, ref, Action.WITHDRAW_CONSENT, change)

    async def renew_consent(self, actor_id: str, ref: str, until: date, scope: list[str] | None = None) -> Case:
        """A renewed consent: new valid-until date (and, if given, more units in scope). A case paused by an
        expired consent goes on where it stopped."""
        if until <= self.today():
            raise FieldError.one("giltigt", "consent_in_past", until=until)
        extra = [u for u in dict.fromkeys(scope or []) if u]
        for u in extra:
            if self.directory.unit(u) is None:
                raise FieldError.one("omfattar", "unknown_unit", unit=u)

        async def change(tx: Tx, case: Case, now: datetime) -> dict[str, Any]:
            new_scope = list(dict.fromkeys([*case.consent_scope, *extra]))
            await tx.execute(
                "UPDATE cases SET consent_valid_until = ?, consent_scope = ?, consent_expired_at = NULL WHERE id = ?",
                (until.isoformat(), json.dumps(new_scope), case.id),
            )
            return {"until": until.isoformat(), "scope": new_scope}

        return await self._act(actor_id, ref, Action.RENEW_CONSENT, change)

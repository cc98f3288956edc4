"""Closing and consent: close, reopen, withdraw consent (close and erase), renew consent."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from bot.cases.base import CaseEngine
from bot.cases.models import CLOSE_REASON_ALIASES, Case, CloseReason
from bot.cases.rules import Action
from bot.errors import FieldError
from bot.store import Tx
from bot.store import cases as case_store


class ClosingActions(CaseEngine):
    """Close, reopen, and the consent changes."""

    async def close(self, actor_id: str, ref: str, reason: str) -> Case:
        """Close with a reason code (genomford, sip, svu, ej-aktuellt, avbojde) or a free-text reason."""
        text = self._check_privacy({"skal": reason})["skal"]
        if not text:
            raise FieldError.one("skal", "required")
        code = CLOSE_REASON_ALIASES.get(text.lower())
        note: str | None = None
        if code is None:
            code, note = CloseReason.OTHER, text

        async def change(tx: Tx, case: Case, now: datetime) -> dict[str, Any]:
            await case_store.set_closed(tx, case.id, code.value, note, case.state.value, now)
            return {"reason": code.value}

        return await self._act(actor_id, ref, Action.CLOSE, change)

    async def reopen(self, actor_id: str, ref: str) -> Case:
        async def change(tx: Tx, case: Case, now: datetime) -> dict[str, Any]:
            await case_store.clear_closed(tx, case.id)
            return {}

        return await self._act(actor_id, ref, Action.REOPEN, change)

    async def withdraw_consent(self, actor_id: str, ref: str) -> Case:
        """Consent withdrawn: close at once, cancel pending messages, erase free text."""

        async def change(tx: Tx, case: Case, now: datetime) -> dict[str, Any]:
            cancelled = await self.outbox.withdraw_case(tx, case.id)
            await case_store.close_and_erase(tx, case.id, CloseReason.CONSENT_WITHDRAWN.value, case.state.value, now)
            return {"cancelled_messages": cancelled}

        case = await self._act(actor_id, ref, Action.WITHDRAW_CONSENT, change)
        await self.db.scrub()  # the erased text must not stay in the -wal file
        return case

    async def renew_consent(self, actor_id: str, ref: str, until: date, scope: list[str] | None = None) -> Case:
        """A renewed consent: new valid-until date (and, if given, more units in scope). A case paused by an
        expired consent goes on where it stopped."""
        if until <= self.today():
            raise FieldError.one("giltigt", "consent_in_past", until=until)
        self._check_privacy({"omfattar": scope})
        extra = [u.strip() for u in dict.fromkeys(scope or []) if u.strip()]
        for u in extra:
            if self.directory.unit(u) is None:
                raise FieldError.one("omfattar", "unknown_unit", unit=u)

        async def change(tx: Tx, case: Case, now: datetime) -> dict[str, Any]:
            new_scope = list(dict.fromkeys([*case.consent_scope, *extra]))
            await case_store.set_consent(tx, case.id, until, new_scope)
            return {"until": until.isoformat(), "scope": new_scope}

        return await self._act(actor_id, ref, Action.RENEW_CONSENT, change)

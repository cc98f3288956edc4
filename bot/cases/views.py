"""Read models: the cases a person sees as theirs."""

from __future__ import annotations

from dataclasses import dataclass

from bot.cases.base import CaseEngine
from bot.cases.models import Case
from bot.store import cases as case_store


@dataclass
class MyCases:
    """A person's open requests, and the open cases they are responsible for."""

    requests: list[Case]
    cases: list[Case]


class CaseViews(CaseEngine):
    """Read-only views over cases."""

    async def mine(self, actor_id: str) -> MyCases:
        """My open requests and the open cases I am responsible for."""
        self._require_person(actor_id)
        async with self.db.read() as tx:
            req_rows = await case_store.open_requests_of(tx, actor_id)
            case_rows = await case_store.open_cases_responsible(tx, actor_id)
            return MyCases(
                requests=[await self._hydrate(tx, r) for r in req_rows],
                cases=[await self._hydrate(tx, r) for r in case_rows],
            )

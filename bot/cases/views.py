"""Read models: the cases a person sees as theirs."""

from __future__ import annotations

from dataclasses import dataclass

from bot.cases.base import CaseEngine
from bot.cases.models import Case


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
        async with self.db.transaction() as tx:
            req_rows = await tx.fetchall(
                "SELECT * FROM cases WHERE requester_id = ? AND state != 'closed' ORDER BY created_at", (actor_id,)
            )
            case_rows = await tx.fetchall(
                "SELECT c.* FROM cases c JOIN case_assignees a ON a.case_id = c.id "
                "WHERE a.person_id = ? AND c.state != 'closed' "
                "UNION SELECT c.* FROM cases c WHERE c.assigned_by = ? AND c.other_assignee IS NOT NULL "
                "AND c.state != 'closed' AND NOT EXISTS (SELECT 1 FROM case_assignees a WHERE a.case_id = c.id) "
                "ORDER BY created_at",
                (actor_id, actor_id),
            )
            return MyCases(
                requests=[await self._hydrate(tx, r) for r in req_rows],
                cases=[await self._hydrate(tx, r) for r in case_rows],
            )

"""Read models: the cases a person sees as theirs."""

from __future__ import annotations

from dataclasses import dataclass, field

from bot.cases.base import CaseEngine
from bot.cases.models import Case
from bot.cases.rules import FOLLOW_UP_STATES, open_proposals
from bot.store import Tx, case_lists
from bot.store import follow_ups as follow_up_store

# A page's totals are counted up to this many (beyond it, "at least"): counting costs as much as the cases counted.
COUNT_CAP = 1000
MINE_PAGE = 25  # of my requests, and of my cases, /mina lists (the oldest); the rest are counted


@dataclass
class MyCases:
    """A person's open requests, and the open cases they are responsible for."""

    requests: list[Case]
    cases: list[Case]
    # how many there are in all (a page lists fewer): None when the lists are complete; counted up to COUNT_CAP,
    # so a total of COUNT_CAP or more means "at least"
    request_total: int | None = None
    case_total: int | None = None
    # follow-ups proposed across principals that the person may accept: (case, the follow-up's number), the
    # oldest page of them; `more_proposals` how many more there are (counted, not read)
    proposals: list[tuple[Case, int]] = field(default_factory=list)
    more_proposals: int = 0


class CaseViews(CaseEngine):
    """Read-only views over cases."""

    async def mine(self, actor_id: str, *, limit: int = MINE_PAGE) -> MyCases:
        """My open requests and the open cases I am responsible for, oldest first: at most `limit` of each, with
        how many there are in all (counted up to COUNT_CAP), in one read of a bounded number of statements."""
        self._require_person(actor_id)

        async def read(tx: Tx) -> MyCases:
            req_rows = await case_lists.open_requests_of(tx, actor_id, limit)
            case_rows = await case_lists.open_cases_responsible(tx, actor_id, limit)
            req_total = await case_lists.open_requests_count(tx, actor_id, COUNT_CAP) \
                if len(req_rows) == limit else len(req_rows)
            case_total = await case_lists.open_cases_responsible_count(tx, actor_id, COUNT_CAP) \
                if len(case_rows) == limit else len(case_rows)
            rows, proposal_total = await follow_up_store.open_proposal_rows(
                tx, self._proposal_owners(actor_id), sorted(s.value for s in FOLLOW_UP_STATES), limit)
            refs = list(dict.fromkeys(r["case_ref"] for r in rows))
            loaded = await self.load_many(tx, refs)
            proposals = [(loaded[ref], n) for ref in refs if ref in loaded
                         for n in open_proposals(loaded[ref], actor_id, self.directory)]
            return MyCases(requests=await self._hydrate_many(tx, req_rows),
                           cases=await self._hydrate_many(tx, case_rows),
                           request_total=req_total, case_total=case_total, proposals=proposals,
                           more_proposals=proposal_total - len(rows))

        return await self.db.run_read(read)

    def _proposal_owners(self, actor_id: str) -> list[str]:
        """Whose proposed follow-ups `actor_id` may answer (`rules.follow_up_acceptors`): their own, and those of
        everyone in a unit they distribute."""
        units = {u.id for u in self.directory.units.values() if actor_id in self.directory.distributors_of(u.id)}
        return [actor_id, *(p.id for p in self.directory.people.values() if p.unit in units and p.id != actor_id)]

    async def my_page(self, actor_id: str, requests: int, cases: int) -> MyCases:
        """The newest of my open requests (at most `requests`) and of the open cases I am responsible for (at
        most `cases`), newest first, with how many there are in all (counted up to COUNT_CAP): at most nine
        queries, and as long for a person with a million cases as for one with a hundred."""
        self._require_person(actor_id)

        async def read(tx: Tx) -> MyCases:  # a read: it never holds the write connection
            req_rows = await case_lists.open_requests_of(tx, actor_id, requests, newest_first=True)
            case_rows = await case_lists.open_cases_responsible(tx, actor_id, cases, newest_first=True)
            req_total = await case_lists.open_requests_count(tx, actor_id, COUNT_CAP) \
                if len(req_rows) == requests else len(req_rows)
            case_total = await case_lists.open_cases_responsible_count(tx, actor_id, COUNT_CAP) \
                if len(case_rows) == cases else len(case_rows)
            return MyCases(requests=await self._hydrate_many(tx, req_rows),
                           cases=await self._hydrate_many(tx, case_rows),
                           request_total=req_total, case_total=case_total)

        return await self.db.run_read(read)

"""Absence service: mark a person away (with a stand-in), list and cancel absences; who may do it.

Rules (DESIGN §2, issue #10 item 12):
- anyone may mark themselves away; the distributors of a person's unit (its enhetschefer, the deputy, and a
  stand-in distributing for the period) may mark anyone of that unit away;
- a stand-in must exist in the directory and be of the same unit as the away person, or be the unit's deputy
  (`ersättare` in the directory); never the person themself;
- dates are inclusive local dates in the bot's time zone; a period may not end before today, run backwards,
  last more than a year or overlap another absence of the same person;
- the directory stays the source of who exists: an absence of a person no longer in it is ignored (logged).

Whether someone is present, and who stands in, is answered by `bot.presence` (re-exported here).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from bot import audit
from bot.absence.models import Absence
from bot.cases.leavers import stop_for_stand_in
from bot.clock import Clock
from bot.directory import Directory
from bot.errors import Refusal
from bot.outbox import Outbox
from bot.paging import LIST_PAGE, Page
from bot.presence import AbsenceBook, answering, on_duty, present, stand_in
from bot.store import Database, Tx
from bot.store import absences as store
from bot.store.changes import announce

__all__ = ["AbsenceService", "Listing", "answering", "on_duty", "present", "stand_in"]

log = logging.getLogger(__name__)

MAX_DAYS = 366
ABSENCES = "absences"  # the topic other instances reload (`bot.store.changes`)
# Absences that ended this long ago are still loaded (a late climb may ask about yesterday).
_KEEP = timedelta(days=7)


@dataclass(frozen=True)
class Listing:
    """The absences one person may see: their own, those they stand in for, and (distributors) their units'."""

    absences: list[Absence]  # one page of them (`LIST_PAGE`), soonest first
    today: date
    total: int = -1  # how many there are in all (-1: as many as listed)
    skip: int = 0

    @property
    def page(self) -> Page[Absence]:
        return Page(self.absences, len(self.absences) if self.total < 0 else self.total, self.skip)

    @property
    def more(self) -> int:
        """How many come after this page."""
        return self.page.after


class AbsenceService:
    """Registers absences and keeps the directory's in-memory book (`directory.absences`) in step; on
    PostgreSQL a change made on another instance is announced, and `load` runs again (`Core.changes`)."""

    def __init__(self, db: Database, directory: Directory, clock: Clock, outbox: Outbox, tz: str) -> None:
        self.db = db
        self.directory = directory
        self.clock = clock
        self.outbox = outbox
        self.tz = ZoneInfo(tz)
        self.book: AbsenceBook = directory.absences
        self.book.tz = self.tz
        self.book.now = clock.now

    # --- the answer every path uses --------------------------------------------------------------
    def present(self, person_id: str, at: datetime | None = None) -> bool:
        return present(self.directory, person_id, at)

    def stand_in(self, person_id: str, at: datetime | None = None) -> str | None:
        return stand_in(self.directory, person_id, at)

    def today(self) -> date:
        return self.clock.now().astimezone(self.tz).date()

    # --- loading -----------------------------------------------------------------------------------
    async def load(self) -> None:
        """Read the stored absences into the book; those of people the directory no longer has are ignored."""
        async with self.db.transaction() as tx:
            await self._reload(tx)

    async def _reload(self, tx: Tx) -> None:
        kept: list[Absence] = []
        for row in await store.active_rows(tx, self.today() - _KEEP):
            absence = Absence.from_row(row)
            if self.directory.person(absence.person_id) is None:
                log.warning("absence of unknown person ignored", extra={
                    "event": "absence.unknown_person", "absence_id": absence.id})
                continue
            if absence.stand_in is not None and self.directory.person(absence.stand_in) is None:
                log.warning("stand-in unknown, absence kept without one", extra={
                    "event": "absence.unknown_stand_in", "absence_id": absence.id})
                absence = Absence(absence.id, absence.person_id, absence.start, absence.end, None,
                                  absence.created_by, absence.created_at)
            kept.append(absence)
        self.book.replace(kept)

    # --- who may ----------------------------------------------------------------------------------
    def may_manage(self, actor_id: str, person_id: str) -> bool:
        """The person themself, or a distributor (or deputy, or stand-in distributor) of the person's unit."""
        if actor_id == person_id:
            return True
        person = self.directory.person(person_id)
        return person is not None and actor_id in self.directory.distributors_of(person.unit)

    def _check_stand_in(self, person_id: str, stand_in_id: str) -> None:
        person = self.directory.people[person_id]
        other = self.directory.person(stand_in_id)
        if other is None:
            raise Refusal("absence_stand_in_unknown", person=stand_in_id)
        if stand_in_id == person_id:
            raise Refusal("absence_stand_in_self")
        unit = self.directory.units.get(person.unit)
        if other.unit != person.unit and (unit is None or unit.deputy != stand_in_id):
            raise Refusal("absence_stand_in_wrong_unit", person=stand_in_id, unit=person.unit)

    def managed_people(self, actor_id: str) -> list[str]:
        """Whom the actor may mark away: themself first, then the people of the units they distribute."""
        out = [actor_id]
        for unit_id in self.directory.units:
            if actor_id in self.directory.distributors_of(unit_id):
                out.extend(p.id for p in self.directory.staff_of(unit_id) if p.id not in out)
        return out

    def stand_in_choices(self, person_id: str) -> list[str]:
        """Who may stand in for the person: the people of their unit and the unit's deputy."""
        person = self.directory.person(person_id)
        if person is None:
            return []
        out = [p.id for p in self.directory.staff_of(person.unit) if p.id != person_id]
        unit = self.directory.unit(person.unit)
        if unit is not None and unit.deputy and unit.deputy not in out and unit.deputy != person_id:
            out.append(unit.deputy)
        return out

    # --- actions ----------------------------------------------------------------------------------
    async def mark(
        self, actor_id: str, start: date, end: date, *, person_id: str | None = None, stand_in_id: str | None = None
    ) -> Absence:
        """Register that `person_id` (default: the actor) is away from `start` to `end`, with an optional
        stand-in. Tells the stand-in, and the person when someone else marked them."""
        person_id = person_id or actor_id
        if self.directory.person(actor_id) is None:
            raise Refusal("unknown_person", person=actor_id)
        if self.directory.person(person_id) is None:
            raise Refusal("absence_unknown_person", person=person_id)
        now = self.clock.now()
        if not self.may_manage(actor_id, person_id):
            await self._refused(actor_id, "absence_set", "absence_not_allowed", now)
            raise Refusal("absence_not_allowed", person=person_id)
        if end < start:
            raise Refusal("absence_bad_period", start=start, end=end)
        if end < self.today():
            raise Refusal("absence_in_past", end=end)
        if (end - start).days + 1 > MAX_DAYS:
            raise Refusal("absence_too_long", days=MAX_DAYS)
        if stand_in_id is not None:
            self._check_stand_in(person_id, stand_in_id)
        async with self.db.transaction() as tx:
            for row in await store.person_rows(tx, person_id, start):
                other = Absence.from_row(row)
                if other.overlaps(start, end):
                    raise Refusal("absence_overlaps", nr=other.id, start=other.start, end=other.end)
            absence_id = await store.insert(tx, person_id=person_id, start=start, end=end, stand_in=stand_in_id,
                                            created_by=actor_id, now=now)
            absence = Absence(absence_id, person_id, start, end, stand_in_id, actor_id, now)
            await audit.record(tx, at=now, actor_id=actor_id, action="absence_set", absence_id=absence_id,
                               person=person_id, start=start.isoformat(), end=end.isoformat(), stand_in=stand_in_id)
            if person_id != actor_id:
                await self.outbox.enqueue(tx, person_id, "absence_registered", absence=absence, actor=actor_id,
                                          dedupe_key=f"absence:{absence_id}:person")
            if stand_in_id is not None and stand_in_id != actor_id:
                await self.outbox.enqueue(tx, stand_in_id, "absence_stand_in", absence=absence, actor=actor_id,
                                          dedupe_key=f"absence:{absence_id}:stand_in")
            await self._reload(tx)
            await announce(tx, ABSENCES)  # the other instances reload theirs once this commits
        log.info("absence set", extra={"event": "absence.set", "absence_id": absence_id,
                                       "stand_in": stand_in_id is not None})
        return absence

    async def cancel(self, actor_id: str, absence_id: int) -> Absence:
        """Cancel a registered absence (the person, whoever registered it, or the unit's distributors). Its
        stand-in distributed for the absent person only while it lasted: the cases' messages still to go to them
        that they no longer read in full (an urgent request sent to them as the stand-in) are stopped, judged by
        the one rule with the absences as they are now, and an urgent request sent only to them goes to the
        unit's distributors on duty now (`bot.cases.leavers.stop_for_stand_in`, after the commit; the cancel's commit
        is the mark that the pass is owed, so a process stopped in between runs it at its next start, or the
        timekeeper does: `pass_ended_covers`)."""
        if self.directory.person(actor_id) is None:
            raise Refusal("unknown_person", person=actor_id)
        now = self.clock.now()
        async with self.db.transaction() as tx:
            row = await store.row(tx, absence_id)
            absence = Absence.from_row(row) if row else None
            if absence is None or not (absence.created_by == actor_id or self.may_manage(actor_id, absence.person_id)
                                       or absence.stand_in == actor_id):
                raise Refusal("absence_not_found", nr=absence_id)
            await store.cancel(tx, absence_id, actor_id, now)
            await audit.record(tx, at=now, actor_id=actor_id, action="absence_cancel", absence_id=absence_id,
                               person=absence.person_id)
            for pid, role in ((absence.person_id, "person"), (absence.stand_in, "stand_in")):
                if pid is not None and pid != actor_id:
                    await self.outbox.enqueue(tx, pid, "absence_cancelled", absence=absence, actor=actor_id,
                                              dedupe_key=f"absence:{absence_id}:cancel:{role}")
            await self._reload(tx)
            await announce(tx, ABSENCES)  # the other instances reload theirs once this commits
        if absence.stand_in is not None:  # the cover ended: what the stand-in read only as one is stopped
            await self._cover_ended(absence.id, absence.stand_in, absence.person_id)
        log.info("absence cancelled", extra={"event": "absence.cancelled", "absence_id": absence_id})
        return absence

    async def pass_ended_covers(self) -> int:
        """Run the pass owed by every cover that ended, cancelled or past its last day (`store.covers_ended`): at
        start (a process stopped between a cancel's commit and its pass, a cover that ran out while the bot was
        down) and by the timekeeper (a cover that runs out on its end date). Returns how many passes ran."""
        today = self.today()

        async def owed(tx: Tx) -> list[dict[str, object]]:
            return await store.covers_ended(tx, today)

        done = 0
        for row in await self.db.run_read(owed):
            try:
                done += await self._cover_ended(int(str(row["id"])), str(row["stand_in"]), str(row["person_id"]),
                                                "absence_cancel" if row["cancelled_at"] else "absence_end")
            except Exception as exc:  # still owed, run at the next sweep: the other covers and sweeps go on
                log.error("cover pass failed", extra={"event": "absence.cover_pass_failed", "absence_id": row["id"],
                                                      "exc_type": type(exc).__name__})
        return done

    async def _cover_ended(self, absence_id: int, stand_in_id: str, person_id: str, why: str = "absence_cancel"
                           ) -> int:
        """After the cover ended (the cancel committed, or its last day passed), in a unit of its own that first
        marks the pass as run on the absence's row (`claim_cover`: a second pass, another instance's or the
        timekeeper's, waits there and then does nothing), then locks the cases (before any audit row, as a case
        action takes them: DESIGN "lock order"; run again if the server aborts it for a deadlock): the stand-in's
        messages they no longer read stopped, their urgent requests sent on (`stop_for_stand_in`). 1 when it ran."""
        absent = self.directory.person(person_id)
        units = [absent.unit] if absent is not None else []
        now = self.clock.now()

        async def work(tx: Tx) -> int:
            if not await store.claim_cover(tx, absence_id, now):
                return 0
            # judged by the absences as stored, not by this instance's book: another instance's cancel may have
            # committed before this instance heard of it (its reload is asynchronous)
            await self._reload(tx)
            await stop_for_stand_in(tx, self.outbox, self.directory, stand_in_id, units, why)
            return 1

        ran = await self.db.run(work, retry=True)
        if ran:
            log.info("cover ended, pass run", extra={"event": "absence.cover_pass", "absence_id": absence_id})
        return ran

    async def listing(self, actor_id: str, *, limit: int = LIST_PAGE, skip: int = 0) -> Listing:
        """A page of the current and coming absences the actor may see, and how many there are (from the
        book in memory: no statement)."""
        if self.directory.person(actor_id) is None:
            raise Refusal("unknown_person", person=actor_id)
        today = self.today()
        shown = [a for a in self.book.all() if a.end >= today and (
            a.stand_in == actor_id or self.may_manage(actor_id, a.person_id))]
        return Listing(shown[skip: skip + limit], today, len(shown), skip)

    async def _refused(self, actor_id: str, action: str, reason: str, now: datetime) -> None:
        async with self.db.transaction() as tx:
            await audit.record(tx, at=now, actor_id=actor_id, action=action, result="refused", reason=reason)

"""The validated directory with lookups by id and by channel identity; replaced in place on a reload."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from bot.directory.model import DirectoryFile, Person, Principal, PrincipalKind, Role, Unit
from bot.presence import AbsenceBook, answering, stand_in
from bot.samverkan.groups import SamverkanGroup, group_for


@dataclass(frozen=True)
class FileRead:
    """The directory file as it was read and validated: its bytes, and its modification time (seconds since the
    epoch)."""

    raw: bytes
    modified: float


@dataclass(frozen=True, slots=True, weakref_slot=True)
class Tables:
    """One version of the directory and every lookup built from it, never changed once built: a reload swaps the
    whole of it in one assignment (`Directory.replace`), so a reader, on the loop or on a render thread (Homes,
    Teams' queue card, the journal), sees the old tables or the new ones, never new units with old people.
    What is built from one version may be kept beside a weak reference to it (`bot.channels.slack.views.ViewCache`):
    kept strongly, an old version would be freed later on the event loop instead of on the reload's thread."""

    data: DirectoryFile
    principals: dict[str, Principal]
    units: dict[str, Unit]
    people: dict[str, Person]
    by_slack: dict[str, Person]
    by_email: dict[str, Person]
    # staff by unit and the coordinators, in the file's order: asked for on every form and queue, so not a walk
    # over every person each time (10⁵ people, issue #23)
    staff: dict[str, tuple[Person, ...]]
    coordinators: tuple[Person, ...]

    @classmethod
    def of(cls, data: DirectoryFile) -> Tables:
        staff: dict[str, list[Person]] = {}
        for person in data.people:
            staff.setdefault(person.unit, []).append(person)
        return cls(data=data, principals={p.id: p for p in data.principals}, units={u.id: u for u in data.units},
                   people={p.id: p for p in data.people},
                   by_slack={p.slack_user_id: p for p in data.people if p.slack_user_id},
                   by_email={e.lower(): p for p in data.people for e in (p.email, p.m365_upn) if e},
                   staff={unit: tuple(people) for unit, people in staff.items()},
                   coordinators=tuple(p for p in data.people if Role.COORDINATOR in p.roles))


class Directory:
    """Validated directory with lookups by id and by channel identity.

    Every service holds this one object, so a reload (`replace`) swaps its contents in place: the tables
    (`Tables`) in one assignment. `data`, `principals`, `units` and `people` read the current tables; a method that
    looks in more than one table takes the tables once, so it never mixes two versions."""

    def __init__(self, data: DirectoryFile, source: Path | None = None) -> None:
        self._tables = Tables.of(data)
        self.source = source
        # Absences registered in the bot (`/frånvaro`), on top of the file's `absent` flag (bot/absence).
        self.absences = AbsenceBook()
        # The file as it was read, until the start has offered it to the other instances (`bot.directory.shared`).
        self.read: FileRead | None = None
        # The store's published version this directory was started from (`gfi-bot directory`, PostgreSQL; 0: none was
        # published yet), which its publication expects to still be the newest (`bot.directory.update`).
        self.version: int | None = None
        # The file's (modification time in ns, size, inode) and SHA-256 as it was read at start (`load_directory`):
        # where its watcher starts from (`bot.directory.reload`).
        self.seen: tuple[tuple[int, int, int], str] | None = None

    @property
    def tables(self) -> Tables:
        """The current version of the directory's tables (take it once to read several tables consistently)."""
        return self._tables

    @property
    def data(self) -> DirectoryFile:
        return self._tables.data

    @property
    def principals(self) -> dict[str, Principal]:
        return self._tables.principals

    @property
    def units(self) -> dict[str, Unit]:
        return self._tables.units

    @property
    def people(self) -> dict[str, Person]:
        return self._tables.people

    def replace(self, other: Directory) -> dict[str, object]:
        """Take the contents of a newly loaded directory (a reload); absences registered in the bot stay. The
        tables `other` built when it was loaded (in the reload's thread, off the event loop) are taken as they
        are, in one assignment, not built again here on the loop (120 ms at 10⁴ people). Returns what was
        replaced: the caller drops it on a thread (`clear`), so freeing 10⁴ people is not the loop's work."""
        old: dict[str, object] = {"tables": self._tables, "read": self.read}
        self._tables = other._tables
        self.source, self.read, self.seen = other.source, other.read, other.seen
        return old

    def person(self, person_id: str) -> Person | None:
        return self.people.get(person_id)

    def unit(self, unit_id: str) -> Unit | None:
        return self.units.get(unit_id)

    def by_slack_id(self, slack_user_id: str) -> Person | None:
        return self._tables.by_slack.get(slack_user_id)

    def by_email(self, email: str) -> Person | None:
        return self._tables.by_email.get(email.lower())

    def unit_of(self, person_id: str) -> Unit | None:
        tables = self._tables
        person = tables.people.get(person_id)
        return tables.units.get(person.unit) if person else None

    def principal_of(self, unit_id: str) -> Principal | None:
        tables = self._tables
        unit = tables.units.get(unit_id)
        return tables.principals.get(unit.principal) if unit else None

    def sip_support(self, *unit_ids: str | None) -> str | None:
        """The name of the IT support for SIP/SVU (e.g. Mina planer) of the units' principals, the region's
        first; None when the directory does not name one."""
        principals = [p for p in (self.principal_of(u) for u in unit_ids if u) if p and p.sip_support_name]
        principals.sort(key=lambda p: p.kind is not PrincipalKind.REGION)
        return principals[0].sip_support_name if principals else None

    def distributors_of(self, unit_id: str) -> list[str]:
        """Who may distribute the unit's queue: its distributors and its deputy."""
        unit = self.units[unit_id]
        ids = list(unit.distributors)
        if unit.deputy and unit.deputy not in ids:
            ids.append(unit.deputy)
        # a stand-in named for an absent distributor distributes for the period (bot/absence)
        for pid in list(ids):
            standing_in = stand_in(self, pid)
            if standing_in is not None and standing_in not in ids:
                ids.append(standing_in)
        return ids

    def active_distributors(self, unit_id: str, at: datetime | None = None) -> list[str]:
        """Distributors who are present (an absent one's stand-in instead); the deputy when none of them is."""
        unit = self.units[unit_id]
        return answering(self, unit.distributors, unit.deputy, at)

    def staff_of(self, unit_id: str) -> list[Person]:
        return list(self._tables.staff.get(unit_id, ()))

    def coordinators(self) -> list[Person]:
        return list(self._tables.coordinators)

    def name(self, person_id: str) -> str:
        """Display name of a person, or the id when unknown."""
        person = self.people.get(person_id)
        return person.name if person else person_id

    def name_with_title(self, person_id: str) -> str:
        """`Anna Lind (enhetschef)`; the name alone when the directory gives no title."""
        person = self.people.get(person_id)
        if person is None:
            return person_id
        return f"{person.name} ({person.title})" if person.title else person.name

    def title_and_name(self, person_id: str) -> str:
        """`enhetschef Anna Lind`; the name alone when the directory gives no title."""
        person = self.people.get(person_id)
        if person is None:
            return person_id
        return f"{person.title} {person.name}" if person.title else person.name

    def samverkan_for(self, *unit_ids: str) -> SamverkanGroup | None:
        """The samverkansgrupp (or lokalt samråd) for the principals of these units; None when none is named."""
        tables = self._tables
        units = [tables.units.get(u) for u in unit_ids]
        principals = {tables.principals[u.principal].id for u in units if u and u.principal in tables.principals}
        return group_for(tables.data.samverkan, principals)

    def unit_name(self, unit_id: str) -> str:
        unit = self.units.get(unit_id)
        return unit.name if unit else unit_id

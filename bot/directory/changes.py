"""Who is added, moved and removed between two directories, and who in the old one's units' roles leaves."""

from __future__ import annotations

from dataclasses import dataclass, field

from bot.directory.model import DirectoryFile, Person


@dataclass(frozen=True)
class Move:
    person: Person  # as in the new directory
    old_unit: str


@dataclass
class Changes:
    added: list[Person] = field(default_factory=list)
    moved: list[Move] = field(default_factory=list)
    removed: list[Person] = field(default_factory=list)  # as in the old directory
    updated: list[Person] = field(default_factory=list)  # same unit, another name, title, address or role

    @property
    def leaving(self) -> dict[str, str]:
        """Person id -> the unit they leave (removed or moved away)."""
        out = {p.id: p.unit for p in self.removed}
        out.update({m.person.id: m.old_unit for m in self.moved})
        return out

    def __bool__(self) -> bool:
        return bool(self.added or self.moved or self.removed or self.updated)


def diff(old: DirectoryFile, new: DirectoryFile) -> Changes:
    before = {p.id: p for p in old.people}
    after = {p.id: p for p in new.people}
    changes = Changes()
    for pid, person in after.items():
        was = before.get(pid)
        if was is None:
            changes.added.append(person)
        elif was.unit != person.unit:
            changes.moved.append(Move(person, was.unit))
        elif was != person:
            changes.updated.append(person)
    changes.removed = [p for pid, p in before.items() if pid not in after]
    return changes


Standing = tuple[str, tuple[str, ...], tuple[tuple[str, str], ...]]


def _standings(data: DirectoryFile) -> dict[str, Standing]:
    """Each person's unit, roles and the units' roles they hold (distributor, deputy, a rung): what the cases'
    rule reads of the directory about them (`bot.cases.visibility.level`)."""
    held: dict[str, list[tuple[str, str]]] = {}
    for unit in data.units:
        for pid in unit.distributors:
            held.setdefault(pid, []).append((unit.id, "distributor"))
        if unit.deputy:
            held.setdefault(unit.deputy, []).append((unit.id, "deputy"))
        for rung in unit.ladder:
            for pid in rung.people:
                held.setdefault(pid, []).append((unit.id, f"rung:{rung.title}"))
    return {p.id: (p.unit, tuple(sorted(r.value for r in p.roles)), tuple(sorted(held.get(p.id, ()))))
            for p in data.people}


def standing_changed(old: DirectoryFile, new: DirectoryFile) -> set[str]:
    """The people of `old` whose standing differs in `new` (removed, moved, another role, a unit's role gained or
    lost): what they may read may have changed (`bot.cases.leavers.stop_after_reload`). Empty for one version."""
    if old is new:
        return set()
    before, after = _standings(old), _standings(new)
    return {pid for pid, was in before.items() if after.get(pid) != was}
